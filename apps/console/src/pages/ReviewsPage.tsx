import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError, enc, qs } from '../api/client';
import type { ReviewDecision } from '@weft/contracts';
import type { Page, Review, ReviewSummary } from '@weft/sdk';
import { Confirm, formatTime, Json, Loading, Placeholder, ProblemMessage, StatusBadge } from '../components/common';
import { Link, setQuery, useLocation } from '../router';

// Reviews (docs/waits-and-reviews.md): outputs held for a person's decision.

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  description?: string;
  title?: string;
}
const DECISIONS = ['continue', 'correct', 'retry', 'reject', 'escalate'] as const satisfies readonly ReviewDecision[];
type Decision = (typeof DECISIONS)[number];
const EXPLAIN: Record<Decision, string> = {
  continue: 'The held output goes on to the steps that need it.',
  correct: 'Your correction replaces the output and goes on.',
  retry: 'The step runs again.',
  reject: 'The step fails with REVIEW_REJECTED.',
  escalate: 'The review moves to the next escalation tier.',
};

const notThere = (error: unknown): boolean => error instanceof ApiError && error.code === 'ROUTE_NOT_FOUND';

export function ReviewsPage({ reviewId }: { reviewId?: string }): React.JSX.Element {
  const { query } = useLocation();
  const status = query.get('status') ?? 'open';
  const workflow = query.get('workflow') ?? '';
  const list = useInfiniteQuery({
    queryKey: ['reviews', status, workflow],
    queryFn: ({ pageParam, signal }) => api<Page<ReviewSummary>>(`/v1/reviews${qs({ status, workflow, limit: 100, cursor: pageParam })}`, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 5_000,
  });
  if (notThere(list.error))
    return (
      <Placeholder title="Reviews">
        This server has no reviews API (<code>/v1/reviews</code>).
      </Placeholder>
    );
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="page">
      <div className="row wrap">
        <h1>Reviews</h1>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setQuery({ status: e.target.value === 'open' ? null : e.target.value })}>
            {['open', 'decided', 'canceled'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Workflow <input type="text" defaultValue={workflow} placeholder="all" onKeyDown={(e) => e.key === 'Enter' && setQuery({ workflow: e.currentTarget.value.trim() })} />
        </label>
      </div>
      <ProblemMessage error={list.error} title="Could not list reviews" />
      <div className={reviewId ? 'split' : undefined}>
        <div>
          {list.isPending && <Loading what="reviews" />}
          <table className="wide" data-testid="reviews">
            <thead>
              <tr>
                <th>Review</th>
                <th>Step</th>
                <th>Assignees</th>
                <th>Opened</th>
                <th>Deadline</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-testid="review-row" className={r.id === reviewId ? 'selected' : undefined}>
                  <td>
                    <Link to={`/reviews/${enc(r.id)}${qs({ status: status === 'open' ? null : status, workflow })}`}>{r.title}</Link>
                    {r.kind === 'low-confidence' && <span className="muted small"> low confidence</span>}
                  </td>
                  <td>
                    {r.workflow} / {r.stepId}
                  </td>
                  <td>{r.assignees.join(', ') || '—'}</td>
                  <td>{formatTime(r.openedAt)}</td>
                  <td className={r.overdue ? 's-failed' : undefined}>{formatTime(r.deadlineAt)}</td>
                  <td>{r.decision ? <StatusBadge status={r.decision} /> : <StatusBadge status={r.status === 'open' ? 'waiting' : r.status} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.isSuccess && rows.length === 0 && <p className="empty">No {status} reviews.</p>}
          {list.hasNextPage && (
            <button type="button" onClick={() => void list.fetchNextPage()}>
              Load more
            </button>
          )}
        </div>
        {reviewId && <ReviewDetail id={reviewId} />}
      </div>
    </section>
  );
}

function ReviewDetail({ id }: { id: string }): React.JSX.Element {
  const client = useQueryClient();
  const review = useQuery({ queryKey: ['review', id], queryFn: ({ signal }) => api<Review>(`/v1/reviews/${enc(id)}`, { signal }) });
  const [pending, setPending] = useState<Decision | null>(null);
  const [comment, setComment] = useState('');
  const [values, setValues] = useState<Record<string, string | boolean> | null>(null);
  const [jsonError, setJsonError] = useState<string | null>(null);
  const decide = useMutation({
    mutationFn: (body: { decision: Decision; payload?: unknown; comment?: string }) => api<{ review: Review; runStatus: string }>(`/v1/reviews/${enc(id)}/decision`, { method: 'POST', body }),
    onSuccess: (answer) => {
      client.setQueryData(['review', id], answer.review);
      void client.invalidateQueries({ queryKey: ['reviews'] });
      setPending(null);
    },
  });
  if (review.isPending) return <Loading what="review" />;
  if (review.error || !review.data) return <ProblemMessage error={review.error} />;
  const r = review.data;
  const form = r.form as JsonSchema | null;
  const output = (r.output && typeof r.output === 'object' ? r.output : {}) as Record<string, unknown>;
  const fields = form?.type === 'object' && form.properties ? Object.entries(form.properties) : null;
  const current = values ?? Object.fromEntries((fields ?? []).map(([k, s]) => [k, s.type === 'boolean' ? Boolean(output[k]) : output[k] === undefined ? '' : String(output[k])]));
  const payload = (): unknown => {
    if (!fields) return JSON.parse(String(current.__json ?? JSON.stringify(r.output))) as unknown;
    return Object.fromEntries(
      fields
        .filter(([k]) => current[k] !== '')
        .map(([k, s]) => [k, s.type === 'number' || s.type === 'integer' ? Number(current[k]) : s.type === 'boolean' ? current[k] === true : current[k]]),
    );
  };
  const send = (decision: Decision): void => {
    let body: { decision: Decision; payload?: unknown; comment?: string };
    try {
      body = { decision, ...(decision === 'correct' && { payload: payload() }), ...(comment && { comment }) };
    } catch (error) {
      setJsonError(`The correction is not JSON: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    setJsonError(null);
    decide.mutate(body);
  };
  return (
    <div className="card" data-testid="review-detail">
      <h2 className="row wrap">
        {r.title} <StatusBadge status={r.decision ?? (r.status === 'open' ? 'waiting' : r.status)} />
      </h2>
      <p className="muted small">
        <Link to={`/runs/${enc(r.runId)}?step=${enc(r.stepId)}`}>run {r.runId.slice(0, 8)}</Link> · step {r.stepId} · attempt {r.attempt}
        {r.tier > 0 && ` · escalated ×${r.tier}`}
        {r.comment && ` · “${r.comment}”`}
      </p>
      {r.instructions && <p>{r.instructions}</p>}
      <h3>Output under review</h3>
      <Json value={r.output} />
      {r.status === 'open' && (
        <>
          <h3>Correction</h3>
          {fields ? (
            fields.map(([k, s]) => (
              <div className="field" key={k}>
                <label htmlFor={`review-${k}`}>
                  {s.title ?? k}
                  {form?.required?.includes(k) ? ' *' : ''} <span className="muted small">{s.type ?? ''}</span>
                </label>
                {s.type === 'boolean' ? (
                  <input id={`review-${k}`} type="checkbox" checked={current[k] === true} onChange={(e) => setValues({ ...current, [k]: e.target.checked })} />
                ) : s.enum ? (
                  <select id={`review-${k}`} value={String(current[k] ?? '')} onChange={(e) => setValues({ ...current, [k]: e.target.value })}>
                    {s.enum.map((v) => (
                      <option key={String(v)}>{String(v)}</option>
                    ))}
                  </select>
                ) : (
                  <input
                    id={`review-${k}`}
                    type={s.type === 'number' || s.type === 'integer' ? 'number' : 'text'}
                    step={s.type === 'integer' ? 1 : 'any'}
                    value={String(current[k] ?? '')}
                    onChange={(e) => setValues({ ...current, [k]: e.target.value })}
                    data-testid={`review-field-${k}`}
                  />
                )}
                {s.description && <div className="muted small">{s.description}</div>}
              </div>
            ))
          ) : (
            <textarea className="code" rows={6} aria-label="Correction (JSON)" defaultValue={JSON.stringify(r.output, null, 2)} onChange={(e) => setValues({ __json: e.target.value })} />
          )}
          <div className="field">
            <label htmlFor="review-comment">Comment</label>
            <textarea id="review-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
          </div>
          <div className="row wrap">
            {DECISIONS.map((d) => (
              <button key={d} type="button" className={d === 'reject' ? 'danger' : d === 'continue' || d === 'correct' ? 'primary' : undefined} onClick={() => setPending(d)} data-testid={`decide-${d}`}>
                {d}
              </button>
            ))}
          </div>
        </>
      )}
      <Confirm
        open={pending !== null}
        title={pending ? `${pending[0]?.toUpperCase()}${pending.slice(1)} this review?` : ''}
        confirmLabel={pending ?? ''}
        danger={pending === 'reject'}
        onCancel={() => {
          decide.reset();
          setPending(null);
        }}
        onConfirm={() => pending && send(pending)}
      >
        {pending && <p>{EXPLAIN[pending]}</p>}
        {jsonError && (
          <div className="problem" role="alert">
            {jsonError}
          </div>
        )}
        <ProblemMessage error={decide.error} title="The decision was refused" />
      </Confirm>
    </div>
  );
}
