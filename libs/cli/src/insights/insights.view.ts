import { formatMs, type InsightSummary, percent } from '@weft/analytics';
import { sparkline } from './sparkline.util';
import { renderTable } from './table.util';

const ms = (value: number | null): string => (value === null ? '-' : formatMs(value));
const rate = (value: number | null): string => (value === null ? '-' : value.toFixed(2));

/** `weft insights`: runs, the duration trend as a sparkline, hotspots, per-step figures, reviewed steps, findings. */
export function renderInsights(summary: InsightSummary): string[] {
  const { window, runs, trend } = summary;
  const lines = [`Insights: ${window.workflow ?? 'all workflows'} · ${window.since} → ${window.until}`, ''];

  const outcomes = [`${runs.completed} completed`, `${runs.failed} failed`];
  if (runs.partiallyCompleted > 0) outcomes.push(`${runs.partiallyCompleted} partially completed`);
  if (runs.canceled > 0) outcomes.push(`${runs.canceled} canceled`);
  lines.push(`Runs      ${runs.finished} finished · ${outcomes.join(' · ')} · success ${percent(runs.successRate)}`);
  lines.push(`Duration  avg ${ms(runs.avgMs)} · p50 ${ms(runs.p50Ms)} · p95 ${ms(runs.p95Ms)} (completed runs)`);
  const moving = trend.points.map((p) => p.movingAvgMs);
  const known = moving.filter((v): v is number => v !== null);
  const first = known[0];
  const last = known[known.length - 1];
  const change = trend.change === null ? '' : ` (${trend.change > 0 ? '+' : ''}${Math.round(trend.change * 100)}%, ${trend.direction})`;
  const how = `[${trend.granularity === 'hour' ? 'hourly' : 'daily'}, moving average of ${trend.window}]`;
  if (first !== undefined && last !== undefined) lines.push(`Trend     ${sparkline(moving)}  ${formatMs(first)} → ${formatMs(last)}${change}  ${how}`);
  else lines.push(`Trend     no completed runs to draw  ${how}`);

  lines.push('', 'Failure hotspots');
  if (summary.hotspots.length === 0) lines.push('  none: no step failed or retried');
  else
    lines.push(
      ...renderTable(
        ['WORKFLOW', 'STEP', 'FAILURES', 'RETRIES', 'FAIL RATE', 'TOP ERROR'],
        summary.hotspots.map((h) => [h.workflow, h.stepId, String(h.failures), String(h.retries), percent(h.failureRate), h.topError ? `${h.topError.code} (${h.topError.count})` : '-']),
        '  ',
      ),
    );

  lines.push('', 'Steps');
  if (summary.steps.length === 0) lines.push('  none finished in this window');
  else
    lines.push(
      ...renderTable(
        ['WORKFLOW', 'STEP', 'DONE', 'FAILED', 'RETRIED', 'SKIPPED', 'SUCCESS', 'RETRY/RUN', 'AVG', 'P50', 'P95'],
        summary.steps.map((s) => [
          s.workflow,
          s.stepId,
          String(s.completed),
          String(s.failed),
          String(s.retried),
          String(s.skipped),
          percent(s.successRate),
          rate(s.retryRate),
          ms(s.avgMs),
          ms(s.p50Ms),
          ms(s.p95Ms),
        ]),
        '  ',
      ),
    );

  // Reviewed steps (an API older than review insights answers none).
  const reviews = (summary as Partial<Pick<InsightSummary, 'reviews'>>).reviews ?? [];
  if (reviews.length > 0) {
    lines.push('', 'Reviews (time to decision)');
    lines.push(
      ...renderTable(
        ['WORKFLOW', 'STEP', 'DECIDED', 'REJECTED', 'REJECT RATE', 'AVG', 'P50', 'P95'],
        reviews.map((r) => [r.workflow, r.stepId, String(r.decided), String(r.rejected), percent(r.rejectionRate), ms(r.avgMs), ms(r.p50Ms), ms(r.p95Ms)]),
        '  ',
      ),
    );
  }

  lines.push('', 'Findings', ...summary.findings.map((finding) => `  • ${finding}`));
  return lines;
}
