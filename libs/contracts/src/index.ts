export * from './statuses';
export * from './messages';
export * from './waits';
export * from './weft-error';
export * from './payload.util';
export * from './blob.util';
export { listValues, parseQuery } from './http/query';
export { type HttpMethod, type ProblemDocument, problemResponse, type RouteResponse, type RouteSpec } from './http/route';
/** The journal's and analytics' HTTP schemas (queries and responses), one namespace each. */
export * as JournalHttp from './http/journal';
export * as InsightsHttp from './http/insights';
export * as TriggersHttp from './http/triggers';
