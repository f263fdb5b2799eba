export * from './ports/run-store.port';
export * from './ports/workflow-catalog.port';
export * from './persistence';
export * from './scheduler';
export * from './usecases/transition.util';
export * from './workflows';
export * from './ports/slot-store.port';

// The control-plane API and the Nest module (nest-wiring.ts): each value is loaded on its first
// use, so importing this package for the Scheduler and its stores (`weft run`) loads neither
// Nest, @weft/platform nor the API's schemas (~400 modules). Types come through as they are.
import type * as Wiring from './nest-wiring';
export type * from './nest-wiring';
export declare const {
  SchedulerModule, ApiError, ApiModule, DEFAULT_NAMESPACE, INSIGHTS_ROUTES, JOURNAL_ROUTES, MISSED_ANNOUNCEMENTS,
  NAMESPACE_PATTERN, ROUTES, ROUTE_LIST, RunEventsHub, SCHEDULER_ROUTES, SqlApiKeyRepository, TRIGGERS_ROUTES,
  TemplatesDirectoryError, apiKeyId, buildOpenApiDocument, generateApiKey, hashApiKey, storedWorkflowCatalog,
  templatesFromDirectory, toProblem, API_LIMITS, ActionCatalog, AdhocRunBody, ApiKey, ApiKeyList, CancelBody,
  CatalogAction, CreateKeyBody, CreateWorkflowBody, CreatedApiKey, Diagnostic, Draft, IdPath, KeyPath, ListRunsQuery,
  PageQuery, Problem, RerunBody, RerunQuery, ResumeResult, Run, RunAccepted, RunCreationQuery, RunEvent, RunOutput,
  RunPage, RunSummary, SpecBody, SpecObject, StartRunBody, Step, StepInput, StepPath, Template, TemplateCatalog,
  UpdateWorkflowBody, ValidationResult, Version, VersionDetail, VersionList, VersionPath, Workflow, WorkflowPage,
}: typeof Wiring;
export type SchedulerModule = Wiring.SchedulerModule;
export type ApiModule = Wiring.ApiModule;
export type ApiError = Wiring.ApiError;
export type RunEventsHub = Wiring.RunEventsHub;
export type SqlApiKeyRepository = Wiring.SqlApiKeyRepository;
export type TemplatesDirectoryError = Wiring.TemplatesDirectoryError;

/** Every value export of nest-wiring.ts, each a getter on this module (nest-wiring.spec.ts checks the list). */
export const NEST_WIRING = [
  'SchedulerModule', 'ApiError', 'ApiModule', 'DEFAULT_NAMESPACE', 'INSIGHTS_ROUTES', 'JOURNAL_ROUTES',
  'MISSED_ANNOUNCEMENTS', 'NAMESPACE_PATTERN', 'ROUTES', 'ROUTE_LIST', 'RunEventsHub', 'SCHEDULER_ROUTES',
  'SqlApiKeyRepository', 'TRIGGERS_ROUTES', 'TemplatesDirectoryError', 'apiKeyId', 'buildOpenApiDocument',
  'generateApiKey', 'hashApiKey', 'storedWorkflowCatalog', 'templatesFromDirectory', 'toProblem', 'API_LIMITS',
  'ActionCatalog', 'AdhocRunBody', 'ApiKey', 'ApiKeyList', 'CancelBody', 'CatalogAction', 'CreateKeyBody',
  'CreateWorkflowBody', 'CreatedApiKey', 'Diagnostic', 'Draft', 'IdPath', 'KeyPath', 'ListRunsQuery', 'PageQuery',
  'Problem', 'RerunBody', 'RerunQuery', 'ResumeResult', 'Run', 'RunAccepted', 'RunCreationQuery', 'RunEvent',
  'RunOutput', 'RunPage', 'RunSummary', 'SpecBody', 'SpecObject', 'StartRunBody', 'Step', 'StepInput', 'StepPath',
  'Template', 'TemplateCatalog', 'UpdateWorkflowBody', 'ValidationResult', 'Version', 'VersionDetail', 'VersionList',
  'VersionPath', 'Workflow', 'WorkflowPage',
] as const satisfies readonly (keyof typeof Wiring)[];
for (const name of NEST_WIRING) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  Object.defineProperty(exports, name, { enumerable: true, get: () => (require('./nest-wiring') as typeof Wiring)[name] });
}
