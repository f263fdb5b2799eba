import { type DatabaseConfig, DbError, type PgliteDatabase, createDataSource, pendingMigrations, runMigrations } from '@weft/db';
import { type RunState, type WorkflowSpec, createRun, decide, stepIn } from '@weft/core';
import { LIFECYCLE_BATCH_SUBJECT, MAX_EVENTS_PER_BATCH } from '@weft/contracts';
import { type DataSource } from 'typeorm';
import { recordStatements } from './record-statements.util';
import { bump, message, runningRun, transition, waitFor } from './run-store.fixtures';
import { SCHEDULER_MIGRATIONS, SCHEDULER_MIGRATIONS_TABLE } from '../persistence/scheduler-schema';
import { EARLY_CANCEL_TTL_MS, type OutboxMessage, type OutboxRecord } from '../ports/run-store.port';
import { EVENT_ROWS_PER_TRANSITION, eventsOfBatch } from '../outbox/event-batches';
import { OutboxRetentionUseCase } from '../outbox/outbox-retention.usecase';
import { silentSchedulerLogger } from '../ports/scheduler-logger.port';
import { type SqlRunStore, type SqlRunStoreOptions, openSqlRunStore } from '../persistence/sql-run.store';

export interface SqlStoresUnderTest {
  store: SqlRunStore;
  /** A second store with its own data source on the same schema. */
  peer: SqlRunStore;
  dataSource: DataSource;
  cleanup(): Promise<void>;
}

/**
 * Two stores on one fresh schema (`config`), each with its own data source: the row lock is what
 * serialises them. `dropSchema` runs after both are closed.
 */
export async function openStorePair(config: DatabaseConfig, options: Parameters<typeof openSqlRunStore>[1], dropSchema: () => Promise<unknown>): Promise<SqlStoresUnderTest> {
  const first = await openSqlRunStore(config, options);
  const second = await openSqlRunStore(config, options);
  return {
    store: first.store,
    peer: second.store,
    dataSource: first.dataSource,
    cleanup: async () => {
      await Promise.all([first.store.close(), second.store.close()]);
      await second.dataSource.destroy();
      await first.dataSource.destroy();
      await dropSchema();
    },
  };
}

export interface SqlTarget {
  /** Two stores on a fresh, migrated schema. */
  open(options?: SqlRunStoreOptions): Promise<SqlStoresUnderTest>;
  /** A fresh schema with no tables, how to reach it, and how to drop it. */
  emptySchema(): Promise<{ config: DatabaseConfig; pglite?: PgliteDatabase; drop(): Promise<void> }>;
}

let counter = 0;
const uniqueId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

