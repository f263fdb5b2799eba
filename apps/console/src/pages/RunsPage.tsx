import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, enc, qs } from '../api/client';
import type { Page, Run, RunSummary, Workflow } from '@weft/sdk';
import { RUN_STATUSES } from '../api/statuses';
import { formatMs, formatTime, Loading, ProblemMessage, SinceSelect, StatusBadge, useDebounced } from '../components/common';
import { Link, navigate, setQuery, useLocation } from '../router';

const PAGE = 100;
const ROW = 34;
/** The first rows' paint is reported once per page load. */
let listPaintReported = false;
const UUIDish = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function RunsPage(): React.JSX.Element {
  const { query } = useLocation();
  const workflow = query.get('workflow') ?? '';
  const status = query.get('status') ?? '';
  const since = query.get('since') ?? '';
  const text = query.get('q') ?? '';
  const [draftText, setDraftText] = useState(text);
  const q = useDebounced(draftText.trim(), 250);
  useEffect(() => setQuery({ q }), [q]);

  // A full run id is looked up directly; other text is the start of a run id or of a
  // correlation id, which GET /v1/runs?prefix= finds across every page (indexed).
  const byPrefix = q !== '' && !UUIDish.test(q);
  const filters = { workflow, status, since, prefix: byPrefix ? q : '' };
  const listPath = (cursor?: string): string => `/v1/runs${qs({ ...filters, limit: PAGE, cursor })}`;

  const pages = useInfiniteQuery({
    queryKey: ['runs', filters],
    queryFn: ({ pageParam, signal }) => api<Page<RunSummary>>(listPath(pageParam), { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  // Live: the newest page is asked again every 3 s and merged over what was loaded.
  const head = useQuery({
    queryKey: ['runs-head', filters],
    queryFn: ({ signal }) => api<Page<RunSummary>>(listPath(), { signal }),
    refetchInterval: 3_000,
    enabled: pages.isSuccess,
  });
  // A run id typed in the search box is looked up directly.
  const byId = useQuery({
    queryKey: ['run-lookup', q],
    queryFn: ({ signal }) => api<Run>(`/v1/runs/${enc(q)}`, { signal }),
    enabled: UUIDish.test(q),
    retry: false,
  });

  const rows = useMemo(() => {
    if (UUIDish.test(q)) return byId.data ? [byId.data as RunSummary] : [];
    const seen = new Map<string, RunSummary>();
    for (const r of head.data?.items ?? []) seen.set(r.runId, r);
    const out: RunSummary[] = [...seen.values()];
    for (const p of pages.data?.pages ?? [])
      for (const r of p.items)
        if (!seen.has(r.runId)) {
          seen.set(r.runId, r);
          out.push(r);
        }
    return out;
  }, [q, byId.data, head.data, pages.data]);

  const workflows = useQuery({ queryKey: ['workflows-all'], queryFn: ({ signal }) => api<Page<Workflow>>('/v1/workflows?limit=200', { signal }) });

  // The first rows painted, for the console's scale test (bench/results): once per page load.
  useEffect(() => {
    if (rows.length === 0 || listPaintReported) return;
    listPaintReported = true;
    requestAnimationFrame(() => setTimeout(() => (window.__weftMetrics = { ...window.__weftMetrics, runsPaintedMs: performance.now() }), 0));
  }, [rows.length]);

  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 20 });
  const items = virtual.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= rows.length - 20 && pages.hasNextPage && !pages.isFetchingNextPage) void pages.fetchNextPage();
  }, [last, rows.length, pages]);

  const statuses = new Set(status.split(',').filter(Boolean));
  const toggleStatus = (s: string): void => {
    const next = new Set(statuses);
    if (next.has(s)) next.delete(s);
    else next.add(s);
    setQuery({ status: [...next].join(',') });
  };
  const notFound = byId.error instanceof ApiError && byId.error.status === 404;

  return (
    <section className="page runs-page">
      <div className="row wrap">
        <h1>Runs</h1>
        <span className="muted" data-testid="runs-count">
          {rows.length}
          {pages.hasNextPage ? '+' : ''} shown · live
        </span>
      </div>
      <form className="filters row wrap" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Workflow{' '}
          <select value={workflow} onChange={(e) => setQuery({ workflow: e.target.value })} data-testid="filter-workflow">
            <option value="">all</option>
            {(workflows.data?.items ?? []).map((w) => (
              <option key={w.id} value={w.name}>
                {w.name}
              </option>
            ))}
            {workflow && !(workflows.data?.items ?? []).some((w) => w.name === workflow) && <option value={workflow}>{workflow}</option>}
          </select>
        </label>
        <fieldset className="statuses">
          <legend className="sr-only">Status</legend>
          {RUN_STATUSES.map((s) => (
            <label key={s} className="chip">
              <input type="checkbox" checked={statuses.has(s)} onChange={() => toggleStatus(s)} /> {s.replace('_', ' ')}
            </label>
          ))}
        </fieldset>
        <SinceSelect label="Created" value={since} onChange={(v) => setQuery({ since: v })} />
        <label className="grow">
          <span className="sr-only">Run id or correlation id, or how either starts</span>
          <input type="search" placeholder="run id or correlation id, or how either starts" value={draftText} onChange={(e) => setDraftText(e.target.value)} data-testid="filter-text" />
        </label>
      </form>
      {pages.error ? <ProblemMessage error={pages.error} title="Could not list runs" /> : null}
      {byId.error && !notFound ? <ProblemMessage error={byId.error} /> : null}
      <div className="table runs-table" role="table" aria-label="Runs" aria-rowcount={rows.length}>
        <div className="thead" role="row">
          <span role="columnheader">Status</span>
          <span role="columnheader">Run</span>
          <span role="columnheader">Workflow</span>
          <span role="columnheader">Created</span>
          <span role="columnheader">Duration</span>
          <span role="columnheader">Correlation</span>
          <span role="columnheader">Error</span>
        </div>
        <div ref={scroller} className="tbody scroll" data-testid="runs-list">
          {pages.isPending && <Loading what="runs" />}
          {pages.isSuccess && rows.length === 0 && <div className="empty">{notFound ? `No run ${q}.` : 'No runs match.'}</div>}
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {items.map((v) => {
              const r = rows[v.index];
              if (!r) return null;
              return (
                <div
                  key={r.runId}
                  role="row"
                  className="tr"
                  data-testid="run-row"
                  style={{ position: 'absolute', top: 0, transform: `translateY(${v.start}px)`, height: ROW, width: '100%' }}
                  onDoubleClick={() => navigate(`/runs/${r.runId}`)}
                >
                  <span role="cell">
                    <StatusBadge status={r.status} />
                  </span>
                  <span role="cell" className="mono">
                    <Link to={`/runs/${r.runId}`}>{r.runId.slice(0, 8)}</Link>
                  </span>
                  <span role="cell">
                    {r.workflow} <span className="muted">{r.version === 'adhoc' ? 'ad hoc' : `v${r.version}`}</span>
                  </span>
                  <span role="cell">{formatTime(r.createdAt)}</span>
                  <span role="cell">{formatMs(r.durationMs)}</span>
                  <span role="cell" className="mono ellipsis" title={r.correlationId ?? ''}>
                    {r.correlationId ?? ''}
                  </span>
                  <span role="cell" className="ellipsis" title={r.error?.message ?? ''}>
                    {r.error ? <code>{r.error.code}</code> : ''}
                  </span>
                </div>
              );
            })}
          </div>
          {pages.isFetchingNextPage && <Loading what="more" />}
        </div>
      </div>
    </section>
  );
}
