import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { TriggerBackfill, TriggerSummary, TriggerTestResult } from '@weft/sdk';
import { useState } from 'react';
import { api, enc } from '../api/client';
import { Confirm, formatTime, Json, ProblemMessage } from '../components/common';
import { Link } from '../router';

// A trigger's backfill (cron: a run per tick in a past range, the overlap policy applied) and
// test (the trigger's filter, dedupe key and inputs on a sample, or a poll's one real fetch;
// nothing starts): POST /v1/triggers/{workflow}/{trigger}/backfill|test (docs/triggers.md).

/** `datetime-local` text (the browser's zone) as ISO 8601; '' stays ''. */
const isoOf = (local: string): string => (local ? new Date(local).toISOString() : '');
/** A `datetime-local` value `hours` back from now. */
function localHoursAgo(hours: number): string {
  const d = new Date(Date.now() - hours * 3_600_000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

export function TriggerTools({ trigger }: { trigger: TriggerSummary }): React.JSX.Element {
  return (
    <>
      {trigger.kind === 'cron' && <Backfill trigger={trigger} />}
      <TestTrigger trigger={trigger} />
    </>
  );
}

function Backfill({ trigger }: { trigger: TriggerSummary }): React.JSX.Element {
  const client = useQueryClient();
  const [from, setFrom] = useState(() => localHoursAgo(24));
  const [to, setTo] = useState(() => localHoursAgo(0));
  const [asking, setAsking] = useState(false);
  const run = useMutation({
    mutationFn: () =>
      api<TriggerBackfill>(`/v1/triggers/${enc(trigger.workflow)}/${enc(trigger.trigger)}/backfill`, { method: 'POST', body: { from: isoOf(from), to: isoOf(to) } }),
    onSuccess: () => {
      setAsking(false);
      void client.invalidateQueries({ queryKey: ['fires'] });
      void client.invalidateQueries({ queryKey: ['triggers'] });
    },
  });
  return (
    <div className="card" data-testid="backfill">
      <h2>Backfill</h2>
      <p className="muted small">One occurrence per tick of the schedule in the range (at most 1000), the overlap policy applied; each is in the fire log.</p>
      <form
        className="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          run.reset();
          setAsking(true);
        }}
      >
        <label>
          From <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required data-testid="backfill-from" />
        </label>
        <label>
          To <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} required data-testid="backfill-to" />
        </label>
        <button type="submit" data-testid="backfill-open">
          Backfill…
        </button>
      </form>
      {run.data && (
        <div data-testid="backfill-result">
          <p>
            {run.data.ticks} tick{run.data.ticks === 1 ? '' : 's'}:{' '}
            {Object.entries(countBy(run.data.results.map((r) => r.outcome)))
              .map(([o, n]) => `${n} ${o}`)
              .join(', ') || 'none'}
          </p>
          <ul className="small">
            {run.data.results.slice(0, 50).map((r) => (
              <li key={r.fireId}>
                {r.outcome}
                {r.runId && (
                  <>
                    {' '}
                    <Link to={`/runs/${r.runId}`}>{r.runId.slice(0, 8)}</Link>
                  </>
                )}
                {r.reason && <span className="muted"> {r.reason}</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
      {/* Mounted only while asked: the page's own confirmation (pause, fire now) stays the one dialog. */}
      {asking && (
        <Confirm
          open
          title={`Backfill ${trigger.workflow} / ${trigger.trigger}?`}
          confirmLabel="Backfill"
          onCancel={() => {
            run.reset();
            setAsking(false);
          }}
          onConfirm={() => run.mutate()}
        >
          <p>
            Starts a run for every tick from {formatTime(isoOf(from))} to {formatTime(isoOf(to))} (at most 1000).
          </p>
          <ProblemMessage error={run.error} title="The server refused" />
        </Confirm>
      )}
    </div>
  );
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Header lines `name: value` as a record. */
function headersOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return out;
}

function TestTrigger({ trigger }: { trigger: TriggerSummary }): React.JSX.Element {
  const [at, setAt] = useState('');
  const [event, setEvent] = useState('{\n  "data": {}\n}');
  const [headers, setHeaders] = useState('');
  const [body, setBody] = useState('{}');
  const [badJson, setBadJson] = useState<string | null>(null);
  const test = useMutation({
    mutationFn: (sample: Record<string, unknown>) => api<TriggerTestResult>(`/v1/triggers/${enc(trigger.workflow)}/${enc(trigger.trigger)}/test`, { method: 'POST', body: sample }),
  });
  const submit = (e: React.FormEvent): void => {
    e.preventDefault();
    setBadJson(null);
    if (trigger.kind === 'cron') return test.mutate(at ? { at: isoOf(at) } : {});
    if (trigger.kind === 'webhook') return test.mutate({ headers: headersOf(headers), body });
    if (trigger.kind === 'poll') return test.mutate({});
    try {
      test.mutate({ event: JSON.parse(event) as unknown });
    } catch (error) {
      setBadJson(error instanceof Error ? error.message : String(error));
    }
  };
  const r = test.data;
  return (
    <div className="card" data-testid="trigger-test">
      <h2>Test</h2>
      <p className="muted small">
        {trigger.kind === 'cron' && 'The next fires from a time, and the inputs a tick would start a run with.'}
        {trigger.kind === 'webhook' && "A delivery's headers and body: the signature check, the filter, the dedupe key and the inputs."}
        {(trigger.kind === 'event' || trigger.kind === 'subject') && 'A sample event ({ data, headers, subject }): the filter, the dedupe key and the inputs.'}
        {trigger.kind === 'poll' && 'One real fetch: which items are new and what each would start.'} Nothing starts.
      </p>
      <form onSubmit={submit} className="field">
        {trigger.kind === 'cron' && (
          <label>
            At (default now) <input type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} data-testid="test-at" />
          </label>
        )}
        {(trigger.kind === 'event' || trigger.kind === 'subject') && (
          <label>
            Event (JSON) <textarea rows={5} value={event} onChange={(e) => setEvent(e.target.value)} className="mono" data-testid="test-event" />
          </label>
        )}
        {trigger.kind === 'webhook' && (
          <>
            <label>
              Headers (one <code>name: value</code> a line) <textarea rows={3} value={headers} onChange={(e) => setHeaders(e.target.value)} className="mono" data-testid="test-headers" />
            </label>
            <label>
              Body, exactly as sent <textarea rows={4} value={body} onChange={(e) => setBody(e.target.value)} className="mono" data-testid="test-body" />
            </label>
          </>
        )}
        <button type="submit" className="primary" disabled={test.isPending} data-testid="test-run">
          Test
        </button>
      </form>
      {badJson && (
        <div className="problem" role="alert" data-testid="problem">
          <strong>The event is not JSON</strong> <div>{badJson}</div>
        </div>
      )}
      <ProblemMessage error={test.error} title="The test failed" />
      {r && (
        <div data-testid="test-result">
          <p>
            <span className={`badge s-${r.passed ? 'completed' : 'failed'}`}>{r.passed ? 'passes' : 'does not pass'}</span>
            {r.dedupeKey && (
              <>
                {' '}
                dedupe key <code>{r.dedupeKey}</code>
              </>
            )}
          </p>
          {r.refused && (
            <p>
              refused: <code>{r.refused.reason}</code> {r.refused.message}
            </p>
          )}
          {r.error && <p className="s-failed">{r.error}</p>}
          {r.nextFires && r.nextFires.length > 0 && (
            <p data-testid="test-next-fires">
              next fires: {r.nextFires.map((t) => formatTime(t)).join(', ')}
            </p>
          )}
          {r.inputs && (
            <>
              <h3>Inputs</h3>
              <Json value={r.inputs} />
            </>
          )}
          {r.items && (
            <ul className="small">
              {r.items.map((item) => (
                <li key={item.key}>
                  <code>{item.key}</code> {item.new ? 'new' : 'seen'}, {item.passed ? 'passes' : 'filtered'}
                  {item.error && <span className="s-failed"> {item.error}</span>}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
