import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { TriggerFirePage, TriggerSummary } from '@weft/sdk';
import { useState } from 'react';
import { api, ApiError, enc, qs } from '../api/client';
import { Confirm, formatTime, Loading, Placeholder, ProblemMessage } from '../components/common';
import { Link } from '../router';
import { TriggerTools } from './TriggerTools';

// Triggers (docs/triggers.md): the published versions' cron, event, webhook and poll
// triggers, their next fire, their fire log, pause / resume / fire now, backfill and test.

type Op = 'pause' | 'resume' | 'fire';

const OUTCOME_STATUS: Record<string, string> = { fired: 'completed', skipped: 'skipped', missed: 'failed', failed: 'failed', refused: 'failed', filtered: 'skipped', duplicate: 'skipped' };

export function TriggersPage({ selected }: { selected?: { workflow: string; trigger: string } }): React.JSX.Element {
  const client = useQueryClient();
  const list = useQuery({ queryKey: ['triggers'], queryFn: ({ signal }) => api<{ triggers: TriggerSummary[] }>('/v1/triggers', { signal }), refetchInterval: 5_000 });
  const [pending, setPending] = useState<{ op: Op; t: TriggerSummary } | null>(null);
  const act = useMutation({
    mutationFn: ({ op, t }: { op: Op; t: TriggerSummary }) =>
      api<unknown>(`/v1/triggers/${enc(t.workflow)}/${enc(t.trigger)}/${op}`, { method: 'POST', ...(op === 'fire' && { body: {} }) }),
    onSuccess: () => {
      setPending(null);
      void client.invalidateQueries({ queryKey: ['triggers'] });
      void client.invalidateQueries({ queryKey: ['fires'] });
    },
  });
  if (list.error instanceof ApiError && list.error.code === 'ROUTE_NOT_FOUND')
    return (
      <Placeholder title="Triggers">
        This server does not run the triggers service (no <code>/v1/triggers</code>): see docs/triggers.md.
      </Placeholder>
    );
  const rows = list.data?.triggers ?? [];
  const chosen = selected ? rows.find((t) => t.workflow === selected.workflow && t.trigger === selected.trigger) : undefined;
  return (
    <section className="page">
      <h1>Triggers</h1>
      <ProblemMessage error={list.error} title="Could not list triggers" />
      {list.isPending && <Loading what="triggers" />}
      <div className={selected ? 'split' : undefined}>
        <table className="wide" data-testid="triggers">
          <thead>
            <tr>
              <th>Trigger</th>
              <th>Kind</th>
              <th>State</th>
              <th>Next fire</th>
              <th>Last fire</th>
              <th>Fires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((t) => (
              <tr key={`${t.workflow}/${t.trigger}`} data-testid="trigger-row" className={selected?.workflow === t.workflow && selected.trigger === t.trigger ? 'selected' : undefined}>
                <td>
                  <Link to={`/triggers/${enc(t.workflow)}/${enc(t.trigger)}`}>
                    {t.workflow} / {t.trigger}
                  </Link>{' '}
                  <span className="muted small">v{t.version}</span>
                </td>
                <td>{t.kind}</td>
                <td>
                  <span className={`badge ${t.state === 'active' ? 's-completed' : 's-canceled'}`}>{t.state}</span>
                </td>
                <td>{formatTime(t.nextFireAt)}</td>
                <td>
                  {t.lastFire ? (
                    <>
                      {t.lastFire.outcome} {formatTime(t.lastFire.at)} {t.lastFire.runId && <Link to={`/runs/${t.lastFire.runId}`}>run</Link>}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="small">
                  {Object.entries(t.counts)
                    .map(([o, n]) => `${n} ${o}`)
                    .join(', ') || '—'}
                </td>
                <td className="row">
                  <button type="button" onClick={() => setPending({ op: t.state === 'active' ? 'pause' : 'resume', t })}>
                    {t.state === 'active' ? 'Pause' : 'Resume'}
                  </button>
                  <button type="button" onClick={() => setPending({ op: 'fire', t })} data-testid="fire-now">
                    Fire now
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {selected && (
          <div>
            {chosen ? (
              <>
                <FireLog workflow={selected.workflow} trigger={selected.trigger} />
                <TriggerTools key={`${chosen.workflow}/${chosen.trigger}`} trigger={chosen} />
              </>
            ) : (
              list.isSuccess && (
                <p className="empty" data-testid="trigger-unknown">
                  No trigger {selected.workflow} / {selected.trigger} (yet: a published version's triggers show within seconds).
                </p>
              )
            )}
          </div>
        )}
      </div>
      {list.isSuccess && rows.length === 0 && <p className="empty">No triggers: add `triggers:` to a workflow and publish it.</p>}
      <Confirm
        open={pending !== null}
        title={pending ? `${pending.op === 'fire' ? 'Fire' : pending.op === 'pause' ? 'Pause' : 'Resume'} ${pending.t.workflow} / ${pending.t.trigger}?` : ''}
        confirmLabel={pending?.op === 'fire' ? 'Fire now' : pending?.op === 'pause' ? 'Pause' : 'Resume'}
        onCancel={() => {
          act.reset();
          setPending(null);
        }}
        onConfirm={() => pending && act.mutate(pending)}
      >
        {pending?.op === 'fire' && <p>Starts a run now with the trigger's inputs, recorded in its fire log.</p>}
        {pending?.op === 'pause' && <p>Occurrences while paused are recorded as skipped.</p>}
        <ProblemMessage error={act.error} title="The server refused" />
      </Confirm>
    </section>
  );
}

function FireLog({ workflow, trigger }: { workflow: string; trigger: string }): React.JSX.Element {
  const fires = useQuery({
    queryKey: ['fires', workflow, trigger],
    queryFn: ({ signal }) => api<TriggerFirePage>(`/v1/triggers/${enc(workflow)}/${enc(trigger)}/fires${qs({ limit: 100 })}`, { signal }),
    refetchInterval: 5_000,
  });
  return (
    <div className="card" data-testid="fire-log">
      <h2>
        Fire log: {workflow} / {trigger}
      </h2>
      <ProblemMessage error={fires.error} />
      {fires.isPending && <Loading what="fires" />}
      <table className="wide small">
        <thead>
          <tr>
            <th>At</th>
            <th>Outcome</th>
            <th>Run</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {(fires.data?.fires ?? []).map((f) => (
            <tr key={f.id} data-testid="fire-row">
              <td>{formatTime(f.at)}</td>
              <td>
                <span className={`badge s-${OUTCOME_STATUS[f.outcome] ?? 'pending'}`}>{f.outcome}</span>
                {f.held ? ' (held)' : ''}
              </td>
              <td>{f.runId ? <Link to={`/runs/${f.runId}`}>{f.runId.slice(0, 8)}</Link> : '—'}</td>
              <td className="muted">{f.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {fires.isSuccess && (fires.data.fires.length ?? 0) === 0 && <p className="empty">No fires yet.</p>}
    </div>
  );
}
