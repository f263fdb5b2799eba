import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import type { Actor } from '@weft/contracts';
import type { BulkExceptionsResult, ExceptionItem, ExceptionKind, Page } from '@weft/sdk';
import { useMemo, useState } from 'react';
import { api, ApiError, enc, qs } from '../api/client';
import { Confirm, formatTime, Loading, Placeholder, ProblemMessage, SinceSelect } from '../components/common';
import { setQuery, useLocation } from '../router';
import { ExceptionRun, ExceptionWhat, itemLabel } from './ExceptionWhat';

// The exception queue (docs/waits-and-reviews.md): everything that needs a person, in one
// list. Bulk actions apply to every open item the filter matches (POST /v1/exceptions/bulk),
// at most 1000 a call, so the page says how many matched and offers to go on.

/** Kinds the filter offers; kinds the server adds later show in the list as they come. */
const KNOWN_KINDS = ['review', 'low-confidence', 'blocked', 'failed', 'dead-letter'] as const satisfies readonly ExceptionKind[];
const SINCE_MS: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
/** A badge colour per kind; an unknown kind gets the neutral one. */
const KIND_STATUS: Record<string, string> = { failed: 'failed', 'dead-letter': 'failed', blocked: 'retrying', review: 'waiting', 'low-confidence': 'waiting' };

type BulkAction = 'retry' | 'cancel' | 'resolve';
const BULK: Record<BulkAction, { label: string; explain: string }> = {
  retry: { label: 'Retry', explain: 'Failed runs are retried and stuck runs resumed; reviews (decide them in Reviews), queues without a worker and dead letters are skipped.' },
  cancel: { label: 'Cancel', explain: "Each item's run is canceled once; queues without a worker and dead letters are skipped (their run is an example, not the item)." },
  resolve: { label: 'Resolve', explain: 'Each item leaves the queue with the note; it stays in history and the audit log.' },
};

const actorName = (actor: Actor): string => (actor === 'local' ? 'local' : actor.name || actor.keyId);

