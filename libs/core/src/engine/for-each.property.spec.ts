import fc from 'fast-check';
import { workflow } from '../testing';
import type { Command, EngineEvent } from './events';
import { itemId } from './for-each.util';
import { createRun, decide } from './run.machine';
import type { RunState, StepState } from './types';

/**
 * forEach under a simulator: workers answer the items' dispatches in random order, with
 * duplicates, stale tokens, failures, lost workers, timeouts, retries and a cancel thrown in.
 * Invariants on every decision: never more items in flight than `concurrency`; an item that
 * settled never changes again (every item settles once); a canceled run ignores everything.
 * At the end every item settled and a completed step's output is the items' outputs in order.
 */

type Action = { kind: 'complete' | 'fail' | 'fail-bad' | 'duplicate' | 'stale' | 'lost' | 'timeout' | 'timer' | 'cancel'; pick: number };

const action: fc.Arbitrary<Action> = fc.record({
  kind: fc.constantFrom('complete', 'complete', 'complete', 'complete', 'fail', 'fail-bad', 'duplicate', 'stale', 'lost', 'timeout', 'timer', 'timer', 'cancel'),
  pick: fc.nat(),
});

const TERMINAL = new Set(['completed', 'failed', 'canceled', 'skipped', 'partially_completed']);
const IN_FLIGHT = new Set(['queued', 'running', 'retrying']);

interface Sim {
  state: RunState;
  now: number;
  /** Dispatches sent and not yet answered (a token may be stale by now). */
  outstanding: Extract<Command, { type: 'dispatch' }>[];
  timers: Extract<Command, { type: 'schedule-timer' }>[];
  answered: Extract<Command, { type: 'dispatch' }>[];
}

function items(state: RunState, total: number): StepState[] {
  return Array.from({ length: total }, (_, i) => state.steps[itemId('each', i)]).filter((s): s is StepState => s !== undefined);
}

function apply(sim: Sim, event: EngineEvent, total: number, concurrency: number): void {
  const before = sim.state;
  const { state, commands } = decide(before, event);
  // Every item settles once: a settled item is never replaced.
  for (const old of items(before, total)) {
    if (TERMINAL.has(old.status)) expect(state.steps[old.id]).toBe(old);
  }
  // Never above the limit.
  expect(items(state, total).filter((s) => IN_FLIGHT.has(s.status)).length).toBeLessThanOrEqual(concurrency);
  // Cancel wins: a finished run changes nothing.
  if (before.status === 'canceled' || before.status === 'failed' || before.status === 'completed' || before.status === 'partially_completed') {
    expect(state).toBe(before);
    expect(commands).toEqual([]);
  }
  sim.state = state;
  for (const c of commands) {
    if (c.type === 'dispatch') sim.outstanding.push(c);
    else if (c.type === 'schedule-timer') sim.timers.push(c);
  }
}

