import { PAYLOAD_ERROR_CODES, WeftError, type WeftErrorOptions } from '@weft/contracts';

/** Stable codes of the errors this library raises itself. */
export const WORKER_ERROR_CODES = {
  handlerError: 'HANDLER_ERROR',
  nonRetryable: 'NON_RETRYABLE',
  actionNotFound: 'ACTION_NOT_FOUND',
  duplicateAction: 'ACTION_DUPLICATE',
  invalidActionName: 'ACTION_INVALID_NAME',
  invalidInput: 'INVALID_INPUT',
  timeout: 'TIMEOUT',
  canceled: 'CANCELED',
  outputNotSerializable: 'OUTPUT_NOT_SERIALIZABLE',
  /** The output's JSON is over WEFT_MAX_PAYLOAD (never retried: the same input makes the same output). */
  payloadTooLarge: PAYLOAD_ERROR_CODES.tooLarge,
  /** The output holds text PostgreSQL cannot store: NUL `\u0000` or a lone surrogate (never retried). */
  unstorableOutput: PAYLOAD_ERROR_CODES.unstorable,
  workerShutdown: 'WORKER_SHUTDOWN',
  actionsModule: 'ACTIONS_MODULE_INVALID',
} as const;

export interface ActionErrorOptions {
  /** false: never retried, whatever the step's retry policy says. @default true */
  retryable?: boolean;
  cause?: unknown;
}

/** An error with a stable code; the worker reports `code`, `message` and `retryable` as the step's error. */
export class ActionError extends WeftError {
  readonly retryable: boolean;
  constructor(code: string, message: string, options: ActionErrorOptions = {}) {
    super(code, message, options);
    this.retryable = options.retryable ?? true;
  }
}

/** Fails the step for good: no retry (bullmq's UnrecoverableError, inngest's NonRetriableError). */
export class NonRetryableError extends ActionError {
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(options.code ?? WORKER_ERROR_CODES.nonRetryable, message, { retryable: false, cause: options.cause });
  }
}

/** No handler is registered under the step's action name on this worker. */
export class ActionNotFoundError extends NonRetryableError {
  constructor(readonly action: string) {
    super(`no action named "${action}" is registered on this worker`, { code: WORKER_ERROR_CODES.actionNotFound });
  }
}

/** A handler received input it cannot work with; retrying would not help. */
export class InvalidInputError extends NonRetryableError {
  constructor(action: string, message: string) {
    super(`${action}: ${message}`, { code: WORKER_ERROR_CODES.invalidInput });
  }
}

/** Registering a second action under a name that is taken, or a malformed name. */
export class ActionRegistrationError extends WeftError<
  typeof WORKER_ERROR_CODES.duplicateAction | typeof WORKER_ERROR_CODES.invalidActionName
> {}

/** An actions module that cannot be loaded or exports something that is not an action. */
export class ActionsModuleError extends WeftError<typeof WORKER_ERROR_CODES.actionsModule> {
  constructor(
    readonly file: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super(WORKER_ERROR_CODES.actionsModule, `${file}: ${message}`, options);
  }
}

/** Abort reason when an attempt runs past its `timeoutMs`; retryable like any transient failure. */
export class StepTimeoutError extends ActionError {
  constructor(timeoutMs: number) {
    super(WORKER_ERROR_CODES.timeout, `the step did not finish within its timeout of ${timeoutMs}ms`);
  }
}

/** Abort reason when the scheduler broadcasts a cancel for the run or step. */
export class StepCanceledError extends NonRetryableError {
  constructor(reason: string) {
    super(`canceled: ${reason}`, { code: WORKER_ERROR_CODES.canceled });
  }
}

/** Abort reason when the worker stops and the grace period is over: the step is handed back, not failed. */
export class WorkerShutdownError extends ActionError {
  constructor() {
    super(WORKER_ERROR_CODES.workerShutdown, 'the worker is shutting down; the step is handed back to the queue');
  }
}

/** Bad worker options, or start() after stop(). */
export class WorkerConfigError extends WeftError<'WORKER_INVALID'> {
  constructor(message: string) {
    super('WORKER_INVALID', message);
  }
}
