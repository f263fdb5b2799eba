import type { Actor } from '@weft/contracts';
import type { RunState } from '@weft/core';
import type { RunStore } from '../ports/run-store.port';
import type { WaitCommand, WaitStore } from '../ports/wait-store.port';
import { type RunStoreContext, uniqueId } from './run-store.contract.context';
import { bump, runningRun, transition } from './run-store.fixtures';

/**
 * Durable waits (RunStore.waits): signals, signal waits, deliveries and reviews, whose rows
 * transitions write. Every store passes this: memory, PGlite, PostgreSQL.
 */
export function describeWaitsContract(context: RunStoreContext): void {
  describe('waits (signals, signal waits, reviews)', () => {
    const waitsOf = (store: RunStore): WaitStore => {
      if (!store.waits) throw new Error('this store keeps no waits');
      return store.waits;
    };

    async function runIn(namespace: string, commands: WaitCommand[] = []): Promise<RunState> {
      const state: RunState = { ...runningRun(uniqueId('run')), namespace };
      await context.store.createRun(uniqueId('key'), () => transition(state, commands.length > 0 ? { waits: commands } : {}), { namespace });
      return state;
    }

    async function write(state: RunState, commands: WaitCommand[]): Promise<void> {
      await context.store.updateRun(state.runId, (current) => transition(bump(current), { waits: commands }));
    }

    const register = (stepId: string, name: string, key: string | undefined, since: number, expiresAt: number): WaitCommand => ({
      type: 'register-wait',
      stepId,
      attempt: 1,
      token: `t-${stepId}`,
      name,
      ...(key !== undefined && { key }),
      since,
      expiresAt,
    });

    it('a signal stored after a wait meets it; one stored before meets a wait registered later within its since', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      const now = await context.store.now();
      const run = await runIn(ns);
      await write(run, [register('a', 'invoice.paid', 'INV-1', now - 1_000, now + 3_600_000)]);
      const { signal, created } = await waits.storeSignal(ns, { id: 's1', name: 'invoice.paid', key: 'INV-1', data: { total: 12 } }, 'local');
      expect(created).toBe(true);
      expect(signal).toMatchObject({ id: 's1', name: 'invoice.paid', key: 'INV-1', data: { total: 12 } });
      const pending = (await waits.pendingDeliveries(100)).filter((d) => d.runId === run.runId);
      expect(pending).toEqual([{ runId: run.runId, stepId: 'a', token: 't-a', signal: { id: 's1', name: 'invoice.paid', key: 'INV-1', data: { total: 12 }, receivedAt: signal.receivedAt } }]);
      // A SQL store's timer-scan read (scanDue) sees that a delivery waits, so the scan does not skip the delivery pass.
      if (context.store.scanDue) expect((await context.store.scanDue(1)).deliveriesPending).toBe(true);

      // Stored first: a wait whose since is at or before it finds it, one that began later does not.
      const early = await waits.storeSignal(ns, { id: 's2', name: 'order.shipped', key: 'O-1' }, 'local');
      await write(run, [
        register('b', 'order.shipped', 'O-1', early.signal.receivedAt - 1_000, early.signal.receivedAt + 60_000),
        register('c', 'order.shipped', 'O-1', early.signal.receivedAt + 1, early.signal.receivedAt + 60_000),
      ]);
      const mine = (await waits.pendingDeliveries(100)).filter((d) => d.runId === run.runId).map((d) => `${d.stepId}:${d.signal.id}`);
      expect(mine.sort()).toEqual(['a:s1', 'b:s2']);

      for (const d of (await waits.pendingDeliveries(100)).filter((x) => x.runId === run.runId)) await waits.dropDelivery(d);
      expect((await waits.pendingDeliveries(100)).filter((d) => d.runId === run.runId)).toEqual([]);
    });

    it('a wait registered after more than a page of stored signals is handed every one of them, earliest first', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      const now = await context.store.now();
      const ids: string[] = [];
      for (let i = 0; i < 250; i++) {
        const id = `bulk-${String(i).padStart(3, '0')}`;
        ids.push(id);
        await waits.storeSignal(ns, { id, name: 'tick', key: 'k', data: { n: i } }, 'local');
      }
      await waits.storeSignal(ns, { id: 'other-key', name: 'tick', key: 'j' }, 'local');
      const run = await runIn(ns, [register('w', 'tick', 'k', now - 60_000, now + 3_600_000)]);
      // Applied and dropped as the delivery pass does: a used-up page brings the next one.
      const seen: string[] = [];
      for (let round = 0; round < 20; round++) {
        const pending = (await waits.pendingDeliveries(1_000)).filter((d) => d.runId === run.runId);
        if (pending.length === 0) break;
        for (const d of pending) {
          seen.push(d.signal.id);
          await waits.dropDelivery(d);
        }
      }
      expect(seen).toEqual(ids);
      // 500 durable commits one after another (as the API and the delivery pass make them): ~4 s
      // alone on a slow 2-core machine, past jest's 5 s default under a full suite's load.
    }, 30_000);

    it('a keyless wait takes any key; a keyed one only its own; another namespace meets nothing', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      const now = await context.store.now();
      const run = await runIn(ns, [register('any', 'ping', undefined, now - 1_000, now + 60_000), register('k1', 'ping', 'k1', now - 1_000, now + 60_000)]);
      await waits.storeSignal(ns, { id: 'p-k2', name: 'ping', key: 'k2' }, 'local');
      await waits.storeSignal(ns, { id: 'p-none', name: 'ping' }, 'local');
      await waits.storeSignal(uniqueId('other-ns'), { id: 'p-k1-elsewhere', name: 'ping', key: 'k1' }, 'local');
      await waits.storeSignal(ns, { id: 'pong-k1', name: 'pong', key: 'k1' }, 'local');
      const met = (await waits.pendingDeliveries(100)).filter((d) => d.runId === run.runId).map((d) => `${d.stepId}:${d.signal.id}`);
      expect(met.sort()).toEqual(['any:p-k2', 'any:p-none']);
    });

    it('a repeated id is the same signal: the first is answered and nothing is delivered again', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      const now = await context.store.now();
      const run = await runIn(ns, [register('a', 'ping', undefined, now - 1_000, now + 60_000)]);
      const first = await waits.storeSignal(ns, { id: 'same', name: 'ping', data: 1 }, 'local');
      for (const d of await waits.pendingDeliveries(100)) if (d.runId === run.runId) await waits.dropDelivery(d);
      const again = await waits.storeSignal(ns, { id: 'same', name: 'ping', data: 2 }, 'local');
      expect(again).toEqual({ signal: first.signal, created: false });
      expect((await waits.pendingDeliveries(100)).filter((d) => d.runId === run.runId)).toEqual([]);
      // The same id in another namespace is another signal.
      expect((await waits.storeSignal(uniqueId('ns'), { id: 'same', name: 'ping' }, 'local')).created).toBe(true);
    });

    it('cancel-wait removes the wait and its pending deliveries; later signals meet nothing', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      const now = await context.store.now();
      const run = await runIn(ns, [register('a', 'ping', undefined, now - 1_000, now + 60_000)]);
      await waits.storeSignal(ns, { id: 'x1', name: 'ping' }, 'local');
      await write(run, [{ type: 'cancel-wait', stepId: 'a', token: 't-a' }]);
      await waits.storeSignal(ns, { id: 'x2', name: 'ping' }, 'local');
      expect((await waits.pendingDeliveries(100)).filter((d) => d.runId === run.runId)).toEqual([]);
    });

    it('lists signals per namespace, by name and key, oldest first, in pages', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      for (let i = 0; i < 5; i++) await waits.storeSignal(ns, { id: `l${i}`, name: i % 2 === 0 ? 'even' : 'odd', key: `k${i}` }, 'local');
      await waits.storeSignal(uniqueId('ns'), { id: 'l-other', name: 'even' }, 'local');
      const first = await waits.listSignals(ns, { limit: 2 });
      expect(first.items.map((s) => s.id)).toEqual(['l0', 'l1']);
      expect(first.nextCursor).not.toBeNull();
      expect((await waits.listSignals(ns, { name: 'even', limit: 10 })).items.map((s) => s.id)).toEqual(['l0', 'l2', 'l4']);
      expect((await waits.listSignals(ns, { key: 'k3', limit: 10 })).items.map((s) => s.id)).toEqual(['l3']);
    });

    it('purges signals older than a time', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      await waits.storeSignal(ns, { id: 'old-1', name: 'ping' }, 'local');
      const { signal } = await waits.storeSignal(ns, { id: 'old-2', name: 'ping' }, 'local');
      expect(await waits.purgeSignals(0)).toBe(0);
      expect(await waits.purgeSignals(signal.receivedAt + 1)).toBe(2);
      expect(await waits.purgeSignals(signal.receivedAt + 1)).toBe(0);
      expect((await waits.listSignals(ns, { limit: 10 })).items).toEqual([]);
    });

    it('twenty waits and twenty signals registered and sent at once meet exactly once each', async () => {
      const waits = waitsOf(context.store);
      const peer = context.subject.peer ?? context.store;
      const ns = uniqueId('ns');
      const now = await context.store.now();
      const runs = await Promise.all(Array.from({ length: 20 }, () => runIn(ns)));
      await Promise.all([
        ...runs.map((run, i) => (i % 2 === 0 ? context.store : peer).updateRun(run.runId, (current) => transition(bump(current), { waits: [register('w', 'race', `r${i}`, now - 60_000, now + 3_600_000)] }))),
        ...runs.map((_, i) => waitsOf(i % 2 === 0 ? peer : context.store).storeSignal(ns, { id: `race-${i}`, name: 'race', key: `r${i}` }, 'local')),
      ]);
      const ids = new Set(runs.map((r) => r.runId));
      const met = (await waits.pendingDeliveries(1_000)).filter((d) => ids.has(d.runId));
      expect(met.map((d) => `${runs.findIndex((r) => r.runId === d.runId)}:${d.signal.id}`).sort()).toEqual(runs.map((_, i) => `${i}:race-${i}`).sort());
    });

    it('appends an audit record per stored signal and per review decision (not for a repeat, a cancel or a second close), per namespace', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      const bob: Actor = { keyId: 'k-bob', name: 'bob' };
      await waits.storeSignal(ns, { id: 'a1', name: 'ping', key: 'k' }, bob);
      await waits.storeSignal(ns, { id: 'a1', name: 'ping', key: 'k' }, bob);
      const opened: WaitCommand = { type: 'open-review', reviewId: uniqueId('rev'), stepId: 's', attempt: 1, title: 't', assignees: [], output: 1, byRule: false };
      const other: WaitCommand = { ...opened, reviewId: uniqueId('rev'), stepId: 'u' };
      const reviewId = opened.type === 'open-review' ? opened.reviewId : '';
      const otherId = other.type === 'open-review' ? other.reviewId : '';
      const run = await runIn(ns, [opened, other]);
      await write(run, [{ type: 'close-review', reviewId, outcome: 'decided', decision: 'reject', actor: 'local', comment: 'no' }]);
      await write(run, [{ type: 'close-review', reviewId, outcome: 'decided', decision: 'continue', actor: bob }]);
      await write(run, [{ type: 'close-review', reviewId: otherId, outcome: 'canceled' }]);
      const log = await waits.listAudit(ns, { limit: 10 });
      expect(log.items.map((r) => [r.action, r.target, r.actor])).toEqual([
        ['signal.sent', { kind: 'signal', id: 'a1' }, bob],
        ['review.decided', { kind: 'review', id: reviewId }, 'local'],
      ]);
      expect(log.items[1]?.details).toEqual({ decision: 'reject', comment: 'no', runId: run.runId, stepId: 's', workflow: run.workflow });
      expect((await waits.listAudit(ns, { actor: 'k-bob', limit: 10 })).items.map((r) => r.action)).toEqual(['signal.sent']);
      expect((await waits.listAudit(ns, { actor: 'local', limit: 10 })).items.map((r) => r.action)).toEqual(['review.decided']);
      expect((await waits.listAudit(ns, { target: { kind: 'review', id: reviewId }, limit: 10 })).items).toHaveLength(1);
      expect((await waits.listAudit(ns, { action: 'signal.sent', limit: 1 })).nextCursor).toBeNull();
      const first = await waits.listAudit(ns, { limit: 1 });
      const last = first.items[0];
      expect((await waits.listAudit(ns, { limit: 1, after: { at: last?.at ?? 0, id: last?.id ?? '' } })).items.map((r) => r.action)).toEqual(['review.decided']);
      expect((await waits.listAudit(uniqueId('ns'), { limit: 10 })).items).toEqual([]);
    });

    it('lists open reviews and failed runs as exceptions, by kind; a resolved item leaves the queue once and stays in history', async () => {
      const waits = waitsOf(context.store);
      const ns = uniqueId('ns');
      const review: WaitCommand = { type: 'open-review', reviewId: uniqueId('rev'), stepId: 's', attempt: 1, title: 'look', assignees: [], output: 1, byRule: true };
      const reviewId = review.type === 'open-review' ? review.reviewId : '';
      const run = await runIn(ns, [review]);
      const failed: RunState = { ...runningRun(uniqueId('run')), namespace: ns, status: 'failed', error: { code: 'BOOM', message: 'it broke' } };
      await context.store.createRun(uniqueId('key'), () => transition(failed), { namespace: ns });
      const queue = await waits.listExceptions(ns, { limit: 10 });
      expect(queue.items.map((i) => [i.kind, i.id, i.runId]).sort()).toEqual(
        [
          ['failed', failed.runId, failed.runId],
          ['low-confidence', reviewId, run.runId],
        ].sort(),
      );
      expect(queue.items.find((i) => i.kind === 'failed')?.summary).toBe('BOOM: it broke');
      expect((await waits.listExceptions(ns, { kind: 'failed', limit: 10 })).items).toHaveLength(1);
      expect(await waits.resolveException(ns, 'failed', failed.runId, 'known flake', 'local')).toBe('resolved');
      expect(await waits.resolveException(ns, 'failed', failed.runId, 'again', 'local')).toBe('already');
      expect(await waits.resolveException(ns, 'review', reviewId, 'wrong kind', 'local')).toBe('unknown');
      expect(await waits.resolveException(uniqueId('ns'), 'failed', failed.runId, 'elsewhere', 'local')).toBe('unknown');
      expect((await waits.listExceptions(ns, { limit: 10 })).items.map((i) => i.kind)).toEqual(['low-confidence']);
      const history = await waits.listExceptions(ns, { resolved: true, kind: 'failed', limit: 10 });
      expect(history.items[0]?.resolved).toMatchObject({ note: 'known flake', actor: 'local' });
      expect((await waits.listAudit(ns, { action: 'exception.resolved', limit: 10 })).items.map((r) => r.target)).toEqual([{ kind: 'failed', id: failed.runId }]);
    });

    describe('reviews', () => {
      const alice: Actor = { keyId: 'k1', name: 'alice' };
      const open = (stepId: string, extra: Partial<Extract<WaitCommand, { type: 'open-review' }>> = {}): WaitCommand => ({
        type: 'open-review',
        reviewId: `rev-${stepId}-${uniqueId('r')}`,
        stepId,
        attempt: 1,
        title: `check ${stepId}`,
        assignees: ['finance'],
        output: { total: 10 },
        byRule: true,
        ...extra,
      });

      it('opens, escalates and closes a review once; a second close changes nothing', async () => {
        const waits = waitsOf(context.store);
        const ns = uniqueId('ns');
        const command = open('a', { form: { type: 'object' }, instructions: 'look', deadlineAt: Date.UTC(2030, 0, 1) });
        const reviewId = command.type === 'open-review' ? command.reviewId : '';
        const run = await runIn(ns, [command]);
        expect(await waits.getReview(ns, reviewId)).toMatchObject({
          id: reviewId,
          namespace: ns,
          runId: run.runId,
          workflow: run.workflow,
          stepId: 'a',
          status: 'open',
          title: 'check a',
          instructions: 'look',
          assignees: ['finance'],
          tier: 0,
          overdue: false,
          byRule: true,
          form: { type: 'object' },
          output: { total: 10 },
          deadlineAt: Date.UTC(2030, 0, 1),
        });
        // Replaying the open (a redelivered transition) opens nothing new.
        await write(run, [command, { type: 'escalate-review', reviewId, tier: 1, assignees: ['leads'] }]);
        expect(await waits.getReview(ns, reviewId)).toMatchObject({ status: 'open', tier: 1, assignees: ['leads'] });
        await write(run, [{ type: 'close-review', reviewId, outcome: 'decided', decision: 'correct', actor: alice, comment: 'fixed', payload: { total: 12 }, decisionId: 'd1' }]);
        await write(run, [{ type: 'close-review', reviewId, outcome: 'decided', decision: 'reject', actor: 'local', decisionId: 'd2' }]);
        const decided = await waits.getReview(ns, reviewId);
        expect(decided).toMatchObject({ status: 'decided', decision: 'correct', actor: alice, comment: 'fixed', payload: { total: 12 }, decisionId: 'd1' });
        expect(decided?.decidedAt).toEqual(expect.any(Number));
        expect(await waits.getReview(uniqueId('other-ns'), reviewId)).toBeUndefined();
      });

      it('lists reviews of a namespace by status, workflow and assignee, oldest first, in pages', async () => {
        const waits = waitsOf(context.store);
        const ns = uniqueId('ns');
        const run = await runIn(ns, [open('a'), open('b', { assignees: ['legal'] }), open('c')]);
        const all = await waits.listReviews(ns, { limit: 10 });
        expect(all.items.map((r) => r.stepId).sort()).toEqual(['a', 'b', 'c']);
        expect((await waits.listReviews(ns, { assignee: 'legal', limit: 10 })).items.map((r) => r.stepId)).toEqual(['b']);
        expect((await waits.listReviews(ns, { workflow: run.workflow, status: 'open', limit: 10 })).items).toHaveLength(3);
        expect((await waits.listReviews(ns, { workflow: 'nope', limit: 10 })).items).toEqual([]);
        const first = await waits.listReviews(ns, { limit: 2 });
        expect(first.items).toHaveLength(2);
        const last = first.items[1];
        const rest = await waits.listReviews(ns, { limit: 2, after: { at: last?.openedAt ?? 0, id: last?.id ?? '' } });
        expect([...first.items, ...rest.items].map((r) => r.id).sort()).toEqual(all.items.map((r) => r.id).sort());
        expect((await waits.listReviews(uniqueId('ns'), { limit: 10 })).items).toEqual([]);
      });
    });
  });
}
