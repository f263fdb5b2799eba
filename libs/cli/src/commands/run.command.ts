import { resolveInputs } from '@weft/core';
import { InMemoryBus } from '@weft/bus';
import { databaseConfigOf, loadConfig } from '@weft/config';
import { DbError } from '@weft/db';
import { type ActionDefinition, httpPolicyOf } from '@weft/worker';
import { knownWithoutModules, loadUserActions, unknownActions } from '../actions-check';
import { startEmbedded } from '../embedded/embedded-runtime';
import { FileWorkflowCatalog } from '../embedded/file-workflow.catalog';
import { keepRunsInFile, keepsRuns, type LocalStore } from '../embedded/kept-runs';
import { childWorkflowsOf, keepsInMemory } from '../embedded/keeps-in-memory.util';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { loadWorkflow, printDiagnostics } from '../load-workflow';
import { runReport } from '../output/run-report';
import { createRunView } from '../output/run-view';
import { cancelOnInterrupt } from '../interrupt.util';
import { inputsFromFlags } from './run-inputs.util';
import { EmbeddedReviewDecider, parseDecideFlags } from '../embedded/review-decider';

export interface RunCommandOptions {
  input: string[];
  inputsFile?: string;
  json?: boolean;
  actions: string[];
  /** false (`--no-store`): keep the run in memory only, not in the local .weft store. @default true */
  store?: boolean;
  /**
   * PGlite store: true (`--durable`) writes the run to the store as it goes, false (`--no-durable`)
   * runs it in memory and keeps it at its end. @default by the spec (keepsInMemory: no waits, a few seconds at most)
   */
  durable?: boolean;
  /** Submit to a running deployment instead of running embedded. */
  api?: string;
  apiKey?: string;
  /** `<stepId>=<decision>[:<payload json>]`: decides that step's review (embedded runs). */
  decide?: string[];
  /** Folders where child workflows (`action: workflow`) are looked up, after the file's own folder. */
  workflows?: string[];
}

/** `weft run <file>`: validate, run embedded to the end, show progress; exit 0 / 1 / 2. */
export async function runCommand(file: string, options: RunCommandOptions, io: Io, signals: NodeJS.EventEmitter = process): Promise<number> {
  const loaded = await loadWorkflow(file);
  printDiagnostics(loaded.diagnostics, io.err);
  const spec = loaded.spec;
  if (!spec) return EXIT.invalid;

  let given: Record<string, unknown>;
  try {
    given = await inputsFromFlags(options);
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return EXIT.invalid;
  }
  const resolved = resolveInputs(spec, given, { fromStrings: true });
  printDiagnostics(resolved.diagnostics, io.err);
  if (resolved.diagnostics.some((d) => d.severity === 'error')) return EXIT.invalid;

  if (options.api !== undefined) {
    if (options.actions.length > 0) {
      io.err('--actions runs handlers in this process; with --api they run on the deployment\'s workers (weft worker --actions …)');
      return EXIT.invalid;
    }
    // Loaded here: the API client pulls in the SDK, which an embedded run does not need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runRemote } = require('../api-client/run-remote') as typeof import('../api-client/run-remote');
    return runRemote(file, spec, resolved.inputs, options, io, signals);
  }

  let actions: ActionDefinition[] = [];
  let http;
  let decisions;
  let config;
  try {
    decisions = parseDecideFlags(options.decide ?? []);
    config = loadConfig(process.env);
    http = httpPolicyOf(config);
    actions = await loadUserActions(options.actions);
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return EXIT.invalid;
  }
  // Every action: known before anything runs (an unknown one would fail the run at its step).
  const unknown = await unknownActions(spec, file, [...knownWithoutModules(), ...actions.map((a) => a.name)]);
  printDiagnostics(unknown, io.err);
  if (unknown.length > 0) return EXIT.invalid;

  // Kept in the local store (weft dev's) unless --no-store, so weft history / runs list / insights see it.
  const catalog = new FileWorkflowCatalog(file, options.workflows ?? []);
  const bus = new InMemoryBus();
  let local: LocalStore | undefined;
  if (options.store !== false && keepsRuns(config)) {
    try {
      const database = databaseConfigOf(config);
      // PGlite, a run that waits for nothing and ends in seconds: it goes in memory and is written for the store at its
      // end (kept-runs.ts), without PGlite's start. Otherwise (or --durable), and on PostgreSQL: written as it goes.
      // Loaded here: the journal and analytics modules.
      const dataDir = database.kind === 'pglite' ? database.dataDir : undefined;
      const durable = dataDir === undefined || (options.durable ?? !keepsInMemory(spec, await childWorkflowsOf(spec, (name) => catalog.resolve(name))));
      local = !durable
        ? await keepRunsInFile(dataDir, bus)
        : // eslint-disable-next-line @typescript-eslint/no-require-imports
          await (require('../embedded/local-store') as typeof import('../embedded/local-store')).openLocalStore(config, bus);
    } catch (error) {
      await bus.close();
      if (!(error instanceof DbError && error.code === 'DB_LOCKED')) throw error;
      io.err(error.message);
      io.err('hint: weft run --api <its url> runs it on that weft dev; --no-store runs it here without keeping it');
      return EXIT.invalid;
    }
  }

  const view = options.json ? undefined : createRunView(spec, io);
  const runtime = await startEmbedded({
    actions,
    http,
    bus,
    catalog,
    maxRunDepth: config.WEFT_MAX_RUN_DEPTH,
    ...(local && { store: local.store, modules: local.modules }),
    ...(view && { logger: view.logger }),
  }).catch(async (error: unknown) => {
    // Nothing started: the store (and the directory's lock) and the bus are let go before the error goes up.
    await local?.close();
    await bus.close();
    throw error;
  });
  // Ctrl-C's message above the live table, where the next frame does not overwrite it.
  const messages: Io = view ? { ...io, err: (line) => view.message(line) } : io;
  const interrupt = cancelOnInterrupt(messages, signals, (id) => void runtime.scheduler.cancelRun(id, 'interrupted (SIGINT)'));
  const reviews = new EmbeddedReviewDecider(runtime.scheduler, decisions, io, io.isTTY && Boolean(process.stdin.isTTY));
  try {
    const state = await runtime.run(spec, resolved.inputs, {
      onEvent: (event) => {
        view?.onEvent(event);
        reviews.onEvent(event);
      },
      onStarted: (id) => interrupt.started(id),
    });
    // The journal and analytics fold the last events before the process goes.
    if (local && !(await local.settle(bus))) io.err(`warning: the journal may miss the run's last events (${local.description} did not catch up)`);
    if (options.json) io.out(JSON.stringify(runReport(state), null, 2));
    else view?.finish(state);
    if (local && !options.json) io.err(`kept in ${local.description}: weft history ${state.runId} · weft runs list (--no-store to skip)`);
    return state.status === 'completed' ? EXIT.ok : EXIT.runFailed;
  } finally {
    interrupt.dispose();
    await runtime.close();
    await local?.close();
  }
}
