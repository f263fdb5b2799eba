import fc from 'fast-check';
import { billing, commandsOf, emitted, RunDriver, workflow } from '../testing';
import { parseWorkflow } from '../workflow-spec';
import { gcraReserve, type RateParams, rateInterval } from './rate-limit.util';
import { explainRun } from './why.util';


/** Reserves one start per arrival (in order) and returns the starts. */
function schedule(arrivals: readonly number[], p: RateParams): number[] {
  let tat: number | undefined;
  return arrivals.map((at) => {
    const r = gcraReserve(tat, at, p);
    tat = r.tat;
    return r.startAt;
  });
}

describe('GCRA (gcraReserve)', () => {
  it('spaces starts one interval apart at the limit, and lets a burst go at once after idle time', () => {
    const p = { limit: 10, periodMs: 1_000, burst: 1 };
    expect(schedule([0, 0, 0, 0], p)).toEqual([0, 100, 200, 300]);
    // Idle long enough: the next start goes at once.
    expect(schedule([0, 0, 5_000], p)).toEqual([0, 100, 5_000]);
    expect(schedule([0, 0, 0, 0, 0], { limit: 10, periodMs: 1_000, burst: 3 })).toEqual([0, 0, 0, 100, 200]);
  });

  const params = fc.record({ limit: fc.integer({ min: 1, max: 50 }), periodMs: fc.integer({ min: 1, max: 60_000 }), burst: fc.integer({ min: 1, max: 10 }) });
  // Arrival times, non-decreasing (requests reach the store in some order; each is reserved on arrival).
  const arrivals = fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 200 }).map((gaps) => gaps.reduce<number[]>((acc, g) => [...acc, (acc[acc.length - 1] ?? 0) + g], []));

  it('property: no start before its request; starts in request order; at most limit + burst - 1 in any window of one period', () => {
    fc.assert(
      fc.property(params, arrivals, (p, at) => {
        const starts = schedule(at, p);
        starts.forEach((s, i) => {
          expect(s).toBeGreaterThanOrEqual(at[i] ?? 0);
          if (i > 0) expect(s).toBeGreaterThanOrEqual(starts[i - 1] ?? 0);
        });
        // Each window [s, s + period) opened by a start holds at most limit + burst - 1 starts (float slack: 1e-6 ms).
        for (let i = 0; i < starts.length; i++) {
          const from = starts[i] ?? 0;
          const inWindow = starts.filter((s) => s >= from && s < from + p.periodMs - 1e-6).length;
          expect(inWindow).toBeLessThanOrEqual(p.limit + p.burst - 1);
        }
      }),
      { numRuns: 300, seed: 1616 },
    );
  });

  it('property: nothing is dropped and nobody waits longer than needed (burst 1: each start is its arrival or one interval after the previous start)', () => {
    fc.assert(
      fc.property(params, arrivals, (p, at) => {
        const q = { ...p, burst: 1 };
        const starts = schedule(at, q);
        expect(starts).toHaveLength(at.length);
        starts.forEach((s, i) => {
          const previous = i === 0 ? -Infinity : (starts[i - 1] ?? 0) + rateInterval(q);
          expect(s).toBeCloseTo(Math.max(at[i] ?? 0, previous), 6);
        });
      }),
      { numRuns: 300, seed: 1617 },
    );
  });

  it('property: the long-run start rate of a backlog is the limit (n starts of a queue take (n - burst) intervals)', () => {
    fc.assert(
      fc.property(params, fc.integer({ min: 1, max: 500 }), (p, n) => {
        const starts = schedule(Array.from({ length: n }, () => 0), p);
        const last = starts[starts.length - 1] ?? 0;
        expect(last).toBeCloseTo(Math.max(0, n - p.burst) * rateInterval(p), 6);
      }),
      { numRuns: 200, seed: 1618 },
    );
  });
});

const limited = billing({ rateLimit: { limit: 10, period: '1s', key: '${{ inputs.customer }}' } });

