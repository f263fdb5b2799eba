import type { Actor, ReceivedSignal, ReviewDecision } from '@weft/contracts';
import { boom, commandsOf, deepFreeze, dispatchedIds, emitted, emittedTypes, RunDriver, workflow } from '../testing';
import type { StepSpec } from '../workflow-spec/spec.schema';
import type { Command } from './events';
import { decide, signalSatisfies } from './run.machine';

const actor: Actor = { keyId: 'k1', name: 'alice' };

function signal(name: string, extra: Partial<ReceivedSignal> = {}, at = 1_000_000): ReceivedSignal {
  return { id: `sig-${name}-${extra.key ?? ''}`, name, receivedAt: at, ...extra };
}

/** Feeds a signal to a waiting step with its own token. */
function deliver(d: RunDriver, stepId: string, sig: ReceivedSignal, deltaMs = 10): Command[] {
  const step = d.step(stepId);
  return d.apply({ type: 'signal.received', at: d.at(deltaMs), stepId, token: step.token ?? '', signal: sig });
}

function decideReview(d: RunDriver, stepId: string, decision: ReviewDecision, extra: { payload?: unknown; comment?: string } = {}, deltaMs = 10): Command[] {
  const wait = d.step(stepId).wait;
  if (wait?.kind !== 'review') throw new Error(`${stepId} is not under review`);
  return d.apply({ type: 'review.decided', at: d.at(deltaMs), stepId, reviewId: wait.reviewId, decision, actor, ...extra });
}

function fire(d: RunDriver, timer: 'sleep' | 'wait-timeout' | 'review-deadline' | 'review-escalation', stepId: string, at: number, attempt = d.step(stepId).attempt): Command[] {
  return d.apply({ type: 'timer.fired', at, timer, stepId, attempt });
}

