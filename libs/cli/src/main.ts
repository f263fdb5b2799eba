import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes';
import { type Io, processIo } from './io';
import { registerApiVerbs } from './api-verbs';
import { API_KEY_HELP, collect, lazy, STORE_API_URL_HELP } from './program.util';

/**
 * OpenTelemetry for the long-running commands, started before their modules load (it
 * patches http, Nest and pg as they are required). Off, and free, unless an OTLP
 * endpoint or OTEL_TRACES_EXPORTER is set.
 */
const startTracingFirst = (serviceName: string): Promise<import('@weft/telemetry').Tracing> =>
  lazy<typeof import('@weft/telemetry')>('@weft/telemetry').startTracing({ serviceName, env: tracingConfig() });

/** Runs a long-running command with tracing started before its modules load, and shut down after it. */
async function traced(serviceName: string, command: () => Promise<number>): Promise<number> {
  const tracing = await startTracingFirst(serviceName);
  const code = await command();
  await tracing.shutdown();
  return code;
}

/** The OTEL_* variables through @weft/config; a bad config leaves tracing off and the command reports it. */
function tracingConfig(): import('@weft/config').WeftConfig | Record<string, never> {
  try {
    return lazy<typeof import('@weft/config')>('@weft/config').loadConfig(process.env);
  } catch {
    return {};
  }
}