/** What the SQL store does beyond the RunStore contract: transactions, claims, row-level writes, migrations. */
export function describeSqlRunStoreCases(name: string, target: SqlTarget): void {
  describe(`SqlRunStore: ${name}`, () => {
    describe('with a migrated schema', () => {
      let subject: SqlStoresUnderTest;
      beforeEach(async () => {
        subject = await target.open({ outboxClaimMs: 300 });
      });
      afterEach(async () => {
        await subject.cleanup();
      });

      it('drops a kept early cancel no run took within EARLY_CANCEL_TTL_MS when the next one is kept', async () => {
        const stale = uniqueId('run');
        await subject.store.earlyCancels.remember(stale, 'replaced');
        await subject.dataSource.query(`UPDATE early_cancels SET created_at = now() - ($2::double precision + 1000) * interval '1 millisecond' WHERE run_id = $1`, [stale, EARLY_CANCEL_TTL_MS]);
        const fresh = uniqueId('run');
        await subject.peer.earlyCancels.remember(fresh, 'replaced');
        expect(await subject.store.earlyCancels.take(stale)).toBeUndefined();
        expect(await subject.store.earlyCancels.take(fresh)).toBe('replaced');
      });

      it('keeps an early cancel whose reason holds a NUL (text PostgreSQL refuses), with the NUL replaced', async () => {
        const runId = uniqueId('run');
        await subject.store.earlyCancels.remember(runId, 'bad\u0000reason');
        expect(await subject.store.earlyCancels.take(runId)).toBe('bad\ufffdreason');
      });

      it('writes no step row for a step nothing happened to, and reads it back as the core built it', async () => {
        const runId = uniqueId('run');
        const steps = Array.from({ length: 40 }, (_, i) => ({ id: `s${i}`, action: 'noop', ...(i > 0 && { needs: [`s${i - 1}`] }) }));
        const created = createRun({ runId, spec: { apiVersion: 'weft/v1', kind: 'Workflow', name: 'long', steps } as WorkflowSpec, version: '1', inputs: {}, at: 1_700_000_000_000 });
        const started = decide(created.state, { type: 'run.start', at: 1_700_000_000_001 });
        await subject.store.createRun(uniqueId('key'), () => transition(started.state));
        const rows: { step_id: string }[] = await subject.dataSource.query('SELECT step_id FROM step_runs WHERE run_id = $1', [runId]);
        expect(rows.map((row) => row.step_id)).toEqual(['s0']);
        const loaded = await subject.store.getRun(runId);
        expect(loaded).toEqual(started.state);
        expect(Object.keys(loaded?.steps ?? {})).toEqual(steps.map((step) => step.id));
      });

      it("a cancel writes no row for a step it moved from untouched to canceled, and reads the run back as the core built it, retried and canceled again too", async () => {
        const runId = uniqueId('run');
        const steps = Array.from({ length: 40 }, (_, i) => ({ id: `s${i}`, action: 'noop', ...(i > 0 && { needs: [`s${i - 1}`] }) }));
        const created = createRun({ runId, spec: { apiVersion: 'weft/v1', kind: 'Workflow', name: 'long', steps } as WorkflowSpec, version: '1', inputs: {}, at: 1_700_000_000_000 });
        const started = decide(created.state, { type: 'run.start', at: 1_700_000_000_001 });
        await subject.store.createRun(uniqueId('key'), () => transition(started.state));
        const rowIds = async () => ((await subject.dataSource.query('SELECT step_id FROM step_runs WHERE run_id = $1 ORDER BY step_id', [runId])) as { step_id: string }[]).map((row) => row.step_id);
        // Read back from the rows by either store: equal to the core's state, steps in plan order.
        const readBack = async (expected: RunState) => {
          for (const store of [subject.store, subject.peer]) {
            const loaded = await store.getRun(runId);
            expect(loaded).toEqual(expected);
            expect(Object.keys(loaded?.steps ?? {})).toEqual(steps.map((step) => step.id));
            expect(loaded?.steps.s7).toStrictEqual(stepIn(expected.steps, 's7'));
          }
        };

        const canceled = decide(started.state, { type: 'run.cancel', at: 1_700_000_000_050, reason: 'enough' });
        expect(stepIn(canceled.state.steps, 's7')).toMatchObject({ status: 'canceled', reason: 'enough' });
        await subject.store.updateRun(runId, () => transition(canceled.state));
        // s0 was dispatched: its row; the 39 steps nothing happened to before the cancel: none.
        expect(await rowIds()).toEqual(['s0']);
        await readBack(canceled.state);

        // run.retry resets every step (their rows are written), a second cancel leaves them as the first did.
        const retried = decide(canceled.state, { type: 'run.retry', at: 1_700_000_000_100 });
        await subject.peer.updateRun(runId, () => transition(retried.state));
        await readBack(retried.state);
        const again = decide(retried.state, { type: 'run.cancel', at: 1_700_000_000_150, reason: 'again' });
        await subject.peer.updateRun(runId, () => transition(again.state));
        expect(stepIn(again.state.steps, 's7')).toMatchObject({ status: 'canceled', reason: 'again', finishedAt: 1_700_000_000_150 });
        await readBack(again.state);
      });

      it('writes a transition with more than EVENT_ROWS_PER_TRANSITION lifecycle events as batch rows of up to MAX_EVENTS_PER_BATCH events, and up to it a row per event', async () => {
        const state = runningRun(uniqueId('run'));
        const { runId } = state;
        const event = (seq: number, n: number): OutboxMessage => ({
          kind: 'publish',
          subject: 'weft.event.step.canceled',
          msgId: `${runId}:${seq}:${n}`,
          payload: { eventId: `${runId}:${seq}:${n}`, type: 'step.canceled', runId, workflow: 'wf', version: '1', status: 'canceled', at: '2026-12-06T00:00:00.000Z', stepId: `s${n}` },
          headers: { traceparent: '00-abc-def-01' },
        });
        const dispatch = message(runId, 1, { subject: 'weft.step.dispatch.default', msgId: 'tok' });
        const many = MAX_EVENTS_PER_BATCH + 44;
        const claimed: OutboxRecord[] = [];
        await subject.store.createRun(uniqueId('key'), () =>
          transition(state, { outbox: [event(7, 0), dispatch, ...Array.from({ length: many - 1 }, (_, i) => event(7, i + 1))] }),
        { claimOutbox: (rows) => claimed.push(...rows) });
        expect(claimed.map((row) => [row.subject, row.msgId])).toEqual([
          [LIFECYCLE_BATCH_SUBJECT, `${runId}:7:events:0-${MAX_EVENTS_PER_BATCH - 1}`],
          ['weft.step.dispatch.default', 'tok'],
          [LIFECYCLE_BATCH_SUBJECT, `${runId}:7:events:${MAX_EVENTS_PER_BATCH}-${many - 1}`],
        ]);
        const batches = claimed.filter((row) => row.subject === LIFECYCLE_BATCH_SUBJECT);
        // Stored compact, read back as the events, keys in their order.
        expect(JSON.stringify(batches.flatMap((row) => eventsOfBatch(row.payload)))).toBe(JSON.stringify(Array.from({ length: many }, (_, n) => event(7, n).payload)));
        expect(batches.map((row) => row.headers)).toEqual([{ traceparent: '00-abc-def-01' }, { traceparent: '00-abc-def-01' }]);
        // The relay reads the same rows once their claims lapsed. Each row's claim runs from its own insert
        // (clock_timestamp()), so the rows lapse one after another: wait for the last without reading through
        // pendingOutbox, which would claim the ones lapsed so far for itself.
        await waitFor(async () => {
          const [row] = (await subject.dataSource.query(`SELECT count(*)::int AS n FROM outbox WHERE run_id = $1 AND claimed_until > clock_timestamp()`, [runId])) as { n: number }[];
          return row.n === 0 ? true : undefined;
        }, 'the claims to lapse');
        expect(await subject.peer.pendingOutbox(10)).toEqual(claimed);

        // Up to EVENT_ROWS_PER_TRANSITION events: a row per event, as ever.
        const few: OutboxRecord[] = [];
        await subject.store.updateRun(runId, (current) => transition(bump(current), { outbox: Array.from({ length: EVENT_ROWS_PER_TRANSITION }, (_, n) => event(8, n)) }), { claimOutbox: (rows) => few.push(...rows) });
        expect(few.map((row) => row.msgId)).toEqual(Array.from({ length: EVENT_ROWS_PER_TRANSITION }, (_, n) => `${runId}:8:${n}`));
      });

      it('rolls back the whole createRun when a later write fails', async () => {
        const state = runningRun(uniqueId('run'));
        const key = uniqueId('key');
        // PostgreSQL rejects \u0000 in jsonb: the run row was already inserted when this fails.
        await expect(
          subject.store.createRun(key, () =>
            transition(state, { outbox: [message(state.runId, 1, { payload: 'nul \u0000' })], schedule: [{ runId: state.runId, timer: 'run-timeout', stepId: '', fireAt: 1 }] }),
          ),
        ).rejects.toThrow(/unicode|\\u0000/i);
        expect(await subject.store.getRun(state.runId)).toBeUndefined();
        expect(await subject.store.dueTimers(10, 10)).toEqual([]);
        expect(await subject.store.createRun(key, () => transition(state))).toEqual({ runId: state.runId, created: true });
      });

      it('scanDue reads in one statement what now, dueTimers, expiredLeases and nextTimerAt read', async () => {
        const { store } = subject;
        expect(await store.scanDue(10)).toEqual({ now: expect.any(Number), timers: [], leases: [], nextTimerAt: undefined, deliveriesPending: false, outboxPending: false });
        const state = runningRun(uniqueId('run'));
        state.steps = {
          ...state.steps,
          ingest: { ...state.steps.ingest, status: 'queued', attempt: 3, leaseExpiresAt: 1_000 },
          validate: { ...state.steps.validate, status: 'running', attempt: 1, leaseExpiresAt: 2_000 },
        };
        const now = await store.now();
        const later = now + 3_600_000;
        await store.createRun(uniqueId('key'), () =>
          transition(state, {
            schedule: [
              { runId: state.runId, timer: 'retry', stepId: 'transform', attempt: 2, fireAt: 3_000 },
              { runId: state.runId, timer: 'run-timeout', stepId: '', fireAt: 1_500 },
              { runId: state.runId, timer: 'step-timeout', stepId: 'notify', attempt: 1, fireAt: later },
            ],
          }),
        );
        const scan = await store.scanDue(10);
        expect(scan.now).toBeGreaterThanOrEqual(now);
        expect(scan.timers).toEqual(await store.dueTimers(scan.now, 10));
        expect(scan.timers.map((t) => t.fireAt)).toEqual([1_500, 3_000]);
        expect(scan.leases).toEqual(await store.expiredLeases(scan.now, 10));
        expect(scan.leases).toHaveLength(2);
        expect(scan.nextTimerAt).toBe(await store.nextTimerAt());
        expect(scan.nextTimerAt).toBe(1_500);
        const one = await store.scanDue(1);
        expect([one.timers.length, one.leases.length]).toEqual([1, 1]);
      });

      it('reuses the state it committed, and reloads once a peer store changed the run', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        const mine = await subject.store.updateRun(state.runId, (current) => transition(bump(current, 'export', { status: 'queued' })));
        let seen: unknown;
        await subject.store.updateRun(state.runId, (current) => {
          seen = current;
          return undefined;
        });
        expect(seen).toBe(mine);
        await subject.peer.updateRun(state.runId, (current) => transition(bump(current, 'export', { status: 'running' })));
        const after = await subject.store.updateRun(state.runId, (current) => transition(bump(current, 'export', { attempt: 3 })));
        expect(after?.steps.export).toMatchObject({ status: 'running', attempt: 3 });
        expect((await subject.peer.getRun(state.runId))?.steps.export).toMatchObject({ status: 'running', attempt: 3 });
      });

      it('updates a lone cached run in one statement, outside a transaction', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        await subject.store.updateRun(state.runId, (current) => transition(bump(current, 'ingest', { status: 'queued' })));
        const statements = recordStatements(subject.dataSource).texts;
        const after = await subject.store.updateRun(state.runId, (current) => transition(bump(current, 'ingest', { status: 'running' }), { outbox: [message(state.runId, 1)] }));
        expect(statements).toHaveLength(1);
        expect(statements[0]).toContain('run_write AS');
        expect(after?.steps.ingest?.status).toBe('running');
        expect((await subject.peer.getRun(state.runId))?.steps.ingest?.status).toBe('running');
        expect((await subject.peer.pendingOutbox(10)).map((m) => m.msgId)).toEqual([message(state.runId, 1).msgId]);
      });

      it('writes nothing of a decision on a stale cached state: the update is redone under the lock on the reloaded run', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        const cached = await subject.store.updateRun(state.runId, (current) => transition(bump(current, 'ingest', { status: 'queued' })));
        // A peer (another replica) moves the run on: the store's cached state is stale now.
        const moved = await subject.peer.updateRun(state.runId, (current) => transition(bump(current, 'export', { status: 'running' })));
        const seen: number[] = [];
        const statements = recordStatements(subject.dataSource).texts;
        const after = await subject.store.updateRun(state.runId, (current) => {
          seen.push(current.seq);
          const n = current.seq;
          return transition(bump(current, 'notify', { status: 'queued', attempt: n }), {
            outbox: [message(state.runId, n)],
            schedule: [{ runId: state.runId, timer: 'step-timeout', stepId: 'notify', attempt: n, fireAt: 4_000_000_000_000 + n }],
          });
        });
        // Decided on the cached state (one statement, refused), then again on the reloaded one.
        expect(seen).toEqual([cached?.seq, moved?.seq]);
        expect(statements.filter((sql) => sql.includes('run_write AS'))).toHaveLength(2);
        expect(statements.some((sql) => sql.includes('FOR UPDATE'))).toBe(true);
        const fresh = moved?.seq as number;
        expect(after).toMatchObject({ seq: fresh + 1 });
        expect((await subject.peer.getRun(state.runId))?.steps).toMatchObject({ export: { status: 'running' }, notify: { status: 'queued', attempt: fresh } });
        expect((await subject.peer.pendingOutbox(10)).map((m) => m.msgId)).toEqual([message(state.runId, fresh).msgId]);
        const timers: { attempt: number }[] = await subject.dataSource.query(`SELECT attempt FROM timers WHERE run_id = $1`, [state.runId]);
        expect(timers).toEqual([{ attempt: fresh }]);
      });

      it('batches concurrent updates of one run; a throwing decide fails only its own call', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        const calls = Array.from({ length: 20 }, (_, i) =>
          subject.store.updateRun(state.runId, (current) => {
            if (i === 7) throw new Error('boom');
            return transition(bump(current), { outbox: [message(state.runId, i)] });
          }),
        );
        const settled = await Promise.allSettled(calls);
        expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
        expect(settled[7]).toMatchObject({ status: 'rejected', reason: new Error('boom') });
        const seqs = settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value.seq] : []));
        expect(seqs).toEqual(Array.from({ length: 19 }, (_, i) => state.seq + 1 + i));
        expect((await subject.peer.getRun(state.runId))?.seq).toBe(state.seq + 19);
        const outbox = await subject.peer.pendingOutbox(100);
        expect(outbox.map((m) => m.msgId)).toEqual(Array.from({ length: 20 }, (_, i) => message(state.runId, i).msgId).filter((_, i) => i !== 7));
      });

      it('commits a relaxed update (no wait for the WAL flush) like any other', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        await subject.store.updateRun(state.runId, (current) => transition(bump(current, 'export', { status: 'queued' })), { relaxed: true });
        await subject.store.updateRun(state.runId, (current) => transition(bump(current, 'export', { status: 'running' })), { relaxed: true });
        expect((await subject.peer.getRun(state.runId))?.steps.export?.status).toBe('running');
        const [setting]: { synchronous_commit: string }[] = await subject.dataSource.query('SHOW synchronous_commit');
        expect(setting.synchronous_commit).toBe('on');
      });

      it('lets a lone relaxed update wait for the next update of its run: one write for both', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        const statements = recordStatements(subject.dataSource).texts;
        const heartbeat = subject.store.updateRun(state.runId, (current) => transition(bump(current, 'export', { status: 'running' })), { relaxed: true });
        const result = subject.store.updateRun(state.runId, (current) => transition(bump(current, 'export', { status: 'completed' })));
        expect((await heartbeat)?.steps.export?.status).toBe('running');
        expect((await result)?.steps.export?.status).toBe('completed');
        // One statement writes both (the cached run's one-statement update; a transaction would hold it too).
        expect(statements.filter((sql) => sql.includes('run_write AS'))).toHaveLength(1);
        expect((await subject.peer.getRun(state.runId))?.seq).toBe(state.seq + 2);
      });

      it('rolls back the whole updateRun when a write fails', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        await expect(
          subject.store.updateRun(state.runId, (current) =>
            transition(bump(current, 'export', { status: 'queued' }), {
              outbox: [message(state.runId, 1, { payload: 'nul \u0000' })],
              schedule: [{ runId: state.runId, timer: 'lease', stepId: 'export', attempt: 1, fireAt: 1 }],
            }),
          ),
        ).rejects.toThrow(/unicode|\\u0000/i);
        expect(await subject.store.getRun(state.runId)).toEqual(state);
        expect(await subject.store.dueTimers(10, 10)).toEqual([]);
      });

      it('writes only the step rows whose state object changed', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        const stamps = async () => {
          const rows: { step_id: string; updated_at: string }[] = await subject.dataSource.query(
            'SELECT step_id, updated_at::text AS updated_at FROM step_runs WHERE run_id = $1 ORDER BY step_id',
            [state.runId],
          );
          return Object.fromEntries(rows.map((row) => [row.step_id, row.updated_at]));
        };
        const before = await stamps();
        await subject.store.updateRun(state.runId, (current) => transition(bump(current, 'export', { status: 'queued', attempt: 1 })));
        const after = await stamps();
        expect(after.export).not.toBe(before.export);
        expect({ ...after, export: undefined }).toEqual({ ...before, export: undefined });
      });

      it('gives concurrent relays disjoint outbox rows, and hands unpublished ones out again after the claim', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state, { outbox: [1, 2, 3, 4].map((n) => message(state.runId, n)) }));
        const [a, b] = await Promise.all([subject.store.pendingOutbox(2), subject.peer.pendingOutbox(2)]);
        expect(a).toHaveLength(2);
        expect(b).toHaveLength(2);
        expect([...a, ...b].map((m) => m.msgId).sort()).toEqual([1, 2, 3, 4].map((n) => `${state.runId}:msg:${n}`).sort());
        expect(await subject.store.pendingOutbox(10)).toEqual([]);

        await subject.store.markPublished(a.map((m) => m.id));
        const again = await waitFor(async () => {
          const rows = await subject.peer.pendingOutbox(10);
          return rows.length > 0 ? rows : undefined;
        }, 'the claim to expire');
        expect(again.map((m) => m.id)).toEqual(b.map((m) => m.id));
      });

      it('scanDue says whether pendingOutbox would hand out a row: unclaimed, or claimed and lapsed, unpublished and not quarantined', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state, { outbox: [1, 2].map((n) => message(state.runId, n)) }));
        expect((await subject.store.scanDue(10)).outboxPending).toBe(true);
        const claimed = await subject.store.pendingOutbox(10);
        expect(claimed).toHaveLength(2);
        // Both rows claimed (300 ms here): the relay would take none.
        expect((await subject.peer.scanDue(10)).outboxPending).toBe(false);
        await subject.store.markPublished([claimed[0].id]);
        await waitFor(async () => ((await subject.peer.scanDue(10)).outboxPending ? true : undefined), 'the claim to lapse');
        expect((await subject.peer.pendingOutbox(10)).map((m) => m.id)).toEqual([claimed[1].id]);
        await subject.peer.markPublished([claimed[1].id]);
        expect((await subject.store.scanDue(10)).outboxPending).toBe(false);
      });

      describe('outbox retention', () => {
        /** A run whose `n` outbox rows are claimed by the store (as the relay claims them), in id order. */
        const claimedRows = async (n: number): Promise<{ runId: string; rows: OutboxRecord[] }> => {
          const state = runningRun(uniqueId('run'));
          await subject.store.createRun(uniqueId('key'), () => transition(state, { outbox: Array.from({ length: n }, (_, i) => message(state.runId, i + 1)) }));
          return { runId: state.runId, rows: await subject.store.pendingOutbox(n) };
        };
        /** Moves rows' creation, and their publish when published, `ms` into the past. */
        const age = (rows: readonly OutboxRecord[], ms: number, what: 'created' | 'created and published') =>
          subject.dataSource.query(
            `UPDATE outbox SET created_at = created_at - $2::double precision * interval '1 millisecond'${what === 'created' ? '' : `, published_at = published_at - $2::double precision * interval '1 millisecond'`}
             WHERE id = ANY($1::bigint[])`,
            [rows.map((row) => row.id), ms],
          );
        const left = async (runId: string): Promise<string[]> =>
          ((await subject.dataSource.query('SELECT msg_id FROM outbox WHERE run_id = $1 ORDER BY id', [runId])) as { msg_id: string }[]).map((row) => row.msg_id);

        it('deletes rows published longer ago than the retention, never a recent, unpublished or quarantined one', async () => {
          const { runId, rows } = await claimedRows(5);
          await subject.store.markPublished(rows.slice(0, 3).map((row) => row.id));
          await subject.store.quarantineOutbox([{ id: rows[3].id, reason: 'PAYLOAD_TOO_LARGE' }]);
          // Everything published just now: inside the retention.
          expect(await subject.store.prunePublishedOutbox(60_000, 100)).toEqual({ deleted: 0, next: undefined });
          // All created two minutes ago; rows 1 and 2 published then too, row 3 just now, 4 quarantined, 5 unpublished.
          await age(rows, 120_000, 'created');
          await age(rows.slice(0, 2), 120_000, 'created and published');
          expect(await subject.store.prunePublishedOutbox(60_000, 100)).toEqual({ deleted: 2, next: undefined });
          expect(await left(runId)).toEqual([3, 4, 5].map((n) => `${runId}:msg:${n}`));
        });

        it('walks the oldest rows in bounded steps and ends at the first row created inside the retention', async () => {
          const { runId, rows } = await claimedRows(6);
          await subject.store.markPublished(rows.map((row) => row.id));
          await age(rows.slice(0, 4), 120_000, 'created and published');
          const first = await subject.store.prunePublishedOutbox(60_000, 2);
          expect(first).toEqual({ deleted: 2, next: rows[1].id });
          const second = await subject.store.prunePublishedOutbox(60_000, 2, first.next);
          expect(second).toEqual({ deleted: 2, next: rows[3].id });
          // Rows 5 and 6 were created (and published) now: the walk ends there.
          expect(await subject.store.prunePublishedOutbox(60_000, 2, second.next)).toEqual({ deleted: 0, next: undefined });
          expect(await left(runId)).toEqual([5, 6].map((n) => `${runId}:msg:${n}`));
        });

        it('a pass of OutboxRetentionUseCase goes past rows it keeps, batch after batch', async () => {
          const { runId, rows } = await claimedRows(7);
          // Row 1 is never published (a crashed publisher's, waiting for the relay): it heads the table for good.
          await subject.store.markPublished(rows.slice(1).map((row) => row.id));
          await age(rows, 120_000, 'created and published');
          const retention = new OutboxRetentionUseCase(subject.store, silentSchedulerLogger, { retentionMs: 60_000, batch: 2 });
          expect(await retention.execute()).toEqual({ published: 6 });
          expect(await left(runId)).toEqual([`${runId}:msg:1`]);
          expect(await new OutboxRetentionUseCase(subject.store, silentSchedulerLogger, { retentionMs: 0 }).execute()).toEqual({ published: 0 });
        });
      });

      it('stores times as timestamptz and steps as columns plus extra', async () => {
        const state = runningRun(uniqueId('run'));
        await subject.store.createRun(uniqueId('key'), () => transition(state));
        const [run]: { created_at: Date; namespace: string; idempotency_key: string }[] = await subject.dataSource.query(
          'SELECT created_at, namespace, idempotency_key FROM runs WHERE id = $1',
          [state.runId],
        );
        expect(run.created_at).toBeInstanceOf(Date);
        expect(run.created_at.getTime()).toBe(state.createdAt);
        expect(run.namespace).toBe('default');
        const [step]: { lease_expires_at: Date; extra: unknown; output: unknown }[] = await subject.dataSource.query(
          "SELECT lease_expires_at, extra, output FROM step_runs WHERE run_id = $1 AND step_id = 'validate'",
          [state.runId],
        );
        expect(step.lease_expires_at.getTime()).toBe(state.steps.validate.leaseExpiresAt);
        expect(step.extra).toEqual({});
        const [ingest]: { extra: unknown }[] = await subject.dataSource.query("SELECT extra FROM step_runs WHERE run_id = $1 AND step_id = 'ingest'", [state.runId]);
        expect(ingest.extra).toEqual({ lostLeases: 1, attemptBase: 0 });
      });

      // What the migrations build is pinned by schema.snapshot.sql (scheduler-schema.int.spec.ts).
      it('has no pending migrations once opened', async () => {
        expect(await pendingMigrations(subject.dataSource)).toEqual([]);
        expect(await runMigrations(subject.dataSource)).toEqual([]);
      });

      it('rejects calls after close', async () => {
        await subject.peer.close();
        await expect(subject.peer.now()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
      });
    });

    describe('on an empty schema', () => {
      it('applies the migrations once when two processes race, and can undo them', async () => {
        const { config, pglite, drop } = await target.emptySchema();
        const parts = { migrations: SCHEDULER_MIGRATIONS, migrationsTableName: SCHEDULER_MIGRATIONS_TABLE, ...(pglite && { pglite }) };
        const one = await createDataSource(config, parts);
        const two = await createDataSource(config, parts);
        try {
          expect(await pendingMigrations(one)).toEqual(SCHEDULER_MIGRATIONS.map((m) => m.name));
          const applied = await Promise.all([runMigrations(one), runMigrations(two)]);
          expect(applied.flat()).toEqual(SCHEDULER_MIGRATIONS.map((m) => m.name));
          const tables = async (): Promise<string[]> =>
            ((await one.query('SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename')) as { tablename: string }[]).map(
              (row) => row.tablename,
            );
          expect(await tables()).toEqual([
            'api_keys',
            'audit',
            'blobs',
            'concurrency_slots',
            'early_cancels',
            'exception_resolutions',
            'namespaces',
            'outbox',
            'rate_limits',
            'reviews',
            'run_links',
            'runs',
            SCHEDULER_MIGRATIONS_TABLE,
            'signal_deliveries',
            'signal_waits',
            'signals',
            'step_runs',
            'timers',
            'workflow_versions',
            'workflows',
          ]);
          for (let n = 0; n < SCHEDULER_MIGRATIONS.length; n++) await one.undoLastMigration();
          expect(await tables()).toEqual([SCHEDULER_MIGRATIONS_TABLE]);
        } finally {
          await two.destroy();
          await one.destroy();
          await drop();
        }
      });

      it('refuses to open with migrate: false while migrations are pending', async () => {
        const { config, pglite, drop } = await target.emptySchema();
        try {
          const opening = openSqlRunStore(config, { migrate: false, ...(pglite && { pglite }) });
          await expect(opening).rejects.toBeInstanceOf(DbError);
          await expect(opening).rejects.toMatchObject({ code: 'DB_MIGRATIONS_PENDING', message: expect.stringContaining('SchedulerSchema') });
        } finally {
          await drop();
        }
      });
    });
  });
}