describe('durable sleep', () => {
  const spec = workflow([
    { id: 'nap', action: 'sleep', with: { duration: '1h' } },
    { id: 'after', needs: ['nap'], action: 'noop' },
  ]);

  it('is a timer, not a dispatch: the step and the run wait, then the timer completes it at the time first scheduled', () => {
    const d = new RunDriver(spec);
    const t0 = d.at();
    const started = d.start();
    expect(dispatchedIds(started)).toEqual([]);
    expect(commandsOf(started, 'schedule-timer')).toEqual([{ type: 'schedule-timer', timer: 'sleep', stepId: 'nap', attempt: 1, fireAt: t0 + 3_600_000 }]);
    expect(emittedTypes(started)).toEqual(['run.started', 'step.waiting:nap', 'run.waiting']);
    expect(d.state.status).toBe('waiting');
    expect(d.step('nap')).toMatchObject({ status: 'waiting', attempt: 1, wait: { kind: 'sleep', until: t0 + 3_600_000 } });

    // A timer scan that runs early (or a stale copy of the timer) changes nothing.
    const before = deepFreeze(d.state);
    expect(decide(before, { type: 'timer.fired', at: t0 + 1_000, timer: 'sleep', stepId: 'nap', attempt: 1 })).toEqual({ state: before, commands: [] });

    const woke = fire(d, 'sleep', 'nap', t0 + 3_600_000 + 40);
    expect(d.step('nap')).toMatchObject({ status: 'completed', output: { sleptMs: 3_600_040 } });
    expect(d.step('nap').wait).toBeUndefined();
    expect(dispatchedIds(woke)).toEqual(['after']);
    expect(d.state.status).toBe('running');
    // Fired twice (a redelivered timer): nothing more happens.
    expect(fire(d, 'sleep', 'nap', t0 + 3_600_100, 1)).toEqual([]);
  });

  it('sleeps until an ISO time given by an expression; a time already past wakes at once', () => {
    const until = new Date(1_000_000 + 60_000).toISOString();
    const d = new RunDriver(workflow([{ id: 'nap', action: 'sleep', with: { until: '${{ inputs.when }}' } }], { inputs: { when: { type: 'string' } } }), { when: until });
    expect(commandsOf(d.start(), 'schedule-timer')).toEqual([expect.objectContaining({ timer: 'sleep', fireAt: 1_060_000 })]);
    const past = new RunDriver(workflow([{ id: 'nap', action: 'sleep', with: { until: '1970-01-01T00:00:01Z' } }]));
    expect(commandsOf(past.start(), 'schedule-timer')).toEqual([expect.objectContaining({ timer: 'sleep', fireAt: past.at() })]);
  });

  it('a duration that is not one fails the step with INVALID_WAIT, never retried', () => {
    const d = new RunDriver(workflow([{ id: 'nap', action: 'sleep', with: { duration: '${{ inputs.d }}' }, retry: { maxAttempts: 3 } }], { inputs: { d: { type: 'string' } } }), { d: 'soon' });
    d.start();
    expect(d.step('nap')).toMatchObject({ status: 'failed', error: { code: 'INVALID_WAIT', retryable: false } });
    expect(d.state.status).toBe('failed');
  });

  it('cancel stops it: the timer is dropped and a late timer changes nothing', () => {
    const d = new RunDriver(spec);
    d.start();
    const canceled = d.apply({ type: 'run.cancel', at: d.at(5) });
    expect(commandsOf(canceled, 'cancel-timer')).toEqual([{ type: 'cancel-timer', timer: 'sleep', stepId: 'nap' }]);
    expect(d.step('nap')).toMatchObject({ status: 'canceled', attempts: [expect.objectContaining({ status: 'canceled' })] });
    expect(fire(d, 'sleep', 'nap', d.at(3_600_000), 1)).toEqual([]);
  });

  it('a run with a sleeping branch and a running one is running; waiting once only the sleep is left', () => {
    const d = new RunDriver(workflow([
      { id: 'nap', action: 'sleep', with: { duration: '10s' } },
      { id: 'work', action: 'compute' },
    ]));
    d.start();
    expect(d.state.status).toBe('running');
    const done = d.run('work');
    expect(d.state.status).toBe('waiting');
    expect(emittedTypes(done)).toContain('run.waiting');
    fire(d, 'sleep', 'nap', d.at(10_000));
    expect(d.state.status).toBe('completed');
  });

  it('stays running while a step is queued, running or retrying (counted by delta across decisions, and afresh from a state read back as JSON)', () => {
    const d = new RunDriver(workflow([
      { id: 'nap', action: 'sleep', with: { duration: '1h' } },
      { id: 'w1', action: 'compute' },
      { id: 'w2', action: 'compute', retry: { maxAttempts: 2, initialInterval: '1s', jitter: false } },
    ]));
    d.start();
    d.fail('w2', boom);
    expect(d.step('w2').status).toBe('retrying');
    d.run('w1');
    expect(d.state.status).toBe('running');
    // A state loaded from the store: its steps record is plain, so the counts are taken from it again.
    d.state = JSON.parse(JSON.stringify(d.state)) as typeof d.state;
    d.apply({ type: 'timer.fired', at: d.at(1_000), timer: 'retry', stepId: 'w2', attempt: 1 });
    expect(d.step('w2').status).toBe('queued');
    expect(d.state.status).toBe('running');
    const done = d.run('w2');
    expect(d.state.status).toBe('waiting');
    expect(emitted(done).find((e) => e.type === 'run.waiting')?.data).toEqual({ steps: ['nap'] });
  });
});

