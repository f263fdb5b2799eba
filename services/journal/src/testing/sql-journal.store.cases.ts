import type { LifecycleEvent } from '@weft/contracts';
import { describeSqlStore, type StoreUnderTest } from '@weft/platform/testing';
import { PruneJournalUseCase } from '../domain/prune-journal.usecase';
import { lifecycleEvent, storyOfARun } from './journal.fixtures';
import { toJournalEntry } from '../domain/journal-entry.util';
import { isTerminal } from '../transport/journal-events.handler';
import { SqlJournalStore } from '../persistence/sql-journal.store';

let counter = 0;
const uniqueRun = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

/** The SQL journal store's behaviour, run on PGlite and on PostgreSQL. */
export function describeSqlJournalStore(name: string, open: () => Promise<StoreUnderTest<SqlJournalStore>>): void {
  describeSqlStore(`SqlJournalStore: ${name}`, open, (subject, store) => {
    const record = (event: LifecycleEvent) => store().record(toJournalEntry(event));

    it('journals an event once, however often it is recorded, even concurrently', async () => {
      const runId = uniqueRun('once');
      const [queued, started] = storyOfARun(runId);
      expect(await record(queued)).toEqual({ recorded: true });
      expect(await record(queued)).toEqual({ recorded: false });
      const results = await Promise.all(Array.from({ length: 6 }, () => record(started)));
      expect(results.filter((r) => r.recorded)).toHaveLength(1);
      expect((await store().runEvents(runId)).map((e) => e.eventId)).toEqual([queued.eventId, started.eventId]);
    });

    it('keeps a run in event order, whatever order the events arrived in', async () => {
      const runId = uniqueRun('order');
      const story = storyOfARun(runId);
      for (const event of [...story].reverse()) await record(event);
      const entries = await store().runEvents(runId);
      expect(entries.map((e) => e.eventId)).toEqual(story.map((e) => e.eventId));
      expect(entries[8]).toEqual(toJournalEntry(story[8]).entry);
    });

    it('checkpoints each completed step with the run state so far, even when completions arrive out of order', async () => {
      const runId = uniqueRun('ckpt');
      const e = (seq: number, offset: number, stepId: string, output: unknown) =>
        lifecycleEvent(runId, seq, 0, offset, { type: 'step.completed', status: 'completed', stepId, attempt: 1, durationMs: 5, data: { output } });
      // c arrives first, then a, then b: each write must fix up the ones after it.
      await record(e(30, 30, 'c', { c: 3 }));
      await record(e(10, 10, 'a', { a: 1 }));
      await record(e(20, 20, 'b', null));
      await record(e(10, 10, 'a', { a: 'redelivered' }));
      const checkpoints = await store().checkpoints(runId);
      expect(checkpoints.map((c) => [c.stepId, c.output, c.state])).toEqual([
        ['a', { a: 1 }, { a: { a: 1 } }],
        ['b', null, { a: { a: 1 }, b: null }],
        ['c', { c: 3 }, { a: { a: 1 }, b: null, c: { c: 3 } }],
      ]);
      expect(await store().checkpoint(runId, 'b')).toEqual({
        runId,
        workflow: 'data-pipeline',
        version: '3',
        stepId: 'b',
        attempt: 1,
        eventId: `${runId}:20:0`,
        at: '2026-01-05T10:00:00.020Z',
        output: null,
        state: { a: { a: 1 }, b: null },
      });
      expect(await store().checkpoint(runId, 'nope')).toBeUndefined();
      // The entry itself does not repeat the output.
      expect((await store().runEvents(runId))[0].data).toBeNull();
    });

    it('writes concurrent completions of one run consistently', async () => {
      const runId = uniqueRun('race');
      const steps = Array.from({ length: 8 }, (_, i) => `s${i}`);
      await Promise.all(
        steps.map((stepId, i) =>
          record(lifecycleEvent(runId, i + 1, 0, i, { type: 'step.completed', status: 'completed', stepId, attempt: 1, data: { output: i } })),
        ),
      );
      const checkpoints = await store().checkpoints(runId);
      expect(checkpoints.map((c) => c.state)).toEqual(steps.map((_, i) => Object.fromEntries(steps.slice(0, i + 1).map((s, j) => [s, j]))));
    });

    it('records concurrent events in one transaction, once each, telling every caller whether its own entry was recorded', async () => {
      const runId = uniqueRun('batch');
      const story = storyOfARun(runId);
      const [queued, started, stepQueued, stepStarted] = story;
      expect(await record(queued)).toEqual({ recorded: true });
      const transactions = jest.spyOn(subject.dataSource, 'transaction');
      // Redeliveries inside the batch, and of an event journaled before it.
      const batch = [started, queued, stepQueued, started, stepStarted, stepQueued, started];
      const results = await Promise.all(batch.map((event) => record(event)));
      expect(transactions).toHaveBeenCalledTimes(1);
      transactions.mockRestore();
      expect(results.map((r) => r.recorded)).toEqual([true, false, true, false, true, false, false]);
      expect((await store().runEvents(runId)).map((e) => e.eventId)).toEqual([queued, started, stepQueued, stepStarted].map((e) => e.eventId));
      expect((await store().runEvents(runId))[2]).toEqual(toJournalEntry(stepQueued).entry);
      expect((await store().findEvents({ runId, namespace: 'default' })).items).toHaveLength(4);
    });

    it('fails only the poison event of a batch; the others commit, checkpoints included', async () => {
      const runId = uniqueRun('poison');
      const [queued, started, , , completed] = storyOfARun(runId);
      const poison = lifecycleEvent(runId, 2, 5, 0, { type: 'step.queued', status: 'queued', stepId: 'x', attempt: 1, data: { note: 'nul \u0000 byte' } });
      const outcomes = await Promise.allSettled([queued, poison, started, completed, queued].map((event) => record(event)));
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.recorded : 'failed'))).toEqual([true, 'failed', true, true, false]);
      const failure = outcomes[1];
      expect(failure?.status === 'rejected' && isTerminal(failure.reason)).toBe(true);
      expect((await store().runEvents(runId)).map((e) => e.eventId)).toEqual([queued, started, completed].map((e) => e.eventId));
      expect((await store().checkpoints(runId)).map((c) => [c.stepId, c.state])).toEqual([['ingest', { ingest: { rows: 3 } }]]);
    });

    it('checkpoints completions of one run that arrive out of order in one batch', async () => {
      const runId = uniqueRun('batchckpt');
      const e = (seq: number, stepId: string, output: unknown) =>
        lifecycleEvent(runId, seq, 0, seq, { type: 'step.completed', status: 'completed', stepId, attempt: 1, durationMs: 5, data: { output } });
      await record(e(20, 'b', 'B'));
      const transactions = jest.spyOn(subject.dataSource, 'transaction');
      const results = await Promise.all([e(40, 'd', 'D'), e(10, 'a', 'A'), e(30, 'c', 'C'), e(20, 'b', 'B again'), e(10, 'a', 'A again')].map((event) => record(event)));
      expect(transactions).toHaveBeenCalledTimes(1);
      transactions.mockRestore();
      expect(results.map((r) => r.recorded)).toEqual([true, true, true, false, false]);
      expect((await store().checkpoints(runId)).map((c) => [c.stepId, c.output, c.state])).toEqual([
        ['a', 'A', { a: 'A' }],
        ['b', 'B', { a: 'A', b: 'B' }],
        ['c', 'C', { a: 'A', b: 'B', c: 'C' }],
        ['d', 'D', { a: 'A', b: 'B', c: 'C', d: 'D' }],
      ]);
    });

    it('keeps overlapping batches of the same runs consistent', async () => {
      const small = new SqlJournalStore(subject.dataSource, { batch: { maxItems: 4, lingerMs: 0 } });
      const runs = [uniqueRun('overlap'), uniqueRun('overlap'), uniqueRun('overlap')];
      const events = runs.flatMap((runId) =>
        Array.from({ length: 6 }, (_, i) =>
          lifecycleEvent(runId, i + 1, 0, i, { type: 'step.completed', status: 'completed', stepId: `s${i}`, attempt: 1, data: { output: i }, namespace: 'team-a' }),
        ),
      );
      // Every event twice, the second time in the opposite order: batches overlap in event ids and runs.
      const results = await Promise.all([...events, ...[...events].reverse()].map((event) => small.record(toJournalEntry(event))));
      await small.close();
      expect(results.filter((r) => r.recorded)).toHaveLength(events.length);
      for (const runId of runs) {
        expect(await store().runEvents(runId, 'default')).toEqual([]);
        expect(await store().runEvents(runId, 'team-a')).toHaveLength(6);
        const states = (await store().checkpoints(runId, 'team-a')).map((c) => c.state);
        expect(states).toEqual(Array.from({ length: 6 }, (_, i) => Object.fromEntries(Array.from({ length: i + 1 }, (_, j) => [`s${j}`, j]))));
      }
    });

    it('finds events by workflow, type and time range, a page at a time', async () => {
      const workflow = uniqueRun('wf');
      const runs = [uniqueRun('q'), uniqueRun('q')];
      for (const runId of runs) for (const event of storyOfARun(runId)) await record({ ...event, workflow });
      const failures = await store().findEvents({ workflow, types: ['step.retrying', 'step.failed'] });
      expect(failures.items.map((e) => [e.runId, e.type])).toEqual([
        [runs[0], 'step.retrying'],
        [runs[1], 'step.retrying'],
        [runs[0], 'step.failed'],
        [runs[1], 'step.failed'],
      ]);
      expect(failures.nextCursor).toBeNull();

      const window = { workflow, since: Date.parse('2026-01-05T10:00:00.110Z'), until: Date.parse('2026-01-05T10:00:00.170Z') };
      const inWindow = await store().findEvents(window);
      expect(inWindow.items).toHaveLength(8);
      expect(inWindow.items.every((e) => e.at >= '2026-01-05T10:00:00.110Z' && e.at < '2026-01-05T10:00:00.170Z')).toBe(true);

      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store().findEvents({ ...window, limit: 3, ...(after !== undefined && { after }) });
        seen.push(...page.items.map((e) => e.eventId));
        if (page.nextCursor === null) break;
        after = page.nextCursor;
      }
      expect(seen).toEqual(inWindow.items.map((e) => e.eventId));

      expect((await store().findEvents({ runId: runs[1], types: ['run.partially_completed'] })).items).toHaveLength(1);
      await expect(store().findEvents({ after: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INVALID_QUERY' });
      await expect(store().findEvents({ limit: 5000 })).rejects.toMatchObject({ code: 'INVALID_QUERY' });
    });

    it('prunes entries and checkpoints older than the cutoff in batches, and nothing newer', async () => {
      const oldRun = uniqueRun('old');
      const newRun = uniqueRun('new');
      for (const event of storyOfARun(oldRun)) await record(event);
      for (const event of storyOfARun(newRun)) await record({ ...event, at: new Date(Date.parse(event.at) + 86_400_000).toISOString() });
      const cutoff = Date.parse('2026-01-06T00:00:00.000Z');
      expect(await store().pruneBatch(cutoff, 5)).toEqual({ entries: 5, checkpoints: 2 });
      const pruner = new PruneJournalUseCase({ now: async () => cutoff + 1000, pruneBatch: (b, n) => store().pruneBatch(b, n) }, { maxAgeMs: 1000, batchSize: 5 }, console);
      expect(await pruner.execute()).toEqual({ entries: 12, checkpoints: 0 });
      expect(await store().runEvents(oldRun)).toEqual([]);
      expect(await store().checkpoints(oldRun)).toEqual([]);
      expect(await store().runEvents(newRun)).toHaveLength(17);
      expect(await store().checkpoints(newRun)).toHaveLength(2);
    });

    it('refuses data PostgreSQL can never store, with an error the consumer treats as terminal', async () => {
      const event = lifecycleEvent(uniqueRun('nul'), 1, 0, 0, { type: 'run.queued', status: 'queued', data: { inputs: { text: 'nul \u0000 byte' } } });
      const failure: unknown = await record(event).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeDefined();
      expect(isTerminal(failure)).toBe(true);
    });

    it('reads database time and rejects calls after close', async () => {
      const now = await store().now();
      expect(Math.abs(now - Date.now())).toBeLessThan(60_000);
      await store().close();
      await expect(store().runEvents('x')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    });
  });
}
