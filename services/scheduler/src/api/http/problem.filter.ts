import type { IncomingMessage } from 'node:http';
import { type ArgumentsHost, Catch } from '@nestjs/common';
import { type Authenticator, knownCaller, ProblemDetailsFilter, type ProblemLogger, requestPath, UnauthorizedError } from '@weft/platform';
import { header } from './http.util';
import { toProblem } from './problem.util';

export type { ProblemLogger } from '@weft/platform';

/**
 * Every error as `application/problem+json`: the API's own, Nest's (unknown route,
 * malformed JSON) and body-parser's (413, 415). Installed app-wide, so outside /v1 an
 * HttpException keeps the body it was thrown with (a health probe's 503 report).
 *
 * Body parsing runs before the API-key gate: a /v1 request refused before the gate saw it
 * (malformed JSON, a body too large) is first checked for its key, so a caller without a
 * valid one learns 401 and nothing about its body, as on every other route.
 */
@Catch()
export class ApiProblemFilter extends ProblemDetailsFilter {
  constructor(
    log: ProblemLogger,
    private readonly authenticator?: Authenticator,
  ) {
    super({ toProblem, log, ownsPath: isApiPath });
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<IncomingMessage>();
    if (this.authenticator === undefined || exception instanceof UnauthorizedError || knownCaller(request) || !isGatedPath(requestPath(request))) {
      super.catch(exception, host);
      return;
    }
    this.authenticator.authenticate(header(request, 'authorization')).then(
      () => super.catch(exception, host),
      (refused: unknown) => super.catch(refused, host),
    );
  }
}

const isApiPath = (path: string): boolean => path === '/v1' || path.startsWith('/v1/') || path === '/openapi.json';
const isGatedPath = (path: string): boolean => path === '/v1' || path.startsWith('/v1/');