describe('wait.event', () => {
  const spec = workflow(
    [
      { id: 'wait', action: 'wait.event', with: { event: 'invoice.approved', key: '${{ inputs.invoice }}', timeout: '1h', lookback: '5s', match: 'event.data.amount >= inputs.min' } },
      { id: 'after', needs: ['wait'], action: 'noop', with: { by: '${{ steps.wait.output.data.by }}' } },
    ],
    { inputs: { invoice: { type: 'string' }, min: { type: 'integer', default: 0 } } },
  );

  it('registers the wait with since = start - lookback and a timeout timer; the first matching signal completes it', () => {
    const d = new RunDriver(spec, { invoice: 'INV-7', min: 100 });
    const t0 = d.at();
    const started = d.start();
    const token = d.step('wait').token ?? '';
    expect(commandsOf(started, 'register-wait')).toEqual([
      { type: 'register-wait', stepId: 'wait', attempt: 1, token, name: 'invoice.approved', key: 'INV-7', since: t0 - 5_000, expiresAt: t0 + 3_600_000 },
    ]);
    expect(commandsOf(started, 'schedule-timer')).toEqual([{ type: 'schedule-timer', timer: 'wait-timeout', stepId: 'wait', attempt: 1, fireAt: t0 + 3_600_000 }]);
    expect(d.state.status).toBe('waiting');

    // Another key, a signal from before the lookback, a match that is false, a forged token: nothing.
    expect(deliver(d, 'wait', signal('invoice.approved', { key: 'INV-8', data: { amount: 500 } }))).toEqual([]);
    expect(deliver(d, 'wait', signal('invoice.approved', { key: 'INV-7', data: { amount: 500 }, receivedAt: t0 - 6_000 }))).toEqual([]);
    expect(deliver(d, 'wait', signal('invoice.approved', { key: 'INV-7', data: { amount: 5 } }))).toEqual([]);
    expect(deliver(d, 'wait', signal('invoice.approved', { key: 'INV-7', data: {} }))).toEqual([]);
    expect(d.apply({ type: 'signal.received', at: d.at(1), stepId: 'wait', token: `${token}x`, signal: signal('invoice.approved', { key: 'INV-7', data: { amount: 500 } }) })).toEqual([]);

    // Sent a moment before the step started, within the lookback: it counts.
    const early = signal('invoice.approved', { id: 's1', key: 'INV-7', data: { amount: 500, by: 'bob' }, receivedAt: t0 - 1_000 });
    expect(signalSatisfies(d.state, 'wait', early)).toBe(true);
    const met = deliver(d, 'wait', early);
    expect(d.step('wait')).toMatchObject({ status: 'completed', output: { id: 's1', name: 'invoice.approved', key: 'INV-7', data: { amount: 500, by: 'bob' }, receivedAt: new Date(t0 - 1_000).toISOString() } });
    expect(commandsOf(met, 'cancel-wait')).toEqual([{ type: 'cancel-wait', stepId: 'wait', token }]);
    expect(commandsOf(met, 'cancel-timer')).toEqual([{ type: 'cancel-timer', timer: 'wait-timeout', stepId: 'wait' }]);
    expect(dispatchedIds(met)).toEqual(['after']);
    expect(met.find((c) => c.type === 'dispatch')).toMatchObject({ input: { by: 'bob' } });
    // A second signal (or the same one again) completes nothing: at most once.
    expect(deliver(d, 'wait', { ...early, id: 's2' })).toEqual([]);
    expect(deliver(d, 'wait', early)).toEqual([]);
  });

  it('without a lookback a signal sent before the wait began does not count', () => {
    const d = new RunDriver(workflow([{ id: 'wait', action: 'wait.event', with: { event: 'ping', timeout: '1m' } }]));
    const t0 = d.at();
    d.start();
    expect(deliver(d, 'wait', signal('ping', { receivedAt: t0 - 1_000 }))).toEqual([]);
    deliver(d, 'wait', signal('ping', { receivedAt: t0 }));
    expect(d.state.status).toBe('completed');
  });

  it('times out with TIMEOUT, never retried; onFailure applies', () => {
    const d = new RunDriver(workflow(
      [
        { id: 'wait', action: 'wait.event', with: { event: 'ping', timeout: '1m' }, retry: { maxAttempts: 5 }, onFailure: 'continue' },
        { id: 'other', action: 'noop' },
      ],
      { onFailure: 'continue' },
    ));
    const t0 = d.at();
    d.start();
    d.run('other');
    // A timer that fires before the deadline (clock skew between scans) does nothing.
    expect(fire(d, 'wait-timeout', 'wait', t0 + 59_000)).toEqual([]);
    const out = fire(d, 'wait-timeout', 'wait', t0 + 60_000);
    expect(commandsOf(out, 'cancel-wait')).toHaveLength(1);
    expect(emittedTypes(out)).toEqual(expect.arrayContaining(['step.timed_out:wait', 'step.failed:wait', 'run.partially_completed']));
    expect(d.step('wait')).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'TIMEOUT', retryable: false } });
    // A signal after the timeout is too late.
    expect(deliver(d, 'wait', signal('ping'))).toEqual([]);
  });

  it('cancel wins over a late signal', () => {
    const d = new RunDriver(workflow([{ id: 'wait', action: 'wait.event', with: { event: 'ping', timeout: '1m' } }]));
    d.start();
    const token = d.step('wait').token ?? '';
    const canceled = d.apply({ type: 'run.cancel', at: d.at(1) });
    expect(commandsOf(canceled, 'cancel-wait')).toEqual([{ type: 'cancel-wait', stepId: 'wait', token }]);
    expect(d.apply({ type: 'signal.received', at: d.at(2), stepId: 'wait', token, signal: signal('ping', { receivedAt: d.at(2) }) })).toEqual([]);
    expect(d.state.status).toBe('canceled');
  });
});

