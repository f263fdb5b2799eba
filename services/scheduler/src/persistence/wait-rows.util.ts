import type { RunState } from '@weft/core';
import type { Page, ReviewRecord, WaitCommand } from '../ports/wait-store.port';

/** Shared by the memory and SQL wait stores. */

/** Advisory-lock keys of a wait or a signal: a keyless wait meets every key of its name, so a keyed signal takes both locks (`*` first). */
export function meetingLocks(namespace: string, name: string, key: string | undefined): string[] {
  const base = `${namespace}\u001f${name}\u001f`;
  return key === undefined ? [`${base}*`] : [`${base}*`, `${base}=${key}`];
}

/** The lock a wait takes: its own key, or `*` when it takes any key. */
export function waitLock(namespace: string, name: string, key: string | undefined): string {
  return `${namespace}\u001f${name}\u001f${key === undefined ? '*' : `=${key}`}`;
}

export function encodeCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

/** The (at, id) a cursor continues after; null for text that is not one of ours (the caller answers 400). */
export function decodeCursor(cursor: string): { at: number; id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') return { at: value[0], id: value[1] };
  } catch {
    // not JSON: not ours
  }
  return null;
}

export function page<T>(rows: T[], limit: number, key: (row: T) => { at: number; id: string }): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(key(last).at, key(last).id) : null };
}

/** What the audit log keeps of a review decision. */
export function decisionDetails(review: Pick<ReviewRecord, 'runId' | 'stepId' | 'workflow'>, command: Extract<WaitCommand, { type: 'close-review' }>): Record<string, unknown> {
  return {
    decision: command.decision ?? null,
    runId: review.runId,
    stepId: review.stepId,
    workflow: review.workflow,
    ...(command.comment !== undefined && { comment: command.comment }),
  };
}

/** What the audit log keeps of a stored signal (not its data: that stays with the signal). */
export function signalDetails(signal: { name: string; key?: string }): Record<string, unknown> {
  return { name: signal.name, ...(signal.key !== undefined && { key: signal.key }) };
}

/** The review row an `open-review` command creates. */
export function reviewFromCommand(state: RunState, command: Extract<WaitCommand, { type: 'open-review' }>, now: number): ReviewRecord {
  const review: ReviewRecord = {
    id: command.reviewId,
    namespace: state.namespace,
    runId: state.runId,
    workflow: state.workflow,
    stepId: command.stepId,
    attempt: command.attempt,
    status: 'open',
    title: command.title,
    assignees: [...command.assignees],
    tier: 0,
    overdue: false,
    byRule: command.byRule,
    output: command.output,
    openedAt: now,
  };
  if (command.instructions !== undefined) review.instructions = command.instructions;
  if (command.form !== undefined) review.form = command.form;
  if (command.deadlineAt !== undefined) review.deadlineAt = command.deadlineAt;
  return review;
}
