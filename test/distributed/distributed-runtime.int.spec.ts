import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { DeadLetter, JetStreamBus } from '@weft/bus';
import type { StepResult } from '@weft/contracts';
import { describeDistributed } from './support/infra.util';
import { scenario } from './support/scenario.util';
import { waitFor } from './support/wait.util';

// Scheduler and executors as separate processes on real NATS JetStream and PostgreSQL:
// the happy path, replicas sharing a queue, duplicate/stale results, poison messages.
describeDistributed('distributed runtime (separate processes)', { nats: true, postgres: true }, () => {
  scenario('a workflow runs across a scheduler process and an executor process', 30_000, async (s) => {
    const [scheduler, executor] = await Promise.all([s.spawn('scheduler'), s.spawn('executor')]);
    // Ready means connected and every durable consumer bound: at least run requests, results and heartbeats; the dispatch queue.
    const bound = (detail: string | undefined): number => Number(/(\d+) consumer subscription\(s\) bound/.exec(detail ?? '')?.[1] ?? 0);
    const schedulerChecks = (await scheduler.health()).body.checks;
    expect([schedulerChecks?.nats?.ok, schedulerChecks?.postgres?.ok]).toEqual([true, true]);
    expect(bound(schedulerChecks?.nats?.detail)).toBeGreaterThanOrEqual(3);
    const executorChecks = (await executor.health()).body.checks;
    expect([executorChecks?.nats?.ok, bound(executorChecks?.nats?.detail)]).toEqual([true, 1]);
    const runId = await s.submit('across-processes', [
      { id: 'a', with: { file: s.recordFile } },
      { id: 'b', needs: ['a'], with: { file: s.recordFile } },
      { id: 'c', needs: ['a'], with: { file: s.recordFile } },
      { id: 'd', needs: ['b', 'c'], with: { file: s.recordFile } },
    ]);
    const run = await s.waitForStatus(runId, 'completed', 20_000);
    expect(Object.values(run.steps).map((step) => [step.id, step.status, step.attempt])).toEqual([
      ['a', 'completed', 1],
      ['b', 'completed', 1],
      ['c', 'completed', 1],
      ['d', 'completed', 1],
    ]);
    // The handlers ran in the executor process, not in the scheduler or this test.
    const records = await s.records();
    expect(new Set(records.map((r) => r.pid))).toEqual(new Set([executor.pid]));
    expect(run.steps.d?.output).toMatchObject({ pid: executor.pid, stepId: 'd' });
    // Short steps send no started heartbeat (their result starts and ends them in one
    // transaction), yet every step still says queued, started, completed, in that order.
    const events = await s.sql<{ step_id: string | null; type: string }>(
      `SELECT payload->>'stepId' AS step_id, payload->>'type' AS type FROM outbox WHERE run_id = $1 AND subject LIKE '%weft.event.%' ORDER BY id`,
      [runId],
    );
    expect(events.filter((e) => e.step_id === null).map((e) => e.type)).toEqual(['run.queued', 'run.started', 'run.completed']);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect([id, events.filter((e) => e.step_id === id).map((e) => e.type)]).toEqual([id, ['step.queued', 'step.started', 'step.completed']]);
    }
  });

  scenario('two executor replicas share a queue: a fan-out of 40 steps, each handler runs exactly once', 45_000, async (s) => {
    const [, one, two] = await Promise.all([s.spawn('scheduler'), s.spawn('executor'), s.spawn('executor')]);
    const fan = Array.from({ length: 40 }, (_, i) => ({ id: `f${i}`, needs: ['root'], with: { file: s.recordFile, ms: 50 } }));
    const runId = await s.submit('fan-out', [{ id: 'root', with: { file: s.recordFile } }, ...fan, { id: 'join', needs: fan.map((f) => f.id), with: { file: s.recordFile } }]);
    const run = await s.waitForStatus(runId, 'completed', 35_000);

    const steps = Object.values(run.steps);
    expect(steps).toHaveLength(42);
    for (const step of steps) {
      expect({ id: step.id, status: step.status, attempt: step.attempt }).toEqual({ id: step.id, status: 'completed', attempt: 1 });
    }
    const records = await s.records();
    const starts = new Map<string, number>();
    for (const r of records.filter((r) => r.event === 'start')) starts.set(r.stepId, (starts.get(r.stepId) ?? 0) + 1);
    expect(starts.size).toBe(42);
    expect([...starts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // Both replicas took a share of the work.
    const pids = new Set(records.map((r) => r.pid));
    expect(pids).toEqual(new Set([one.pid, two.pid]));
    // And the state machine saw each completion exactly once.
    const completions = await s.sql<{ step_id: string; n: number }>(
      `SELECT payload->>'stepId' AS step_id, count(*)::int AS n FROM outbox WHERE subject = $1 GROUP BY 1 HAVING count(*) <> 1`,
      [`weft.event.step.completed`],
    );
    expect(completions).toEqual([]);
  });

  scenario('a duplicate or stale result changes nothing', 30_000, async (s) => {
    await Promise.all([s.spawn('scheduler'), s.spawn('executor')]);
    const runId = await s.submit('duplicates', [{ id: 'a', with: { file: s.recordFile } }]);
    const done = await s.waitForStatus(runId, 'completed', 20_000);
    const step = done.steps.a;
    if (!step?.token) throw new Error('step a has no token');
    const bus = await s.bus();
    const base = { runId, stepId: 'a', workerId: 'impostor', finishedAt: Date.now() };
    const duplicate: StepResult = { ...base, outcome: 'completed', attempt: step.attempt, token: step.token, output: { forged: true } };
    const stale: StepResult = { ...base, outcome: 'failed', attempt: step.attempt, token: `${runId}:a:0`, error: { code: 'LATE', message: 'stale', retryable: true } };
    const future: StepResult = { ...base, outcome: 'completed', attempt: step.attempt + 1, token: `${runId}:a:${step.attempt + 1}`, output: { forged: true } };
    // Different message ids, so the broker does not drop them: the scheduler has to.
    await bus.publish('weft.step.result', duplicate, { msgId: `dup-${runId}` });
    await bus.publish('weft.step.result', stale, { msgId: `stale-${runId}` });
    await bus.publish('weft.step.result', future, { msgId: `future-${runId}` });
    // A marker run submitted after them: once it completed, the scheduler has consumed the three results.
    const marker = await s.submit('marker', [{ id: 'm', with: { file: s.recordFile } }]);
    await s.waitForStatus(marker, 'completed', 20_000);
    const pending = await s.sql<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE run_id = $1 AND published_at IS NULL`, [runId]);
    expect(pending[0]?.n).toBe(0);

    const after = await (await s.store()).getRun(runId);
    expect(after).toEqual(done);
    expect(after?.seq).toBe(done.seq);
    const rows = await s.sql<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE run_id = $1`, [runId]);
    const outboxBefore = rows[0]?.n;
    expect(outboxBefore).toBeGreaterThan(0);
    // Nothing was dead-lettered: a no-op result is a normal, acknowledged message.
    expect((await bus.deadLetters()).filter((d) => d.subject === 'weft.step.result')).toEqual([]);
  });

  scenario('poison messages are dead-lettered with a reason, and the scheduler keeps working', 30_000, async (s) => {
    await Promise.all([s.spawn('scheduler'), s.spawn('executor')]);
    const bus = await s.bus();
    const nc = await rawPublisher(s.natsUrl);
    try {
      const js = nc.js;
      await js.publish(`${s.prefix}.weft.step.result`, '{"runId": "x", oops');
      await js.publish(`${s.prefix}.weft.step.result`, JSON.stringify({ outcome: 'exploded', runId: 'x' }));
      await js.publish(`${s.prefix}.weft.run.requested`, 'not json at all');
      await js.publish(`${s.prefix}.weft.run.requested`, JSON.stringify({ workflow: 'no-idempotency-key' }));
    } finally {
      await nc.close();
    }
    // A request that parses but can never run (invalid spec) is terminal too.
    await bus.publish('weft.run.requested', { idempotencyKey: 'bad-spec', workflow: 'bad', spec: { apiVersion: 'weft/v1' }, inputs: {} });

    const runId = await s.submit('after-poison', [{ id: 'a', with: { file: s.recordFile } }]);
    await s.waitForStatus(runId, 'completed', 20_000);
    const letters = await waitForLetters(bus, 5);
    const summary = letters.map((d) => ({ subject: d.subject, group: d.group, reason: d.reason.split(':')[0] }));
    expect(summary).toEqual(
      expect.arrayContaining([
        { subject: 'weft.step.result', group: 'scheduler-results', reason: 'malformed JSON' },
        { subject: 'weft.step.result', group: 'scheduler-results', reason: 'contract violation' },
        { subject: 'weft.run.requested', group: 'scheduler-runs', reason: 'malformed JSON' },
        { subject: 'weft.run.requested', group: 'scheduler-runs', reason: 'contract violation' },
        { subject: 'weft.run.requested', group: 'scheduler-runs', reason: 'invalid spec' },
      ]),
    );
    expect(letters).toHaveLength(5);
    expect(letters.find((d) => d.reason.startsWith('malformed'))?.payload).toBe('{"runId": "x", oops');
  });
});

async function rawPublisher(servers: string): Promise<{ js: JetStreamClient; close(): Promise<void> }> {
  const nc = await connect({ servers });
  return { js: jetstream(nc), close: () => nc.close() };
}

function waitForLetters(bus: JetStreamBus, count: number): Promise<DeadLetter[]> {
  return waitFor(
    async () => {
      const letters = await bus.deadLetters();
      return letters.length >= count ? letters : undefined;
    },
    { timeoutMs: 10_000, what: `${count} dead letters` },
  );
}
