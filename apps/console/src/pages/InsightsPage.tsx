import { useQuery } from '@tanstack/react-query';
import { api, qs } from '../api/client';
import type { InsightSummary as InsightsSummary, TrendPoint } from '@weft/sdk';
import { ReviewTable } from './ReviewInsights';
import { formatMs, formatTime, Loading, percent, ProblemMessage } from '../components/common';
import { Link, setQuery, useLocation } from '../router';

const WINDOWS = ['1h', '24h', '7d', '30d'];

export function InsightsPage(): React.JSX.Element {
  const { query } = useLocation();
  const workflow = query.get('workflow') ?? '';
  const since = query.get('since') ?? '24h';
  const granularity = since === '7d' || since === '30d' ? 'day' : 'hour';
  const summary = useQuery({
    queryKey: ['insights', workflow, since],
    queryFn: ({ signal }) => api<InsightsSummary>(`/v1/insights${qs({ workflow, since })}`, { signal }),
    refetchInterval: 15_000,
  });
  const trend = useQuery({
    queryKey: ['trend', workflow, since, granularity],
    queryFn: ({ signal }) => api<{ trend: InsightsSummary['trend'] }>(`/v1/insights/trends${qs({ workflow, since, granularity })}`, { signal }),
  });
  const s = summary.data;
  return (
    <section className="page">
      <div className="row wrap">
        <h1>Insights</h1>
        <label>
          Window{' '}
          <select value={since} onChange={(e) => setQuery({ since: e.target.value })}>
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                last {w}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workflow <input type="text" defaultValue={workflow} placeholder="all" onBlur={(e) => setQuery({ workflow: e.target.value.trim() })} onKeyDown={(e) => e.key === 'Enter' && setQuery({ workflow: e.currentTarget.value.trim() })} />
        </label>
      </div>
      <ProblemMessage error={summary.error} title="Could not load insights" />
      {summary.isPending && <Loading what="insights" />}
      {s && (
        <>
          <div className="cards">
            <Card label="runs finished" value={String(s.runs.finished)} />
            <Card label="success rate" value={percent(s.runs.successRate)} />
            <Card label="failed" value={String(s.runs.failed)} />
            <Card label="p50 run" value={formatMs(s.runs.p50Ms)} />
            <Card label="p95 run" value={formatMs(s.runs.p95Ms)} />
          </div>
          <h2>Duration trend</h2>
          {trend.data ? <TrendChart points={trend.data.trend.points} /> : <Loading what="trend" />}
          <h2>Hotspots</h2>
          <table className="wide" data-testid="hotspots">
            <thead>
              <tr>
                <th>Step</th>
                <th>Failures</th>
                <th>Retries</th>
                <th>Fail rate</th>
                <th>Top error</th>
                <th>Last failure</th>
              </tr>
            </thead>
            <tbody>
              {s.hotspots.map((h) => (
                <tr key={`${h.workflow}/${h.stepId}`}>
                  <td>
                    <Link to={`/runs${qs({ workflow: h.workflow, status: 'failed,partially_completed' })}`}>{h.workflow}</Link> / {h.stepId}
                  </td>
                  <td>{h.failures}</td>
                  <td>{h.retries}</td>
                  <td>{percent(h.failureRate)}</td>
                  <td>{h.topError ? `${h.topError.code} ×${h.topError.count}` : '—'}</td>
                  <td>{formatTime(h.lastFailureAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {s.hotspots.length === 0 && <p className="empty">No failures or retries in this window.</p>}
          <h2>Success rate per step</h2>
          <table className="wide">
            <thead>
              <tr>
                <th>Step</th>
                <th>Success</th>
                <th>Completed</th>
                <th>Failed</th>
                <th>Retried</th>
                <th>p50</th>
                <th>p95</th>
              </tr>
            </thead>
            <tbody>
              {s.steps.slice(0, 200).map((st) => (
                <tr key={`${st.workflow}/${st.stepId}`}>
                  <td>
                    {st.workflow} / {st.stepId}
                  </td>
                  <td>
                    <span className="meter" aria-hidden="true">
                      <span style={{ width: `${(st.successRate ?? 0) * 100}%` }} />
                    </span>{' '}
                    {percent(st.successRate)}
                  </td>
                  <td>{st.completed}</td>
                  <td>{st.failed}</td>
                  <td>{st.retried}</td>
                  <td>{formatMs(st.p50Ms)}</td>
                  <td>{formatMs(st.p95Ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Reviews</h2>
          <ReviewTable reviews={s.reviews} />
        </>
      )}
    </section>
  );
}

function Card({ label, value }: { label: string; value: string }): React.JSX.Element {
  return (
    <div className="card stat">
      <div className="stat-value">{value}</div>
      <div className="muted small">{label}</div>
    </div>
  );
}

/** Mean run duration per bucket and its moving average, as an SVG line chart (no chart library). */
function TrendChart({ points }: { points: TrendPoint[] }): React.JSX.Element {
  const W = 800;
  const H = 180;
  const P = 30;
  const values = points.flatMap((p) => [p.avgMs, p.movingAvgMs]).filter((v): v is number => v !== null);
  if (values.length === 0) return <p className="empty">No finished runs in this window.</p>;
  const max = Math.max(...values, 1);
  const x = (i: number): number => P + (i / Math.max(1, points.length - 1)) * (W - 2 * P);
  const y = (v: number): number => H - P - (v / max) * (H - 2 * P);
  const line = (pick: (p: TrendPoint) => number | null): string =>
    points
      .map((p, i) => [i, pick(p)] as const)
      .filter((e): e is readonly [number, number] => e[1] !== null)
      .map(([i, v], k) => `${k === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`)
      .join(' ');
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Mean run duration over time">
        <line x1={P} y1={H - P} x2={W - P} y2={H - P} className="axis" />
        <text x={4} y={P} className="tick">
          {formatMs(max)}
        </text>
        <text x={P} y={H - 8} className="tick">
          {formatTime(points[0]?.at)}
        </text>
        <text x={W - P} y={H - 8} className="tick" textAnchor="end">
          {formatTime(points[points.length - 1]?.at)}
        </text>
        <path d={line((p) => p.avgMs)} className="series avg" />
        <path d={line((p) => p.movingAvgMs)} className="series moving" />
        {points.map((p, i) => (p.avgMs !== null ? <circle key={i} cx={x(i)} cy={y(p.avgMs)} r={2.5} className="dot" /> : null))}
      </svg>
      <figcaption className="muted small">mean duration of completed runs per bucket (dots) and its moving average (line)</figcaption>
    </figure>
  );
}
