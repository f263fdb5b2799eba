import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseWorkflow, type RunState, type WorkflowSpec } from '@weft/core';
import { type EmbeddedRuntime, startEmbedded } from './embedded-runtime';

// Every example in examples/ runs end to end through the embedded runtime: the same
// scheduler and executor modules as production, on the in-memory bus.
const examplesDir = join(__dirname, '..', '..', '..', '..', 'examples');

async function example(name: string): Promise<WorkflowSpec> {
  const file = join(examplesDir, name);
  const { spec, diagnostics } = parseWorkflow(await readFile(file, 'utf8'), file);
  if (!spec) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  return spec;
}

const statuses = (state: RunState): Record<string, string> => Object.fromEntries(Object.values(state.steps).map((s) => [s.id, s.status]));

describe('examples run end to end (embedded)', () => {
  let runtime: EmbeddedRuntime;
  beforeAll(async () => {
    // data-pipeline calls a server of this test on loopback, which http.request refuses unless allowed.
    runtime = await startEmbedded({ http: { allow: ['127.0.0.1/32'] } });
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('diamond: passes results along and does int/double arithmetic', async () => {
    const state = await runtime.run(await example('diamond.yaml'), { count: 41 });
    expect(state.status).toBe('completed');
    expect(state.outputs).toEqual({ answer: 42, doubled: 82, scaled: 61.5, total: 124 });
    // b and c both ran after a and before d.
    const at = (id: string, key: 'startedAt' | 'finishedAt'): number => state.steps[id]?.[key] ?? Number.NaN;
    expect(at('b', 'startedAt')).toBeGreaterThanOrEqual(at('a', 'finishedAt'));
    expect(at('d', 'startedAt')).toBeGreaterThanOrEqual(Math.max(at('b', 'finishedAt'), at('c', 'finishedAt')));
  });

  it('flaky-retry: fails twice, backs off, succeeds on attempt 3', async () => {
    const state = await runtime.run(await example('flaky-retry.yaml'), {});
    expect(state.status).toBe('completed');
    const step = state.steps.call_upstream;
    expect(step?.attempt).toBe(3);
    expect(step?.attempts.map((a) => a.status)).toEqual(['failed', 'failed', 'completed']);
    const gap = (n: number): number => (step?.attempts[n]?.dispatchedAt ?? 0) - (step?.attempts[n - 1]?.finishedAt ?? 0);
    expect(gap(1)).toBeGreaterThanOrEqual(100);
    expect(gap(2)).toBeGreaterThanOrEqual(200);
    expect(state.outputs).toEqual({ succeededOnAttempt: 3 });
  });

  it('conditional: runs one branch, skips the other, and the join runs', async () => {
    const preview = await runtime.run(await example('conditional.yaml'), { environment: 'preview' });
    expect(statuses(preview)).toEqual({ build: 'completed', deploy_production: 'skipped', deploy_preview: 'completed', notify: 'completed' });
    expect(preview.outputs).toMatchObject({ branch: 'preview' });
    const production = await runtime.run(await example('conditional.yaml'), { environment: 'production' });
    expect(statuses(production)).toMatchObject({ deploy_production: 'completed', deploy_preview: 'skipped', notify: 'completed' });
    expect(production.outputs).toMatchObject({ branch: 'production' });
  });

  it('fan-out: 100 parallel steps and a join', async () => {
    const state = await runtime.run(await example('fan-out.yaml'), { factor: 3 });
    expect(state.status).toBe('completed');
    expect(Object.keys(state.steps)).toHaveLength(102);
    expect(JSON.stringify(state.outputs)).toContain('985050');
  });

  describe('data-pipeline against a local HTTP server', () => {
    let server: Server;
    let base: string;
    const received: unknown[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.method === 'GET' && req.url === '/orders') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify([
            { id: 1, customer: 'ada', amount: 120.5 },
            { id: 2, customer: 'bob', amount: 30 },
            { id: 3, amount: 10 },
          ]));
          return;
        }
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          received.push(JSON.parse(body));
          res.setHeader('content-type', 'application/json');
          res.end('{"ok":true}');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('ingests, validates, transforms and exports', async () => {
      const state = await runtime.run(await example('data-pipeline.yaml'), { source: `${base}/orders`, sink: `${base}/import`, minAmount: 0 });
      expect(state.status).toBe('completed');
      expect(received).toEqual([
        {
          source: `${base}/orders`,
          count: 2,
          rejected: 1,
          records: [
            { orderId: 1, customer: 'ada', amount: 120.5, tier: 'large' },
            { orderId: 2, customer: 'bob', amount: 30, tier: 'standard' },
          ],
        },
      ]);
    });
  });
});
