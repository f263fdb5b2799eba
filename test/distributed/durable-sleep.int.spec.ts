import { describeDistributed } from './support/infra.util';
import { type Scenario, scenario } from './support/scenario.util';

// Issue 13 "done means": 1,000 runs sleeping 5 s with one executor of concurrency 1 all finish
// in about 5 s (a sleep is a timer row, not an executor slot), and a scheduler killed mid-sleep
// does not restart the sleep: the runs wake at the time first scheduled, attempt 1.
const SLEEP_MS = 5_000;
const sleeper = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'sleepers',
  steps: [{ id: 'nap', action: 'sleep', with: { duration: `${SLEEP_MS}ms` } }],
};

interface SleepRow {
  attempt: number;
  status: string;
  started: string;
  finished: string | null;
  until: string | null;
}

async function sleepRows(s: Scenario, prefix: string): Promise<SleepRow[]> {
  return s.sql<SleepRow>(
    `SELECT attempt, status, (extract(epoch FROM started_at) * 1000)::bigint::text AS started, (extract(epoch FROM finished_at) * 1000)::bigint::text AS finished, output->>'until' AS until
     FROM step_runs WHERE run_id LIKE $1`,
    [`${prefix}-%`],
  );
}

/** Publishes `count` run requests and waits until every run sleeps (or is done); ms it took. */
async function submitSleepers(s: Scenario, prefix: string, count: number): Promise<number> {
  const bus = await s.bus();
  const submitted = Date.now();
  await Promise.all(
    Array.from({ length: count }, (_, i) => `${prefix}-${i}`).map((runId) =>
      bus.publish('weft.run.requested', { idempotencyKey: runId, runId, workflow: sleeper.name, spec: sleeper, inputs: {}, source: 'test' }),
    ),
  );
  for (;;) {
    const rows = await sleepRows(s, prefix);
    if (rows.length === count && rows.every((r) => r.status === 'waiting' || r.status === 'completed')) return Date.now() - submitted;
    if (Date.now() - submitted > 60_000) throw new Error(`only ${rows.length} of ${count} runs began to sleep in 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function allDone(s: Scenario, prefix: string, count: number, timeoutMs: number): Promise<SleepRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await sleepRows(s, prefix);
    if (rows.length === count && rows.every((r) => r.status === 'completed')) return rows;
    if (Date.now() > deadline) throw new Error(`${rows.filter((r) => r.status === 'completed').length} of ${count} sleeps done in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every sleep ran once and woke at (or after) the due time set when it began; returns wake lateness percentiles. */
function checkWoke(rows: SleepRow[]): { p50: number; p95: number; max: number } {
  for (const row of rows) {
    expect(row.attempt).toBe(1);
    expect(Date.parse(row.until ?? '') - Number(row.started)).toBe(SLEEP_MS);
    expect(Number(row.finished)).toBeGreaterThanOrEqual(Date.parse(row.until ?? ''));
  }
  const late = rows.map((r) => Number(r.finished) - Date.parse(r.until ?? '')).sort((a, b) => a - b);
  return { p50: late[Math.floor(late.length / 2)] ?? 0, p95: late[Math.floor(late.length * 0.95)] ?? 0, max: late[late.length - 1] ?? 0 };
}

describeDistributed('durable sleep at scale', { nats: true, postgres: true }, () => {
  scenario('1,000 runs sleep 5 s beside one executor of concurrency 1 and wake at their due time', 120_000, async (s) => {
    await Promise.all([s.spawn('scheduler'), s.spawn('executor', { WEFT_CONCURRENCY: '1' })]);
    const prefix = `sleep-${Date.now().toString(36)}`;
    const sleeping = await submitSleepers(s, prefix, 1_000);
    const rows = await allDone(s, prefix, 1_000, 60_000);
    const late = checkWoke(rows);
    const first = Math.min(...rows.map((r) => Number(r.started)));
    const last = Math.max(...rows.map((r) => Number(r.finished)));
    process.stdout.write(`1000 sleeps of 5 s: all sleeping ${sleeping} ms after submit; first start to last wake ${last - first} ms; wake lateness p50 ${late.p50} ms, p95 ${late.p95} ms, max ${late.max} ms\n`);
    // Timers, not slots: the wake-ups come together, far from 1,000 x 5 s one at a time.
    expect(late.p95).toBeLessThan(10_000);
  });

  scenario('a scheduler killed mid-sleep does not restart the sleeps: they wake at the time first scheduled, attempt 1', 90_000, async (s) => {
    const [first] = await Promise.all([s.spawn('scheduler'), s.spawn('executor', { WEFT_CONCURRENCY: '1' })]);
    const prefix = `kill-${Date.now().toString(36)}`;
    await submitSleepers(s, prefix, 200);
    expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    await s.spawn('scheduler');
    const rows = await allDone(s, prefix, 200, 60_000);
    const late = checkWoke(rows);
    process.stdout.write(`200 sleeps across a scheduler SIGKILL: wake lateness p50 ${late.p50} ms, max ${late.max} ms (the restart's downtime)\n`);
  });
});
