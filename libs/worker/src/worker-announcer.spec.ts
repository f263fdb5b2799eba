import { InMemoryBus } from '@weft/bus';
import { SUBJECTS, type WorkerAnnounce } from '@weft/contracts';
import { waitFor } from './__fixtures__/wait.fixture';
import { defineAction } from './action.types';
import { builtinActions } from './actions/builtin.actions';
import { silentLogger } from './logger.util';
import { createWorker } from './worker';

describe('worker announcements (weft.worker.announce)', () => {
  let bus: InMemoryBus;
  let heard: WorkerAnnounce[];

  beforeEach(async () => {
    bus = new InMemoryBus({ onError: () => undefined });
    heard = [];
    await bus.listen(SUBJECTS.workerAnnounce, (message) => {
      heard.push(message);
    });
  });

  afterEach(() => bus.close());

  it('announces queues and actions with input schemas at start, every interval, and when leaving', async () => {
    const sendMail = defineAction<{ to: string }>({
      name: 'email.send',
      description: 'Sends one e-mail',
      inputSchema: { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] },
      handler: () => undefined,
    });
    const worker = createWorker({ bus, queues: ['mail'], actions: [sendMail], workerId: 'w-1', logger: silentLogger, announceIntervalMs: 40 });
    await worker.start();
    await waitFor(() => heard.length >= 1, 'the first announcement');
    expect(heard[0]).toMatchObject({
      workerId: 'w-1',
      queues: ['mail'],
      intervalMs: 40,
      actions: [{ name: 'email.send', description: 'Sends one e-mail', inputSchema: { type: 'object', required: ['to'] } }],
    });
    expect(heard[0].leaving).toBeUndefined();
    await waitFor(() => heard.length >= 3, 'two more announcements');
    await worker.stop();
    await waitFor(() => heard.some((h) => h.leaving === true), 'the leaving announcement');
    const count = heard.length;
    // Three intervals without a word: the timer is gone. A second worker with the same interval
    // announces at start and three intervals later; the first would have spoken in between.
    const sentinel = createWorker({ bus, queues: ['mail'], actions: [sendMail], workerId: 'w-2', logger: silentLogger, announceIntervalMs: 40 });
    await sentinel.start();
    await waitFor(() => heard.filter((h) => h.workerId === 'w-2').length >= 4, 'four announcements of a second worker');
    await sentinel.stop();
    expect(heard.filter((h) => h.workerId === 'w-1')).toHaveLength(count);
  });

  it('announces every built-in action by name', async () => {
    const worker = createWorker({ bus, queues: ['*'], actions: builtinActions(), logger: silentLogger });
    await worker.start();
    await waitFor(() => heard.length >= 1, 'the announcement');
    expect(heard[0].actions.map((a) => a.name)).toEqual(['fail', 'http.request', 'log', 'noop', 'sleep', 'transform']);
    await worker.stop();
  });

  it('stays silent with announceIntervalMs 0', async () => {
    const worker = createWorker({ bus, queues: ['default'], actions: builtinActions(), logger: silentLogger, announceIntervalMs: 0 });
    await worker.start();
    await worker.stop();
    // Broadcasts arrive in order: once this one is heard, an earlier one would have been.
    await bus.broadcast(SUBJECTS.workerAnnounce, { workerId: 'sentinel', queues: [], actions: [], intervalMs: 1, at: new Date().toISOString() });
    await waitFor(() => heard.length > 0, 'the sentinel');
    expect(heard.map((h) => h.workerId)).toEqual(['sentinel']);
  });
});
