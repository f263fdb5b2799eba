import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { Authenticator, knownCaller, setCaller } from '@weft/platform';
import { RunAccess } from '../../usecases/run-access';
import { ApiError } from './api.errors';
import { header } from './http.util';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** `/v1/runs/<id>` and everything under it, whoever's controller serves it (the journal's history too). */
const RUN_PATH = /^\/v1\/runs\/([^/?]+)(?:[/?]|$)/;

/**
 * In front of every /v1 route (the journal's and analytics' too, when mounted in the same
 * app): authenticates the caller, refuses bodies that are not JSON (415), and hides runs
 * of other namespaces (404) before any controller sees the request.
 */
@Injectable()
export class ApiGateMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  constructor(
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(RunAccess) private readonly runs: RunAccess,
  ) {}

  async use(request: IncomingMessage, _response: ServerResponse, next: (error?: unknown) => void): Promise<void> {
    try {
      const caller = knownCaller(request) ?? (await this.authenticator.authenticate(header(request, 'authorization')));
      setCaller(request, caller);
      if (BODY_METHODS.has(request.method ?? '') && hasBody(request)) {
        const type = header(request, 'content-type');
        if (type === undefined || !JSON_TYPE.test(type)) {
          throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `request bodies are JSON: send Content-Type: application/json (got ${type ?? 'none'})`);
        }
      }
      // Nest strips the mount path from request.url in middleware; originalUrl is express's full path.
      const path = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '';
      const run = RUN_PATH.exec(path)?.[1];
      if (run !== undefined && run !== 'adhoc') await this.runs.assertVisible(caller.namespace, decodeURIComponent(run));
      next();
    } catch (error) {
      next(error);
    }
  }
}

function hasBody(request: IncomingMessage): boolean {
  const length = header(request, 'content-length');
  return (length !== undefined && length !== '0') || header(request, 'transfer-encoding') !== undefined;
}
