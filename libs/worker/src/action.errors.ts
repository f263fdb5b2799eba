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
  workerShutdown: 'WORKER_SHUTDOWN',
  actionsModule: 'ACTIONS_MODULE_INVALID',
} as const;

export interface ActionErrorOptions {
  /** false: never retried, whatever the step's retry policy says. @default true */
  retryable?: boolean;
  cause?: unknown;
}

/** An error with a stable code; the worker reports `code`, `message` and `retryable` as the step's error. */
export class ActionError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: string,
    message: string,
    options: ActionErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ActionError';
    this.retryable = options.retryable ?? true;
  }
}

/** Fails the step for good: no retry (bullmq's UnrecoverableError, inngest's NonRetriableError). */
export class NonRetryableError extends ActionError {
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(options.code ?? WORKER_ERROR_CODES.nonRetryable, message, { retryable: false, cause: options.cause });
    this.name = 'NonRetryableError';
  }
}

/** No handler is registered under the step's action name on this worker. */
export class ActionNotFoundError extends NonRetryableError {
  constructor(readonly action: string) {
    super(`no action named "${action}" is registered on this worker`, { code: WORKER_ERROR_CODES.actionNotFound });
    this.name = 'ActionNotFoundError';
  }
}

/** A handler received input it cannot work with; retrying would not help. */
export class InvalidInputError extends NonRetryableError {
  constructor(action: string, message: string) {
    super(`${action}: ${message}`, { code: WORKER_ERROR_CODES.invalidInput });
    this.name = 'InvalidInputError';
  }
}

/** Registering a second action under a name that is taken, or a malformed name. */
export class ActionRegistrationError extends Error {
  constructor(
    readonly code: typeof WORKER_ERROR_CODES.duplicateAction | typeof WORKER_ERROR_CODES.invalidActionName,
    message: string,
  ) {
    super(message);
    this.name = 'ActionRegistrationError';
  }
}

/** An actions module that cannot be loaded or exports something that is not an action. */
export class ActionsModuleError extends Error {
  readonly code = WORKER_ERROR_CODES.actionsModule;
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'ActionsModuleError';
  }
}

/** Abort reason when an attempt runs past its `timeoutMs`; retryable like any transient failure. */
export class StepTimeoutError extends ActionError {
  constructor(timeoutMs: number) {
    super(WORKER_ERROR_CODES.timeout, `the step did not finish within its timeout of ${timeoutMs}ms`);
    this.name = 'StepTimeoutError';
  }
}

/** Abort reason when the scheduler broadcasts a cancel for the run or step. */
export class StepCanceledError extends NonRetryableError {
  constructor(reason: string) {
    super(`canceled: ${reason}`, { code: WORKER_ERROR_CODES.canceled });
    this.name = 'StepCanceledError';
  }
}

/** Abort reason when the worker stops and the grace period is over: the step is handed back, not failed. */
export class WorkerShutdownError extends ActionError {
  constructor() {
    super(WORKER_ERROR_CODES.workerShutdown, 'the worker is shutting down; the step is handed back to the queue');
    this.name = 'WorkerShutdownError';
  }
}

/** Bad worker options, or start() after stop(). */
export class WorkerConfigError extends Error {
  readonly code = 'WORKER_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'WorkerConfigError';
  }
}
