import type { RunState } from '@weft/core';
import { type ApiApp, apiAppForSuite } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';

/**
 * Issue 13 item 2: a wait's lookback considers every stored signal of its window, not a first
 * page of them. 250 signals are stored before the wait begins; only the 240th satisfies its
 * `match`, far beyond the first page (100) the wait is handed when it registers.
 */

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

const waiter = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'late-match',
  steps: [{ id: 'wait', action: 'wait.event', with: { event: 'meter.tick', key: 'm-1', match: 'event.data.n == 240', timeout: '60s', lookback: '1h' } }],
  outputs: { n: '${{ steps.wait.output.data.n }}', signalId: '${{ steps.wait.output.id }}' },
};

describeDistributed('wait.event lookback beyond a page of signals (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;
  apiAppForSuite({}, (suite) => ({ app, key } = suite));

  it('finds the one matching signal among 250 stored before the wait began', async () => {
    for (let n = 0; n < 250; n++) {
      const sent = await app.request('POST', '/v1/signals', { key, json: { name: 'meter.tick', key: 'm-1', id: `tick-${n}`, data: { n } } });
      expect(sent.status).toBe(201);
    }
    const started = await app.request('POST', '/v1/runs/adhoc', { key, json: { spec: waiter } });
    expect(started.status).toBe(202);
    const { runId } = await json<{ runId: string }>(started);
    let run: RunState | undefined;
    await waitFor(
      async () => {
        run = await app.store.getRun(runId);
        return run !== undefined && ['completed', 'failed', 'canceled'].includes(run.status);
      },
      { timeoutMs: 30_000, what: 'the waiting run to end' },
    );
    expect(run?.status).toBe('completed');
    expect(run?.outputs).toEqual({ n: 240, signalId: 'tick-240' });
    // Nothing of the wait is left behind.
    const left = await app.query<{ n: number }>('SELECT (SELECT count(*) FROM signal_waits WHERE run_id = $1) + (SELECT count(*) FROM signal_deliveries WHERE run_id = $1) AS n', [runId]);
    expect(Number(left[0]?.n)).toBe(0);
  }, 60_000);
});
