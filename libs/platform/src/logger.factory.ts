import type { LoggerService } from '@nestjs/common';
import { activeTraceFields } from '@weft/telemetry';
import pino from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFields = Record<string, unknown>;

/**
 * The one logger shape Weft's pieces accept: it satisfies the worker's ActionLogger and
 * the scheduler's SchedulerLogger, so services hand them this instead of their defaults.
 * Well-known fields (`runId`, `stepId`, `attempt`, `correlationId`) go in `fields` or
 * `child()` bindings; `traceId`/`spanId` are added from the active span on every line.
 */
export interface WeftLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(bindings: LogFields): WeftLogger;
}

export interface LoggerOptions {
  /** LOG_LEVEL from @weft/config. */
  level: LogLevel;
  /** `service` on every line (scheduler, executor, dev). */
  service: string;
  /** Human-readable lines for a terminal (`weft dev`) instead of JSON. @default false */
  pretty?: boolean;
  /** Where lines go. @default stdout */
  destination?: NodeJS.WritableStream;
}

/** Structured JSON logs (pino) with the active trace on each line; pino-pretty for terminals. */
export function createLogger(options: LoggerOptions): WeftLogger {
  const destination = options.destination ?? process.stdout;
  const stream = options.pretty
    ? // Synchronous, in this thread: no transport worker to flush at exit, and lines stay in order with the CLI's own output.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for terminals (~0.1 s of start-up otherwise)
      (require('pino-pretty') as typeof import('pino-pretty'))({ destination, sync: true, colorize: destination === process.stdout && process.stdout.isTTY, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' })
    : destination;
  const root = pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: pino.stdSerializers.err, err: pino.stdSerializers.err },
      mixin: () => activeTraceFields(),
    },
    stream,
  );
  return adapt(root);
}

function adapt(logger: pino.Logger): WeftLogger {
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: LogFields): void => {
      if (fields) logger[level](fields, message);
      else logger[level](message);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (bindings) => adapt(logger.child(bindings)),
  };
}

/** Nest's own messages (bootstrap, route mapping, exceptions) through the same logger. */
export function nestLogger(logger: WeftLogger): LoggerService {
  const context = (params: unknown[]): LogFields => {
    const last = params[params.length - 1];
    return typeof last === 'string' ? { context: last } : {};
  };
  const text = (message: unknown): string => (typeof message === 'string' ? message : message instanceof Error ? message.message : JSON.stringify(message));
  return {
    log: (message: unknown, ...params: unknown[]) => logger.debug(text(message), context(params)),
    error: (message: unknown, ...params: unknown[]) => {
      // Nest passes (message, stack?, context?).
      const stack = params.length > 1 && typeof params[0] === 'string' ? params[0] : undefined;
      logger.error(text(message), { ...context(params), ...(stack !== undefined && { stack }) });
    },
    warn: (message: unknown, ...params: unknown[]) => logger.warn(text(message), context(params)),
    debug: (message: unknown, ...params: unknown[]) => logger.debug(text(message), context(params)),
    verbose: (message: unknown, ...params: unknown[]) => logger.debug(text(message), context(params)),
    fatal: (message: unknown, ...params: unknown[]) => logger.error(text(message), context(params)),
  };
}
