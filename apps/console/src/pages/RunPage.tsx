import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, enc, qs } from '../api/client';
import type { Checkpoint, RunHistory as History, Run, RunAccepted, Step as StepView } from '@weft/sdk';
import { Confirm, formatMs, formatTime, Json, Loading, ProblemMessage, StatusBadge } from '../components/common';
import { type GraphRendered, RunGraph } from '../graph/RunGraph';
import { Link, navigate, setQuery, useLocation } from '../router';
import { Gantt } from './Gantt';
import { StepInput } from './StepInput';
import { FINISHED, useHistory, useLiveRun } from './useLiveRun';

type Action = 'cancel' | 'retry' | 'resume' | 'rerun';
const TABS = ['timeline', 'journal', 'run'] as const;
type Tab = (typeof TABS)[number];

export function RunPage({ runId }: { runId: string }): React.JSX.Element {
  const { query } = useLocation();
  const selected = query.get('step');
  const tab = (TABS as readonly string[]).includes(query.get('tab') ?? '') ? (query.get('tab') as Tab) : 'timeline';
  const { run, live, liveError } = useLiveRun(runId);
  // The journal's history (timeline, attempts, logs) is asked for once the graph is drawn:
  // for a big run it is the heavier answer, and the graph is what the user waits for.
  const [graphDrawn, setGraphDrawn] = useState(false);
  const history = useHistory(runId, run.isSuccess && graphDrawn);
  const [group, setGroup] = useState<string[] | null>(null);
  const [action, setAction] = useState<Action | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const data = run.data;
  const running = data ? !FINISHED.has(data.status) : false;
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, [running]);

  const select = useCallback((members: string[]) => {
    if (members.length === 1) {
      setGroup(null);
      setQuery({ step: members[0] });
    } else setGroup(members);
  }, []);
  const onRendered = useCallback((info: GraphRendered) => {
    performance.mark('weft:graph-rendered');
    window.__weftMetrics = { ...window.__weftMetrics, graphRenderedMs: performance.now(), graphNodes: info.nodes, layoutMs: info.layoutMs, layoutEngine: info.engine };
    // Painted: the frame that shows the nodes has been drawn (a task after the next animation frame).
    requestAnimationFrame(() => setTimeout(() => (window.__weftMetrics = { ...window.__weftMetrics, graphPaintedMs: performance.now() }), 0));
    setGraphDrawn(true);
  }, []);

  if (run.isPending) return <Loading what="run" />;
  if (run.error || !data) return <ProblemMessage error={run.error} title={`Could not load run ${runId}`} />;

  const step = selected ? data.steps.find((s) => s.id === selected) : undefined;
  return (
    <section className="page run-page">
      <header className="run-header row wrap">
        <h1>
          <Link to={`/workflows/${enc(data.workflow)}`}>{data.workflow}</Link> <span className="muted">{data.version === 'adhoc' ? 'ad hoc' : `v${data.version}`}</span>
        </h1>
        <StatusBadge status={data.status} />
        <span className="mono muted" title="run id">
          {data.runId}
        </span>
        {live && (
          <span className="live" title="following the run's event stream" data-testid="live">
            ● live
          </span>
        )}
        <span className="spacer" />
        <RunActions run={data} step={selected} onAction={setAction} />
      </header>
      <div className="row wrap muted small">
        <span>created {formatTime(data.createdAt)}</span>
        <span>duration {formatMs(data.durationMs ?? (data.startedAt ? now - Date.parse(data.startedAt) : null))}</span>
        <span>{data.steps.length} steps</span>
        {data.correlationId && <span>correlation {data.correlationId}</span>}
        {data.rerunOf && (
          <span data-testid="rerun-of">
            re-run of <Link to={`/runs/${data.rerunOf.runId}`}>{data.rerunOf.runId.slice(0, 8)}</Link>
            {data.rerunOf.fromStep && ` from step ${data.rerunOf.fromStep}`}
          </span>
        )}
        {data.reruns.length > 0 && (
          <span data-testid="reruns">
            re-run as{' '}
            {data.reruns.map((r, i) => (
              <span key={r.runId}>
                {i > 0 && ', '}
                <Link to={`/runs/${r.runId}`} data-testid="rerun-link" title={`created ${formatTime(r.createdAt)}`}>
                  {r.runId.slice(0, 8)}
                </Link>
                {r.fromStep && ` from ${r.fromStep}`}
              </span>
            ))}
            {data.reruns.length >= 50 && ' (the newest 50)'}
          </span>
        )}
      </div>
      {data.error && (
        <div className="problem" role="alert" data-testid="run-error">
          <code>{data.error.code}</code> {data.error.message}
        </div>
      )}
      {liveError ? <ProblemMessage error={liveError} title="The live stream stopped" /> : null}
      <div className="run-body">
        <RunGraph specSteps={data.spec.steps} steps={data.steps} selected={selected} onSelect={select} onRendered={onRendered} />
        <aside className="step-panel" aria-label="Selected step">
          {group ? (
            <GroupList members={group} steps={data.steps} onPick={(id) => select([id])} />
          ) : step ? (
            <StepPanel run={data} step={step} history={history.data} />
          ) : (
            <p className="muted">Select a step in the graph or the timeline.</p>
          )}
        </aside>
      </div>
      <div className="tabs" role="tablist" aria-label="Run details">
        {TABS.map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setQuery({ tab: t === 'timeline' ? null : t })}>
            {t === 'timeline' ? 'Timeline' : t === 'journal' ? 'Journal' : 'Inputs & outputs'}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {tab === 'run' ? (
          <div className="grid2">
            <div>
              <h3>Inputs</h3>
              <Json value={data.inputs} />
            </div>
            <div>
              <h3>Outputs</h3>
              <Json value={data.outputs ?? undefined} />
            </div>
          </div>
        ) : history.error ? (
          history.error instanceof ApiError && history.error.status === 404 ? (
            <p className="muted">The journal has no entries for this run yet.</p>
          ) : (
            <ProblemMessage error={history.error} title="Could not load the run's journal" />
          )
        ) : !history.data ? (
          <Loading what="timeline" />
        ) : tab === 'journal' ? (
          <Journal history={history.data} stepId={null} />
        ) : (
          <Gantt history={history.data} selected={selected} onSelect={(id) => select([id])} now={now} />
        )}
      </div>
      <ActionDialog run={data} step={selected} action={action} onClose={() => setAction(null)} />
    </section>
  );
}

