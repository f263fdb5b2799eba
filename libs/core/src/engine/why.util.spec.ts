import { RunDriver, workflow } from '../testing';
import { explainRun } from './why.util';

const reasons = (d: RunDriver, workers?: Map<string, string[]>) =>
  Object.fromEntries(explainRun(d.state, { now: d.at(1), ...(workers && { workers }) }).steps.map((s) => [s.stepId, { ...s.reason, since: s.since }]));

describe('explainRun (why is it waiting?)', () => {
  it('names needs, no worker on the queue, a lease, a backoff, a sleep, a signal and a review', () => {
    const d = new RunDriver(
      workflow([
        { id: 'a', action: 'work', queue: 'gpu', retry: { maxAttempts: 3, initialInterval: '10s', jitter: false } },
        { id: 'b', needs: ['a'], action: 'work' },
        { id: 'nap', action: 'sleep', with: { duration: '1h' } },
        { id: 'ev', action: 'wait.event', with: { event: 'paid', key: 'k1', timeout: '1d' } },
        { id: 'gate', action: 'noop', review: { assignees: ['ops'] } },
        { id: 'c', action: 'work' },
      ]),
    );
    const t0 = d.at();
    d.start();
    d.run('gate', {});
    let why = reasons(d, new Map([['default', ['w1']]]));
    expect(why['a']).toMatchObject({ kind: 'no-worker', queue: 'gpu', since: t0 });
    expect(why['b']).toMatchObject({ kind: 'needs', steps: ['a'] });
    expect(why['c']).toMatchObject({ kind: 'dispatched', queue: 'default', workers: 1 });
    expect(why['nap']).toMatchObject({ kind: 'timer', until: t0 + 3_600_000 });
    expect(why['ev']).toMatchObject({ kind: 'event', name: 'paid', key: 'k1', until: t0 + 86_400_000 });
    expect(why['gate']).toMatchObject({ kind: 'review', assignees: ['ops'] });
    d.started('c');
    d.started('a');
    d.fail('a', { code: 'E', message: 'x' });
    why = reasons(d);
    expect(why['c']).toMatchObject({ kind: 'leased', workerId: 'w1', attempt: 1 });
    expect(why['a']).toMatchObject({ kind: 'retry-backoff', until: d.step('a').nextAttemptAt, attempt: 1, error: 'E: x' });
  });

  it('explains a forEach step by its counts and its oldest unfinished item', () => {
    const d = new RunDriver(workflow([{ id: 'each', action: 'work', forEach: '[1, 2, 3]', concurrency: 2 }]));
    d.start();
    d.run('each[0]', 1);
    const [step] = explainRun(d.state, { now: d.at(), workers: new Map() }).steps;
    expect(step?.reason).toMatchObject({ kind: 'items', total: 3, completed: 1, inFlight: 2, pending: 0, item: { id: 'each[1]', reason: { kind: 'no-worker', queue: 'default' } } });
    expect(step?.text).toBe('1/3 items done, 2 in flight, 0 not started; each[1]: dispatched to queue default, which no live worker serves');
  });

  it('says nothing for a finished run', () => {
    const d = new RunDriver(workflow([{ id: 'a', action: 'work' }]));
    d.start();
    d.run('a');
    expect(explainRun(d.state, { now: d.at() }).steps).toEqual([]);
  });
});
