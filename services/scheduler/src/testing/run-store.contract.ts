import { createRun, decide } from '@weft/core';
import { type OutboxRecord, type RunStore, type TimerRecord } from '../ports/run-store.port';
import { bump, finishedRun, FIXTURE_SPEC, message, runningRun, transition } from './run-store.fixtures';

export interface RunStoreUnderTest {
  store: RunStore;
  /** A second store on its own connections to the same database; concurrency tests split their calls across both. */
  peer?: RunStore;
  cleanup(): Promise<void>;
}

let counter = 0;
const uniqueId = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
const byKey = (a: { runId: string; stepId: string }, b: { runId: string; stepId: string }) =>
  `${a.runId}/${a.stepId}`.localeCompare(`${b.runId}/${b.stepId}`);

/** What the contract may ask of `make`. */
export interface RunStoreTestOptions {
  /** The store's claim time for outbox rows (ms). */
  outboxClaimMs?: number;
}

/**
 * What every RunStore must do, whatever keeps the data: memory, PGlite, PostgreSQL.
 * `make` returns an empty store (and optionally a peer on the same data).
 */
export function describeRunStoreContract(name: string, make: (options?: RunStoreTestOptions) => Promise<RunStoreUnderTest>): void {
  describe(`RunStore contract: ${name}`, () => {
    let subject: RunStoreUnderTest;
    let store: RunStore;

    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    const allPending = async (): Promise<OutboxRecord[]> => store.pendingOutbox(10_000);

    describe('now', () => {
      it('is epoch ms close to real time and never runs backwards', async () => {
        const first = await store.now();
        const second = await store.now();
        expect(Number.isInteger(first)).toBe(true);
        expect(Math.abs(first - Date.now())).toBeLessThan(5 * 60_000);
        expect(second).toBeGreaterThanOrEqual(first);
      });
    });

    describe('createRun and getRun', () => {
      it('round-trips a running run exactly (every optional field, null output, fields without a column)', async () => {
        const runId = uniqueId('run');
        const state = runningRun(runId);
        let builtAt: number | undefined;
        const result = await store.createRun(uniqueId('key'), (now) => {
          builtAt = now;
          return transition(state);
        });
        expect(result).toEqual({ runId, created: true });
        expect(Math.abs((builtAt ?? 0) - Date.now())).toBeLessThan(5 * 60_000);
        const loaded = await store.getRun(runId);
        expect(loaded).toEqual(state);
        expect(loaded?.steps.notify).toHaveProperty('output', null);
        expect(loaded?.steps.export).not.toHaveProperty('output');
        expect(Object.keys(loaded?.steps ?? {})).toEqual(['ingest', 'validate', 'notify', 'transform', 'export']);
      });

      it('round-trips a finished run with outputs, an error and an undeclared field', async () => {
        const state = finishedRun(uniqueId('run'));
        await store.createRun(uniqueId('key'), () => transition(state));
        expect(await store.getRun(state.runId)).toEqual(state);
      });

      it('round-trips a run built and advanced by the core', async () => {
        const runId = uniqueId('run');
        const created = createRun({ runId, spec: FIXTURE_SPEC, version: '1', inputs: { source: 'https://example.test' }, at: 1_700_000_000_000, correlationId: 'c-1' });
        await store.createRun(uniqueId('key'), () => transition(created.state));
        expect(await store.getRun(runId)).toEqual(created.state);

        let started: ReturnType<typeof decide> | undefined;
        const after = await store.updateRun(runId, (state, now) => {
          started = decide(state, { type: 'run.start', at: now });
          return transition(started.state);
        });
        expect(started?.state.status).toBe('running');
        expect(after).toBe(started?.state);
        expect(await store.getRun(runId)).toEqual(started?.state);
      });

      it('returns undefined for an unknown run', async () => {
        expect(await store.getRun(uniqueId('missing'))).toBeUndefined();
      });

      it('lists runs newest first, filtered by workflow and status, limited', async () => {
        const a = runningRun(uniqueId('run'), { createdAt: 1_000, workflow: 'alpha' });
        const b = finishedRun(uniqueId('run'), { createdAt: 2_000, workflow: 'alpha' });
        const c = runningRun(uniqueId('run'), { createdAt: 3_000, workflow: 'beta' });
        for (const state of [a, b, c]) await store.createRun(uniqueId('key'), () => transition(state));
        expect((await store.listRuns()).map((r) => r.runId)).toEqual([c.runId, b.runId, a.runId]);
        expect(await store.listRuns({ workflow: 'alpha' })).toEqual([b, a]);
        expect((await store.listRuns({ status: ['running'] })).map((r) => r.runId)).toEqual([c.runId, a.runId]);
        expect((await store.listRuns({ workflow: 'alpha', status: ['failed', 'completed'] })).map((r) => r.runId)).toEqual([b.runId]);
        expect((await store.listRuns({ limit: 2 })).map((r) => r.runId)).toEqual([c.runId, b.runId]);
        expect(await store.listRuns({ status: [] })).toEqual([]);
      });
    });

    describe('idempotency', () => {
      it('returns the existing run for a repeated key without building or writing anything', async () => {
        const key = uniqueId('key');
        const first = runningRun(uniqueId('run'));
        await store.createRun(key, () => transition(first, { outbox: [message(first.runId, 1)] }));

        const build = jest.fn(() => transition(runningRun(uniqueId('run')), { outbox: [message('other', 1)] }));
        expect(await store.createRun(key, build)).toEqual({ runId: first.runId, created: false });
        expect(build).not.toHaveBeenCalled();
        expect((await allPending()).map((m) => m.msgId)).toEqual([`${first.runId}:msg:1`]);
        expect(await store.listRuns()).toEqual([first]);
      });

      it('keeps keys apart per namespace', async () => {
        const key = uniqueId('key');
        const a = runningRun(uniqueId('run'), { namespace: 'team-a' });
        const b = runningRun(uniqueId('run'), { namespace: 'team-b' });
        expect(await store.createRun(key, () => transition(a), { namespace: 'team-a' })).toEqual({ runId: a.runId, created: true });
        expect(await store.createRun(key, () => transition(b), { namespace: 'team-b' })).toEqual({ runId: b.runId, created: true });
        expect(await store.createRun(key, () => transition(runningRun(uniqueId('run'), { namespace: 'team-a' })), { namespace: 'team-a' })).toEqual({ runId: a.runId, created: false });
        expect((await store.getRun(b.runId))?.namespace).toBe('team-b');
      });

      it('refuses a run whose namespace is not the one it is created in, writing nothing', async () => {
        const run = runningRun(uniqueId('run'), { namespace: 'team-a' });
        await expect(store.createRun(uniqueId('key'), () => transition(run), { namespace: 'team-b' })).rejects.toThrow(/namespace team-a/);
        expect(await store.getRun(run.runId)).toBeUndefined();
      });

      it('creates exactly one run when the same key races', async () => {
        const key = uniqueId('key');
        const stores = [store, subject.peer ?? store];
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => {
            const state = runningRun(uniqueId('run'));
            return stores[i % 2].createRun(key, () => transition(state, { outbox: [message(state.runId, 1)], schedule: [{ runId: state.runId, timer: 'run-timeout', stepId: '', fireAt: 5_000 }] }));
          }),
        );
        const winners = results.filter((r) => r.created);
        expect(winners).toHaveLength(1);
        expect(new Set(results.map((r) => r.runId))).toEqual(new Set([winners[0].runId]));
        expect(await store.listRuns()).toHaveLength(1);
        expect((await allPending()).map((m) => m.runId)).toEqual([winners[0].runId]);
        expect((await store.dueTimers(10_000, 10)).map((t) => t.runId)).toEqual([winners[0].runId]);
      });
    });

    describe('updateRun', () => {
      it('returns undefined for an unknown run without calling decide', async () => {
        const decideFn = jest.fn(() => undefined);
        expect(await store.updateRun(uniqueId('missing'), decideFn)).toBeUndefined();
        expect(decideFn).not.toHaveBeenCalled();
      });

      it('hands decide the stored state and database time, and persists what it returns', async () => {
        const state = runningRun(uniqueId('run'));
        await store.createRun(uniqueId('key'), () => transition(state));
        let seen: { state: unknown; now: number } | undefined;
        const next = bump(state, 'validate', { status: 'completed', finishedAt: 123_456, output: { valid: true }, leaseExpiresAt: undefined });
        const result = await store.updateRun(state.runId, (current, now) => {
          seen = { state: current, now };
          return transition(next);
        });
        expect(seen?.state).toEqual(state);
        expect(Math.abs((seen?.now ?? 0) - Date.now())).toBeLessThan(5 * 60_000);
        expect(result).toBe(next);
        expect(await store.getRun(state.runId)).toEqual(next);
      });

      it('serialises concurrent updates of one run: 20 increments end at 20', async () => {
        const state = runningRun(uniqueId('run'), { seq: 0 });
        await store.createRun(uniqueId('key'), () => transition(state));
        const stores = [store, subject.peer ?? store];
        const seenSeqs: number[] = [];
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            stores[i % 2].updateRun(state.runId, (current) => {
              seenSeqs.push(current.seq);
              const export_ = current.steps.export;
              return transition(bump(current, 'export', { attempt: export_.attempt + 1 }), { outbox: [message(state.runId, current.seq)] });
            }),
          ),
        );
        const final = await store.getRun(state.runId);
        expect(final?.seq).toBe(20);
        expect(final?.steps.export.attempt).toBe(20);
        expect([...seenSeqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        // Outbox rows of one run come in the order its updates committed.
        expect((await allPending()).map((m) => (m.payload as { n: number }).n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      });

      it('writes nothing when decide returns undefined', async () => {
        const state = runningRun(uniqueId('run'));
        await store.createRun(uniqueId('key'), () =>
          transition(state, { outbox: [message(state.runId, 1)], schedule: [{ runId: state.runId, timer: 'lease', stepId: 'validate', attempt: 1, fireAt: 4_000 }] }),
        );
        const result = await store.updateRun(state.runId, () => undefined);
        expect(result).toEqual(state);
        expect(await store.getRun(state.runId)).toEqual(state);
        expect((await allPending()).map((m) => m.msgId)).toEqual([`${state.runId}:msg:1`]);
        expect(await store.dueTimers(10_000, 10)).toEqual([{ runId: state.runId, timer: 'lease', stepId: 'validate', attempt: 1, fireAt: 4_000 }]);
      });

      it('persists nothing when decide throws, and the run stays usable', async () => {
        const state = runningRun(uniqueId('run'));
        await store.createRun(uniqueId('key'), () => transition(state));
        const boom = new Error('decide failed');
        await expect(
          store.updateRun(state.runId, () => {
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.getRun(state.runId)).toEqual(state);
        expect(await allPending()).toEqual([]);
        const next = bump(state);
        expect(await store.updateRun(state.runId, () => transition(next))).toBe(next);
        expect((await store.getRun(state.runId))?.seq).toBe(state.seq + 1);
      });

      it('persists nothing when build throws, and the key stays free', async () => {
        const key = uniqueId('key');
        const boom = new Error('build failed');
        await expect(
          store.createRun(key, () => {
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.listRuns()).toEqual([]);
        const state = runningRun(uniqueId('run'));
        expect(await store.createRun(key, () => transition(state))).toEqual({ runId: state.runId, created: true });
      });
    });

    describe('outbox', () => {
      it('hands out unpublished messages oldest first; published ones never come back', async () => {
        const state = runningRun(uniqueId('run'));
        await store.createRun(uniqueId('key'), () =>
          transition(state, {
            outbox: [
              message(state.runId, 1),
              message(state.runId, 2, { kind: 'broadcast', subject: 'weft.run.cancel', headers: { traceparent: '00-abc-def-01' } }),
              message(state.runId, 3),
            ],
          }),
        );
        await store.updateRun(state.runId, (current) => transition(bump(current), { outbox: [message(state.runId, 4), message(state.runId, 5, { payload: null })] }));

        const firstBatch = await store.pendingOutbox(2);
        expect(firstBatch.map((m) => m.msgId)).toEqual([`${state.runId}:msg:1`, `${state.runId}:msg:2`]);
        expect(firstBatch[1]).toEqual({
          ...message(state.runId, 2, { kind: 'broadcast', subject: 'weft.run.cancel', headers: { traceparent: '00-abc-def-01' } }),
          id: firstBatch[1].id,
          runId: state.runId,
          createdAt: firstBatch[1].createdAt,
        });
        expect(firstBatch[0]).not.toHaveProperty('headers');
        expect(Math.abs(firstBatch[0].createdAt - Date.now())).toBeLessThan(5 * 60_000);
        await store.markPublished(firstBatch.map((m) => m.id));

        const rest = await store.pendingOutbox(10);
        expect(rest.map((m) => m.msgId)).toEqual([3, 4, 5].map((n) => `${state.runId}:msg:${n}`));
        expect(rest[2].payload).toBeNull();
        expect(new Set([...firstBatch, ...rest].map((m) => m.id)).size).toBe(5);
        await store.markPublished(rest.map((m) => m.id));
        await store.markPublished([]);
        expect(await store.pendingOutbox(10)).toEqual([]);
      });

      it('never hands out a quarantined row again and counts it apart from the backlog (issue 12: poison rows)', async () => {
        const state = runningRun(uniqueId('run'));
        await store.createRun(uniqueId('key'), () => transition(state, { outbox: [message(state.runId, 1), message(state.runId, 2)] }));
        const [poison, fine] = await store.pendingOutbox(10);
        await store.quarantineOutbox([{ id: poison.id, reason: 'PAYLOAD_TOO_LARGE: max_payload exceeded \u0000' }]);
        await store.quarantineOutbox([]);
        await store.markPublished([fine.id]);
        expect(await store.pendingOutbox(10)).toEqual([]);
        // Quarantining a published row changes nothing.
        await store.quarantineOutbox([{ id: fine.id, reason: 'late' }]);
        expect(await store.stats()).toMatchObject({ outboxBacklog: 0, outboxQuarantined: 1 });
      });

      describe('rows inserted claimed (claimOutbox)', () => {
        const CLAIM_MS = 600;
        let claiming: RunStoreUnderTest;
        beforeEach(async () => {
          claiming = await make({ outboxClaimMs: CLAIM_MS });
        });
        afterEach(async () => {
          await claiming.cleanup();
        });

        it('hands each call its rows after the commit, in order, as written; relays skip them until the claim lapses', async () => {
          const s = claiming.store;
          const peer = claiming.peer ?? s;
          const state = runningRun(uniqueId('run'));
          const handed: OutboxRecord[][] = [];
          const claim = (rows: readonly OutboxRecord[]) => void handed.push([...rows]);
          const created = await s.createRun(
            uniqueId('key'),
            () =>
              transition(state, {
                outbox: [
                  message(state.runId, 1),
                  message(state.runId, 2, { kind: 'broadcast', subject: 'weft.run.cancel', headers: { traceparent: '00-abc-def-01' } }),
                  message(state.runId, 3, { payload: null }),
                ],
              }),
            { claimOutbox: claim },
          );
          expect(created).toEqual({ runId: state.runId, created: true });
          // Handed over before the call resolved.
          expect(handed.map((rows) => rows.map((r) => r.msgId))).toEqual([[1, 2, 3].map((n) => `${state.runId}:msg:${n}`)]);
          // Two updates of the run at once (the SQL store may batch them): each gets its own rows.
          const [a, b] = await Promise.all([
            s.updateRun(state.runId, (current) => transition(bump(current), { outbox: [message(state.runId, 4), message(state.runId, 5)] }), { claimOutbox: claim }),
            s.updateRun(state.runId, (current) => transition(bump(current), { outbox: [message(state.runId, 6)] }), { claimOutbox: claim, relaxed: true }),
          ]);
          expect(a?.seq).toBe(state.seq + 1);
          expect(b?.seq).toBe(state.seq + 2);
          expect(handed.map((rows) => rows.map((r) => (r.payload as { n: number } | null)?.n ?? null))).toEqual([[1, 2, null], [4, 5], [6]]);
          // Unclaimed rows of the same run are not held back; claimed ones are, on every store of the data.
          await s.updateRun(state.runId, (current) => transition(bump(current), { outbox: [message(state.runId, 7)] }));
          // No rows, no call.
          await s.updateRun(state.runId, (current) => transition(bump(current)), { claimOutbox: claim });
          expect(handed).toHaveLength(3);
          const unclaimed = await s.pendingOutbox(100);
          expect(unclaimed.map((r) => r.msgId)).toEqual([`${state.runId}:msg:7`]);
          await s.markPublished(unclaimed.map((r) => r.id));
          expect(await s.pendingOutbox(100)).toEqual([]);
          expect(await peer.pendingOutbox(100)).toEqual([]);
          // Claimed rows are still unpublished: they count as backlog.
          expect((await s.stats()).outboxBacklog).toBe(6);

          const all = handed.flat();
          expect(new Set(all.map((r) => r.id)).size).toBe(6);
          expect(all.every((r) => r.runId === state.runId)).toBe(true);
          expect(Math.abs(all[0].createdAt - Date.now())).toBeLessThan(5 * 60_000);
          expect(all[1]).toEqual({
            ...message(state.runId, 2, { kind: 'broadcast', subject: 'weft.run.cancel', headers: { traceparent: '00-abc-def-01' } }),
            id: all[1].id,
            runId: state.runId,
            createdAt: all[1].createdAt,
          });
          expect(all[0]).not.toHaveProperty('headers');
          expect(all[2].payload).toBeNull();

          // Published and marked: gone for good. Not marked: handed out once the claim lapses, exactly as written.
          await s.markPublished(handed[0].map((r) => r.id));
          await new Promise((resolve) => setTimeout(resolve, CLAIM_MS + 100));
          const lapsed = await peer.pendingOutbox(100);
          expect(lapsed).toEqual([...handed[1], ...handed[2]]);
          await peer.markPublished(lapsed.map((r) => r.id));
          expect((await s.pendingOutbox(100)).map((r) => r.msgId)).toEqual([]);
          expect((await s.stats()).outboxBacklog).toBe(0);
        });

        it('hands nothing over for a repeated key, an unknown run, or a throwing decide', async () => {
          const s = claiming.store;
          const claim = jest.fn();
          const key = uniqueId('key');
          const state = runningRun(uniqueId('run'));
          await s.createRun(key, () => transition(state, { outbox: [message(state.runId, 1)] }));
          expect(await s.createRun(key, () => transition(runningRun(uniqueId('run')), { outbox: [message('other', 1)] }), { claimOutbox: claim })).toEqual({ runId: state.runId, created: false });
          expect(await s.updateRun(uniqueId('missing'), () => undefined, { claimOutbox: claim })).toBeUndefined();
          const boom = new Error('decide failed');
          await expect(
            s.updateRun(state.runId, () => {
              throw boom;
            }, { claimOutbox: claim }),
          ).rejects.toBe(boom);
          expect(claim).not.toHaveBeenCalled();
          expect((await s.pendingOutbox(10)).map((r) => r.msgId)).toEqual([`${state.runId}:msg:1`]);
        });

        it('commits even when the callback throws; the rows stay claimed for the relay', async () => {
          const s = claiming.store;
          const state = runningRun(uniqueId('run'));
          await s.createRun(uniqueId('key'), () => transition(state));
          const next = await s.updateRun(state.runId, (current) => transition(bump(current), { outbox: [message(state.runId, 1)] }), {
            claimOutbox: () => {
              throw new Error('callback failed');
            },
          });
          expect(next?.seq).toBe(state.seq + 1);
          expect(await s.pendingOutbox(10)).toEqual([]);
          await new Promise((resolve) => setTimeout(resolve, CLAIM_MS + 100));
          expect((await s.pendingOutbox(10)).map((r) => r.msgId)).toEqual([`${state.runId}:msg:1`]);
        });
      });
    });

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
  });
}