function RunActions({ run, step, onAction }: { run: Run; step: string | null; onAction: (a: Action) => void }): React.JSX.Element {
  const finished = FINISHED.has(run.status);
  return (
    <div className="row actions">
      {!finished && (
        <button type="button" className="danger" onClick={() => onAction('cancel')}>
          Cancel run
        </button>
      )}
      {run.status === 'running' && (
        <button type="button" onClick={() => onAction('resume')}>
          Resume
        </button>
      )}
      {(run.status === 'failed' || run.status === 'partially_completed' || run.status === 'canceled') && (
        <button type="button" onClick={() => onAction('retry')}>
          Retry failed steps
        </button>
      )}
      {finished && (
        <button type="button" className="primary" onClick={() => onAction('rerun')} data-testid="rerun-button">
          {step ? `Re-run from ${step}` : 'Re-run'}
        </button>
      )}
    </div>
  );
}

function ActionDialog({ run, step, action, onClose }: { run: Run; step: string | null; action: Action | null; onClose: () => void }): React.JSX.Element {
  const client = useQueryClient();
  const [version, setVersion] = useState('');
  const mutation = useMutation({
    mutationFn: async (a: Action): Promise<void> => {
      const base = `/v1/runs/${enc(run.runId)}`;
      switch (a) {
        case 'cancel':
          client.setQueryData(['run', run.runId], await api<Run>(`${base}/cancel`, { method: 'POST', body: { reason: 'canceled from the console' } }));
          return;
        case 'resume':
          client.setQueryData(['run', run.runId], (await api<{ run: Run }>(`${base}/resume`, { method: 'POST' })).run);
          return;
        case 'retry':
          client.setQueryData(['run', run.runId], await api<Run>(`${base}/retry`, { method: 'POST' }));
          return;
        case 'rerun': {
          const body = version === '' ? {} : { version: version === 'published' ? 'published' : Number(version) };
          const started = await api<RunAccepted>(`${base}/rerun${qs({ from: step ?? undefined })}`, { method: 'POST', body });
          // This run gains a re-run (its forward link): asked again when the user comes back.
          void client.invalidateQueries({ queryKey: ['run', run.runId] });
          navigate(`/runs/${started.runId}`);
          return;
        }
      }
    },
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['runs'] });
      onClose();
    },
  });
  const titles: Record<Action, string> = {
    cancel: 'Cancel this run?',
    resume: 'Resume this run?',
    retry: 'Retry the failed steps?',
    rerun: step ? `Re-run from step ${step}?` : 'Re-run every step?',
  };
  return (
    <Confirm
      open={action !== null}
      title={action ? titles[action] : ''}
      confirmLabel={action === 'cancel' ? 'Cancel run' : action === 'rerun' ? 'Start re-run' : 'Confirm'}
      danger={action === 'cancel'}
      onCancel={() => {
        mutation.reset();
        onClose();
      }}
      onConfirm={() => action && mutation.mutate(action)}
    >
      {action === 'cancel' && <p>In-flight steps are aborted; the run ends canceled.</p>}
      {action === 'resume' && <p>Steps in flight are dispatched again and waiting retries start now. For a run whose steps stopped moving.</p>}
      {action === 'retry' && <p>The failed, canceled and skipped steps run again in this run.</p>}
      {action === 'rerun' && (
        <>
          <p>
            A new run with this run's inputs, linked to this one.{' '}
            {step ? `Steps upstream of ${step} that completed keep their outputs; ${step} and everything after it runs again.` : 'Every step runs again.'}
          </p>
          <label>
            Spec{' '}
            <select value={version} onChange={(e) => setVersion(e.target.value)} disabled={run.version === 'adhoc'}>
              <option value="">this run's own (v{run.version})</option>
              <option value="published">the published version</option>
            </select>
          </label>
        </>
      )}
      <ProblemMessage error={mutation.error} title="The server refused" />
    </Confirm>
  );
}

