/** Where the scheduler's shell logs (the service passes its pino logger; tests pass nothing). */
export interface SchedulerLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentSchedulerLogger: SchedulerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
