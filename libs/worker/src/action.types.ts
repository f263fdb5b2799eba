/**
 * What an action is: a named handler the executor runs for a step. Handlers receive the
 * step's rendered input (`with`, after the scheduler evaluated its expressions) and a context.
 */

/** Structured logging for handlers; the worker binds run, step and attempt to every line. */
export interface ActionLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = keyof ActionLogger;
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface ActionContext {
  runId: string;
  workflow: string;
  stepId: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** Task queue the step was dispatched to. */
  queue: string;
  /**
   * Fires when the attempt times out, the run or step is canceled, or the worker shuts down.
   * Pass it to fetch, timers and child processes; the worker stops waiting for the handler
   * as soon as it fires, so work done after that is lost.
   */
  signal: AbortSignal;
  logger: ActionLogger;
  /** Reports progress now (the worker also does so on its own every heartbeat interval). */
  heartbeat(): void;
}

/** The output must be JSON-serialisable; `undefined` is reported as `null`. */
export type ActionHandler<I = Record<string, unknown>, O = unknown> = (input: I, ctx: ActionContext) => O | Promise<O>;

export interface ActionDefinition<I = Record<string, unknown>, O = unknown> {
  /** Referenced by `action:` in a workflow; letters, digits, `_`, `-`, dot-separated (e.g. `email.send`). */
  name: string;
  handler: ActionHandler<I, O>;
  description?: string;
  /** JSON Schema of the input, shown in the action catalog. Not enforced by the worker. */
  inputSchema?: object;
}

/** Type helper so handlers get their input type checked: `defineAction<{ to: string }>({ ... })`. */
export function defineAction<I = Record<string, unknown>, O = unknown>(definition: ActionDefinition<I, O>): ActionDefinition {
  return definition as unknown as ActionDefinition;
}
