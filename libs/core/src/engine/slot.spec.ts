import fc from 'fast-check';
import { billing, commandsOf, RunDriver, workflow } from '../testing';
import { validateSpec } from '../workflow-spec';
import type { Command, EngineEvent } from './events';
import { createRun, decide } from './run.machine';
import type { RunState } from './types';
import { explainRun } from './why.util';


const limited = billing({ concurrency: { limit: 2, key: '${{ inputs.customer }}' }, priority: 1 });

describe('concurrency slots (concurrency: { limit, key })', () => {
  it('waits for a slot of its key before dispatching, holds it across retries, and gives it back once when it ends', () => {
    const d = new RunDriver(limited, { customer: 'acme' });
    const started = d.start();
    expect(commandsOf(started, 'dispatch')).toEqual([]);
    expect(commandsOf(started, 'acquire-slot')).toEqual([{ type: 'acquire-slot', stepId: 'call', token: 'r1:call:slot:1', scope: 'billing/call', key: 'acme', limit: 2, priority: 1 }]);
    expect(d.state.status).toBe('waiting');
    expect(explainRun(d.state, { now: d.at(), slotHolders: () => [{ runId: 'r0', stepId: 'call', since: 5 }] }).steps[0]?.reason).toEqual({
      kind: 'slot',
      key: 'acme',
      limit: 2,
      holders: [{ runId: 'r0', stepId: 'call', since: 5 }],
    });

    expect(d.apply({ type: 'slot.granted', at: d.at(1), stepId: 'call', token: 'r1:call:slot:9' })).toEqual([]);
    const granted = d.apply({ type: 'slot.granted', at: d.at(1), stepId: 'call', token: 'r1:call:slot:1' });
    expect(commandsOf(granted, 'dispatch').map((c) => c.token)).toEqual(['r1:call:1']);
    expect(d.step('call').slot).toEqual({ token: 'r1:call:slot:1', scope: 'billing/call', key: 'acme' });
    // A repeated grant changes nothing.
    expect(d.apply({ type: 'slot.granted', at: d.at(1), stepId: 'call', token: 'r1:call:slot:1' })).toEqual([]);

    // A failed attempt retries under the same slot: no second acquire, no release.
    d.started('call');
    const failed = d.apply({ type: 'step.failed', at: d.at(5), stepId: 'call', attempt: 1, token: 'r1:call:1', error: { code: 'X', message: 'x' } });
    expect(commandsOf(failed, 'release-slot')).toEqual([]);
    const retried = d.apply({ type: 'timer.fired', at: d.at(2_000), timer: 'retry', stepId: 'call', attempt: 1 });
    expect(commandsOf(retried, 'acquire-slot')).toEqual([]);
    expect(commandsOf(retried, 'dispatch').map((c) => c.token)).toEqual(['r1:call:2']);
    const done = d.complete('call');
    expect(commandsOf(done, 'release-slot')).toEqual([{ type: 'release-slot', stepId: 'call', token: 'r1:call:slot:1', scope: 'billing/call', key: 'acme' }]);
    expect(commandsOf(d.history, 'release-slot')).toHaveLength(1);
  });

  it('a cancel while queued for a slot gives the place back; items of a forEach each take a slot', () => {
    const d = new RunDriver(limited, { customer: 'acme' });
    d.start();
    const canceled = d.apply({ type: 'run.cancel', at: d.at(1) });
    expect(commandsOf(canceled, 'release-slot').map((c) => c.token)).toEqual(['r1:call:slot:1']);
    expect(d.step('call')).toMatchObject({ status: 'canceled', attempt: 0 });

    const each = new RunDriver(workflow([{ id: 'each', action: 'charge', forEach: '${{ [1, 2, 3] }}', concurrency: { limit: 1, key: 'k${{ item }}' } }], { name: 'fan' }));
    const started = each.start();
    expect(commandsOf(started, 'acquire-slot').map((c) => [c.stepId, c.key, c.scope])).toEqual([
      ['each[0]', 'k1', 'fan/each'],
      ['each[1]', 'k2', 'fan/each'],
      ['each[2]', 'k3', 'fan/each'],
    ]);
  });

  it('a strategy revoking the slot (cancel-in-progress) aborts the running attempt and fails the step, never retried; a refused request (cancel-newest) fails it too', () => {
    const spec = workflow([{ id: 'call', action: 'charge', concurrency: { limit: 1, strategy: 'cancel-in-progress' }, retry: { maxAttempts: 3 } }], { name: 'billing' });
    const d = new RunDriver(spec);
    expect(commandsOf(d.start(), 'acquire-slot')[0]).toMatchObject({ token: 'r1:call:slot:1', strategy: 'cancel-in-progress' });
    d.apply({ type: 'slot.granted', at: d.at(1), stepId: 'call', token: 'r1:call:slot:1' });
    d.started('call');
    // A revocation for another token changes nothing.
    expect(d.apply({ type: 'slot.revoked', at: d.at(1), stepId: 'call', token: 'r1:call:slot:9', reason: 'x' })).toEqual([]);
    const revoked = d.apply({ type: 'slot.revoked', at: d.at(1), stepId: 'call', token: 'r1:call:slot:1', reason: 'a newer run took its concurrency slot of key "" (cancel-in-progress)' });
    expect(commandsOf(revoked, 'abort-step').map((c) => c.token)).toEqual(['r1:call:1']);
    expect(d.step('call')).toMatchObject({ status: 'failed', error: { code: 'CONCURRENCY_CANCELED', retryable: false } });
    expect(d.state.status).toBe('failed');

    const refused = new RunDriver(workflow([{ id: 'call', action: 'charge', concurrency: { limit: 1, strategy: 'cancel-newest' } }], { name: 'billing' }));
    refused.start();
    refused.apply({ type: 'slot.revoked', at: refused.at(1), stepId: 'call', token: 'r1:call:slot:1', reason: 'over the concurrency limit of 1 for key "" (cancel-newest)' });
    expect(refused.step('call')).toMatchObject({ status: 'failed', error: { code: 'CONCURRENCY_CANCELED' } });
    expect(commandsOf(refused.history, 'abort-step')).toEqual([]);
  });

  it('validation: the object form needs no forEach, the number form does; waits take no limit', () => {
    const errors = (steps: Parameters<typeof workflow>[0]) => validateSpec(workflow(steps)).filter((x) => x.severity === 'error').map((x) => x.code);
    expect(errors([{ id: 'a', action: 'charge', concurrency: { limit: 3 } }])).toEqual([]);
    expect(errors([{ id: 'a', action: 'charge', concurrency: 3 }])).toEqual(['INVALID_VALUE']);
    expect(errors([{ id: 'a', action: 'sleep', with: { duration: '1s' }, concurrency: { limit: 3 } }])).toEqual(['INVALID_VALUE']);
  });
});

