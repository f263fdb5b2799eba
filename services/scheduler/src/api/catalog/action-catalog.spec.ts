import { InMemoryBus } from '@weft/bus';
import { SUBJECTS, type WorkerAnnounce } from '@weft/contracts';
import { ActionCatalog } from './action-catalog';

const announce = (workerId: string, overrides: Partial<WorkerAnnounce> = {}): WorkerAnnounce => ({
  workerId,
  queues: ['default'],
  actions: [{ name: 'email.send', description: 'Sends mail', inputSchema: { type: 'object' } }],
  intervalMs: 1000,
  at: new Date(0).toISOString(),
  ...overrides,
});

describe('ActionCatalog', () => {
  let now = 0;
  const catalog = () => new ActionCatalog(new InMemoryBus(), [{ name: 'noop', description: 'Does nothing' }], () => now);

  beforeEach(() => {
    now = 1_000_000;
  });

  it('lists built-ins, then adds what live workers announce, merged by name', () => {
    const c = catalog();
    expect(c.list()).toEqual([{ name: 'noop', description: 'Does nothing', inputSchema: null, builtin: true, workers: 0, queues: [] }]);
    c.heard(announce('w1'));
    c.heard(announce('w2', { queues: ['mail', 'default'], actions: [{ name: 'email.send' }, { name: 'noop' }] }));
    expect(c.list()).toEqual([
      { name: 'email.send', description: 'Sends mail', inputSchema: { type: 'object' }, builtin: false, workers: 2, queues: ['default', 'mail'] },
      { name: 'noop', description: 'Does nothing', inputSchema: null, builtin: true, workers: 1, queues: ['default', 'mail'] },
    ]);
  });

  it('forgets a worker that stops announcing, and one that says it leaves', () => {
    const c = catalog();
    c.heard(announce('w1'));
    c.heard(announce('w2', { actions: [{ name: 'other' }] }));
    now += 2_999;
    expect(c.list().map((a) => a.name)).toEqual(['email.send', 'noop', 'other']);
    c.heard(announce('w2', { actions: [{ name: 'other' }] }));
    now += 1;
    expect(c.list().map((a) => a.name)).toEqual(['noop', 'other']);
    c.heard(announce('w2', { leaving: true }));
    expect(c.list().map((a) => a.name)).toEqual(['noop']);
  });

  it('hears announcements on the bus', async () => {
    const bus = new InMemoryBus();
    const c = new ActionCatalog(bus, [], () => now);
    await c.start();
    await bus.broadcast(SUBJECTS.workerAnnounce, announce('w9'));
    const deadline = Date.now() + 2000;
    while (c.list().length === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    expect(c.list().map((a) => [a.name, a.workers])).toEqual([['email.send', 1]]);
    await c.stop();
    await bus.close();
  });
});