describe('rate limits in the run machine (rateLimit: { limit, period, key })', () => {
  it('asks for a permit before each attempt, waits until its time on a timer, and why says "rate limited until T"', () => {
    const d = new RunDriver(limited, { customer: 'acme' });
    const started = d.start();
    expect(commandsOf(started, 'dispatch')).toEqual([]);
    expect(commandsOf(started, 'acquire-rate')).toEqual([{ type: 'acquire-rate', stepId: 'call', token: 'r1:call:rate:1', scope: 'billing/call', key: 'acme', limit: 10, periodMs: 1_000, burst: 1 }]);
    expect(d.state.status).toBe('waiting');
    expect(explainRun(d.state, { now: d.at() }).steps[0]?.text).toBe('waiting for a rate-limit permit of key "acme" (10 per 1000ms)');

    // A permit for later: a timer, no dispatch; why names the time.
    const until = d.at(400);
    const granted = d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:1', notBefore: until });
    expect(commandsOf(granted, 'dispatch')).toEqual([]);
    expect(commandsOf(granted, 'schedule-timer')).toEqual([{ type: 'schedule-timer', timer: 'rate-limit', stepId: 'call', attempt: 0, fireAt: until }]);
    const why = explainRun(d.state, { now: d.at() }).steps[0];
    expect(why?.reason).toEqual({ kind: 'rate-limited', key: 'acme', limit: 10, periodMs: 1_000, until });
    expect(why?.text).toBe(`rate limited until ${new Date(until).toISOString()} (key "acme", 10 per 1000ms)`);
    // A duplicate answer, or one for another request, changes nothing; an early timer neither.
    expect(d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:1', notBefore: d.at(1) })).toEqual([]);
    expect(d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:7', notBefore: d.at(1) })).toEqual([]);
    expect(d.apply({ type: 'timer.fired', at: until - 1, timer: 'rate-limit', stepId: 'call', attempt: 0 })).toEqual([]);

    const fired = d.apply({ type: 'timer.fired', at: until, timer: 'rate-limit', stepId: 'call', attempt: 0 });
    expect(commandsOf(fired, 'dispatch').map((c) => c.token)).toEqual(['r1:call:1']);
    expect(d.step('call')).toMatchObject({ status: 'queued', attempt: 1 });

    // A retry is a new start: it asks again; a permit due now dispatches in the same decision.
    d.started('call');
    d.apply({ type: 'step.failed', at: d.at(5), stepId: 'call', attempt: 1, token: 'r1:call:1', error: { code: 'X', message: 'x' } });
    const retried = d.apply({ type: 'timer.fired', at: d.at(2_000), timer: 'retry', stepId: 'call', attempt: 1 });
    expect(commandsOf(retried, 'acquire-rate').map((c) => c.token)).toEqual(['r1:call:rate:2']);
    const now = d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:2', notBefore: d.at(0) });
    expect(commandsOf(now, 'schedule-timer').filter((c) => c.timer === 'rate-limit')).toEqual([]);
    expect(commandsOf(now, 'dispatch').map((c) => c.token)).toEqual(['r1:call:2']);
    d.complete('call');
    // The next step has no limit: dispatched at once.
    expect(d.step('after').status).toBe('queued');
  });

  it('a permit used later than its grace (a stalled scheduler) is given up and asked for again, so late starts do not bunch', () => {
    const d = new RunDriver(limited, { customer: 'acme' });
    d.start();
    const until = d.at(300);
    d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:1', notBefore: until });
    // Within the grace (max(interval 100 ms, RATE_PERMIT_GRACE_MS 200 ms)): it starts.
    const late = d.apply({ type: 'timer.fired', at: until + 201, timer: 'rate-limit', stepId: 'call', attempt: 0 });
    expect(commandsOf(late, 'dispatch')).toEqual([]);
    expect(commandsOf(late, 'acquire-rate').map((c) => c.token)).toEqual(['r1:call:rate:1.2']);
    expect(d.step('call')).toMatchObject({ status: 'waiting', token: 'r1:call:rate:1.2', queuedAt: 1_000_000 });
    // Asked again once, the next permit starts however late it is (a scheduler that is always late still moves).
    const now = d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:1.2', notBefore: d.at(-250) });
    expect(commandsOf(now, 'dispatch').map((c) => c.token)).toEqual(['r1:call:1']);
    d.started('call');
    d.apply({ type: 'step.failed', at: d.at(5), stepId: 'call', attempt: 1, token: 'r1:call:1', error: { code: 'X', message: 'x' } });
    d.apply({ type: 'timer.fired', at: d.at(2_000), timer: 'retry', stepId: 'call', attempt: 1 });
    // An answer applied later than the grace (its permit was for "now", long ago) asks again too.
    expect(commandsOf(d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:2', notBefore: d.at(-300) }), 'acquire-rate').map((c) => c.token)).toEqual(['r1:call:rate:2.2']);
    d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:2.2', notBefore: d.at(100) });
    expect(commandsOf(d.apply({ type: 'timer.fired', at: d.at(1_000), timer: 'rate-limit', stepId: 'call', attempt: 1 }), 'dispatch').map((c) => c.token)).toEqual(['r1:call:2']);
    // One step.waiting event per attempt, for its first request.
    expect(emitted(d.history).filter((e) => e.type === 'step.waiting')).toHaveLength(2);
  });

  it('a cancel while waiting for a permit drops its timer; forEach items each ask with their own key', () => {
    const d = new RunDriver(limited, { customer: 'acme' });
    d.start();
    d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'call', token: 'r1:call:rate:1', notBefore: d.at(500) });
    const canceled = d.apply({ type: 'run.cancel', at: d.at(1) });
    expect(commandsOf(canceled, 'cancel-timer')).toEqual([{ type: 'cancel-timer', timer: 'rate-limit', stepId: 'call' }]);
    expect(d.step('call')).toMatchObject({ status: 'canceled', attempt: 0 });
    expect(d.state.status).toBe('canceled');

    const each = new RunDriver(workflow([{ id: 'each', action: 'charge', forEach: '${{ [1, 2] }}', concurrency: 5, rateLimit: { limit: 1, period: '1m', key: 'k${{ item }}' } }], { name: 'fan' }));
    expect(commandsOf(each.start(), 'acquire-rate').map((c) => [c.stepId, c.key, c.scope, c.periodMs])).toEqual([
      ['each[0]', 'k1', 'fan/each', 60_000],
      ['each[1]', 'k2', 'fan/each', 60_000],
    ]);
  });

  it('with a concurrency slot too, the slot comes first and the permit right before the start', () => {
    const d = new RunDriver(workflow([{ id: 'a', action: 'charge', concurrency: { limit: 1 }, rateLimit: { limit: 5, period: '1s' } }], { name: 'both' }));
    const started = d.start();
    expect(commandsOf(started, 'acquire-slot')).toHaveLength(1);
    expect(commandsOf(started, 'acquire-rate')).toHaveLength(0);
    const slot = d.apply({ type: 'slot.granted', at: d.at(1), stepId: 'a', token: 'r1:a:slot:1' });
    expect(commandsOf(slot, 'acquire-rate').map((c) => c.token)).toEqual(['r1:a:rate:1']);
    const permit = d.apply({ type: 'rate.granted', at: d.at(1), stepId: 'a', token: 'r1:a:rate:1', notBefore: d.at(0) });
    expect(commandsOf(permit, 'dispatch').map((c) => c.token)).toEqual(['r1:a:1']);
    expect(commandsOf(d.complete('a'), 'release-slot').map((c) => c.token)).toEqual(['r1:a:slot:1']);
  });

  it('validation: limit above 0 and a period longer than 0 (clear errors at the field)', () => {
    const problems = (rateLimit: unknown) =>
      parseWorkflow(JSON.stringify(workflow([{ id: 'a', action: 'charge', rateLimit } as never])), 'w.json')
        .diagnostics.filter((x) => x.severity === 'error')
        .map((x) => `${x.path}: ${x.message}`);
    expect(problems({ limit: 10, period: '1m' })).toEqual([]);
    expect(problems({ limit: 0, period: '1m' }).join('\n')).toMatch(/steps\[0\]\.rateLimit\.limit/);
    expect(problems({ limit: 10, period: '0s' }).join('\n')).toMatch(/steps\[0\]\.rateLimit\.period: period: must be longer than 0/);
    expect(problems({ limit: 10, period: 'soon' }).join('\n')).toMatch(/steps\[0\]\.rateLimit\.period/);
    expect(problems({ limit: 10 }).join('\n')).toMatch(/steps\[0\]\.rateLimit\.period/);
  });
});