function GroupList({ members, steps, onPick }: { members: string[]; steps: StepView[]; onPick: (id: string) => void }): React.JSX.Element {
  const byId = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: members.length, getScrollElement: () => scroller.current, estimateSize: () => 28, overscan: 10 });
  return (
    <div>
      <h2>{members.length} parallel steps</h2>
      <div ref={scroller} className="scroll group-list">
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((v) => {
            const id = members[v.index] ?? '';
            const s = byId.get(id);
            return (
              <button key={id} type="button" className="list-button" style={{ position: 'absolute', top: 0, transform: `translateY(${v.start}px)` }} onClick={() => onPick(id)}>
                <StatusBadge status={s?.status ?? 'pending'} /> {id}
              </button>
            );
          })}
        </div>
      </div>
    </div>
  );
}

const PANEL_TABS = ['overview', 'input', 'output', 'error', 'attempts', 'logs', 'checkpoint'] as const;
type PanelTab = (typeof PANEL_TABS)[number];

function StepPanel({ run, step, history }: { run: Run; step: StepView; history: History | undefined }): React.JSX.Element {
  const { query } = useLocation();
  const initial: PanelTab = step.error ? 'error' : 'overview';
  const asked = query.get('panel') ?? '';
  const tab: PanelTab = (PANEL_TABS as readonly string[]).includes(asked) ? (asked as PanelTab) : initial;
  const spec = run.spec.steps.find((s) => s.id === step.id);
  const hist = history?.steps.find((s) => s.stepId === step.id);
  const checkpoint = useQuery({
    queryKey: ['checkpoint', run.runId, step.id],
    queryFn: ({ signal }) => api<Checkpoint>(`/v1/runs/${enc(run.runId)}/checkpoints/${enc(step.id)}`, { signal }),
    enabled: tab === 'checkpoint' && step.status === 'completed',
    retry: false,
  });
  return (
    <div data-testid="step-panel">
      <h2 className="row">
        <span className="ellipsis">{spec?.name ?? step.id}</span> <StatusBadge status={step.status} />
      </h2>
      <div className="tabs small" role="tablist" aria-label="Step details">
        {PANEL_TABS.map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setQuery({ panel: t })} data-testid={`panel-${t}`}>
            {t}
            {t === 'error' && step.error ? ' ●' : ''}
          </button>
        ))}
      </div>
      <div role="tabpanel" className="panel-body">
        {tab === 'overview' && (
          <dl className="kv">
            <dt>step</dt>
            <dd className="mono">{step.id}</dd>
            <dt>action</dt>
            <dd>{spec?.action ?? '—'}</dd>
            <dt>needs</dt>
            <dd>{(spec?.needs ?? []).join(', ') || '—'}</dd>
            <dt>attempts</dt>
            <dd>{step.attempts}</dd>
            <dt>started</dt>
            <dd>{formatTime(step.startedAt)}</dd>
            <dt>finished</dt>
            <dd>{formatTime(step.finishedAt)}</dd>
            <dt>duration</dt>
            <dd>{formatMs(step.durationMs)}</dd>
            {hist?.reason && (
              <>
                <dt>why</dt>
                <dd data-testid="step-reason">{hist.reason}</dd>
              </>
            )}
            {step.reusedFrom && (
              <>
                <dt>reused from</dt>
                <dd>
                  <Link to={`/runs/${step.reusedFrom}?step=${enc(step.id)}`}>{step.reusedFrom.slice(0, 8)}</Link>
                </dd>
              </>
            )}
            {spec?.if && (
              <>
                <dt>if</dt>
                <dd className="mono">{spec.if}</dd>
              </>
            )}
          </dl>
        )}
        {tab === 'input' && <StepInput runId={run.runId} stepId={step.id} status={step.status} />}
        {tab === 'output' && <Json value={step.output} />}
        {tab === 'error' &&
          (step.error ? (
            <div className="problem" data-testid="step-error">
              <code>{step.error.code}</code>
              <div>{step.error.message}</div>
            </div>
          ) : (
            <p className="muted">No error.</p>
          ))}
        {tab === 'attempts' &&
          (hist ? (
            <table className="small">
              <thead>
                <tr>
                  <th>#</th>
                  <th>status</th>
                  <th>queued</th>
                  <th>ran</th>
                  <th>worker</th>
                  <th>error</th>
                </tr>
              </thead>
              <tbody>
                {hist.attempts.map((a) => (
                  <tr key={a.attempt}>
                    <td>{a.attempt}</td>
                    <td>
                      <StatusBadge status={a.status} />
                    </td>
                    <td>{a.queuedAt && a.startedAt ? formatMs(Date.parse(a.startedAt) - Date.parse(a.queuedAt)) : '—'}</td>
                    <td>{formatMs(a.durationMs)}</td>
                    <td className="mono ellipsis">{a.workerId ?? '—'}</td>
                    <td>{a.error ? `${a.error.code}${a.timedOut ? ' (timed out)' : ''}${a.retryDelayMs ? `, retry in ${formatMs(a.retryDelayMs)}` : ''}` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Loading what="attempts" />
          ))}
        {tab === 'logs' && (history ? <Journal history={history} stepId={step.id} /> : <Loading what="logs" />)}
        {tab === 'checkpoint' &&
          (step.status !== 'completed' ? (
            <p className="muted">Only completed steps have a checkpoint.</p>
          ) : checkpoint.error ? (
            <ProblemMessage error={checkpoint.error} />
          ) : checkpoint.data ? (
            <Json value={checkpoint.data} />
          ) : (
            <Loading what="checkpoint" />
          ))}
      </div>
    </div>
  );
}

function Journal({ history, stepId }: { history: History; stepId: string | null }): React.JSX.Element {
  const lines = useMemo(() => (stepId ? history.timeline.filter((l) => l.stepId === stepId) : history.timeline), [history, stepId]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: lines.length, getScrollElement: () => scroller.current, estimateSize: () => 22, overscan: 20 });
  return (
    <div ref={scroller} className="scroll journal mono small" data-testid="journal">
      <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
        {virtual.getVirtualItems().map((v) => {
          const l = lines[v.index];
          if (!l) return null;
          return (
            <div key={v.index} className={`journal-line${l.error ? ' err' : ''}`} style={{ position: 'absolute', top: 0, transform: `translateY(${v.start}px)` }}>
              <span className="muted">+{formatMs(l.offsetMs)}</span> {l.text}
            </div>
          );
        })}
      </div>
    </div>
  );
}
