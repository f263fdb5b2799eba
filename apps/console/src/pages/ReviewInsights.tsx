import type { InsightSummary } from '@weft/sdk';
import { qs } from '../api/client';
import { formatMs, percent } from '../components/common';
import { Link } from '../router';

type ReviewStats = InsightSummary['reviews'][number];

/**
 * Per reviewed step, over the reviews decided in the window (docs/insights.md "Reviews"):
 * how many were decided and rejected, the rejection rate, and the time to decision.
 */
export function ReviewTable({ reviews }: { reviews: ReviewStats[] }): React.JSX.Element {
  if (reviews.length === 0) return <p className="empty">No reviews decided in this window.</p>;
  return (
    <table className="wide" data-testid="review-insights">
      <thead>
        <tr>
          <th>Step</th>
          <th>Decided</th>
          <th>Rejected</th>
          <th>Reject rate</th>
          <th title="time to decision: from review.requested to review.decided">Avg</th>
          <th>p50</th>
          <th>p95</th>
        </tr>
      </thead>
      <tbody>
        {reviews.slice(0, 200).map((r) => (
          <tr key={`${r.workflow}/${r.stepId}`} data-testid="review-insight-row">
            <td>
              <Link to={`/reviews${qs({ status: 'decided', workflow: r.workflow })}`}>{r.workflow}</Link> / {r.stepId}
            </td>
            <td>{r.decided}</td>
            <td>{r.rejected}</td>
            <td>
              <span className="meter reject" aria-hidden="true">
                <span style={{ width: `${(r.rejectionRate ?? 0) * 100}%` }} />
              </span>{' '}
              {percent(r.rejectionRate)}
            </td>
            <td>{formatMs(r.avgMs)}</td>
            <td>{formatMs(r.p50Ms)}</td>
            <td>{formatMs(r.p95Ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
