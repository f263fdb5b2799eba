import { describeDistributed } from './support/infra.util';
import { scenario } from './support/scenario.util';
import { waitFor } from './support/wait.util';

// Executors die or are stopped mid-step: the scheduler's lease and the broker's
// redelivery get the step run to completion on another replica. Steps wait for a
// release file, so the test (not a timer) decides when a step may finish.
describeDistributed('executor faults', { nats: true, postgres: true }, () => {
  scenario('SIGKILL of an executor mid-step: the step re-runs on the other replica and the run completes', 40_000, async (s) => {
    const [, ...executors] = await Promise.all([s.spawn('scheduler', { WEFT_LEASE_MS: '2000' }), s.spawn('executor'), s.spawn('executor')]);
    const runId = await s.submit('killed-mid-step', [
      { id: 'slow', with: { file: s.recordFile, until: s.releaseFile } },
      { id: 'after', needs: ['slow'], with: { file: s.recordFile } },
    ]);
    const started = await waitFor(async () => (await s.records()).find((r) => r.stepId === 'slow' && r.event === 'start'), {
      timeoutMs: 15_000,
      what: 'step slow to start',
    });
    const victim = executors.find((e) => e.pid === started.pid);
    const survivor = executors.find((e) => e.pid !== started.pid);
    if (!victim || !survivor) throw new Error(`step slow started on an unknown process ${started.pid}`);
    // The kill must come after the scheduler recorded attempt 1 as started (the executor reports
    // it after its started-report delay): before that, a lapsed lease re-sends attempt 1 instead.
    await s.waitForRun(runId, (r) => r.steps.slow?.attempts[0]?.startedAt !== undefined, 15_000, 'attempt 1 of slow recorded as started');
    expect(await victim.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    await s.release();

    const run = await s.waitForStatus(runId, 'completed', 20_000);
    const slow = run.steps.slow;
    expect(slow?.status).toBe('completed');
    expect(slow?.attempts.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'WORKER_LOST'],
      [2, 'completed', undefined],
    ]);
    // The handler ran past the executor's started-report delay, so attempt 1 was reported
    // started (and is lost, not re-sent as a dispatch nobody took).
    expect(slow?.attempts[0]?.startedAt).toBeDefined();
    // Lost, not failed: the retry budget (one attempt) was not spent.
    expect(slow?.lostLeases).toBe(1);
    expect(slow?.output).toMatchObject({ pid: survivor.pid, attempt: 2 });
    const records = await s.records();
    expect(records.filter((r) => r.stepId === 'slow' && r.event === 'done').map((r) => [r.pid, r.attempt])).toEqual([[survivor.pid, 2]]);
    expect(records.filter((r) => r.stepId === 'after' && r.event === 'start').map((r) => r.pid)).toEqual([survivor.pid]);
  });

  scenario('SIGTERM during a step: the executor stops pulling, finishes the step and exits 0', 40_000, async (s) => {
    // A long lease: `after` waits in the queue until the second executor is up, and must not be presumed lost meanwhile.
    const [, first] = await Promise.all([s.spawn('scheduler', { WEFT_LEASE_MS: '30000' }), s.spawn('executor', { WEFT_SHUTDOWN_GRACE_MS: '15000' })]);
    const runId = await s.submit('sigterm-finish', [
      { id: 'long', with: { file: s.recordFile, until: s.releaseFile } },
      { id: 'after', needs: ['long'], with: { file: s.recordFile } },
    ]);
    await waitFor(async () => (await s.records()).some((r) => r.stepId === 'long' && r.event === 'start'), { timeoutMs: 15_000, what: 'step long to start' });
    first.signal('SIGTERM');
    // Shutting down, not gone: readiness fails while the step is still running.
    await waitFor(async () => (await first.health()).status === 503, { timeoutMs: 5_000, what: 'readiness to fail during shutdown' });
    expect(first.running).toBe(true);
    const releasedAt = Date.now();
    await s.release();
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - releasedAt).toBeLessThan(15_000);
    // It finished the step it had (result published before exit) and took nothing new.
    const completed = await s.waitForRun(runId, (run) => run.steps.long?.status === 'completed', 10_000, 'step long completed');
    expect(completed.steps.long?.attempt).toBe(1);
    expect([completed.steps.after?.status, completed.steps.after?.attempt]).toEqual(['queued', 1]);

    const second = await s.spawn('executor');
    const run = await s.waitForStatus(runId, 'completed', 15_000);
    expect(run.steps.after?.output).toMatchObject({ pid: second.pid, attempt: 1 });
    const records = await s.records();
    expect(records.filter((r) => r.event === 'start').map((r) => [r.stepId, r.pid])).toEqual([
      ['long', first.pid],
      ['after', second.pid],
    ]);
  });

  scenario('SIGTERM with a step longer than the grace period: the step is handed back, runs elsewhere, exit 0', 40_000, async (s) => {
    const [, first] = await Promise.all([s.spawn('scheduler', { WEFT_LEASE_MS: '30000' }), s.spawn('executor', { WEFT_SHUTDOWN_GRACE_MS: '300' })]);
    const runId = await s.submit('sigterm-hand-back', [{ id: 'long', with: { file: s.recordFile, until: s.releaseFile } }]);
    await waitFor(async () => (await s.records()).some((r) => r.stepId === 'long' && r.event === 'start'), { timeoutMs: 15_000, what: 'step long to start' });
    const second = await s.spawn('executor');
    first.signal('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    // Handed back, not lost: the second replica gets the same attempt from the broker at once
    // (the lease is 30 s, so no re-dispatch by the scheduler is involved).
    await waitFor(async () => (await s.records()).some((r) => r.pid === second.pid && r.event === 'start'), { timeoutMs: 10_000, what: 'the step to start on the second executor' });
    await s.release();

    const run = await s.waitForStatus(runId, 'completed', 15_000);
    expect(run.steps.long?.output).toMatchObject({ pid: second.pid, attempt: 1 });
    const records = await s.records();
    expect(records.filter((r) => r.pid === first.pid).map((r) => r.event)).toEqual(['start', 'aborted']);
    expect(records.filter((r) => r.pid === second.pid).map((r) => [r.event, r.attempt])).toEqual([
      ['start', 1],
      ['done', 1],
    ]);
  });
});
