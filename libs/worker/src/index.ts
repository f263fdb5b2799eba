export * from './action.types';
export * from './action.errors';
export * from './action.registry';
export { parseDurationMs } from './duration.util';
export { silentLogger, consoleLogger, childLogger } from './logger.util';
export { holdsBlobRefs, type OutputBlobs, resolveInputRefs, toStepError, toJsonOutput, toResultOutput } from './step-outcome.util';
export { builtinActions, BUILTIN_ACTION_NAMES, type BuiltinActionsOptions } from './actions/builtin.actions';
export { noopAction } from './actions/noop.action';
export { sleepAction, sleep } from './actions/sleep.action';
export { failAction } from './actions/fail.action';
export { transformAction } from './actions/transform.action';
export { logAction } from './actions/log.action';
export {
  httpRequestAction,
  createHttpRequestAction,
  HTTP_ERROR_CODES,
  MAX_REDIRECTS,
  type HttpRequestInput,
  type HttpRequestOutput,
  type HttpRequestOptions,
} from './actions/http-request.action';
export {
  DestinationDeniedError,
  HttpAllowlistError,
  HttpDestinationGuard,
  HTTP_ALLOW_VARIABLE,
  deniedReason,
  httpPolicyOf,
  type HttpDestinationPolicy,
} from './actions/http-destination.guard';
export { loadActionsModule, actionsFromNamespace } from './actions-module.loader';
export { createWorker, executorGroup, ALL_QUEUES, WORKER_DEFAULTS, type Worker, type WorkerOptions, type StepFinishedEvent } from './worker';
export { WorkerAnnouncer, announcedAction, DEFAULT_ANNOUNCE_INTERVAL_MS, type WorkerAnnouncerOptions } from './worker-announcer';