describe('forEach (property)', () => {
  it('keeps the limit, settles every item once, and cancel wins', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom<'fail-fast' | 'continue'>('fail-fast', 'continue'),
        fc.integer({ min: 1, max: 3 }),
        fc.array(action, { minLength: 1, maxLength: 300 }),
        (total, concurrency, onFailure, maxAttempts, actions) => {
          const spec = workflow([
            { id: 'each', action: 'work', forEach: `\${{ inputs.list }}`, concurrency, onFailure, timeout: '30s', retry: { maxAttempts, initialInterval: '1s', jitter: false }, with: { v: '${{ item }}' } },
            { id: 'after', needs: ['each'], action: 'work' },
          ]);
          const list = Array.from({ length: total }, (_, i) => i * 7);
          const created = createRun({ runId: 'r', spec, version: '1', inputs: { list }, at: 0 });
          const sim: Sim = { state: created.state, now: 0, outstanding: [], timers: [], answered: [] };
          apply(sim, { type: 'run.start', at: 0 }, total, concurrency);
          let canceled = false;
          for (const a of actions) {
            sim.now += 100;
            const at = sim.now;
            const i = sim.outstanding.length === 0 ? -1 : a.pick % sim.outstanding.length;
            const d = i < 0 ? undefined : sim.outstanding[i];
            switch (a.kind) {
              case 'complete':
              case 'fail':
              case 'fail-bad': {
                if (!d) break;
                sim.outstanding.splice(i, 1);
                sim.answered.push(d);
                const base = { at, stepId: d.stepId, attempt: d.attempt, token: d.token };
                if (a.kind === 'complete') apply(sim, { ...base, type: 'step.completed', output: { v: d.input['v'] } }, total, concurrency);
                else apply(sim, { ...base, type: 'step.failed', error: { code: a.kind === 'fail' ? 'E' : 'BAD', message: 'x', retryable: a.kind === 'fail' } }, total, concurrency);
                break;
              }
              case 'duplicate': {
                const old = sim.answered[a.pick % Math.max(1, sim.answered.length)];
                if (old) apply(sim, { type: 'step.completed', at, stepId: old.stepId, attempt: old.attempt, token: old.token, output: 'dup' }, total, concurrency);
                break;
              }
              case 'stale':
                if (d) apply(sim, { type: 'step.completed', at, stepId: d.stepId, attempt: d.attempt, token: `${d.token}x`, output: 'forged' }, total, concurrency);
                break;
              case 'lost':
                if (d) {
                  sim.outstanding.splice(i, 1);
                  apply(sim, { type: 'step.lost', at, stepId: d.stepId, attempt: d.attempt }, total, concurrency);
                }
                break;
              case 'timeout':
                if (d) apply(sim, { type: 'timer.fired', at: at + 30_000, timer: 'step-timeout', stepId: d.stepId, attempt: d.attempt }, total, concurrency);
                break;
              case 'timer': {
                const t = sim.timers.shift();
                if (t) apply(sim, { type: 'timer.fired', at: Math.max(at, t.fireAt), timer: t.timer, ...(t.stepId !== undefined && { stepId: t.stepId }), ...(t.attempt !== undefined && { attempt: t.attempt }) }, total, concurrency);
                break;
              }
              case 'cancel':
                if (a.pick % 4 === 0) {
                  canceled = canceled || !['completed', 'failed', 'partially_completed'].includes(sim.state.status);
                  apply(sim, { type: 'run.cancel', at }, total, concurrency);
                }
                break;
            }
          }
          // Drain: answer everything still outstanding, fire every timer.
          for (let guard = 0; guard < 10_000 && (sim.outstanding.length > 0 || sim.timers.length > 0); guard++) {
            sim.now += 100;
            const d = sim.outstanding.shift();
            if (d) apply(sim, { type: 'step.completed', at: sim.now, stepId: d.stepId, attempt: d.attempt, token: d.token, output: { v: d.input['v'] } }, total, concurrency);
            else {
              const t = sim.timers.shift();
              if (t) apply(sim, { type: 'timer.fired', at: Math.max(sim.now, t.fireAt), timer: t.timer, ...(t.stepId !== undefined && { stepId: t.stepId }), ...(t.attempt !== undefined && { attempt: t.attempt }) }, total, concurrency);
            }
          }
          const { state } = sim;
          expect(['completed', 'partially_completed', 'failed', 'canceled']).toContain(state.status);
          if (canceled) expect(state.status).toBe('canceled');
          const each = state.steps['each'];
          for (const item of items(state, total)) expect(TERMINAL.has(item.status)).toBe(true);
          if (each?.status === 'completed') {
            expect(each.output).toEqual(list.map((v) => ({ v })));
            expect(items(state, total).every((s) => s.status === 'completed')).toBe(true);
          }
          if (each?.status === 'partially_completed') expect(onFailure).toBe('continue');
        },
      ),
      { numRuns: 150 },
    );
  });
});
