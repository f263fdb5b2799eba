import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { loadConfig } from '@weft/config';
import { bootService, type ServiceHandle } from '@weft/platform';
import { ROUTE_LIST, ROUTES, type RouteSpec } from '@weft/scheduler';
import { composeDev } from './compose';

/** Mounted next to the API, outside it: probes and metrics (docs/observability.md), not in the OpenAPI document. */
const OPERATIONAL = ['GET /health/live', 'GET /health/ready', 'GET /health/startup', 'GET /metrics'];

const key = (r: { method: string; path: string }): string => `${r.method.toUpperCase()} ${r.path}`;

/** `METHOD /path/{param}` of every handler of every controller the app mounted, whichever module brought it. */
function mountedRoutes(service: ServiceHandle): string[] {
  const routes: string[] = [];
  for (const module of service.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler: unknown = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const path: unknown = Reflect.getMetadata(PATH_METADATA, handler);
        const method: unknown = Reflect.getMetadata(METHOD_METADATA, handler);
        if (typeof path !== 'string' || typeof method !== 'number') continue;
        const full = `/${[base, path].filter((p) => p !== '' && p !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
        routes.push(`${RequestMethod[method]} ${full}`);
      }
    }
  }
  return routes.sort();
}

/**
 * `weft dev` as it starts (every service in one app, on PGlite and the in-memory bus): the
 * API's route table, from which GET /openapi.json is built, is exactly what its controllers
 * mount (the scheduler's, the journal's and analytics'), and the journal's and insights'
 * answers pass the schemas the document gives them.
 */
describe('weft dev: the mounted routes and the OpenAPI document', () => {
  let dir: string;
  let service: ServiceHandle;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-dev-routes-'));
    const env = { WEFT_DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0' };
    const composition = await composeDev(loadConfig(env), []);
    service = await bootService(composition.module, { name: 'dev', port: 0, host: '127.0.0.1', handleSignals: false });
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string): Promise<{ status: number; type: string; body: unknown }> => {
    const response = await fetch(`${service.url}${path}`);
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.json() };
  };

  it('mounts exactly the route table, besides the probes and metrics', () => {
    const mounted = mountedRoutes(service);
    expect(mounted.filter((route) => !OPERATIONAL.includes(route))).toEqual(ROUTE_LIST.map(key).sort());
    expect(mounted.filter((route) => OPERATIONAL.includes(route))).toEqual([...OPERATIONAL].sort());
  });

  it('serves a document with an operation for every mounted API route', async () => {
    const { status, body } = await get('/openapi.json');
    expect(status).toBe(200);
    const paths = (body as { paths: Record<string, Record<string, unknown>> }).paths;
    const documented = Object.entries(paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => key({ method, path })));
    expect(documented.sort()).toEqual(mountedRoutes(service).filter((route) => !OPERATIONAL.includes(route)));
  });

  it('answers the journal and insights routes as the document says, a run\'s included', async () => {
    const started = await fetch(`${service.url}/v1/runs/adhoc?mode=sync`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ spec: { apiVersion: 'weft/v1', kind: 'Workflow', name: 'routes', steps: [{ id: 'a', action: 'noop' }, { id: 'b', action: 'noop', needs: ['a'] }] } }),
    });
    expect(started.status).toBe(200);
    const { runId } = (await started.json()) as { runId: string };
    // The journal consumes the run's events on its own: wait until it has journaled the end.
    const journaled = async (): Promise<boolean> => ((await get(`/v1/runs/${runId}/history`)).body as { run?: { status?: string } }).run?.status === 'completed';
    for (const deadline = Date.now() + 20_000; !(await journaled()); ) {
      if (Date.now() > deadline) throw new Error(`the journal did not record the end of run ${runId} within 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const routes = (Object.values(ROUTES) as RouteSpec[]).filter((route) => route.tag === 'journal' || route.tag === 'insights');
    expect(routes.map((route) => route.path)).toHaveLength(11);
    for (const route of routes) {
      const path = route.path.replace('{id}', encodeURIComponent(runId)).replace('{stepId}', 'b');
      const answer = await get(path);
      expect({ route: route.path, status: answer.status }).toEqual({ route: route.path, status: 200 });
      const schema = route.responses[200]?.schema;
      expect(schema).toBeDefined();
      expect({ route: route.path, issues: schema?.safeParse(answer.body).error?.issues }).toEqual({ route: route.path, issues: undefined });
    }
    expect(((await get(`/v1/runs/${runId}/checkpoints`)).body as unknown[]).length).toBe(2);

    for (const path of ['/v1/events?since=last-tuesday', `/v1/runs/${runId}/events?type=step.exploded`, '/v1/insights/trends?granularity=week']) {
      const answer = await get(path);
      expect({ path, status: answer.status, type: answer.type }).toEqual({ path, status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
      expect(answer.body).toMatchObject({ code: 'INVALID_QUERY', detail: expect.stringMatching(/^(since|type|granularity): /) });
    }
    expect(await get('/v1/runs/no-such-run/history')).toMatchObject({ status: 404, body: { code: 'RUN_NOT_FOUND' } });
  }, 60_000);
});
