import { planDueTicks } from './catchup.util';
import { parseSchedule } from './schedule.util';

const every1s = parseSchedule('@every 1s');
const T = Date.parse('2026-06-01T12:00:00Z');

describe('planDueTicks', () => {
  it('fires the tick that came due while leading, however late the loop is', () => {
    const plan = planDueTicks({ schedule: every1s, afterMs: T, nowMs: T + 1_700, catchupMs: 0, leadingSinceMs: T - 60_000, limit: 100 });
    expect(plan).toEqual({ fire: [T + 1000], missed: [], missedUnlisted: 0, handledUntilMs: T + 1000 });
  });

  it('after 5 s of downtime fires the missed ticks within catchup once each', () => {
    const plan = planDueTicks({ schedule: every1s, afterMs: T, nowMs: T + 5_500, catchupMs: 60_000, leadingSinceMs: T + 5_500, limit: 100 });
    expect(plan.fire).toEqual([1, 2, 3, 4, 5].map((s) => T + s * 1000));
    expect(plan.missed).toEqual([]);
    // The next plan, from where this one ended, has nothing left to fire.
    const again = planDueTicks({ schedule: every1s, afterMs: plan.handledUntilMs, nowMs: T + 5_900, catchupMs: 60_000, leadingSinceMs: T + 5_500, limit: 100 });
    expect(again.fire).toEqual([]);
  });

  it('with catchup 0 records downtime ticks as missed', () => {
    const plan = planDueTicks({ schedule: every1s, afterMs: T, nowMs: T + 5_500, catchupMs: 0, leadingSinceMs: T + 5_500, limit: 100 });
    expect(plan.fire).toEqual([]);
    expect(plan.missed).toEqual([1, 2, 3, 4, 5].map((s) => T + s * 1000));
    expect(plan.handledUntilMs).toBe(T + 5000);
  });

  it('splits at the window: older ticks missed, recent ones fired', () => {
    const hourly = parseSchedule('0 * * * *');
    const plan = planDueTicks({ schedule: hourly, afterMs: T, nowMs: T + 5 * 3_600_000 + 60_000, catchupMs: 2 * 3_600_000, leadingSinceMs: T + 5 * 3_600_000 + 60_000, limit: 100 });
    expect(plan.missed).toEqual([1, 2, 3].map((h) => T + h * 3_600_000));
    expect(plan.fire).toEqual([4, 5].map((h) => T + h * 3_600_000));
  });

  it('bounds both lists and counts what it does not list', () => {
    const week = 7 * 86_400_000;
    const plan = planDueTicks({ schedule: every1s, afterMs: T, nowMs: T + week, catchupMs: 10_000, leadingSinceMs: T + week, limit: 5 });
    // The window holds 11 ticks (now-10s .. now): the newest 5 fire.
    expect(plan.fire).toEqual([4, 3, 2, 1, 0].map((s) => T + week - s * 1000));
    expect(plan.missed).toHaveLength(5);
    // Every tick of the week is either fired, listed as missed or counted.
    expect(plan.fire.length + plan.missed.length + plan.missedUnlisted).toBe(week / 1000);
    expect(plan.handledUntilMs).toBe(T + week);
  });

  it('a catch-up window larger than the limit fires the newest ticks and counts the older as missed', () => {
    const plan = planDueTicks({ schedule: every1s, afterMs: T, nowMs: T + 10_000, catchupMs: 60_000, leadingSinceMs: T + 10_000, limit: 3 });
    expect(plan.fire).toEqual([T + 8000, T + 9000, T + 10_000]);
    expect(plan.missed).toEqual([T + 1000, T + 2000, T + 3000]);
    expect(plan.missedUnlisted).toBe(4);
  });
});
