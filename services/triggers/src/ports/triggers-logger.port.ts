/** What the service logs through (the platform's logger fits). */
export interface TriggersLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentTriggersLogger: TriggersLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
