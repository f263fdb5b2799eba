export * from './statuses';
export * from './messages';
export * from './weft-error';
export { listValues, parseQuery } from './http/query';
/** The journal's and analytics' HTTP schemas (queries and responses), one namespace each. */
export * as JournalHttp from './http/journal';
export * as InsightsHttp from './http/insights';
