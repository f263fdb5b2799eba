import type { AuditRecord, ExceptionItem, ReviewRecord, StoredSignal } from '../ports/wait-store.port';
import { given } from './http/http.util';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export const signalApiView = (s: StoredSignal) => ({ id: s.id, name: s.name, key: s.key ?? null, data: s.data ?? null, receivedAt: new Date(s.receivedAt).toISOString() });

export const reviewSummaryView = (r: ReviewRecord) => ({
  id: r.id,
  status: r.status,
  workflow: r.workflow,
  runId: r.runId,
  stepId: r.stepId,
  attempt: r.attempt,
  title: r.title,
  assignees: r.assignees,
  tier: r.tier,
  overdue: r.overdue,
  kind: r.byRule ? ('low-confidence' as const) : ('review' as const),
  openedAt: new Date(r.openedAt).toISOString(),
  deadlineAt: iso(r.deadlineAt),
  decidedAt: iso(r.decidedAt),
  decision: r.decision ?? null,
  actor: r.actor ?? null,
  comment: r.comment ?? null,
});

export const reviewView = (r: ReviewRecord) => ({
  ...reviewSummaryView(r),
  instructions: r.instructions ?? null,
  output: r.output ?? null,
  form: r.form ?? null,
  payload: r.payload ?? null,
});

export const auditView = (r: AuditRecord) => ({
  id: r.id,
  at: new Date(r.at).toISOString(),
  actor: r.actor,
  action: r.action,
  target: r.target,
  details: r.details,
});

export const exceptionView = (i: ExceptionItem) => ({
  kind: i.kind,
  id: i.id,
  workflow: i.workflow,
  runId: i.runId,
  stepId: i.stepId ?? null,
  summary: i.summary,
  at: new Date(i.at).toISOString(),
  resolved: i.resolved ? { note: i.resolved.note, actor: i.resolved.actor, at: new Date(i.resolved.at).toISOString() } : null,
});

/** `limit` of a page query: 1-200, default 50. */
export const pageLimit = (limit: string | undefined): number => Math.min(200, Math.max(1, limit === undefined ? 50 : Number(limit)));

/** A listing's filter from its query: the page size, the cursor and the given `fields`, and `since` (ISO 8601) as epoch ms. */
export const pageFilter = <T extends object>(q: { limit?: string; cursor?: string; since?: string }, fields: T) => ({
  limit: pageLimit(q.limit),
  ...given({ ...fields, cursor: q.cursor }),
  ...(q.since !== undefined && { since: Date.parse(q.since) }),
});
