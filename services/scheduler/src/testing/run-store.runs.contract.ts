import { createRun, decide } from '@weft/core';
import { type RunStore } from '../ports/run-store.port';
import { type RunStoreContext, type RunStoreUnderTest, uniqueId } from './run-store.contract.context';
import { bump, finishedRun, FIXTURE_SPEC, message, runningRun, transition } from './run-store.fixtures';

/** The RunStore contract on runs: the clock, create and read, idempotency keys, updates. */
export function describeRunsContract(context: RunStoreContext): void {
  let store: RunStore;
  let subject: RunStoreUnderTest;
  beforeEach(() => {
    ({ store, subject } = context);
  });
  const { allPending } = context;

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
      // Per update, the state its decision was written for (a store may decide again, on the reloaded run, and write only that).
      const seenSeqs: number[] = [];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          stores[i % 2].updateRun(state.runId, (current) => {
            seenSeqs[i] = current.seq;
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
}
