import type { LifecycleEvent } from '@weft/contracts';

export const T10 = Date.parse('2026-03-01T10:00:00.000Z');
const MIN = 60_000;

type Fields = Pick<LifecycleEvent, 'type' | 'status'> & Partial<LifecycleEvent>;

/** Builds one run's events: each `at` is ms after the run's start; ids are `<runId>:<seq>:0`. */
function run(workflow: string, runId: string, startsAt: number, steps: [number, Fields][]): LifecycleEvent[] {
  const events: [number, Fields][] = [
    [0, { type: 'run.queued', status: 'queued' }],
    [0, { type: 'run.started', status: 'running' }],
    ...steps,
  ];
  return events.map(([offset, fields], i) => ({ eventId: `${runId}:${i + 1}:0`, runId, workflow, version: '1', at: new Date(startsAt + offset).toISOString(), ...fields }));
}

const queued = (stepId: string, attempt: number): Fields => ({ type: 'step.queued', status: 'queued', stepId, attempt });
const done = (stepId: string, attempt: number, durationMs: number): Fields => ({ type: 'step.completed', status: 'completed', stepId, attempt, durationMs, data: { output: {} } });
const retry = (stepId: string, attempt: number, code: string): Fields => ({ type: 'step.retrying', status: 'retrying', stepId, attempt, error: { code, message: code }, data: { delayMs: 10 } });
const failed = (stepId: string, attempt: number, code: string): Fields => ({ type: 'step.failed', status: 'failed', stepId, attempt, error: { code, message: code } });

/**
 * A fixed day of runs, hand-countable (see the specs for the figures):
 * etl (extract -> load): r1, r2, r3 in the 10:00 hour; r4, r5, r6 in the 11:00 hour.
 * ml (train): m1 at 10:30, m2 at 11:15.
 */
export function fixedRuns(): LifecycleEvent[] {
  return [
    ...run('etl', 'r1', T10 + 5 * MIN, [
      [1, queued('extract', 1)],
      [101, done('extract', 1, 100)],
      [401, done('load', 1, 300)],
      [1000, { type: 'run.completed', status: 'completed', durationMs: 1000 }],
    ]),
    ...run('etl', 'r2', T10 + 20 * MIN, [
      [200, done('extract', 1, 200)],
      [300, retry('load', 1, 'HTTP_503')],
      [1500, done('load', 2, 500)],
      [2000, { type: 'run.completed', status: 'completed', durationMs: 2000 }],
    ]),
    ...run('etl', 'r3', T10 + 40 * MIN, [
      [100, done('extract', 1, 100)],
      [200, retry('load', 1, 'HTTP_503')],
      [1200, { type: 'step.timed_out', status: 'running', stepId: 'load', attempt: 2, error: { code: 'TIMEOUT', message: 'timed out' } }],
      [1200, retry('load', 2, 'TIMEOUT')],
      [2500, failed('load', 3, 'HTTP_503')],
      [2500, { type: 'run.failed', status: 'failed', durationMs: 2500, error: { code: 'STEPS_FAILED', message: 'load' } }],
    ]),
    ...run('etl', 'r4', T10 + 70 * MIN, [
      [400, done('extract', 1, 400)],
      [700, done('load', 1, 300)],
      [3000, { type: 'run.completed', status: 'completed', durationMs: 3000 }],
    ]),
    ...run('etl', 'r5', T10 + 90 * MIN, [
      [50, failed('extract', 1, 'AUTH')],
      [50, { type: 'step.skipped', status: 'skipped', stepId: 'load', data: { reason: 'upstream failed: extract' } }],
      [50, { type: 'run.failed', status: 'failed', durationMs: 50, error: { code: 'STEPS_FAILED', message: 'extract' } }],
    ]),
    ...run('etl', 'r6', T10 + 110 * MIN, [
      [100, done('extract', 1, 100)],
      [150, { type: 'step.canceled', status: 'canceled', stepId: 'load', attempt: 1, data: { reason: 'run canceled' } }],
      [150, { type: 'run.canceled', status: 'canceled', durationMs: 150 }],
    ]),
    ...run('ml', 'm1', T10 + 30 * MIN, [
      [60_000, done('train', 1, 60_000)],
      [61_000, { type: 'run.completed', status: 'completed', durationMs: 61_000 }],
    ]),
    ...run('ml', 'm2', T10 + 75 * MIN, [
      [1_000, retry('train', 1, 'OOM')],
      [91_000, done('train', 2, 90_000)],
      [95_000, { type: 'run.completed', status: 'completed', durationMs: 95_000 }],
    ]),
  ];
}

/** Bounded polling: resolves once `predicate` holds, rejects after `ms`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
