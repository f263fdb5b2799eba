import { Catch } from '@nestjs/common';
import { codedErrorProblems, consoleProblemLogger, ProblemDetailsFilter } from '@weft/platform';
import { AnalyticsError } from '../domain/analytics.errors';

export const toProblem = codedErrorProblems(AnalyticsError, { INVALID_QUERY: 400, INVALID_EVENT: 422, STORE_CLOSED: 503 }, 'analytics failed to answer; see its logs');

/** Every error of the analytics controllers as `application/problem+json`. */
@Catch()
export class AnalyticsProblemFilter extends ProblemDetailsFilter {
  constructor() {
    super({ toProblem, log: consoleProblemLogger('analytics') });
  }
}
