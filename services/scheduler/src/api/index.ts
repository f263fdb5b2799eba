// ApiModule, storedWorkflowCatalog, toProblem and the API-key values: ../nest-wiring.ts (they load Nest).
export type { ApiModuleOptions } from './api.module';
export * from './api.schemas';
export { buildOpenApiDocument } from './openapi/openapi.document';
export { INSIGHTS_ROUTES, JOURNAL_ROUTES, ROUTES, ROUTE_LIST, type RouteSpec, SCHEDULER_ROUTES, TRIGGERS_ROUTES } from './openapi/routes';
export { ApiError, type ApiErrorCode, type FieldProblem } from './http/api.errors';
export type { ProblemDocument } from './http/problem.util';
export type { ApiKeyRecord, AuthOptions } from '@weft/platform';
export { RunEventsHub, type RunEventsHubOptions } from './runs/run-events.hub';
export { type TemplateSource, templatesFromDirectory, TemplatesDirectoryError } from './catalog/templates';
export { MISSED_ANNOUNCEMENTS } from './catalog/action-catalog';
