import type { RunState } from '@weft/core';
import type { WaitCommand } from '../ports/wait-store.port';
import { iso, millis } from './run-state.mapper';
import type { Sql } from './run-sql.util';
import { deliverBacklogPage } from './wait-backlog.util';
import { waitLock } from './wait-rows.util';

/**
 * Writes a transition's wait and review rows, in its transaction and command order. A new
 * signal wait takes its meeting lock (see meetingLocks) and records a delivery for the first
 * page of stored signals it meets (deliverBacklogPage; later pages as earlier ones are used up);
 * SqlWaitStore.storeSignal does the other direction under the same locks.
 */
export async function writeWaitRows(tx: Sql, state: RunState, commands: readonly WaitCommand[]): Promise<void> {
  const { runId, namespace } = state;
  for (const command of commands) {
    switch (command.type) {
      case 'register-wait': {
        const key = command.key ?? null;
        await lockMeeting(tx, waitLock(namespace, command.name, command.key));
        // The backlog (stored signals the wait meets) ends at its registration: later signals find the wait.
        const registered: { until: Date | string }[] = await tx.query(
          `INSERT INTO signal_waits (run_id, step_id, namespace, name, key, token, since, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz)
           ON CONFLICT (run_id, step_id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name, key = excluded.key,
             token = excluded.token, since = excluded.since, expires_at = excluded.expires_at
           RETURNING date_trunc('milliseconds', clock_timestamp()) + interval '1 millisecond' AS until`,
          [runId, command.stepId, namespace, command.name, key, command.token, iso(command.since), iso(command.expiresAt)],
        );
        const until = Math.min(command.expiresAt, millis(registered[0]?.until ?? new Date(command.expiresAt)));
        await deliverBacklogPage(tx, { runId, stepId: command.stepId, token: command.token, namespace, name: command.name, key, since: command.since, until });
        break;
      }
      case 'cancel-wait':
        await tx.query('DELETE FROM signal_waits WHERE run_id = $1 AND step_id = $2 AND token = $3', [runId, command.stepId, command.token]);
        await tx.query('DELETE FROM signal_deliveries WHERE run_id = $1 AND step_id = $2 AND token = $3', [runId, command.stepId, command.token]);
        break;
      case 'open-review':
        await tx.query(
          `INSERT INTO reviews (id, namespace, run_id, workflow, step_id, attempt, status, title, instructions, assignees, by_rule, form, output, opened_at, deadline_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9::jsonb, $10, $11::jsonb, $12::jsonb, date_trunc('milliseconds', clock_timestamp()), $13::timestamptz)
           ON CONFLICT (id) DO NOTHING`,
          [
            command.reviewId,
            namespace,
            runId,
            state.workflow,
            command.stepId,
            command.attempt,
            command.title,
            command.instructions ?? null,
            JSON.stringify(command.assignees),
            command.byRule,
            command.form === undefined ? null : JSON.stringify(command.form),
            JSON.stringify(command.output ?? null),
            command.deadlineAt === undefined ? null : iso(command.deadlineAt),
          ],
        );
        break;
      case 'escalate-review':
        // decision_id: the last decision applied to the review (an escalation, then the one that closes it).
        await tx.query(`UPDATE reviews SET tier = $2, assignees = $3::jsonb, overdue = $4, decision_id = coalesce($5, decision_id) WHERE id = $1 AND status = 'open'`, [
          command.reviewId,
          command.tier,
          JSON.stringify(command.assignees),
          command.overdue === true,
          command.decisionId ?? null,
        ]);
        break;
      case 'close-review':
        // The decision and its audit record, in one statement of the run's transaction.
        await tx.query(
          `WITH closed AS (
             UPDATE reviews SET status = $2, decided_at = date_trunc('milliseconds', clock_timestamp()), decision = $3, actor = $4::jsonb, comment = $5, payload = $6::jsonb, decision_id = $7
             WHERE id = $1 AND status = 'open'
             RETURNING id, namespace, run_id, step_id, workflow, decided_at)
           INSERT INTO audit (at, namespace, actor, action, target_kind, target_id, details)
           SELECT c.decided_at, c.namespace, $4::jsonb, 'review.decided', 'review', c.id,
                  jsonb_build_object('decision', $3::text, 'runId', c.run_id, 'stepId', c.step_id, 'workflow', c.workflow)
                    || CASE WHEN $5::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('comment', $5::text) END
           FROM closed c WHERE $8::boolean`,
          [
            command.reviewId,
            command.outcome,
            command.decision ?? null,
            command.actor === undefined ? null : JSON.stringify(command.actor),
            command.comment ?? null,
            command.payload === undefined ? null : JSON.stringify(command.payload),
            command.decisionId ?? null,
            command.outcome === 'decided' && command.actor !== undefined,
          ],
        );
        break;
    }
  }
}

/** One transaction-scoped advisory lock per meeting point (namespace, name, key). */
export async function lockMeeting(tx: Sql, lock: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lock]);
}
