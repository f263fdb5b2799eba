import { lifecycleEvent } from '../testing/journal.fixtures';
import { accumulateState, compareEntries, eventPosition, toJournalEntry, traceIdOf } from './journal-entry.util';

describe('toJournalEntry', () => {
  it('keeps every field, with nulls for absent ones, and its position from the event id', () => {
    const { entry, checkpointOutput } = toJournalEntry(lifecycleEvent('run-1', 12, 3, 5, { type: 'run.started', status: 'running' }));
    expect(checkpointOutput).toBeUndefined();
    expect(entry).toEqual({
      eventId: 'run-1:12:3',
      runId: 'run-1',
      workflow: 'data-pipeline',
      version: '3',
      stepId: null,
      attempt: null,
      type: 'run.started',
      status: 'running',
      at: '2026-01-05T10:00:00.005Z',
      durationMs: null,
      error: null,
      correlationId: 'corr-run-1',
      traceId: null,
      data: null,
      seq: 12,
      index: 3,
    });
  });

  it('moves a completed step output to the checkpoint, keeping the rest of data', () => {
    const event = lifecycleEvent('r', 4, 0, 0, { type: 'step.completed', status: 'completed', stepId: 'a', attempt: 1, data: { output: { n: 1 }, extra: 'x' } });
    expect(toJournalEntry(event)).toMatchObject({ entry: { data: { extra: 'x' } }, checkpointOutput: { n: 1 } });
    const bare = lifecycleEvent('r', 4, 0, 0, { type: 'step.completed', status: 'completed', stepId: 'a', attempt: 1, data: { output: 7 } });
    expect(toJournalEntry(bare)).toMatchObject({ entry: { data: null }, checkpointOutput: 7 });
    // A step without output still gets a checkpoint (of null), so the run state records it.
    const none = lifecycleEvent('r', 4, 0, 0, { type: 'step.completed', status: 'completed', stepId: 'a', attempt: 1 });
    expect(toJournalEntry(none).checkpointOutput).toBeNull();
  });

  it('takes the trace id from the traceparent header when the event has none', () => {
    const event = lifecycleEvent('r', 1, 0, 0, { type: 'run.queued', status: 'queued' });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(toJournalEntry(event, { traceparent }).entry.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(toJournalEntry({ ...event, traceId: 'own' }, { traceparent }).entry.traceId).toBe('own');
    expect(traceIdOf({ traceparent: 'garbage' })).toBeUndefined();
  });

  it('rejects, as INVALID_EVENT, a step event without a step and a time that does not parse', () => {
    expect(() => toJournalEntry(lifecycleEvent('r', 1, 0, 0, { type: 'step.failed', status: 'failed' }))).toThrow(
      expect.objectContaining({ code: 'INVALID_EVENT', message: expect.stringMatching(/without a stepId/) }),
    );
    expect(() => toJournalEntry({ ...lifecycleEvent('r', 1, 0, 0, { type: 'run.queued', status: 'queued' }), at: 'yesterday' })).toThrow(
      expect.objectContaining({ code: 'INVALID_EVENT' }),
    );
  });
});

describe('eventPosition', () => {
  it('reads <runId>:<seq>:<n>, even when the run id has colons, and zeros otherwise', () => {
    expect(eventPosition('a:b:7:2', 'a:b')).toEqual({ seq: 7, index: 2 });
    expect(eventPosition('uuid-like', 'uuid-like')).toEqual({ seq: 0, index: 0 });
    expect(eventPosition('other:7:2', 'r')).toEqual({ seq: 0, index: 0 });
  });
});

describe('compareEntries', () => {
  it('orders by time, then decision sequence and index, then event id', () => {
    const at = (seq: number, index: number, offset: number) => toJournalEntry(lifecycleEvent('r', seq, index, offset, { type: 'run.started', status: 'running' })).entry;
    const entries = [at(3, 0, 5), at(2, 1, 5), at(9, 0, 1), at(2, 0, 5)];
    expect([...entries].sort(compareEntries).map((e) => e.eventId)).toEqual(['r:9:0', 'r:2:0', 'r:2:1', 'r:3:0']);
  });
});

describe('accumulateState', () => {
  it('folds earlier outputs in order (a later one wins) and adds its own', () => {
    expect(
      accumulateState(
        [
          { stepId: 'a', output: 1 },
          { stepId: 'b', output: { x: 1 } },
          { stepId: 'a', output: 2 },
        ],
        { stepId: 'c', output: null },
      ),
    ).toEqual({ a: 2, b: { x: 1 }, c: null });
  });
});
