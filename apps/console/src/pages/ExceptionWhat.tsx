import type { ExceptionItem } from '@weft/sdk';
import { enc } from '../api/client';
import { Link } from '../router';

// How one exception queue item reads (docs/waits-and-reviews.md "exception queue"): a dead
// letter by its subject and reason, a queue without a worker by its name and what waits on it,
// a stuck run, an overdue or open review with a link to decide it.

const QUEUE = 'queue:';

/** What kind of thing an item is, beyond its kind (a `blocked` item is a queue, a stuck run or an overdue review). */
export function itemShape(item: Pick<ExceptionItem, 'kind' | 'id' | 'runId'>): 'dead-letter' | 'queue' | 'stuck-run' | 'review' | 'run' {
  if (item.kind === 'dead-letter') return 'dead-letter';
  if (item.kind === 'blocked') return item.id.startsWith(QUEUE) ? 'queue' : item.id === item.runId ? 'stuck-run' : 'review';
  return item.kind === 'failed' ? 'run' : 'review';
}

/** A short name for a dialog: a uuid's first 8 characters, a prefixed id (`queue:`, `outbox:`, `bus:`) whole up to 40. */
export function itemLabel(item: Pick<ExceptionItem, 'id'>): string {
  return /^[0-9a-f]{8}-/.test(item.id) ? item.id.slice(0, 8) : item.id.length > 40 ? `${item.id.slice(0, 39)}…` : item.id;
}

/** `subject: reason` (a dead letter; NATS subjects hold no ': ') or `queue name: what waits`. */
function split(summary: string): [string, string] {
  const at = summary.indexOf(': ');
  return at < 0 ? ['', summary] : [summary.slice(0, at), summary.slice(at + 2)];
}

export function ExceptionWhat({ item }: { item: ExceptionItem }): React.JSX.Element {
  const shape = itemShape(item);
  const where = (
    <>
      {item.workflow || <span title="the record names no run">no workflow</span>}
      {item.stepId ? ` / ${item.stepId}` : ''}
    </>
  );
  if (shape === 'dead-letter' || shape === 'queue') {
    const [subject, reason] = split(item.summary);
    const source = item.id.startsWith('bus:') ? 'dead-lettered by the bus on delivery' : item.id.startsWith('outbox:') ? 'quarantined in the outbox' : 'dead letter';
    return (
      <>
        <div>
          {subject && (
            <>
              <code data-testid="exception-subject">{subject}</code>{' '}
            </>
          )}
          <span data-testid="exception-reason">{reason}</span>
        </div>
        <div className="muted small">
          {shape === 'queue' ? `start a worker serving ${item.id.slice(QUEUE.length)}; the run shown is its oldest` : source} · {where}
        </div>
      </>
    );
  }
  return (
    <>
      <div data-testid="exception-reason">{item.summary}</div>
      <div className="muted small">
        {shape === 'stuck-run' ? 'stuck run · ' : ''}
        {where}
        {shape === 'review' && (
          <>
            {' · '}
            <Link to={`/reviews/${enc(item.id)}`}>{item.kind === 'blocked' ? 'overdue review' : 'review'}</Link>
          </>
        )}
      </div>
    </>
  );
}

export function ExceptionRun({ item }: { item: ExceptionItem }): React.JSX.Element {
  if (!item.runId) return <span className="muted">—</span>;
  return <Link to={`/runs/${item.runId}${item.stepId ? `?step=${enc(item.stepId)}` : ''}`}>{item.runId.slice(0, 8)}</Link>;
}