export function ExceptionsPage(): React.JSX.Element {
  const client = useQueryClient();
  const { query } = useLocation();
  const kind = query.get('kind') ?? '';
  const workflow = query.get('workflow') ?? '';
  const sinceChoice = query.get('since') ?? '';
  const resolved = query.get('resolved') === 'true';
  // A duration choice becomes one ISO time per choice, so the query key stays put while it polls.
  const since = useMemo(() => (SINCE_MS[sinceChoice] ? new Date(Date.now() - (SINCE_MS[sinceChoice] ?? 0)).toISOString() : ''), [sinceChoice]);
  const filter = { kind, workflow, since };

  const list = useInfiniteQuery({
    queryKey: ['exceptions', filter, resolved],
    queryFn: ({ pageParam, signal }) =>
      api<Page<ExceptionItem>>(`/v1/exceptions${qs({ ...filter, resolved: resolved ? 'true' : '', limit: 100, cursor: pageParam })}`, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 5_000,
  });
  const [bulk, setBulk] = useState<BulkAction | null>(null);
  const [note, setNote] = useState('');
  const [result, setResult] = useState<{ action: BulkAction; answer: BulkExceptionsResult } | null>(null);
  const [resolving, setResolving] = useState<ExceptionItem | null>(null);

  const refresh = (): void => void client.invalidateQueries({ queryKey: ['exceptions'] });
  const applyBulk = useMutation({
    mutationFn: (action: BulkAction) =>
      api<BulkExceptionsResult>('/v1/exceptions/bulk', {
        method: 'POST',
        body: { filter: { ...(kind && { kind }), ...(workflow && { workflow }), ...(since && { since }) }, action, ...(action === 'resolve' && { note: note.trim() }) },
      }),
    onSuccess: (answer, action) => {
      setResult({ action, answer });
      setBulk(null);
      refresh();
    },
  });
  const resolveOne = useMutation({
    mutationFn: (item: ExceptionItem) => api<unknown>(`/v1/exceptions/${enc(item.kind)}/${enc(item.id)}/resolve`, { method: 'POST', body: { note: note.trim() } }),
    onSuccess: () => {
      setResolving(null);
      refresh();
    },
  });

  if (list.error instanceof ApiError && list.error.code === 'ROUTE_NOT_FOUND')
    return (
      <Placeholder title="Exceptions">
        This server has no exception queue (<code>/v1/exceptions</code>).
      </Placeholder>
    );
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  const open = rows.filter((r) => !r.resolved).length;
  const kinds = [...new Set<string>([...KNOWN_KINDS, ...rows.map((r) => r.kind), ...(kind ? [kind] : [])])];
  const closeDialogs = (): void => {
    applyBulk.reset();
    resolveOne.reset();
    setBulk(null);
    setResolving(null);
  };

  return (
    <section className="page">
      <div className="row wrap">
        <h1>Exceptions</h1>
        <span className="muted" data-testid="exceptions-count">
          {open}
          {list.hasNextPage ? '+' : ''} open{resolved ? `, ${rows.length - open} resolved` : ''} · live
        </span>
      </div>
      <form className="filters row wrap" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => setQuery({ kind: e.target.value })} data-testid="filter-kind">
            <option value="">all</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workflow{' '}
          <input type="text" defaultValue={workflow} placeholder="all" data-testid="filter-workflow" onKeyDown={(e) => e.key === 'Enter' && setQuery({ workflow: e.currentTarget.value.trim() })} />
        </label>
        <SinceSelect label="Since" value={sinceChoice} onChange={(v) => setQuery({ since: v })} />
        <label className="chip">
          <input type="checkbox" checked={resolved} onChange={(e) => setQuery({ resolved: e.target.checked ? 'true' : null })} /> show resolved
        </label>
      </form>
      <div className="row wrap" role="group" aria-label="Bulk actions on every open item the filter matches">
        <span className="muted small">Every open item matching the filter:</span>
        {(Object.keys(BULK) as BulkAction[]).map((a) => (
          <button
            key={a}
            type="button"
            onClick={() => {
              setResult(null);
              setBulk(a);
            }}
            disabled={open === 0}
            data-testid={`bulk-${a}`}
          >
            {BULK[a].label} all…
          </button>
        ))}
      </div>
      {result && (
        <p className="notice" role="status" data-testid="bulk-result">
          {BULK[result.action].label}: {result.answer.matched} matched, {result.answer.done} done, {result.answer.skipped} skipped
          {result.answer.more && (
            <>
              {' '}
              — more than 1000 matched:{' '}
              <button type="button" onClick={() => setBulk(result.action)}>
                go on
              </button>
            </>
          )}
        </p>
      )}
      <ProblemMessage error={list.error} title="Could not list exceptions" />
      {list.isPending && <Loading what="exceptions" />}
      <table className="wide" data-testid="exceptions">
        <thead>
          <tr>
            <th>Kind</th>
            <th>What</th>
            <th>Run</th>
            <th>Since</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.kind}/${r.id}`} data-testid="exception-row" data-kind={r.kind} data-id={r.id}>
              <td>
                <span className={`badge s-${KIND_STATUS[r.kind] ?? 'pending'}`}>{r.kind}</span>
              </td>
              <td>
                <ExceptionWhat item={r} />
              </td>
              <td className="mono">
                <ExceptionRun item={r} />
              </td>
              <td>{formatTime(r.at)}</td>
              <td className="small">{r.resolved ? `resolved by ${actorName(r.resolved.actor)} ${formatTime(r.resolved.at)}: ${r.resolved.note}` : 'open'}</td>
              <td>
                {!r.resolved && (
                  <button type="button" onClick={() => setResolving(r)} data-testid="resolve-one">
                    Resolve…
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.isSuccess && rows.length === 0 && <p className="empty">Nothing needs a person{kind || workflow || since ? ' for this filter' : ''}.</p>}
      {list.hasNextPage && (
        <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Load more
        </button>
      )}
      <Confirm
        open={bulk !== null || resolving !== null}
        title={resolving ? `Resolve ${resolving.kind} ${itemLabel(resolving)}?` : bulk ? `${BULK[bulk].label} every open item matching the filter?` : ''}
        confirmLabel={resolving ? 'Resolve' : bulk ? `${BULK[bulk].label} all` : ''}
        danger={bulk === 'cancel'}
        onCancel={closeDialogs}
        onConfirm={() => {
          if (resolving) resolveOne.mutate(resolving);
          else if (bulk) applyBulk.mutate(bulk);
        }}
      >
        {bulk && !resolving && (
          <p>
            {BULK[bulk].explain} Filter: kind <code>{kind || 'any'}</code>, workflow <code>{workflow || 'any'}</code>, since <code>{since ? formatTime(since) : 'any time'}</code> ({open}
            {list.hasNextPage ? '+' : ''} open shown; at most 1000 a call).
          </p>
        )}
        {(resolving || bulk === 'resolve') && (
          <label>
            Note (required){' '}
            <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} maxLength={2000} data-testid="resolve-note" />
          </label>
        )}
        <ProblemMessage error={applyBulk.error ?? resolveOne.error} title="The server refused" />
      </Confirm>
    </section>
  );
}
