import type { ServerResponse } from 'node:http';
import { parseWorkflow } from '@weft/core';
import type { ApiKey, CatalogAction, Run, Version, Workflow } from '@weft/sdk';
import { json, problem, type Seen, sse } from './recording-server';

// The API the api-verbs spec scripts: fixtures (a workflow, its versions, runs, the catalog, keys)
// and `answer`, the recording server's handler that serves them by method and path.

export const ETL_YAML = `apiVersion: weft/v1
kind: Workflow
name: etl
inputs:
  count: { type: integer, default: 1 }
steps:
  - id: a
    action: noop
outputs:
  n: \${{ inputs.count }}
`;
const { spec: parsedEtl } = parseWorkflow(ETL_YAML, 'etl.yaml');
if (parsedEtl === undefined) throw new Error('the etl fixture does not parse');
export const ETL = parsedEtl;

export const workflow = (changes: Partial<Workflow> = {}): Workflow => ({
  id: 'wf_1',
  namespace: 'default',
  name: 'etl',
  description: null,
  draftRevision: 2,
  hasDraft: true,
  publishedVersion: 2,
  latestVersion: 3,
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:00.000Z',
  ...changes,
});
export const version = (n: number, changes: Partial<Version> = {}): Version => ({
  workflowId: 'wf_1',
  workflow: 'etl',
  version: n,
  hash: 'sha256:abc',
  archived: false,
  published: false,
  createdAt: '2026-03-01T10:00:00.000Z',
  ...changes,
});
export const run = (runId: string, changes: Partial<Run> = {}): Run => ({
  runId,
  workflow: 'etl',
  version: '2',
  status: 'running',
  createdAt: '2026-03-01T10:00:00.000Z',
  startedAt: '2026-03-01T10:00:00.000Z',
  finishedAt: null,
  durationMs: null,
  error: null,
  correlationId: null,
  namespace: 'default',
  inputs: { count: 10 },
  outputs: null,
  rerunOf: null,
  reruns: [],
  source: null,
  actor: null,
  parentRunId: null,
  children: [],
  steps: [{ id: 'a', status: 'pending', attempts: 0, startedAt: null, finishedAt: null, durationMs: null, output: null, error: null, reusedFrom: null }],
  spec: ETL,
  ...changes,
});
export const ended = (runId: string, status: 'completed' | 'failed'): Run =>
  run(runId, {
    status,
    finishedAt: '2026-03-01T10:00:01.000Z',
    durationMs: 1000,
    outputs: status === 'completed' ? { n: 10 } : null,
    ...(status === 'failed' && { error: { code: 'BOOM', message: 'it broke' } }),
    steps: [
      {
        id: 'a',
        status,
        attempts: 1,
        startedAt: '2026-03-01T10:00:00.100Z',
        finishedAt: '2026-03-01T10:00:00.900Z',
        durationMs: 800,
        output: null,
        error: status === 'failed' ? { code: 'BOOM', message: 'it broke' } : null,
        reusedFrom: null,
      },
    ],
  });
export const stepCompleted = (runId: string) => ({
  eventId: `${runId}:3:0`,
  type: 'step.completed',
  runId,
  workflow: 'etl',
  version: '2',
  stepId: 'a',
  status: 'completed',
  attempt: 1,
  durationMs: 800,
  at: '2026-03-01T10:00:00.900Z',
});

export const ACTIONS: CatalogAction[] = [
  { name: 'http.request', description: 'an HTTP call', inputSchema: { type: 'object' }, builtin: true, workers: 2, queues: ['default', 'io'] },
  { name: 'resize', description: null, inputSchema: null, builtin: false, workers: 1, queues: ['images'] },
  { name: 'noop', description: 'does nothing', inputSchema: null, builtin: true, workers: 0, queues: [] },
];
export const KEYS: ApiKey[] = [
  { keyId: 'k1', namespace: 'default', name: 'ci', createdAt: '2026-03-01T10:00:00.000Z', revokedAt: null },
  { keyId: 'k2', namespace: 'default', name: null, createdAt: '2026-03-02T10:00:00.000Z', revokedAt: '2026-03-03T10:00:00.000Z' },
];

