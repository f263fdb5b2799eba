import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isBlobRef } from '@weft/contracts';
import { describeDistributed } from './support/infra.util';
import { scenario } from './support/scenario.util';

/**
 * Issue 12 item 4 with the scheduler and the executor as their own processes (NATS + PostgreSQL):
 * the executor (given DATABASE_URL, as in a deployment that enables blobs) stores a 3 MB output in
 * the blobs table and publishes only the reference; the scheduler resolves it for a dependent
 * step's expression and sends it by reference to a step taking the whole output.
 */
const BIG_ACTIONS = join(__dirname, 'support', 'big-output.actions.js');

const bigJson = (mb: number): string =>
  JSON.stringify({ rows: Array.from({ length: mb * 1024 }, (_, i) => ({ i, text: `é✓ ${'x'.repeat(990)}` })), marker: `found-${mb}` });

describeDistributed('large outputs by reference, scheduler and executor apart', { nats: true, postgres: true }, () => {
  scenario('a 3 MB output goes by reference; a dependent step reads a field; a step taking the whole output gets it and stores the same blob', 120_000, async (s) => {
    await Promise.all([s.spawn('scheduler'), s.spawn('executor', { WEFT_ACTIONS: BIG_ACTIONS })]);
    const bus = await s.bus();
    const runId = `big-${Math.random().toString(36).slice(2, 10)}`;
    const spec = {
      apiVersion: 'weft/v1',
      kind: 'Workflow',
      name: 'big',
      steps: [
        { id: 'big', action: 'test.big-output', with: { mb: 3 } },
        { id: 'read', needs: ['big'], action: 'transform', with: { expr: 'steps.big.output.marker + ":" + string(size(steps.big.output.rows))' } },
        // The whole output as the dispatched value: sent by reference, fetched by the executor, handed back, stored again (same bytes, same blob).
        { id: 'whole', needs: ['big'], action: 'transform', with: { expr: 'steps.big.output' } },
      ],
    };
    await bus.publish('weft.run.requested', { idempotencyKey: runId, runId, workflow: 'big', spec, inputs: {}, source: 'test' });
    const run = await s.waitForRun(runId, (r) => ['completed', 'failed', 'partially_completed'].includes(r.status), 90_000);
    const expected = Buffer.from(bigJson(3));
    expect(run.steps.big?.output).toEqual({ $weftBlob: createHash('sha256').update(expected).digest('hex'), size: expected.byteLength });
    expect(isBlobRef(run.steps.big?.output)).toBe(true);
    expect(run.steps.read?.output).toBe('found-3:3072');
    expect(run.steps.whole?.output).toEqual(run.steps.big?.output);
    expect(run.status).toBe('completed');
    const rows = await s.sql<{ json: string; size: string }>(`SELECT json, size FROM blobs`);
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].json, 'utf8').equals(expected)).toBe(true);
    expect(Number(rows[0].size)).toBe(expected.byteLength);
  });
});
