import { type RunStore, type TimerRecord } from '../ports/run-store.port';
import { byKey, type RunStoreContext, uniqueId } from './run-store.contract.context';
import { bump, finishedRun, message, runningRun, transition } from './run-store.fixtures';

/** The RunStore contract on stats, timers and expired leases. */
export function describeTimersContract(context: RunStoreContext): void {
  let store: RunStore;
  beforeEach(() => {
    ({ store } = context);
  });
  const { allPending } = context;

  describe('stats', () => {
    it('counts live runs by status with the oldest one\'s age, and the unpublished outbox with its oldest message\'s age', async () => {
      expect(await store.stats()).toEqual({ activeRuns: {}, outboxBacklog: 0 });
      const now = await store.now();
      const older = runningRun(uniqueId('run'), { createdAt: now - 60_000 });
      const newer = runningRun(uniqueId('run'), { createdAt: now - 1_000 });
      const queued = runningRun(uniqueId('run'), { status: 'queued', createdAt: now - 5_000 });
      const done = finishedRun(uniqueId('run'), { createdAt: now - 3_600_000 });
      for (const state of [older, newer, queued, done]) {
        await store.createRun(uniqueId('key'), () => transition(state, { outbox: state === older ? [message(state.runId, 1), message(state.runId, 2)] : [] }));
      }
      const stats = await store.stats();
      expect(stats.activeRuns).toEqual({ running: 2, queued: 1 });
      expect(stats.oldestActiveRunAgeMs).toBeGreaterThanOrEqual(60_000);
      expect(stats.oldestActiveRunAgeMs).toBeLessThan(60_000 + 60_000);
      expect(stats.outboxBacklog).toBe(2);
      expect(stats.oldestOutboxAgeMs).toBeGreaterThanOrEqual(0);
      expect(stats.oldestOutboxAgeMs).toBeLessThan(60_000);

      await store.markPublished((await allPending()).map((m) => m.id));
      const after = await store.stats();
      expect(after.outboxBacklog).toBe(0);
      expect(after.oldestOutboxAgeMs).toBeUndefined();
    });
  });

  describe('timers', () => {
    it('schedules, upserts by key, cancels, and reports due timers in fire order', async () => {
      const state = runningRun(uniqueId('run'));
      const runTimeout: TimerRecord = { runId: state.runId, timer: 'run-timeout', stepId: '', fireAt: 1_000 };
      const retry: TimerRecord = { runId: state.runId, timer: 'retry', stepId: 'transform', attempt: 2, fireAt: 3_000 };
      const stepTimeout: TimerRecord = { runId: state.runId, timer: 'step-timeout', stepId: 'validate', attempt: 1, fireAt: 2_000 };
      expect(await store.nextTimerAt()).toBeUndefined();
      await store.createRun(uniqueId('key'), () => transition(state, { schedule: [runTimeout, retry, stepTimeout] }));

      expect(await store.nextTimerAt()).toBe(1_000);
      expect(await store.dueTimers(2_500, 10)).toEqual([runTimeout, stepTimeout]);
      expect(await store.dueTimers(2_500, 1)).toEqual([runTimeout]);
      expect(await store.dueTimers(999, 10)).toEqual([]);

      // Same key (run, kind, step): replaced, not added.
      const sooner: TimerRecord = { ...retry, attempt: 3, fireAt: 500 };
      await store.updateRun(state.runId, (current) => transition(bump(current), { schedule: [sooner] }));
      expect(await store.nextTimerAt()).toBe(500);
      expect(await store.dueTimers(10_000, 10)).toEqual([sooner, runTimeout, stepTimeout]);

      await store.updateRun(state.runId, (current) =>
        transition(bump(current), {
          cancel: [{ runId: state.runId, timer: 'run-timeout', stepId: '' }, { runId: state.runId, timer: 'lease', stepId: 'nope' }],
        }),
      );
      expect(await store.dueTimers(10_000, 10)).toEqual([sooner, stepTimeout]);

      // Canceled and scheduled in one transition: cancel first, then schedule.
      const again: TimerRecord = { ...stepTimeout, attempt: 2, fireAt: 7_000 };
      await store.updateRun(state.runId, (current) =>
        transition(bump(current), { cancel: [{ runId: state.runId, timer: 'step-timeout', stepId: 'validate' }, { runId: state.runId, timer: 'retry', stepId: 'transform' }], schedule: [again] }),
      );
      expect(await store.dueTimers(10_000, 10)).toEqual([again]);
      expect(await store.nextTimerAt()).toBe(7_000);

      await store.updateRun(state.runId, (current) => transition(bump(current), { cancel: [again] }));
      expect(await store.nextTimerAt()).toBeUndefined();
    });

    it('a cancel with fireAt (a fired timer) drops the timer only while it fires no later: a stale fire keeps the key scheduled again', async () => {
      const state = runningRun(uniqueId('run'));
      const first: TimerRecord = { runId: state.runId, timer: 'rate-limit', stepId: 'call', attempt: 0, fireAt: 1_000 };
      await store.createRun(uniqueId('key'), () => transition(state, { schedule: [first] }));
      // One replica fired it and scheduled the key again, later; another replica's fire of the first comes after.
      const later: TimerRecord = { ...first, fireAt: 5_000 };
      await store.updateRun(state.runId, (current) => transition(bump(current), { cancel: [first], schedule: [later] }));
      await store.updateRun(state.runId, (current) => transition(bump(current), { cancel: [first] }));
      expect(await store.dueTimers(10_000, 10)).toEqual([later]);
      await store.updateRun(state.runId, (current) => transition(bump(current), { cancel: [later] }));
      expect(await store.nextTimerAt()).toBeUndefined();
    });

    it('a timer between two milliseconds is not due before its time (the core ignores a timer fired before it, and the fire removes its row)', async () => {
      const state = runningRun(uniqueId('run'));
      const timer: TimerRecord = { runId: state.runId, timer: 'rate-limit', stepId: 'call', attempt: 0, fireAt: 1_000.456 };
      await store.createRun(uniqueId('key'), () => transition(state, { schedule: [timer] }));
      expect(await store.dueTimers(1_000, 10)).toEqual([]);
      expect(await store.nextTimerAt()).toBeGreaterThanOrEqual(1_000.456);
      expect((await store.dueTimers(1_001, 10)).map((t) => [t.timer, t.stepId])).toEqual([['rate-limit', 'call']]);
    });

    it('orders due timers across runs by fire time', async () => {
      const a = runningRun(uniqueId('run'));
      const b = runningRun(uniqueId('run'));
      await store.createRun(uniqueId('key'), () => transition(a, { schedule: [{ runId: a.runId, timer: 'retry', stepId: 'transform', attempt: 2, fireAt: 2_000 }] }));
      await store.createRun(uniqueId('key'), () => transition(b, { schedule: [{ runId: b.runId, timer: 'retry', stepId: 'transform', attempt: 2, fireAt: 1_500 }] }));
      expect((await store.dueTimers(5_000, 10)).map((t) => t.runId)).toEqual([b.runId, a.runId]);
    });
  });

  describe('expiredLeases', () => {
    it('finds only queued or running steps of live runs whose lease passed', async () => {
      const live = runningRun(uniqueId('run'));
      live.steps = {
        ...live.steps,
        ingest: { ...live.steps.ingest, status: 'queued', attempt: 3, leaseExpiresAt: 1_000 },
        validate: { ...live.steps.validate, status: 'running', attempt: 1, leaseExpiresAt: 2_000 },
        notify: { ...live.steps.notify, status: 'running', attempt: 1, leaseExpiresAt: 5_000 },
        transform: { ...live.steps.transform, status: 'completed', leaseExpiresAt: 500 },
        export: { ...live.steps.export, status: 'retrying', leaseExpiresAt: 100 },
      };
      const done = finishedRun(uniqueId('run'));
      done.steps = { ...done.steps, validate: { ...done.steps.validate, status: 'running', leaseExpiresAt: 100 } };
      await store.createRun(uniqueId('key'), () => transition(live));
      await store.createRun(uniqueId('key'), () => transition(done));

      const expired = await store.expiredLeases(3_000, 10);
      expect([...expired].sort(byKey)).toEqual(
        [
          { runId: live.runId, stepId: 'ingest', attempt: 3 },
          { runId: live.runId, stepId: 'validate', attempt: 1 },
        ].sort(byKey),
      );
      expect(await store.expiredLeases(3_000, 1)).toHaveLength(1);
      expect(await store.expiredLeases(999, 10)).toEqual([]);

      // A renewed lease (heartbeat) is no longer expired.
      await store.updateRun(live.runId, (current) => transition(bump(current, 'ingest', { leaseExpiresAt: 60_000 })));
      expect(await store.expiredLeases(3_000, 10)).toEqual([{ runId: live.runId, stepId: 'validate', attempt: 1 }]);
    });
  });
}