/**
 * Slot accounting under a simulator: several runs share one key with a limit; a model of the
 * shell grants queued requests (in random order) while fewer than `limit` are held; results,
 * failures, retries, duplicate grants and cancels arrive in random order. Invariants: never
 * more than `limit` slots held; every granted slot is released exactly once; every request is
 * released (granted or not) exactly once by the time every run ended.
 */
describe('slot accounting (property)', () => {
  type Act = { kind: 'grant' | 'complete' | 'fail' | 'retry-timer' | 'dup-grant' | 'cancel'; pick: number };
  const act: fc.Arbitrary<Act> = fc.record({ kind: fc.constantFrom('grant', 'grant', 'complete', 'complete', 'fail', 'retry-timer', 'dup-grant', 'cancel'), pick: fc.nat() });
  const spec = workflow([{ id: 'w', action: 'work', concurrency: { limit: 2 }, retry: { maxAttempts: 2, initialInterval: '1s' } }], { name: 'acct' });

  it('never above the limit; every acquired slot is released exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(act, { maxLength: 60 }), (n, acts) => {
        let now = 1_000;
        const runs = new Map<string, RunState>();
        const queued: Extract<Command, { type: 'acquire-slot' }>[] = [];
        const held = new Map<string, string>(); // token -> runId
        const released = new Map<string, number>();
        const requested = new Set<string>();
        const apply = (runId: string, event: EngineEvent): void => {
          const state = runs.get(runId);
          if (!state) return;
          const { state: next, commands } = decide(state, event);
          runs.set(runId, next);
          for (const c of commands) {
            if (c.type === 'acquire-slot') {
              requested.add(c.token);
              queued.push(c);
            } else if (c.type === 'release-slot') {
              released.set(c.token, (released.get(c.token) ?? 0) + 1);
              held.delete(c.token);
              const i = queued.findIndex((q) => q.token === c.token);
              if (i >= 0) queued.splice(i, 1);
            }
          }
        };
        for (let i = 0; i < n; i++) {
          const runId = `r${i}`;
          runs.set(runId, createRun({ runId, spec, version: '1', inputs: {}, at: now }).state);
          apply(runId, { type: 'run.start', at: ++now });
        }
        const grant = (q: Extract<Command, { type: 'acquire-slot' }>, runId: string): void => {
          held.set(q.token, runId);
          apply(runId, { type: 'slot.granted', at: ++now, stepId: q.stepId, token: q.token });
        };
        const inFlight = (): { runId: string; attempt: number; token: string }[] =>
          [...runs.values()].flatMap((r) => {
            const s = r.steps['w'];
            return s && (s.status === 'queued' || s.status === 'running') ? [{ runId: r.runId, attempt: s.attempt, token: s.token ?? '' }] : [];
          });
        for (const a of acts) {
          if (a.kind === 'grant' && queued.length > 0 && held.size < 2) {
            const q = queued.splice(a.pick % queued.length, 1)[0];
            if (q) grant(q, q.token.split(':')[0] ?? '');
          } else if (a.kind === 'dup-grant' && held.size > 0) {
            const token = [...held.keys()][a.pick % held.size] ?? '';
            apply(held.get(token) ?? '', { type: 'slot.granted', at: ++now, stepId: 'w', token });
          } else if ((a.kind === 'complete' || a.kind === 'fail') && inFlight().length > 0) {
            const f = inFlight()[a.pick % inFlight().length];
            if (f) {
              const base = { at: ++now, stepId: 'w', attempt: f.attempt, token: f.token };
              apply(f.runId, a.kind === 'complete' ? { type: 'step.completed', ...base, output: {} } : { type: 'step.failed', ...base, error: { code: 'X', message: 'x' } });
            }
          } else if (a.kind === 'retry-timer') {
            for (const r of runs.values()) if (r.steps['w']?.status === 'retrying') apply(r.runId, { type: 'timer.fired', at: now + 5_000, timer: 'retry', stepId: 'w', attempt: r.steps['w'].attempt });
            now += 5_000;
          } else if (a.kind === 'cancel') {
            apply(`r${a.pick % n}`, { type: 'run.cancel', at: ++now });
          }
          expect(held.size).toBeLessThanOrEqual(2);
        }
        // Drain: grant while possible, complete what runs, fire retries, until every run ended.
        for (let guard = 0; guard < 100 && [...runs.values()].some((r) => !['completed', 'failed', 'canceled'].includes(r.status)); guard++) {
          while (queued.length > 0 && held.size < 2) {
            const q = queued.shift();
            if (q) grant(q, q.token.split(':')[0] ?? '');
          }
          for (const f of inFlight()) apply(f.runId, { type: 'step.completed', at: ++now, stepId: 'w', attempt: f.attempt, token: f.token, output: {} });
          for (const r of runs.values()) if (r.steps['w']?.status === 'retrying') apply(r.runId, { type: 'timer.fired', at: now + 5_000, timer: 'retry', stepId: 'w', attempt: r.steps['w'].attempt });
          now += 5_000;
          expect(held.size).toBeLessThanOrEqual(2);
        }
        expect([...runs.values()].every((r) => ['completed', 'failed', 'canceled'].includes(r.status))).toBe(true);
        expect(held.size).toBe(0);
        for (const token of requested) expect(released.get(token)).toBe(1);
      }),
      { numRuns: 300, seed: 1617 },
    );
  });
});
