import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { Authenticator, knownCaller, setCaller } from '@weft/platform';
import { ROUTE_LIST, type RouteSpec } from '../openapi/routes';
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
      refuseQueryOfQuerylessRoute(request.method ?? 'GET', path);
      const run = RUN_PATH.exec(path)?.[1];
      if (run !== undefined && run !== 'adhoc') await this.runs.assertVisible(caller.namespace, boundedRunId(decodeURIComponent(run)));
      next();
    } catch (error) {
      next(error);
    }
  }
}

/** Longest run id in a path (as the routes' schemas say): longer is 400 on every run route, the journal's too. */
const MAX_RUN_ID_LENGTH = 200;

function boundedRunId(runId: string): string {
  if (runId.length > MAX_RUN_ID_LENGTH) {
    throw new ApiError('INVALID_REQUEST', `path.id: a run id is at most ${MAX_RUN_ID_LENGTH} characters (got ${runId.length})`, [{ path: 'path.id', message: `at most ${MAX_RUN_ID_LENGTH} characters` }]);
  }
  return runId;
}

function hasBody(request: IncomingMessage): boolean {
  const length = header(request, 'content-length');
  return (length !== undefined && length !== '0') || header(request, 'transfer-encoding') !== undefined;
}

/** `/v1/runs/{id}` as a pattern; literal segments count so `/v1/runs/adhoc` beats `/v1/runs/{id}`. */
const ROUTE_PATTERNS = ROUTE_LIST.map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^/}]+\}/g, '[^/]+')}/?$`),
  literals: route.path.split('/').filter((segment) => segment !== '' && !segment.startsWith('{')).length,
}));

function routeOf(method: string, path: string): RouteSpec | undefined {
  const wanted = method === 'HEAD' ? 'get' : method.toLowerCase();
  let best: { route: RouteSpec; literals: number } | undefined;
  for (const candidate of ROUTE_PATTERNS) {
    if (candidate.route.method !== wanted || !candidate.pattern.test(path)) continue;
    if (!best || candidate.literals > best.literals) best = candidate;
  }
  return best?.route;
}

/**
 * Unknown query parameters are refused on every route (issue 12): routes with a query schema
 * refuse them when they parse it (strict schemas); a route that reads none refuses any here.
 */
function refuseQueryOfQuerylessRoute(method: string, url: string): void {
  const at = url.indexOf('?');
  if (at < 0 || at === url.length - 1) return;
  const route = routeOf(method, url.slice(0, at));
  if (route === undefined || route.query !== undefined) return;
  const names = [...new URLSearchParams(url.slice(at + 1)).keys()];
  if (names.length === 0) return;
  throw new ApiError(
    'INVALID_REQUEST',
    `the request query is invalid: ${method} ${route.path} takes no query parameters (got ${names.slice(0, 5).join(', ')})`,
    names.slice(0, 20).map((name) => ({ path: `query.${name.slice(0, 100)}`, message: 'unknown query parameter', code: 'UNRECOGNIZED_KEYS' })),
  );
}
