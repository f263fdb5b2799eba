import { errorStatus, problemFilter, problemMapper } from '@weft/platform';
import { AnalyticsError } from '../domain/analytics.errors';

/** Analytics' errors by code; the rest is the platform's one mapper. */
export const toProblem = problemMapper([errorStatus(AnalyticsError, { INVALID_QUERY: 400, INVALID_EVENT: 422, STORE_CLOSED: 503 })], 'analytics failed to answer; see its logs');

/** Every error of the analytics controllers as `application/problem+json`. */
export const analyticsProblemFilter = problemFilter('analytics', toProblem);
