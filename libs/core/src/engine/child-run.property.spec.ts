import fc from 'fast-check';
import { workflow } from '../testing';
import type { Command, EngineEvent } from './events';
import { createRun, decide } from './run.machine';
import type { RunState } from './types';

/**
 * Sub-workflows under a simulator: children end in random order (completed or failed), their
 * ends are delivered twice or with stale tokens, the parent is canceled at a random moment,
 * and the parent's `run.retry` starts new children. Invariants: a child's end is applied at
 * most once (its attempt settles once); after a cancel nothing changes until a retry; at the
 * end every child started was either delivered once or canceled once, never both, never neither.
 */

type Action = { kind: 'complete' | 'fail' | 'duplicate' | 'stale' | 'cancel' | 'retry'; pick: number };

const action: fc.Arbitrary<Action> = fc.record({
  kind: fc.constantFrom('complete', 'complete', 'complete', 'fail', 'duplicate', 'stale', 'cancel', 'retry'),
  pick: fc.nat(),
});

const spec = workflow(
  [
    { id: 'a', action: 'workflow', with: { workflow: 'child', inputs: { i: 1 } } },
    { id: 'b', action: 'workflow', with: { workflow: 'child', inputs: { i: 2 } }, onFailure: 'continue' },
    { id: 'c', needs: ['a'], action: 'workflow', with: { workflow: 'child', inputs: { i: 3 } } },
  ],
  { outputs: { a: '${{ steps.a.output }}' } },
);

type Start = Extract<Command, { type: 'start-child' }>;

interface Sim {
  state: RunState;
  now: number;
  /** Children started and not yet reported (their end may be stale by now). */
  running: Start[];
  /** Ends already reported once (re-delivered by 'duplicate'). */
  reported: { start: Start; ok: boolean }[];
  /** Per child token: ends the parent applied, cancels it sent. */
  applied: Map<string, number>;
  canceled: Map<string, number>;
  started: Start[];
}

function apply(sim: Sim, event: EngineEvent): void {
  const before = sim.state;
  const { state, commands } = decide(before, event);
  if (before.status === 'canceled' && event.type !== 'run.retry') expect({ state, commands }).toEqual({ state: before, commands: [] });
  for (const c of commands) {
    if (c.type === 'start-child') {
      sim.started.push(c);
      sim.running.push(c);
    } else if (c.type === 'cancel-child') {
      const start = sim.started.find((s) => s.childRunId === c.childRunId);
      expect(start).toBeDefined();
      sim.canceled.set(start?.token ?? '', (sim.canceled.get(start?.token ?? '') ?? 0) + 1);
      sim.running = sim.running.filter((s) => s.childRunId !== c.childRunId);
    } else if (c.type === 'emit' && (c.event.type === 'step.completed' || c.event.type === 'step.failed') && c.event.stepId !== undefined) {
      const token = `${state.runId}:${c.event.stepId}:${c.event.attempt ?? 0}`;
      if (sim.started.some((s) => s.token === token)) sim.applied.set(token, (sim.applied.get(token) ?? 0) + 1);
    }
  }
  sim.state = state;
}

function end(sim: Sim, start: Start, ok: boolean): EngineEvent {
  const at = ++sim.now;
  const base = { at, stepId: start.stepId, attempt: start.attempt, token: start.token };
  return ok ? { type: 'step.completed', ...base, output: { from: start.childRunId } } : { type: 'step.failed', ...base, error: { code: 'CHILD_FAILED', message: 'x', retryable: false } };
}

describe('sub-workflows (property)', () => {
  it('every child end is applied at most once, cancel wins, and every child started is delivered or canceled exactly once', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        const created = createRun({ runId: 'p', spec, version: '1', inputs: {}, at: 1_000 });
        const sim: Sim = { state: created.state, now: 1_000, running: [], reported: [], applied: new Map(), canceled: new Map(), started: [] };
        apply(sim, { type: 'run.start', at: ++sim.now });
        for (const a of actions) {
          const pickRunning = sim.running[a.pick % Math.max(1, sim.running.length)];
          switch (a.kind) {
            case 'complete':
            case 'fail':
              if (pickRunning === undefined) break;
              sim.running = sim.running.filter((s) => s !== pickRunning);
              sim.reported.push({ start: pickRunning, ok: a.kind === 'complete' });
              apply(sim, end(sim, pickRunning, a.kind === 'complete'));
              break;
            case 'duplicate': {
              const again = sim.reported[a.pick % Math.max(1, sim.reported.length)];
              if (again !== undefined) apply(sim, end(sim, again.start, again.ok));
              break;
            }
            case 'stale':
              if (pickRunning !== undefined) apply(sim, end(sim, { ...pickRunning, token: `${pickRunning.token}x` }, true));
              break;
            case 'cancel':
              apply(sim, { type: 'run.cancel', at: ++sim.now });
              break;
            case 'retry':
              apply(sim, { type: 'run.retry', at: ++sim.now });
              break;
          }
        }
        // Drain: children still running end (completed) until the run ends.
        for (let guard = 0; sim.running.length > 0 && guard < 20; guard++) {
          const next = sim.running.shift();
          if (next) apply(sim, end(sim, next, true));
        }
        expect(['completed', 'failed', 'canceled', 'partially_completed']).toContain(sim.state.status);
        for (const start of sim.started) {
          const applied = sim.applied.get(start.token) ?? 0;
          const canceled = sim.canceled.get(start.token) ?? 0;
          expect(applied + canceled).toBe(1);
        }
      }),
      { numRuns: 400, seed: 1616 },
    );
  });
});
