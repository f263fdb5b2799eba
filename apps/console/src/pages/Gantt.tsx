import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import type { RunHistory as History } from '@weft/sdk';
import { formatMs } from '../components/common';

const ROW = 26;
const t = (iso: string | null | undefined): number | null => (iso ? Date.parse(iso) : null);

/**
 * Attempts on a time axis, one row per step (virtualised): the light part of a bar is
 * the wait in the queue, the solid part the attempt itself, the hatched gap a retry's backoff.
 */
export function Gantt({ history, selected, onSelect, now }: { history: History; selected: string | null; onSelect: (stepId: string) => void; now: number }): React.JSX.Element {
  const scroller = useRef<HTMLDivElement>(null);
  const rows = history.steps;
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 15 });
  const start = t(history.run.queuedAt) ?? t(history.run.startedAt) ?? now;
  let end = t(history.run.finishedAt) ?? now;
  for (const s of rows) for (const a of s.attempts) end = Math.max(end, t(a.finishedAt) ?? t(a.startedAt) ?? 0);
  const span = Math.max(1, end - start);
  const pct = (ms: number): string => `${(Math.max(0, ms - start) / span) * 100}%`;
  const width = (from: number, to: number): string => `${Math.max(0.2, ((to - from) / span) * 100)}%`;

  return (
    <div className="gantt" data-testid="gantt">
      <div className="gantt-axis muted">
        <span>0</span>
        <span>{formatMs(span / 2)}</span>
        <span>{formatMs(span)}</span>
      </div>
      <div ref={scroller} className="gantt-rows scroll">
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((v) => {
            const s = rows[v.index];
            if (!s) return null;
            let prevEnd: number | null = null;
            return (
              <button
                type="button"
                key={s.stepId}
                className={`gantt-row${selected === s.stepId ? ' selected' : ''}`}
                style={{ position: 'absolute', top: 0, transform: `translateY(${v.start}px)`, height: ROW }}
                onClick={() => onSelect(s.stepId)}
                aria-label={`${s.stepId}: ${s.status}, ${s.attempts.length} attempt(s)`}
                data-testid="gantt-row"
              >
                <span className="gantt-label ellipsis">{s.stepId}</span>
                <span className="gantt-track">
                  {s.attempts.map((a) => {
                    const q = t(a.queuedAt);
                    const st = t(a.startedAt);
                    const fin = t(a.finishedAt) ?? (st !== null ? now : null);
                    const backoff = prevEnd !== null && q !== null && q > prevEnd ? <span className="bar backoff" style={{ left: pct(prevEnd), width: width(prevEnd, q) }} title={`backoff ${formatMs(q - prevEnd)}`} /> : null;
                    prevEnd = fin ?? prevEnd;
                    return (
                      <span key={a.attempt}>
                        {backoff}
                        {q !== null && (st ?? now) > q && <span className="bar wait" style={{ left: pct(q), width: width(q, st ?? now) }} title={`queued ${formatMs((st ?? now) - q)}`} />}
                        {st !== null && fin !== null && (
                          <span className={`bar s-${a.status}`} style={{ left: pct(st), width: width(st, fin) }} title={`attempt ${a.attempt}: ${a.status}, ${formatMs(a.durationMs ?? fin - st)}${a.error ? ` — ${a.error.code}` : ''}`} />
                        )}
                      </span>
                    );
                  })}
                </span>
              </button>
            );
          })}
        </div>
      </div>
    </div>
  );
}
