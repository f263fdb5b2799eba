import type { ActionLogger } from './action.types';

type Fields = Record<string, unknown> | undefined;

/** Logs nothing: for tests and embedders that log elsewhere. */
export const silentLogger: ActionLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** One line per entry on stderr: `level message {"runId":...}`. The default of a worker. */
export function consoleLogger(minLevel: keyof ActionLogger = 'info'): ActionLogger {
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const write =
    (level: (typeof order)[number]) =>
    (message: string, fields?: Fields): void => {
      if (order.indexOf(level) < order.indexOf(minLevel)) return;
      process.stderr.write(`${level} ${message}${fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : ''}\n`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A logger that adds `bound` to every entry (the entry's own fields win). */
export function childLogger(parent: ActionLogger, bound: Record<string, unknown>): ActionLogger {
  const merge = (fields: Fields): Record<string, unknown> => ({ ...bound, ...fields });
  return {
    debug: (message, fields) => parent.debug(message, merge(fields)),
    info: (message, fields) => parent.info(message, merge(fields)),
    warn: (message, fields) => parent.warn(message, merge(fields)),
    error: (message, fields) => parent.error(message, merge(fields)),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '[unserialisable fields]';
  }
}
