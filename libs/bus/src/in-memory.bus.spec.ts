import { type LifecycleEvent } from '@weft/contracts';
import { describeBusContract, deferred, dispatch, event, waitFor, within } from './testing';
import { InMemoryBus } from './in-memory.bus';

describeBusContract('InMemoryBus', async () => {
  const bus = new InMemoryBus({ errorNakDelayMs: 20 });
  return { bus, cleanup: () => bus.close() };
});

describe('InMemoryBus specifics', () => {
  let bus: InMemoryBus;
  let clock: number;
  const errors: string[] = [];

  beforeEach(() => {
    clock = Date.parse('2025-01-01T00:00:00.000Z');
    errors.length = 0;
    bus = new InMemoryBus({ now: () => clock, errorNakDelayMs: 20, onError: (_e, context) => void errors.push(context) });
  });

  afterEach(async () => {
    await bus.close();
  });

  it('never runs a handler inside the publisher’s stack', async () => {
    let publishReturned = false;
    const calledAfterPublish = deferred<boolean>();
    await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async () => calledAfterPublish.resolve(publishReturned));
    const publishing = bus.publish('weft.step.dispatch.io', dispatch('a'));
    publishReturned = true;
    await publishing;
    expect(await within(calledAfterPublish.promise)).toBe(true);
  });

  it('hands over a JSON copy: later mutation by the publisher and non-JSON values do not leak through', async () => {
    const got = deferred<Record<string, unknown>>();
    await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => got.resolve(d.data.input));
    const payload = dispatch('a');
    payload.input = { when: new Date('2025-01-02T03:04:05.000Z'), gone: undefined, n: 1 };
    await bus.publish('weft.step.dispatch.io', payload);
    payload.input.n = 2;
    expect(await within(got.promise)).toEqual({ when: '2025-01-02T03:04:05.000Z', n: 1 });
  });

  it('hands every group of a lifecycle event one decoded copy, deep-frozen, with JSON semantics', async () => {
    const got: LifecycleEvent[] = [];
    const writes: string[] = [];
    for (const group of ['journal', 'analytics']) {
      await bus.consume('weft.event.>', { group }, async (d) => {
        got.push(d.data);
        try {
          (d.data as { status: string }).status = 'changed';
        } catch (error) {
          writes.push(String(error));
        }
      });
    }
    const payload = { ...event('e1', 'run.started'), data: { when: new Date('2025-01-02T03:04:05.000Z'), gone: undefined, nested: { list: [1] } } };
    await bus.publish('weft.event.run.started', payload);
    payload.data.nested.list.push(2);
    await waitFor(() => got.length === 2, 'both groups');
    expect(got[0]).toBe(got[1]);
    expect(got[0].status).toBe('running');
    expect(got[0].data).toEqual({ when: '2025-01-02T03:04:05.000Z', nested: { list: [1] } });
    expect(Object.isFrozen((got[0].data as { nested: { list: number[] } }).nested.list)).toBe(true);
    expect(writes).toHaveLength(2);
  });

  it('hands each delivery of a work-queue message its own mutable copy: a redelivery does not see the first handler’s writes', async () => {
    const inputs: Record<string, unknown>[] = [];
    const written: unknown[] = [];
    await bus.consume('weft.step.dispatch.io', { group: 'exec', maxDeliver: 3 }, async (d) => {
      inputs.push({ ...d.data.input });
      d.data.input.n = 99;
      written.push(d.data.input.n);
      if (d.deliveryCount === 1) await d.nak();
    });
    await bus.publish('weft.step.dispatch.io', dispatch('a'));
    await waitFor(() => written.length === 2, 'redelivery');
    expect(inputs).toEqual([{ n: 1 }, { n: 1 }]);
    expect(written).toEqual([99, 99]);
  });

  it('reaches a group created after its subject was first published, and no longer one that went', async () => {
    const first: string[] = [];
    const second: string[] = [];
    const early = await bus.consume('weft.event.>', { group: 'first', startAt: 'new' }, async (d) => void first.push(d.data.eventId));
    await bus.publish('weft.event.run.started', event('e1', 'run.started'));
    await waitFor(() => first.length === 1, 'e1 to the first group');
    await bus.consume('weft.event.>', { group: 'second', startAt: 'new' }, async (d) => void second.push(d.data.eventId));
    await bus.publish('weft.event.run.started', event('e2', 'run.started'));
    await waitFor(() => first.length === 2 && second.length === 1, 'e2 to both groups');
    await early.drain();
    await bus.publish('weft.event.run.started', event('e3', 'run.started'));
    await waitFor(() => second.length === 2, 'e3 to the second group');
    expect(first).toEqual(['e1', 'e2']);
    expect(second).toEqual(['e2', 'e3']);
    expect((await bus.consumerStats()).map((c) => c.group)).toEqual(['second']);
  });

  it('expires each of several ack waits that end at different times, and holds off the one that keeps working', async () => {
    const counts = new Map<string, number>();
    const busyDone = deferred<void>();
    // Drain (in afterEach) waits for the stuck first deliveries: released once the test is done.
    const release = deferred<void>();
    await bus.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 150, concurrency: 10, maxDeliver: 5 }, async (d) => {
      const n = (counts.get(d.data.stepId) ?? 0) + 1;
      counts.set(d.data.stepId, n);
      if (n > 1) return;
      if (d.data.stepId === 'busy') {
        // Working every 50 ms for 400 ms: longer than the ack wait, so it is never redelivered.
        for (let i = 0; i < 8; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          await d.working();
        }
        busyDone.resolve();
        return;
      }
      await release.promise;
    });
    await bus.publish('weft.step.dispatch.io', dispatch('busy'));
    await bus.publish('weft.step.dispatch.io', dispatch('a'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    await bus.publish('weft.step.dispatch.io', dispatch('b'));
    await waitFor(() => (counts.get('a') ?? 0) >= 2 && (counts.get('b') ?? 0) >= 2, 'a and b redelivered after their ack waits');
    await within(busyDone.promise, 'busy done');
    release.resolve();
    expect(counts.get('busy')).toBe(1);
    await waitFor(async () => (await bus.consumerStats())[0]?.ackPending === 0, 'all settled');
  });

  it('applies contract defaults on delivery (the payload is parsed, not just cast)', async () => {
    const got = deferred<Record<string, unknown>>();
    await bus.consume('weft.run.requested', { group: 'scheduler' }, async (d) => got.resolve(d.data.inputs));
    await bus.publish('weft.run.requested', { idempotencyKey: 'k', workflow: 'wf' } as never);
    expect(await within(got.promise)).toEqual({});
  });

  it('forgets a msgId once the duplicate window has passed', async () => {
    const seen: string[] = [];
    await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => void seen.push(d.data.stepId));
    await bus.publish('weft.step.dispatch.io', dispatch('a'), { msgId: 'm' });
    clock += 119_000;
    await bus.publish('weft.step.dispatch.io', dispatch('within-window'), { msgId: 'm' });
    clock += 2_000;
    await bus.publish('weft.step.dispatch.io', dispatch('after-window'), { msgId: 'm' });
    await waitFor(() => seen.length >= 2, 'two deliveries');
    expect(seen).toEqual(['a', 'after-window']);
  });

  it('keeps each msgId its own window when publishes sweep only once one is due, and a re-used id counts from its new publish', async () => {
    const seen: string[] = [];
    await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => void seen.push(d.data.stepId));
    await bus.publish('weft.step.dispatch.io', dispatch('a1'), { msgId: 'a' });
    clock += 60_000;
    await bus.publish('weft.step.dispatch.io', dispatch('b1'), { msgId: 'b' });
    clock += 61_000; // a's window closed, b's open
    await bus.publish('weft.step.dispatch.io', dispatch('a2'), { msgId: 'a' });
    await bus.publish('weft.step.dispatch.io', dispatch('b-dup'), { msgId: 'b' });
    clock += 60_000; // b's window closed, a's new one open
    await bus.publish('weft.step.dispatch.io', dispatch('a-dup'), { msgId: 'a' });
    await bus.publish('weft.step.dispatch.io', dispatch('b2'), { msgId: 'b' });
    await waitFor(() => seen.length >= 4, 'four deliveries');
    expect(seen).toEqual(['a1', 'b1', 'a2', 'b2']);
  });

  it('drops lifecycle events older than the retention before a late group reads them', async () => {
    const small = new InMemoryBus({ now: () => clock, eventsMaxAgeMs: 60_000 });
    try {
      await small.publish('weft.event.run.started', event('old', 'run.started'));
      clock += 61_000;
      await small.publish('weft.event.run.completed', event('new', 'run.completed'));
      const seen: string[] = [];
      await small.consume('weft.event.>', { group: 'journal' }, async (d) => void seen.push(d.data.eventId));
      await waitFor(() => seen.includes('new'), 'new event');
      expect(seen).toEqual(['new']);
    } finally {
      await small.close();
    }
  });

  describe('eventsMaxBytes', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `e${String(i).padStart(2, '0')}`);
    // Room for about three of these events' JSON.
    const maxBytes = () => JSON.stringify(event('e00', 'run.started')).length * 3 + 10;

    it('drops the oldest lifecycle events past the bound once every group settled them: a late group reads only the newest', async () => {
      const small = new InMemoryBus({ eventsMaxBytes: maxBytes() });
      try {
        const journal: string[] = [];
        await small.consume('weft.event.>', { group: 'journal' }, async (d) => void journal.push(d.data.eventId));
        for (const id of ids) {
          await small.publish('weft.event.run.started', event(id, 'run.started'));
          await waitFor(() => journal.includes(id), `journal read ${id}`);
        }
        const late: string[] = [];
        await small.consume('weft.event.>', { group: 'late' }, async (d) => void late.push(d.data.eventId));
        await waitFor(() => late.includes('e11'), 'the newest event');
        expect(journal).toEqual(ids);
        expect(late).toEqual(ids.slice(ids.length - late.length));
        expect(late.length).toBeGreaterThanOrEqual(2);
        expect(late.length).toBeLessThanOrEqual(3);
      } finally {
        await small.close();
      }
    });

    it('delivers an event larger than the bound on its own to the groups that read it', async () => {
      const small = new InMemoryBus({ eventsMaxBytes: 10 });
      try {
        const seen: string[] = [];
        await small.consume('weft.event.>', { group: 'journal' }, async (d) => void seen.push(d.data.eventId));
        for (const id of ids.slice(0, 3)) {
          await small.publish('weft.event.run.started', event(id, 'run.started'));
          await waitFor(() => seen.includes(id), `journal read ${id}`);
        }
        expect(seen).toEqual(ids.slice(0, 3));
      } finally {
        await small.close();
      }
    });

    it('keeps, past the bound, every event a group has not settled yet', async () => {
      const small = new InMemoryBus({ eventsMaxBytes: maxBytes() });
      const release = deferred<void>();
      try {
        const seen: string[] = [];
        await small.consume('weft.event.>', { group: 'journal', concurrency: 1 }, async (d) => {
          seen.push(d.data.eventId);
          if (d.data.eventId === 'e00') await release.promise;
        });
        for (const id of ids) await small.publish('weft.event.run.started', event(id, 'run.started'));
        await waitFor(() => seen.length === 1, 'the first delivery');
        release.resolve();
        await waitFor(() => seen.length === ids.length, 'every event');
        expect(seen).toEqual(ids);
      } finally {
        release.resolve();
        await small.close();
      }
    });
  });

  it('ignores settling a delivery whose ack wait already expired', async () => {
    const first = deferred<() => Promise<void>>();
    const counts: number[] = [];
    const release = deferred<void>();
    await bus.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 100, concurrency: 2, maxDeliver: 5 }, async (d) => {
      counts.push(d.deliveryCount);
      if (d.deliveryCount === 1) {
        first.resolve(() => d.term('too late'));
        // Drain (in afterEach) waits for this handler: release it once the test is done.
        await release.promise;
      }
      if (d.deliveryCount === 2) await d.nak(50);
    });
    await bus.publish('weft.step.dispatch.io', dispatch('a'));
    const lateTerm = await within(first.promise);
    await waitFor(() => counts.length >= 2, 'redelivery');
    await lateTerm();
    await waitFor(() => counts.length >= 3, 'the late term did not finish the message');
    release.resolve();
    expect(await bus.deadLetters()).toEqual([]);
  });

  it('reports a throwing listener to onError and keeps delivering to the others', async () => {
    const ok = deferred<void>();
    await bus.listen('weft.run.cancel', async () => {
      throw new Error('listener bug');
    });
    await bus.listen('weft.run.cancel', async () => ok.resolve());
    await bus.broadcast('weft.run.cancel', { runId: 'r', reason: 'x' });
    await within(ok.promise);
    await waitFor(() => errors.length === 1, 'error reported');
    expect(errors[0]).toMatch(/listener on weft.run.cancel failed/);
  });

  it('uses the injected clock for dead-letter timestamps', async () => {
    await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => d.term('no'));
    await bus.publish('weft.step.dispatch.io', dispatch('a'));
    await waitFor(async () => (await bus.deadLetters()).length === 1, 'dead letter');
    expect((await bus.deadLetters())[0].at).toBe('2025-01-01T00:00:00.000Z');
  });
});

