import { runningRun } from '../testing/run-store.fixtures';
import { toTransition } from './transition.util';

const before = runningRun('r1', { seq: 4 });
const after = { ...before, seq: 5 };

describe('toTransition', () => {
  it('writes a timer at the next whole millisecond, never before the time the core waits for', () => {
    // A rate permit's start is database time to the microsecond. Written as it was (iso() keeps
    // whole ms), the row fell due up to 1 ms early: a scan then fired it at a decision time below
    // the step's `until`, the core ignored it and the row went with it (a run waiting for good).
    const transition = toTransition(before, {
      state: after,
      commands: [
        { type: 'schedule-timer', timer: 'rate-limit', stepId: 'validate', attempt: 1, fireAt: 1_765_000_000_123.456 },
        { type: 'schedule-timer', timer: 'retry', stepId: 'ingest', attempt: 2, fireAt: 1_765_000_000_500 },
      ],
    });
    expect(transition?.schedule.map((t) => [t.timer, t.fireAt])).toEqual([
      ['rate-limit', 1_765_000_000_124],
      ['retry', 1_765_000_000_500],
    ]);
  });
});
