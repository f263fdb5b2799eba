import { actorLabel } from '@weft/contracts';
import { formatMs, type RunHistory, type RunTreeNode, type StepHistory } from '@weft/journal';
import { renderTable } from './table.util';

/** `weft history <runId>`: a header, the timeline, the steps, and what the journal could not know. */
export function renderHistory(history: RunHistory): string[] {
  const { run } = history;
  const took = run.durationMs !== null ? ` in ${formatMs(run.durationMs)}` : '';
  const lines = [`run ${run.runId} · ${run.workflow} version ${run.version} · ${run.status}${took}`];
  const facts = [
    run.queuedAt !== null ? `queued ${run.queuedAt}` : undefined,
    run.source !== undefined || run.actor !== undefined ? `started by ${[run.source, run.actor && actorLabel(run.actor)].filter(Boolean).join(', ')}` : undefined,
    history.parent !== undefined ? `child of run ${history.parent.runId} (step ${history.parent.stepId})` : undefined,
    run.correlationId !== null ? `correlation ${run.correlationId}` : undefined,
    run.traceId !== null ? `trace ${run.traceId}` : undefined,
    run.restarts > 0 ? `re-run ${run.restarts} time(s)` : undefined,
    `${run.events} event(s)`,
  ].filter((fact): fact is string => fact !== undefined);
  lines.push(facts.join(' · '), '');

  const offsets = history.timeline.map((item) => `+${formatMs(item.offsetMs)}`);
  const width = Math.max(0, ...offsets.map((o) => o.length));
  history.timeline.forEach((item, i) => lines.push(`  ${(offsets[i] ?? '').padStart(width)}  ${item.text}`));

  if (history.steps.length > 0) {
    lines.push('');
    lines.push(
      ...renderTable(
        ['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'NOTE'],
        history.steps.map((step) => [step.stepId, step.status, String(step.attempts.length), step.durationMs === null ? '-' : formatMs(step.durationMs), note(step)]),
      ),
    );
  }
  if (history.children !== undefined && history.children.length > 0) lines.push('', 'sub-workflow runs:', ...renderTree(history.children));
  if (run.error !== null) lines.push('', `error: ${run.error.code} ${run.error.message}`);
  if (run.outputs !== null) lines.push('', `outputs: ${JSON.stringify(run.outputs)}`);
  for (const text of history.notes) lines.push('', `note: ${text}`);
  return lines;
}

/** Why the step is where it is: failed attempts, the final error, the skip or cancel reason. */
function note(step: StepHistory): string {
  const notes = step.attempts
    .filter((a) => a.error !== null && !(step.status === 'failed' && a.attempt === step.attempts[step.attempts.length - 1]?.attempt))
    .map((a) => `attempt ${a.attempt}: ${a.error?.code ?? ''} ${a.error?.message ?? ''}`.trimEnd());
  if (step.status === 'failed' && step.error !== null) notes.push(`${step.error.code} ${step.error.message}`);
  if (step.reason !== null) notes.push(step.reason);
  for (const review of step.reviews ?? []) {
    const escalated = review.escalations.map((e) => `escalated to tier ${e.tier}${e.actor ? ` by ${actorLabel(e.actor)}` : ''}`);
    const decided = review.decision === null ? 'review open' : `review ${review.decision}${review.actor ? ` by ${actorLabel(review.actor)}` : ''}${review.comment !== null ? `: ${review.comment}` : ''}`;
    notes.push([...escalated, decided].join(', '));
  }
  return notes.join('; ');
}

/** The runs below this one, indented by depth: `└ <run> · <workflow> · <status> in <duration> (step <id>)`. */
function renderTree(children: readonly RunTreeNode[]): string[] {
  return children.map((child) => {
    const took = child.durationMs !== null ? ` in ${formatMs(child.durationMs)}` : '';
    return `${'  '.repeat(child.depth)}└ ${child.runId} · ${child.workflow ?? '(not in the journal)'} · ${child.status}${took} (step ${child.stepId})`;
  });
}