describe('InMemoryBus fair share across runs', () => {
  const order: string[] = [];
  const publishBigThenSmall = async (bus: InMemoryBus) => {
    order.length = 0;
    await bus.consume('weft.step.dispatch.io', { group: 'exec', concurrency: 100 }, async (d) => void order.push(`${d.data.runId}:${d.data.stepId}`));
    for (let i = 0; i < 30; i++) await bus.publish('weft.step.dispatch.io', { ...dispatch(`s${i}`), runId: 'big' });
    await bus.publish('weft.step.dispatch.io', { ...dispatch('a'), runId: 'small' });
    await waitFor(async () => order.length === 31, 'all delivered');
  };

  it('delivers another run’s message in the first turn, not behind a big run’s whole backlog', async () => {
    const bus = new InMemoryBus();
    try {
      await publishBigThenSmall(bus);
      expect(order.indexOf('small:a')).toBe(8);
      // One run's own messages keep their order.
      expect(order.filter((o) => o.startsWith('big:'))).toEqual(Array.from({ length: 30 }, (_, i) => `big:s${i}`));
    } finally {
      await bus.close();
    }
  });

  it('hands a run alone every ready message in one turn', async () => {
    const bus = new InMemoryBus();
    try {
      let firstTurn = -1;
      await bus.consume('weft.step.dispatch.io', { group: 'exec', concurrency: 100 }, async (d) => {
        if (order.length === 0) setImmediate(() => (firstTurn = order.length));
        order.push(`${d.data.runId}:${d.data.stepId}`);
      });
      order.length = 0;
      for (let i = 0; i < 30; i++) await bus.publish('weft.step.dispatch.io', { ...dispatch(`s${i}`), runId: 'big' });
      await waitFor(async () => order.length === 30 && firstTurn >= 0, 'all delivered');
      expect(firstTurn).toBe(30);
    } finally {
      await bus.close();
    }
  });

  it('delivers oldest first when turned off', async () => {
    const bus = new InMemoryBus({ deliveriesPerRunPerTurn: 0 });
    try {
      await publishBigThenSmall(bus);
      expect(order.indexOf('small:a')).toBe(30);
    } finally {
      await bus.close();
    }
  });
});
