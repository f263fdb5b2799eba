import { type OutboxMessage, type OutboxRecord, type RunStore } from '../ports/run-store.port';
import { type RunStoreTestOptions, type RunStoreUnderTest, uniqueId } from './run-store.contract.context';
import { bump, message, runningRun, transition } from './run-store.fixtures';
import { describeRunsContract } from './run-store.runs.contract';
import { describeTimersContract } from './run-store.timers.contract';
import { describeWaitsContract } from './run-store.waits.contract';

/** The outbox's second message in these cases: a broadcast carrying a traceparent header. */
const broadcast = (runId: string): OutboxMessage => message(runId, 2, { kind: 'broadcast', subject: 'weft.run.cancel', headers: { traceparent: '00-abc-def-01' } });

/** That broadcast as the store hands it out for `runId`: with the id and time the store gave `got`. */
const handedOut = (runId: string, got: OutboxRecord): OutboxRecord => ({ ...broadcast(runId), id: got.id, runId, createdAt: got.createdAt });

export type { RunStoreTestOptions, RunStoreUnderTest } from './run-store.contract.context';

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
    const context = {
      get store() {
        return store;
      },
      get subject() {
        return subject;
      },
      allPending,
    };
    // Split by concern: runs (create, read, idempotency, update), the outbox below, then stats, timers and leases.
    describeRunsContract(context);
    describeWaitsContract(context);

    describe('early cancels', () => {
      it('keeps a cancel for a run not created yet until the run takes it, once; a repeated cancel keeps the first reason', async () => {
        const early = store.earlyCancels;
        if (early === undefined) throw new Error('every store here keeps early cancels');
        const runId = uniqueId('run');
        expect(await early.take(runId)).toBeUndefined();
        await early.remember(runId, 'canceled by the overlap policy');
        await early.remember(runId, 'a second reason');
        await early.remember(uniqueId('other'), 'another run');
        expect(await early.take(runId)).toBe('canceled by the overlap policy');
        expect(await early.take(runId)).toBeUndefined();
      });
    });

    describe('outbox', () => {
      it('hands out unpublished messages oldest first; published ones never come back', async () => {
        const state = runningRun(uniqueId('run'));
        await store.createRun(uniqueId('key'), () =>
          transition(state, {
            outbox: [
              message(state.runId, 1),
              broadcast(state.runId),
              message(state.runId, 3),
            ],
          }),
        );
        await store.updateRun(state.runId, (current) => transition(bump(current), { outbox: [message(state.runId, 4), message(state.runId, 5, { payload: null })] }));

        const firstBatch = await store.pendingOutbox(2);
        expect(firstBatch.map((m) => m.msgId)).toEqual([`${state.runId}:msg:1`, `${state.runId}:msg:2`]);
        expect(firstBatch[1]).toEqual(handedOut(state.runId, firstBatch[1]));
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
        // Long enough that the calls between a claiming write and the read that must skip its rows finish
        // within it on a loaded machine (600 ms did not, on PGlite under the CI's two workers).
        const CLAIM_MS = 2_500;
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
                  broadcast(state.runId),
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
          expect(all[1]).toEqual(handedOut(state.runId, all[1]));
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
        }, 20_000);

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
        }, 20_000);
      });
    });

    describeTimersContract(context);
  });
}