describe('review gates', () => {
  const form = { type: 'object', required: ['total'], properties: { total: { type: 'number' } } };
  const extract = (review: Partial<NonNullable<StepSpec['review']>> = {}, extra: Partial<StepSpec> = {}): StepSpec => ({
    id: 'extract',
    action: 'extract',
    retry: { maxAttempts: 3, initialInterval: '1s' },
    review: { when: '${{ output.confidence < 0.8 }}', title: 'Check invoice ${{ output.total }}', assignees: ['finance'], form, ...review },
    ...extra,
  });
  const invoice = (review?: Partial<NonNullable<StepSpec['review']>>, extra?: Partial<StepSpec>) =>
    workflow([extract(review, extra), { id: 'post', needs: ['extract'], action: 'post', with: { total: '${{ steps.extract.output.total }}' } }]);

  it('a confident output passes straight through', () => {
    const d = new RunDriver(invoice());
    d.start();
    const done = d.run('extract', { total: 10, confidence: 0.95 });
    expect(d.step('extract').status).toBe('completed');
    expect(dispatchedIds(done)).toEqual(['post']);
    expect(commandsOf(done, 'open-review')).toEqual([]);
  });

  it('a low-confidence output is held: open-review, review.requested, no dependent sees it', () => {
    const d = new RunDriver(invoice({ deadline: '4h', escalation: [{ after: '2h', assignees: ['finance-leads'] }] }));
    d.start();
    const t = d.at(20);
    const held = d.run('extract', { total: 10, confidence: 0.5 });
    const token = d.step('extract').token ?? '';
    expect(dispatchedIds(held)).toEqual([]);
    expect(commandsOf(held, 'open-review')).toEqual([
      { type: 'open-review', reviewId: token, stepId: 'extract', attempt: 1, title: 'Check invoice 10', assignees: ['finance'], form, output: { total: 10, confidence: 0.5 }, deadlineAt: t + 4 * 3_600_000, byRule: true },
    ]);
    expect(commandsOf(held, 'schedule-timer')).toEqual([
      { type: 'schedule-timer', timer: 'review-deadline', stepId: 'extract', attempt: 1, fireAt: t + 4 * 3_600_000 },
      { type: 'schedule-timer', timer: 'review-escalation', stepId: 'extract', attempt: 1, fireAt: t + 2 * 3_600_000 },
    ]);
    expect(emitted(held).find((e) => e.type === 'review.requested')).toMatchObject({ stepId: 'extract', status: 'waiting', data: { reviewId: token, title: 'Check invoice 10', byRule: true } });
    expect(d.step('extract')).toMatchObject({ status: 'waiting', attempts: [expect.objectContaining({ status: 'completed' })] });
    expect(d.step('extract').output).toBeUndefined();
    expect(d.state.status).toBe('waiting');
  });

  it('continue lets the output stand; the decision and its actor are recorded; a second decision changes nothing', () => {
    const d = new RunDriver(invoice());
    d.start();
    d.run('extract', { total: 10, confidence: 0.5 });
    const out = decideReview(d, 'extract', 'continue', { comment: 'looks right' });
    expect(emittedTypes(out).slice(0, 2)).toEqual(['review.decided:extract', 'step.completed:extract']);
    expect(commandsOf(out, 'close-review')).toEqual([expect.objectContaining({ outcome: 'decided', decision: 'continue', actor, comment: 'looks right' })]);
    expect(d.step('extract')).toMatchObject({ status: 'completed', output: { total: 10, confidence: 0.5 }, review: { decision: 'continue', actor } });
    expect(out.find((c) => c.type === 'dispatch')).toMatchObject({ stepId: 'post', input: { total: 10 } });
    const reviewId = d.step('extract').review?.reviewId ?? '';
    expect(d.apply({ type: 'review.decided', at: d.at(1), stepId: 'extract', reviewId, decision: 'reject', actor })).toEqual([]);
  });

  it('correct replaces the output with the payload, and dependents read the correction', () => {
    const d = new RunDriver(invoice());
    d.start();
    d.run('extract', { total: 10, confidence: 0.5 });
    const out = decideReview(d, 'extract', 'correct', { payload: { total: 12 } });
    expect(d.step('extract').output).toEqual({ total: 12 });
    expect(out.find((c) => c.type === 'dispatch')).toMatchObject({ input: { total: 12 } });
  });

  it('reject fails the step with REJECTED, never retried even with retries left; onFailure applies', () => {
    const d = new RunDriver(invoice());
    d.start();
    d.run('extract', { total: 10, confidence: 0.5 });
    decideReview(d, 'extract', 'reject', { comment: 'not an invoice' });
    expect(d.step('extract')).toMatchObject({ status: 'failed', error: { code: 'REJECTED', message: 'rejected by alice (k1): not an invoice', retryable: false } });
    expect(d.step('post').status).toBe('canceled');
    expect(d.state.status).toBe('failed');
  });

  it('retry runs the step again as a new attempt (fresh budget), which is reviewed again under a new id', () => {
    const d = new RunDriver(invoice());
    d.start();
    d.run('extract', { total: 10, confidence: 0.5 });
    const first = d.step('extract').token;
    const again = decideReview(d, 'extract', 'retry');
    expect(dispatchedIds(again)).toEqual(['extract']);
    expect(d.step('extract')).toMatchObject({ status: 'queued', attempt: 2, attemptBase: 1 });
    expect(d.state.status).toBe('running');
    const held = d.run('extract', { total: 11, confidence: 0.6 });
    const second = commandsOf(held, 'open-review')[0];
    expect(second).toMatchObject({ attempt: 2, output: { total: 11, confidence: 0.6 } });
    expect(second?.reviewId).not.toBe(first);
    // The first review's decision is stale now.
    expect(d.apply({ type: 'review.decided', at: d.at(1), stepId: 'extract', reviewId: first ?? '', decision: 'continue', actor })).toEqual([]);
  });

  it('escalate moves to the next tier now; with no tier left it changes nothing', () => {
    const d = new RunDriver(invoice({ escalation: [{ after: '2h', assignees: ['leads'] }] }));
    d.start();
    d.run('extract', { total: 10, confidence: 0.5 });
    const out = decideReview(d, 'extract', 'escalate');
    expect(commandsOf(out, 'escalate-review')).toEqual([expect.objectContaining({ tier: 1, assignees: ['leads'] })]);
    expect(commandsOf(out, 'cancel-timer')).toEqual([{ type: 'cancel-timer', timer: 'review-escalation', stepId: 'extract' }]);
    expect(d.step('extract')).toMatchObject({ status: 'waiting', wait: { tier: 1, assignees: ['leads'] } });
    expect(decideReview(d, 'extract', 'escalate')).toEqual([]);
    // The escalation timer of the tier already taken is stale.
    expect(fire(d, 'review-escalation', 'extract', d.at(7_200_000))).toEqual([]);
  });

  it('an escalation decided from a tier that is no longer current (a concurrent one won) changes nothing', () => {
    const d = new RunDriver(invoice({ escalation: [{ after: '1h', assignees: ['leads'] }, { after: '2h', assignees: ['cfo'] }] }));
    d.start();
    d.run('extract', { total: 10, confidence: 0.5 });
    const reviewId = d.step('extract').token ?? '';
    const escalate = (fromTier: number) => d.apply({ type: 'review.decided', at: d.at(1), stepId: 'extract', reviewId, decision: 'escalate', actor, fromTier });
    expect(commandsOf(escalate(0), 'escalate-review')).toEqual([expect.objectContaining({ tier: 1 })]);
    expect(escalate(0)).toEqual([]);
    expect(commandsOf(escalate(1), 'escalate-review')).toEqual([expect.objectContaining({ tier: 2, assignees: ['cfo'] })]);
  });

  it('the escalation timer takes the next tier; the deadline applies onDeadline', () => {
    const spec = invoice({ deadline: '4h', onDeadline: 'escalate', escalation: [{ after: '1h', assignees: ['leads'] }, { after: '2h', assignees: ['cfo'] }] });
    const d = new RunDriver(spec);
    d.start();
    d.run('extract', { total: 10, confidence: 0.5 });
    const opened = d.at();
    const tier1 = fire(d, 'review-escalation', 'extract', opened + 3_600_000);
    expect(commandsOf(tier1, 'schedule-timer')).toEqual([expect.objectContaining({ timer: 'review-escalation', fireAt: opened + 7_200_000 })]);
    fire(d, 'review-escalation', 'extract', opened + 7_200_000);
    expect(d.step('extract').wait).toMatchObject({ tier: 2, assignees: ['cfo'] });
    const late = fire(d, 'review-deadline', 'extract', opened + 4 * 3_600_000);
    expect(commandsOf(late, 'escalate-review')).toEqual([expect.objectContaining({ tier: 2, overdue: true })]);
    expect(d.step('extract')).toMatchObject({ status: 'waiting', wait: { overdue: true } });
    decideReview(d, 'extract', 'continue');
    expect(d.step('extract').status).toBe('completed');
  });

  it('onDeadline reject (the default) fails with REJECTED decided by the deadline', () => {
    const d = new RunDriver(invoice({ deadline: '1h' }));
    d.start();
    d.run('extract', { total: 10, confidence: 0.5 });
    const out = fire(d, 'review-deadline', 'extract', d.at(3_600_000));
    expect(d.step('extract')).toMatchObject({ status: 'failed', error: { code: 'REJECTED' }, review: { actor: { keyId: 'system', name: 'deadline' } } });
    expect(commandsOf(out, 'cancel-timer')).toEqual([]);
  });

  it('a noop with review is an approval gate; cancel closes the review and a late decision changes nothing', () => {
    const d = new RunDriver(workflow([
      { id: 'approve', action: 'noop', with: { amount: 5 }, review: { title: 'Approve ${{ output.amount }}?' } },
      { id: 'pay', needs: ['approve'], action: 'pay' },
    ]));
    d.start();
    const held = d.run('approve', { amount: 5 });
    expect(commandsOf(held, 'open-review')).toEqual([expect.objectContaining({ title: 'Approve 5?', byRule: false })]);
    const reviewId = commandsOf(held, 'open-review')[0]?.reviewId ?? '';
    const canceled = d.apply({ type: 'run.cancel', at: d.at(1) });
    expect(commandsOf(canceled, 'close-review')).toEqual([{ type: 'close-review', reviewId, outcome: 'canceled' }]);
    expect(d.apply({ type: 'review.decided', at: d.at(2), stepId: 'approve', reviewId, decision: 'continue', actor })).toEqual([]);
  });

  it('a when that cannot be evaluated fails the step with EXPRESSION_ERROR', () => {
    const d = new RunDriver(invoice({ when: 'output.missing.deeper > 1' }));
    d.start();
    d.run('extract', { total: 10 });
    expect(d.step('extract')).toMatchObject({ status: 'failed', error: { code: 'EXPRESSION_ERROR' } });
  });

  it('a wait.event step can be reviewed too: the signal is held for approval', () => {
    const d = new RunDriver(workflow([{ id: 'wait', action: 'wait.event', with: { event: 'ping', timeout: '1m' }, review: { title: 'ok?' } }]));
    d.start();
    const out = deliver(d, 'wait', signal('ping', { receivedAt: d.at() }));
    expect(commandsOf(out, 'open-review')).toHaveLength(1);
    expect(d.step('wait').status).toBe('waiting');
    decideReview(d, 'wait', 'continue');
    expect(d.state.status).toBe('completed');
  });
});