export function answer(url: string, res: ServerResponse, req: Seen): void {
  const route = `${req.method} ${url}`;
  switch (route) {
    case 'POST /v1/workflows/etl/versions/3/archive':
      return json(res, 200, version(3, { archived: true }));
    case 'POST /v1/workflows/etl/versions/2/archive':
      return problem(res, 409, 'Conflict', 'VERSION_PUBLISHED', 'version 2 of etl is published: publish another first');
    case 'PATCH /v1/workflows/etl': {
      const { description } = req.body as { description: string | null };
      return json(res, 200, workflow({ description }));
    }
    case 'DELETE /v1/workflows/etl':
      res.writeHead(204);
      return void res.end();
    case 'DELETE /v1/workflows/nope':
    case 'GET /v1/workflows/nope':
      return problem(res, 404, 'Not Found', 'WORKFLOW_NOT_FOUND', 'no workflow nope');
    case 'GET /v1/workflows/etl':
      return json(res, 200, workflow());
    case 'GET /v1/workflows/fresh':
      return json(res, 200, workflow({ name: 'fresh', publishedVersion: null }));
    case 'GET /v1/workflows/etl/versions/2':
    case 'GET /v1/workflows/etl/versions/3':
      return json(res, 200, { ...version(Number(url.at(-1))), spec: ETL });
    case 'POST /v1/workflows/etl/runs?mode=async': {
      const body = req.body as { version: number; inputs: { count: number } };
      if (body.inputs.count === 500) return problem(res, 503, 'Service Unavailable', 'BUS_UNAVAILABLE', 'the bus is down');
      const runId = body.inputs.count === 13 ? 'bad' : body.inputs.count === 99 ? 'cut' : 'r9';
      return json(res, 202, { runId, status: 'queued', created: req.headers['idempotency-key'] !== 'seen-before', location: `/v1/runs/${runId}` });
    }
    // Started and streamed in one request.
    case 'POST /v1/workflows/etl/runs?stream=true': {
      const body = req.body as { version: number; inputs: { count: number } };
      if (body.inputs.count === 500) return problem(res, 503, 'Service Unavailable', 'BUS_UNAVAILABLE', 'the bus is down');
      if (body.inputs.count === 13) return sse(res, [['snapshot', run('bad')], ['end', ended('bad', 'failed')]]);
      if (body.inputs.count === 99) return sse(res, [['snapshot', run('cut')]]);
      return sse(res, [['snapshot', run('r9')], [undefined, stepCompleted('r9')], ['end', ended('r9', 'completed')]]);
    }
    case 'GET /v1/runs/r1/output':
      return json(res, 200, { runId: 'r1', status: 'completed', outputs: { n: 10 }, error: null });
    case 'GET /v1/runs/r2/output':
      return json(res, 200, { runId: 'r2', status: 'failed', outputs: null, error: { code: 'BOOM', message: 'it broke' } });
    case 'GET /v1/runs/r3/output':
      return problem(res, 409, 'Conflict', 'RUN_NOT_FINISHED', 'run r3 is still running');
    case 'GET /v1/catalog/actions':
      return json(res, 200, { items: ACTIONS });
    case 'GET /v1/catalog/templates':
      return req.headers.authorization === 'Bearer broken'
        ? problem(res, 500, 'Internal Server Error', 'INTERNAL', 'templates unreadable')
        : json(res, 200, { items: [{ name: 'etl', description: 'extract, transform, load', spec: ETL }] });
    case 'GET /v1/keys':
      return json(res, 200, { items: req.headers.authorization === 'Bearer weft_empty' ? [] : KEYS });
    case 'DELETE /v1/keys/k1':
      return json(res, 200, { ...KEYS[0], revokedAt: '2026-03-04T10:00:00.000Z' });
    case 'DELETE /v1/keys/zz':
      return problem(res, 404, 'Not Found', 'KEY_NOT_FOUND', 'no key zz');
    case 'POST /v1/validate': {
      const { source } = req.body as { source: string };
      if (source.includes('needs: [zz]'))
        return json(res, 200, {
          valid: false,
          name: 'etl',
          diagnostics: [{ path: 'steps[0].needs[0]', message: 'unknown step "zz"', code: 'UNKNOWN_NEED', severity: 'error', line: 9, col: 13, hint: 'declared steps: a' }],
        });
      return json(res, 200, { valid: true, name: 'etl', diagnostics: [] });
    }
    default:
      return problem(res, 404, 'Not Found', 'ROUTE_NOT_FOUND', `no route ${route}`);
  }
}
