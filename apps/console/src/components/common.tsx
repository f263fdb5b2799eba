import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';

/** A failed request as a readable message: the problem's title, code, detail and field errors. */
export function ProblemMessage({ error, title }: { error: unknown; title?: string }): React.JSX.Element | null {
  if (!error) return null;
  if (error instanceof ApiError) {
    const p = error.problem;
    return (
      <div className="problem" role="alert" data-testid="problem">
        <strong>{title ?? p.title ?? 'Request failed'}</strong> <code>{error.code}</code> <span className="muted">HTTP {p.status}</span>
        {p.detail && <div>{p.detail}</div>}
        {p.errors && p.errors.length > 0 && (
          <ul>
            {p.errors.slice(0, 20).map((e, i) => (
              <li key={i}>
                <code>{e.path}</code>
                {e.line !== undefined && ` (line ${e.line}${e.col !== undefined ? `, column ${e.col}` : ''})`}: {e.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="problem" role="alert" data-testid="problem">
      <strong>{title ?? 'Something went wrong'}</strong> <div>{message}</div>
    </div>
  );
}

export function StatusBadge({ status }: { status: string }): React.JSX.Element {
  return (
    <span className={`badge s-${status}`} data-status={status}>
      {status.replace('_', ' ')}
    </span>
  );
}

export function Loading({ what }: { what?: string }): React.JSX.Element {
  return (
    <div className="muted" role="status" aria-live="polite">
      Loading{what ? ` ${what}` : ''}…
    </div>
  );
}

/**
 * A confirmation as a native modal dialog: focus moves into it, Escape cancels, and the
 * confirm button is the one a keyboard user lands on.
 */
export function Confirm({
  open,
  title,
  children,
  confirmLabel,
  danger,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}): React.JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} onCancel={onCancel} aria-labelledby="confirm-title" data-testid="confirm-dialog">
      <h2 id="confirm-title">{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="row end">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={onConfirm} autoFocus data-testid="confirm">
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Json({ value }: { value: unknown }): React.JSX.Element {
  if (value === undefined) return <span className="muted">—</span>;
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} m ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function percent(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`;
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function Placeholder({ title, children }: { title: string; children: ReactNode }): React.JSX.Element {
  return (
    <section className="page">
      <h1>{title}</h1>
      <div className="placeholder" data-testid="placeholder">
        {children}
      </div>
    </section>
  );
}

/** Choices of a "created since" filter: a duration back from now ('' = any time). */
export const SINCE_CHOICES = [
  { v: '', label: 'any time' },
  { v: '1h', label: 'last hour' },
  { v: '24h', label: 'last 24 h' },
  { v: '7d', label: 'last 7 days' },
  { v: '30d', label: 'last 30 days' },
] as const;

/** The "since" filter, its value in the URL (`setQuery({ since })`). */
export function SinceSelect({ label, value, onChange }: { label: string; value: string; onChange: (value: string) => void }): React.JSX.Element {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {SINCE_CHOICES.map((s) => (
          <option key={s.v} value={s.v}>
            {s.label}
          </option>
        ))}
      </select>
    </label>
  );
}
