import { ContractError, eventSubject, LIFECYCLE_BATCH_SUBJECT, type LifecycleEvent, type LifecycleEventBatch, lifecycleEventsOf, MAX_EVENTS_PER_BATCH, parseMessage } from './messages';

describe('parseMessage', () => {
  it('accepts a valid dispatch on any queue subject', () => {
    const msg = parseMessage('weft.step.dispatch.io', {
      runId: 'r1', workflow: 'w', stepId: 'a', attempt: 1, token: 't', action: 'noop', input: {}, queue: 'io', timeoutMs: 1000,
    });
    expect(msg.stepId).toBe('a');
  });

  it('names the offending fields of a malformed message', () => {
    expect(() => parseMessage('weft.step.result', { outcome: 'completed', runId: 'r1' })).toThrow(ContractError);
    expect(() => parseMessage('weft.step.result', { outcome: 'completed', runId: 'r1' })).toThrow(/stepId/);
  });
});

describe('weft.step.result', () => {
  const base = { runId: 'r1', stepId: 'a', attempt: 1, token: 'r1:a:1', workerId: 'w' };

  it('carries the worker-side startedAt and finishedAt (epoch ms) of either outcome, or neither', () => {
    expect(parseMessage('weft.step.result', { ...base, outcome: 'completed', output: 1, startedAt: 1000, finishedAt: 1002 })).toMatchObject({ startedAt: 1000, finishedAt: 1002 });
    const error = { code: 'E', message: 'boom' };
    expect(parseMessage('weft.step.result', { ...base, outcome: 'failed', error, startedAt: 1000 })).toMatchObject({ startedAt: 1000 });
    expect(parseMessage('weft.step.result', { ...base, outcome: 'completed', output: null })).not.toHaveProperty('startedAt');
  });

  it('rejects a startedAt that is not a number', () => {
    expect(() => parseMessage('weft.step.result', { ...base, outcome: 'completed', output: 1, startedAt: '2026-01-01T00:00:00Z' })).toThrow(/startedAt/);
  });
});

describe('weft.worker.announce', () => {
  it('accepts an announcement with actions and their input schemas', () => {
    const msg = parseMessage('weft.worker.announce', {
      workerId: 'w1',
      queues: ['default'],
      actions: [{ name: 'email.send', description: 'Sends mail', inputSchema: { type: 'object' } }, { name: 'noop' }],
      intervalMs: 15_000,
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(msg.actions.map((a) => a.name)).toEqual(['email.send', 'noop']);
  });

  it('rejects one without a worker id or interval', () => {
    expect(() => parseMessage('weft.worker.announce', { queues: [], actions: [], at: 'x' })).toThrow(/workerId[\s\S]*intervalMs/);
  });
});

describe('lifecycleEventsOf', () => {
  const event = (eventId: string, type: LifecycleEvent['type']): LifecycleEvent => ({ eventId, type, runId: 'r1', workflow: 'w', version: 'v1', status: 'running', at: '2026-12-06T00:00:00.000Z' });

  it('reads a batch in order, and a single event (the form kept for a lone event and older messages) as a list of one', () => {
    const batch: LifecycleEventBatch = { events: [event('r1:2:0', 'step.completed'), event('r1:2:1', 'step.queued')] };
    expect(lifecycleEventsOf(LIFECYCLE_BATCH_SUBJECT, batch)).toEqual(batch.events);
    expect(lifecycleEventsOf(eventSubject('run.started'), event('r1:1:1', 'run.started'))).toEqual([event('r1:1:1', 'run.started')]);
  });

  it('refuses a malformed batch, an empty one, one over MAX_EVENTS_PER_BATCH, and a subject that carries no events, naming the fields', () => {
    expect(() => lifecycleEventsOf(LIFECYCLE_BATCH_SUBJECT, { events: [event('a', 'step.completed'), { eventId: 'b' }] })).toThrow(/events\.1\.type/);
    expect(() => lifecycleEventsOf(LIFECYCLE_BATCH_SUBJECT, { events: [] })).toThrow(ContractError);
    expect(() => lifecycleEventsOf(LIFECYCLE_BATCH_SUBJECT, [event('a', 'step.completed')])).toThrow(ContractError);
    const tooMany = Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, (_, i) => event(`r1:3:${i}`, 'step.canceled'));
    expect(() => lifecycleEventsOf(LIFECYCLE_BATCH_SUBJECT, { events: tooMany })).toThrow(/events/);
    expect(() => lifecycleEventsOf(eventSubject('step.completed'), { events: [event('a', 'step.completed')] })).toThrow(ContractError);
    expect(() => lifecycleEventsOf('weft.step.result', event('a', 'step.completed'))).toThrow(/not a lifecycle event subject/);
  });

  it('is what the bus validates a batch against: parseMessage on the batch subject', () => {
    expect(() => parseMessage(LIFECYCLE_BATCH_SUBJECT, { events: [{ eventId: 'x' }] })).toThrow(/events\.0/);
  });
});
