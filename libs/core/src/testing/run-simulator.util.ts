import type { ReviewDecision } from '@weft/contracts';
import type { WorkflowSpec } from '../workflow-spec/spec.schema';
import type { Command, EngineEvent, TimerKind } from '../engine/events';
import { createRun, decide, MAX_LOST_LEASES } from '../engine/run.machine';
import { deepFreeze, emitted } from './run-driver.util';
import { check, LIVE, WaitInvariants } from './wait-invariants.util';
import type { RunState, RunStatus, StepError } from '../engine/types';

/**
 * Random DAGs driven by a small simulator that plays workers, timers and the
 * lease reaper: it turns the commands decide returns into events and feeds them
 * back in random order, with duplicates, stale results, lost workers, hangs,
 * a cancel and a run.retry thrown in. Invariants are checked on every decision.
 * Some steps wait instead of running: durable sleeps, waits for signals (which
 * arrive once, twice, with a wrong key or never) and review gates (decided once,
 * twice at the same time, escalated, or left to their deadline).
 */

const TERMINAL: readonly RunStatus[] = ['completed', 'partially_completed', 'failed', 'canceled'];
const isTerminal = (s: RunStatus): boolean => TERMINAL.includes(s);

/** Deterministic PRNG (mulberry32): the same seed draws the same numbers (simulations, bench graphs). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type WorkerMessage = Extract<EngineEvent, { type: 'step.started' | 'step.heartbeat' | 'step.completed' | 'step.failed' | 'signal.received' | 'review.decided' }>;
type Message = WorkerMessage extends infer M ? (M extends WorkerMessage ? Omit<M, 'at'> : never) : never;
const DECISIONS: readonly ReviewDecision[] = ['continue', 'correct', 'retry', 'reject', 'escalate'];
interface Timer {
  timer: TimerKind;
  stepId?: string;
  attempt?: number;
  fireAt: number;
}

export { seen } from './wait-invariants.util';

/** Plays one run to the end; throws on the first broken invariant. */
export function simulate(spec: WorkflowSpec, seed: number): void {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
  const chance = (p: number): boolean => random() < p;
  const plan = new Map(spec.steps.map((s) => [s.id, s]));

  let now = 1_000_000;
  const inbox: Message[] = [];
  const delivered: Message[] = [];
  const timers = new Map<string, Timer>();
  const tokens = new Set<string>();
  const lastAttempt = new Map<string, number>();
  const windowDispatches = new Map<string, number>();
  let cancelSent = false;
  let retrySent = false;
  let terminalEmits = 0;
  const startedEmitted = new Set<string>();
  const events: EngineEvent[] = [];
  // Waits: the timers the shell would hold (what must happen at most once: WaitInvariants).
  const firedTimers: Timer[] = [];
  const waits = new WaitInvariants(plan);
  let signals = 0;
  const created = createRun({ runId: `run${seed}`, spec, version: 'v1', inputs: { flag: chance(0.5), k: 5 }, at: now }).state;
  let state = created;

  const apply = (event: EngineEvent): void => {
    now = Math.max(now, event.at);
    events.push(event);
    let before = deepFreeze(state);
    if (chance(0.1)) {
      // The state as it comes back from the database decides exactly like the one in memory.
      const loaded = deepFreeze(JSON.parse(JSON.stringify(before)) as RunState);
      check(JSON.stringify(decide(loaded, event)) === JSON.stringify(decide(before, event)), `JSON round trip changed the decision on ${event.type}`);
      before = loaded;
    }
    const { state: after, commands } = decide(before, event);
    checkDecision(before, event, after, commands);
    state = after;
    for (const c of commands) play(c);
    if (isTerminal(state.status)) check(timers.size === 0, `the ${state.status} run left timers behind: ${[...timers.keys()].join(', ')}`);
  };

  const checkDecision = (before: RunState, event: EngineEvent, after: RunState, commands: Command[]): void => {
    const wasTerminal = isTerminal(before.status);
    if (wasTerminal && event.type !== 'run.retry') {
      check(after === before && commands.length === 0, `terminal run changed on ${event.type}`);
    }
    if (event.type === 'step.started' || event.type === 'step.completed' || event.type === 'step.failed' || event.type === 'step.heartbeat') {
      const step = before.steps[event.stepId];
      const current =
        LIVE.includes(before.status) &&
        step !== undefined &&
        step.attempt === event.attempt &&
        step.token === event.token &&
        (step.status === 'queued' || step.status === 'running') &&
        !(event.type === 'step.started' && step.status === 'running');
      if (!current) check(after === before && commands.length === 0, `stale ${event.type} of ${event.stepId}#${event.attempt} changed state`);
    }
    // Readers fold events: each attempt a worker reported on says step.started once, before its outcome.
    for (const e of emitted(commands)) {
      const key = `${e.stepId ?? ''}#${e.attempt ?? 0}`;
      if (e.type === 'step.started') {
        check(!startedEmitted.has(key), `step.started of ${key} emitted twice`);
        startedEmitted.add(key);
      }
    }
    if ((event.type === 'step.completed' || event.type === 'step.failed') && after !== before) {
      const key = `${event.stepId}#${event.attempt}`;
      check(startedEmitted.has(key), `${event.type} of ${key} applied without a step.started`);
      const own = emitted(commands).filter((e) => e.stepId === event.stepId);
      const startIndex = own.findIndex((e) => e.type === 'step.started');
      check(startIndex <= 0, `step.started of ${key} after its outcome`);
      const record = after.steps[event.stepId]?.attempts[event.attempt - 1];
      check(record?.startedAt !== undefined && record.finishedAt === event.at, `attempt ${key} recorded without its start or end`);
      if (before.steps[event.stepId]?.status === 'queued') {
        check(record.startedAt === event.at && after.steps[event.stepId]?.startedAt === event.at, `a result for queued ${key} must start it at the result time`);
      }
    }
    waits.check(before, event, after, commands);
    if (after === before) check(commands.length === 0, 'commands without a state change');
    else check(after.seq === before.seq + 1, 'seq must grow by one per change');

    const finished = emitted(commands).filter((e) => e.type.startsWith('run.') && TERMINAL.includes(e.status as RunStatus));
    terminalEmits += finished.length;
    if (isTerminal(after.status) && (!wasTerminal || event.type === 'run.retry') && after !== before) {
      check(finished.length === 1 && finished[0]?.status === after.status, `finishing must emit exactly one run.${after.status}`);
      check(Object.values(after.steps).every((s) => ['completed', 'failed', 'skipped', 'canceled'].includes(s.status)), 'finished run with unfinished steps');
    } else {
      check(finished.length === 0, 'terminal event without finishing');
    }
    if (after.status === 'completed') check(Object.values(after.steps).every((s) => s.status !== 'failed'), 'completed run with a failed step');
    if (after.status === 'partially_completed') {
      const steps = Object.values(after.steps);
      check(steps.some((s) => s.status === 'failed') && steps.some((s) => s.status === 'completed'), 'partially_completed needs a failure and a success');
    }

    for (const d of commands) {
      if (d.type !== 'dispatch') continue;
      check(after.status === 'running', 'dispatch while the run is not running');
      if (d.resend !== undefined) {
        // A re-send repeats the current attempt of a step nobody has started yet.
        const step = after.steps[d.stepId];
        check(tokens.has(d.token), `re-send of ${d.token}, which was never dispatched`);
        check(step?.token === d.token && step.status === 'queued' && step.resent === d.resend, `re-send of ${d.token} for a step that is not waiting in its queue`);
        continue;
      }
      check(!tokens.has(d.token), `attempt ${d.token} dispatched twice`);
      tokens.add(d.token);
      // Numbers only grow; the state's records (checked below) have no gaps.
      check(d.attempt > (lastAttempt.get(d.stepId) ?? 0), `${d.stepId}: attempt ${d.attempt} after ${lastAttempt.get(d.stepId) ?? 0}`);
      check(after.steps[d.stepId]?.attempts.length === d.attempt, `${d.stepId}: attempt ${d.attempt} not recorded`);
      lastAttempt.set(d.stepId, d.attempt);
      const planned = plan.get(d.stepId);
      for (const need of planned?.needs ?? []) {
        const status = after.steps[need]?.status;
        // A step with its own `if` may also run after a skipped need; never after an unfinished or failed one.
        const ok = status === 'completed' || (status === 'skipped' && planned?.if !== undefined);
        check(ok, `${d.stepId} dispatched before its need ${need} completed (need is ${status})`);
      }
      const count = (windowDispatches.get(d.stepId) ?? 0) + 1;
      windowDispatches.set(d.stepId, count);
      const max = plan.get(d.stepId)?.retry?.maxAttempts ?? 1;
      // A reviewer's retry starts a fresh budget.
      const windows = 1 + (waits.reviewRetries.get(d.stepId) ?? 0);
      check(count <= (max + MAX_LOST_LEASES) * windows, `${d.stepId}: ${count} attempts, more than ${max} + ${MAX_LOST_LEASES} (x${windows})`);
    }
  };

  const decide1 = (stepId: string, reviewId: string, decision: ReviewDecision): Message => ({
    type: 'review.decided',
    stepId,
    reviewId,
    decision,
    actor: { keyId: 'k', name: 'reviewer' },
    ...(decision === 'correct' && { payload: { v: 7 } }),
  });

  const play = (c: Command): void => {
    switch (c.type) {
      case 'dispatch': {
        const base = { stepId: c.stepId, attempt: c.attempt, token: c.token };
        const started: Message = { type: 'step.started', ...base, workerId: 'w' };
        const error = (code: string, retryable?: boolean): StepError => ({ code, message: code, ...(retryable !== undefined && { retryable }) });
        const roll = random();
        // A short step: its executor sends the result alone (no started heartbeat), with its worker id.
        const alone = chance(0.4);
        const first: Message[] = alone ? [] : [started];
        const worker = alone ? { workerId: 'w' } : {};
        if (roll < 0.55) inbox.push(...first, { type: 'step.completed', ...base, ...worker, output: { v: Math.floor(random() * 10) } });
        else if (roll < 0.7) inbox.push(...first, { type: 'step.failed', ...base, ...worker, error: error('E') });
        else if (roll < 0.75) inbox.push({ type: 'step.failed', ...base, error: error('FATAL', false) });
        else if (roll < 0.79) inbox.push(started, { type: 'step.failed', ...base, error: error('BAD') });
        // A hung worker: it starts and beats, then never answers (step timeout or lease).
        else if (roll < 0.88) inbox.push(started, { type: 'step.heartbeat', ...base });
        // else: the worker is lost and says nothing; the lease reaper must notice.
        break;
      }
      case 'schedule-timer':
        timers.set(`${c.timer}|${c.stepId ?? ''}`, { timer: c.timer, fireAt: c.fireAt, ...(c.stepId !== undefined && { stepId: c.stepId }), ...(c.attempt !== undefined && { attempt: c.attempt }) });
        break;
      case 'cancel-timer':
        timers.delete(`${c.timer}|${c.stepId ?? ''}`);
        break;
      case 'register-wait': {
        const sig = (key: string): Message => ({ type: 'signal.received', stepId: c.stepId, token: c.token, signal: { id: `sig${signals++}`, name: c.name, key, receivedAt: now } });
        const roll = random();
        if (roll < 0.6) inbox.push(sig(c.key ?? ''));
        if (roll < 0.2) inbox.push(sig(c.key ?? ''));
        if (roll > 0.8) inbox.push(sig(`${c.key ?? ''}-other`));
        break;
      }
      case 'open-review': {
        // Sometimes two people decide at once; sometimes nobody does before the deadline.
        const count = chance(0.15) ? 0 : chance(0.2) ? 2 : 1;
        for (let k = 0; k < count; k++) {
          let decision = pick(DECISIONS) ?? 'continue';
          if (decision === 'retry' && (waits.reviewRetries.get(c.stepId) ?? 0) > 0) decision = 'continue';
          inbox.push(decide1(c.stepId, c.reviewId, decision));
        }
        break;
      }
      case 'cancel-wait':
      case 'escalate-review':
      case 'close-review':
      case 'abort-step':
      case 'abort-run':
      case 'emit':
      // The simulated specs start no child workflows.
      case 'start-child':
      case 'cancel-child':
      case 'notify-parent':
      // The simulated specs declare no concurrency keys (slots have their own property spec).
      case 'acquire-slot':
      case 'release-slot':
      case 'acquire-rate':
        break;
    }
  };

  const leasable = (): string[] =>
    Object.values(state.steps)
      .filter((s) => s.status === 'queued' || s.status === 'running')
      .map((s) => s.id);

  apply({ type: 'run.start', at: now });
  for (let i = 0; ; i++) {
    check(i < 5_000, 'simulation did not end');
    const noise = i < 300;
    const roll = random();
    if (noise && roll < 0.02 && !cancelSent && !isTerminal(state.status)) {
      cancelSent = true;
      apply({ type: 'run.cancel', at: now + 1, reason: 'test' });
      check(state.status === 'canceled', 'cancel must end a running run');
      continue;
    }
    if (noise && roll < 0.04) {
      // A forged or misrouted result: right attempt, wrong token.
      const step = state.steps[pick(Object.keys(state.steps)) ?? ''];
      if (step?.wait?.kind === 'event') {
        // A signal for another attempt's wait (or a forged one) must not satisfy this one.
        apply({ type: 'signal.received', at: now + 1, stepId: step.id, token: `${step.token ?? ''}x`, signal: { id: 'forged', name: step.wait.name, key: step.wait.key ?? '', receivedAt: now } });
      } else if (step?.wait?.kind === 'review') {
        apply({ type: 'review.decided', at: now + 1, stepId: step.id, reviewId: `${step.wait.reviewId}x`, decision: 'continue', actor: 'local' });
      } else if (step && step.attempt > 0) {
        const forged = { stepId: step.id, attempt: step.attempt, token: `${step.token ?? ''}x`, at: now + 1 };
        apply(chance(0.5) ? { type: 'step.completed', ...forged, output: { v: 1 } } : { type: 'step.failed', ...forged, error: { code: 'E', message: 'E' } });
      }
      continue;
    }
    if (noise && roll < 0.12 && delivered.length > 0) {
      // A duplicate or stale result: whatever it is, the invariants above judge it.
      const old = pick(delivered);
      if (old) apply({ ...old, at: now + 1 });
      continue;
    }
    if (inbox.length > 0 && roll < 0.75) {
      const index = Math.floor(random() * inbox.length);
      const [message] = inbox.splice(index, 1);
      if (message) {
        delivered.push(message);
        apply({ ...message, at: now + Math.floor(random() * 2_000) });
      }
      continue;
    }
    const leased = leasable();
    if (leased.length > 0 && roll < 0.85) {
      const step = state.steps[pick(leased) ?? ''];
      if (step) apply({ type: 'timer.fired', at: Math.max(now, step.leaseExpiresAt ?? now), timer: 'lease', stepId: step.id, attempt: step.attempt });
      continue;
    }
    if (noise && roll < 0.9 && firedTimers.length > 0) {
      // A timer fired again (a second scheduler, a redelivered scan): stale by then.
      const old = pick(firedTimers);
      if (old) apply({ type: 'timer.fired', at: Math.max(now, old.fireAt), timer: old.timer, ...(old.stepId !== undefined && { stepId: old.stepId }), ...(old.attempt !== undefined && { attempt: old.attempt }) });
      continue;
    }
    const timer = pick([...timers.values()]);
    if (timer) {
      timers.delete(`${timer.timer}|${timer.stepId ?? ''}`);
      // Re-fired later as noise. Not the run timeout: it carries no attempt, so a late copy is
      // indistinguishable from the current deadline's timer (the shell keeps one row per key).
      if (timer.timer !== 'run-timeout') firedTimers.push(timer);
      apply({ type: 'timer.fired', at: Math.max(now, timer.fireAt), timer: timer.timer, ...(timer.stepId !== undefined && { stepId: timer.stepId }), ...(timer.attempt !== undefined && { attempt: timer.attempt }) });
      continue;
    }
    if (inbox.length > 0 || leased.length > 0) continue;
    // A review nobody decided and with no deadline: somebody decides in the end.
    const undecided = Object.values(state.steps).find((s) => s.status === 'waiting' && s.wait?.kind === 'review');
    if (undecided?.wait?.kind === 'review') {
      inbox.push(decide1(undecided.id, undecided.wait.reviewId, 'continue'));
      continue;
    }
    // Nothing in flight and no timer pending: the run must be over.
    check(isTerminal(state.status), `run stuck in ${state.status}`);
    check(timers.size === 0, 'a finished run left timers behind');
    if (!retrySent && state.status !== 'completed' && chance(0.3)) {
      retrySent = true;
      windowDispatches.clear();
      apply({ type: 'run.retry', at: now + 1 });
      continue;
    }
    break;
  }
  check(isTerminal(state.status), 'run must end');
  check(terminalEmits === (retrySent ? 2 : 1), `expected one terminal event per window, saw ${terminalEmits}`);
  // A retried step keeps its count: attempts are numbered 1, 2, 3... with no gaps or repeats.
  check(
    Object.values(state.steps).every((s) => s.attempts.length === s.attempt && s.attempts.every((a, i) => a.attempt === i + 1)),
    'attempt records match attempt numbers',
  );
  // Deterministic: replaying the same events from the same start gives the same run.
  const replayed = events.reduce((s, e) => decide(s, e).state, created);
  check(JSON.stringify(replayed) === JSON.stringify(state), 'replay diverged');
}
