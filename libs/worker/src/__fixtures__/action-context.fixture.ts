import type { ActionContext, ActionLogger, LogLevel } from '../action.types';

export interface LogEntry {
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

/** A logger that remembers what it was told. */
export function recordingLogger(): ActionLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      entries.push({ level, message, fields });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A context as the worker would build it, for calling handlers directly. */
export function testContext(overrides: Partial<ActionContext> = {}): ActionContext {
  return {
    runId: 'run-1',
    workflow: 'demo',
    stepId: 'step1',
    attempt: 1,
    queue: 'default',
    signal: new AbortController().signal,
    logger: recordingLogger(),
    heartbeat: () => {},
    ...overrides,
  };
}
