import { loadConfig, requireVariable, type WeftConfig } from '@weft/config';
import { startTracing, type Tracing } from './tracing';

/** What a service's application gets once tracing is up. */
export interface ServiceStart {
  config: WeftConfig;
  tracing: Tracing;
}

export interface ServiceMainOptions {
  /** `scheduler`: spans are `weft-<name>`, messages name it. */
  name: string;
  /** Variables this process cannot run without (a service is never embedded). */
  requires: readonly ('NATS_URL' | 'DATABASE_URL')[];
  /**
   * Loads the application and returns its entry. Called after tracing starts, so it must
   * `require` the app module there: OpenTelemetry patches http, express, Nest and pg as they
   * are required, so nothing that loads them may be imported by main.ts itself.
   */
  load(): (start: ServiceStart) => Promise<unknown>;
}

/**
 * A service's `main(env)`: reads and checks the config, starts tracing, then loads and runs
 * the application. Throws ConfigError naming a bad or missing variable.
 */
export function serviceMain(options: ServiceMainOptions): (env?: NodeJS.ProcessEnv) => Promise<void> {
  return async (env = process.env) => {
    const config = loadConfig(env);
    for (const variable of options.requires) requireVariable(config, variable, `required for the ${options.name} service (use \`weft dev\` for embedded mode)`);
    const tracing = await startTracing({ serviceName: `weft-${options.name}`, env: config });
    await options.load()({ config, tracing });
  };
}

/** Runs `main` when the file is the process's entry point; a failure prints its message and exits 1. */
export function runAsEntryPoint(entry: NodeJS.Module, main: () => Promise<void>): void {
  if (require.main !== entry) return;
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