/** Builds the `weft` program; each action stores its exit code in `result`. */
export function buildProgram(io: Io, result: { code: number }): Command {
  const program = new Command('weft')
    .description('Weft: durable DAG workflows for TypeScript teams')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.write(s), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('validate')
    .description('validate workflow files; prints every problem as file:line:col; exit 0 when all are valid, 2 otherwise')
    .argument('<files...>', 'workflow files (YAML, JSON, or .ts/.js modules exporting a workflow); a directory: its YAML/JSON files')
    .option('--actions <module>', 'check every action: against the built-ins and this module\'s actions (repeatable)', collect, [])
    .option('--json', 'print one JSON document: every file, valid or not, with its diagnostics')
    .option('--api <url>', 'let a deployment validate them (POST /v1/validate) and check actions against its catalog; exit 70 when it cannot answer')
    .option('--api-key <key>', API_KEY_HELP)
    .action(async (files: string[], opts: { actions: string[]; json?: boolean; api?: string; apiKey?: string }) => {
      result.code = await lazy<typeof import('./commands/validate.command')>('./commands/validate.command').validateCommand(files, io, opts);
    });

  program
    .command('schema')
    .description('print the JSON Schema of workflow spec v1')
    .action(async () => {
      io.out(JSON.stringify(lazy<typeof import('@weft/core')>('@weft/core').workflowJsonSchema(), null, 2));
      result.code = EXIT.ok;
    });

  program
    .command('init')
    .description('make a starter project: package.json, a YAML and a TypeScript workflow, an action module, a README; never overwrites a file')
    .argument('[dir]', 'the folder (default: the current one)')
    .option('--force', 'write into a folder that already holds files (the missing starter files only)')
    .action((dir: string | undefined, opts: { force?: boolean }) => {
      result.code = lazy<typeof import('./commands/init.command')>('./commands/init.command').initCommand(dir, opts, io);
    });

  program
    .command('completion')
    .description('print a shell completion script: eval "$(weft completion bash)" in ~/.bashrc, or zsh')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      result.code = lazy<typeof import('./commands/completion.command')>('./commands/completion.command').completionCommand(shell, program, io);
    });

  program
    .command('run')
    .description('run a workflow to its end in this process (embedded mode); exit 0 completed, 1 failed/partial/canceled, 2 invalid')
    .argument('<file>', 'workflow file: YAML, JSON, or a .ts/.js module exporting a workflow')
    .option('-i, --input <name=value>', 'a workflow input (repeatable)', collect, [])
    .option('--inputs-file <file>', 'inputs as a JSON object')
    .option('--actions <module>', 'a JS module whose exports are action handlers (repeatable)', collect, [])
    .option('--json', 'print one JSON document describing the finished run')
    .option('--no-store', 'do not keep the run in the local store (.weft/data, or DATABASE_URL) for weft history / runs list / insights')
    .option('--durable', 'PGlite: write the run to .weft/data as it goes, so a kill leaves it there, running (default: runs that sleep, wait or may last)')
    .option('--no-durable', 'PGlite: run in memory and keep the run at its end, even one that waits (a kill loses it)')
    .option('--api <url>', 'submit to a running deployment (e.g. weft dev) instead of running in this process')
    .option('--api-key <key>', API_KEY_HELP)
    .option('--decide <stepId=decision>', 'decide a step\'s review: <stepId>=<decision>[:<payload json>], the decision one of continue, correct, retry, reject, escalate (repeatable)', collect, [])
    .option('--workflows <dir>', 'where child workflows (action: workflow) are found, after the file\'s own folder (repeatable)', collect, [])
    .action(async (file: string, opts: { input: string[]; inputsFile?: string; actions: string[]; json?: boolean; store: boolean; durable?: boolean; api?: string; apiKey?: string; decide: string[]; workflows: string[] }) => {
      result.code = await lazy<typeof import('./commands/run.command')>('./commands/run.command').runCommand(file, opts, io);
    });

  program
    .command('dev')
    .description('run every service in this process: NATS/PostgreSQL when NATS_URL/DATABASE_URL are set, else in-memory bus + PGlite')
    .option('-p, --port <port>', 'HTTP port (health, metrics, API)')
    .option('--actions <module>', 'a JS module whose exports are action handlers (repeatable)', collect, [])
    .action(async (opts: { port?: string; actions: string[] }) => {
      result.code = await traced('weft-dev', () => lazy<typeof import('./commands/dev.command')>('./commands/dev.command').devCommand(opts, io));
    });

  program
    .command('worker')
    .description('run an executor with your actions against a deployment (NATS_URL)')
    .option('--actions <module>', 'a JS module whose exports are action handlers (repeatable)', collect, [])
    .option('-q, --queue <name>', 'a task queue to serve, repeatable (default: the queue named "default")', collect, [])
    .option('-c, --concurrency <n>', 'steps run at once')
    .action(async (opts: { actions: string[]; queue: string[]; concurrency?: string }) => {
      result.code = await traced('weft-executor', () => lazy<typeof import('./commands/worker.command')>('./commands/worker.command').workerCommand(opts, io));
    });

  program
    .command('migrate')
    .description('apply database migrations (DATABASE_URL, or PGlite in WEFT_DATA_DIR) and exit')
    .action(async () => {
      result.code = await lazy<typeof import('./commands/migrate.command')>('./commands/migrate.command').migrateCommand(io);
    });

  program
    .command('history')
    .description("a run's story from the journal: timeline, attempts, errors; embedded (weft dev's database) or --api; exit 0, 2 unknown run")
    .argument('<runId>', 'the run id')
    .option('--api <url>', STORE_API_URL_HELP)
    .option('--api-key <key>', API_KEY_HELP)
    .option('--json', 'print the history as JSON')
    .action(async (runId: string, opts: { api?: string; apiKey?: string; json?: boolean }) => {
      result.code = await lazy<typeof import('./commands/history.command')>('./commands/history.command').historyCommand(runId, opts, io);
    });

  program
    .command('insights')
    .description('failure hotspots, duration trend and per-step figures from analytics; embedded or --api')
    .option('-w, --workflow <name>', 'one workflow (default: all)')
    .option('--since <when>', 'window start: a duration back from now (24h, 7d) or an ISO time', '24h')
    .option('--until <when>', 'window end (default: now)')
    .option('--window <n>', 'trend points in the moving average (default: 3)')
    .option('--api <url>', STORE_API_URL_HELP)
    .option('--api-key <key>', API_KEY_HELP)
    .option('--json', 'print the insights as JSON')
    .action(async (opts: { workflow?: string; since?: string; until?: string; window?: string; api?: string; apiKey?: string; json?: boolean }) => {
      result.code = await lazy<typeof import('./commands/insights.command')>('./commands/insights.command').insightsCommand(opts, io);
    });

  registerApiVerbs(program, io, result);
  return program;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const result = { code: EXIT.ok as number };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync(argv);
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    throw error;
  }
}
