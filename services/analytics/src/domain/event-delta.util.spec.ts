import type { LifecycleEvent } from '@weft/contracts';
import { deltaFor, hourOf } from './event-delta.util';

const event = (fields: Pick<LifecycleEvent, 'type' | 'status'> & Partial<LifecycleEvent>): LifecycleEvent => ({
  eventId: 'r:1:0',
  runId: 'r',
  workflow: 'etl',
  version: '1',
  at: '2026-03-01T10:42:13.500Z',
  ...fields,
});
const HOUR = Date.parse('2026-03-01T10:00:00.000Z');

describe('deltaFor', () => {
  it('bumps exactly one counter per counted event, in the hour of the event', () => {
    expect(hourOf(Date.parse('2026-03-01T10:59:59.999Z'))).toBe(HOUR);
    const counted: [Parameters<typeof event>[0], unknown][] = [
      [{ type: 'run.started', status: 'running' }, { kind: 'run', counter: 'started' }],
      [{ type: 'run.started', status: 'running', data: { retry: true } }, { kind: 'run', counter: 'restarted' }],
      [{ type: 'run.completed', status: 'completed', durationMs: 900 }, { kind: 'run', counter: 'completed', durationMs: 900 }],
      [{ type: 'run.partially_completed', status: 'partially_completed', durationMs: 5 }, { kind: 'run', counter: 'partiallyCompleted' }],
      [{ type: 'run.failed', status: 'failed', durationMs: 5 }, { kind: 'run', counter: 'failed' }],
      [{ type: 'run.canceled', status: 'canceled' }, { kind: 'run', counter: 'canceled' }],
      [{ type: 'step.completed', status: 'completed', stepId: 'a', durationMs: 120 }, { kind: 'step', stepId: 'a', counter: 'completed', durationMs: 120 }],
      [
        { type: 'step.failed', status: 'failed', stepId: 'a', error: { code: 'HTTP_500', message: 'x' } },
        { kind: 'step', counter: 'failed', error: { code: 'HTTP_500', final: true }, failedAt: Date.parse('2026-03-01T10:42:13.500Z') },
      ],
      [{ type: 'step.retrying', status: 'retrying', stepId: 'a', error: { code: 'TIMEOUT', message: 'x' } }, { kind: 'step', counter: 'retried', error: { code: 'TIMEOUT', final: false } }],
      [{ type: 'step.skipped', status: 'skipped', stepId: 'a' }, { kind: 'step', counter: 'skipped' }],
      [{ type: 'step.canceled', status: 'canceled', stepId: 'a' }, { kind: 'step', counter: 'canceled' }],
      [{ type: 'step.timed_out', status: 'running', stepId: 'a' }, { kind: 'step', counter: 'timedOut' }],
    ];
    for (const [fields, expected] of counted) expect(deltaFor(event(fields))).toEqual({ namespace: 'default', workflow: 'etl', bucket: HOUR, ...(expected as object), ...((expected as { kind: string }).kind === 'step' && { stepId: 'a' }) });
  });

  it('keeps the run\'s namespace (default for events of producers that sent none)', () => {
    expect(deltaFor(event({ type: 'run.completed', status: 'completed', namespace: 'team-b' }))).toMatchObject({ namespace: 'team-b', workflow: 'etl' });
    expect(deltaFor(event({ type: 'step.failed', status: 'failed', stepId: 'a', namespace: 'team-b' }))).toMatchObject({ namespace: 'team-b', stepId: 'a' });
  });

  it('does not count a forEach item as a step: its ends count nothing, its retries and timeouts count for its forEach step', () => {
    for (const type of ['step.completed', 'step.failed', 'step.skipped', 'step.canceled'] as const) expect(deltaFor(event({ type, status: 'completed', stepId: 'process[12]' }))).toBeUndefined();
    expect(deltaFor(event({ type: 'step.retrying', status: 'retrying', stepId: 'process[12]', error: { code: 'TIMEOUT', message: 'x' } }))).toMatchObject({ kind: 'step', stepId: 'process', counter: 'retried' });
    expect(deltaFor(event({ type: 'step.timed_out', status: 'running', stepId: 'process[3]' }))).toMatchObject({ kind: 'step', stepId: 'process', counter: 'timedOut' });
    // The forEach step's own end counts once.
    expect(deltaFor(event({ type: 'step.completed', status: 'completed', stepId: 'process', durationMs: 50 }))).toMatchObject({ kind: 'step', stepId: 'process', counter: 'completed' });
  });

  // Review events feed review insights (review-insights.util.spec.ts).
  it('counts nothing for queued, started and waiting events', () => {
    for (const type of ['run.queued', 'run.waiting', 'step.queued', 'step.started'] as const) {
      expect(deltaFor(event({ type, status: 'queued', stepId: 's' }))).toBeUndefined();
    }
  });

  it('rejects events it can never count', () => {
    expect(() => deltaFor(event({ type: 'step.completed', status: 'completed' }))).toThrow(expect.objectContaining({ code: 'INVALID_EVENT' }));
    expect(() => deltaFor(event({ type: 'run.completed', status: 'completed', at: 'soon' }))).toThrow(expect.objectContaining({ code: 'INVALID_EVENT' }));
    expect(() => deltaFor(event({ type: 'run.completed', status: 'completed', durationMs: -1 }))).toThrow(/non-negative/);
  });
});
