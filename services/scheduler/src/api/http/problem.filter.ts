import { Catch } from '@nestjs/common';
import { ProblemDetailsFilter, type ProblemLogger } from '@weft/platform';
import { toProblem } from './problem.util';

export type { ProblemLogger } from '@weft/platform';

/**
 * Every error as `application/problem+json`: the API's own, Nest's (unknown route,
 * malformed JSON) and body-parser's (413, 415). Installed app-wide, so outside /v1 an
 * HttpException keeps the body it was thrown with (a health probe's 503 report).
 */
@Catch()
export class ApiProblemFilter extends ProblemDetailsFilter {
  constructor(log: ProblemLogger) {
    super({ toProblem, log, ownsPath: isApiPath });
  }
}

const isApiPath = (path: string): boolean => path === '/v1' || path.startsWith('/v1/') || path === '/openapi.json';
