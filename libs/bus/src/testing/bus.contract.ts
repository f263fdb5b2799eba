import { LIFECYCLE_BATCH_SUBJECT, type LifecycleEvent, type StepDispatch } from '@weft/contracts';
import { BusError } from '../bus.errors';
import { type Bus, type Delivery } from '../bus.port';
import { barrier, deferred, dispatch, event, heartbeat, pause, range, result, TRACEPARENT, waitFor, waitForDeadLetters, within } from './bus-test.helpers';

/**
 * The one behaviour suite both buses must pass. Each test gets a fresh bus (for
 * JetStream: fresh streams under a unique prefix) and cleans it up.
 */
export interface BusUnderTest {
  bus: Bus;
  cleanup(): Promise<void>;
  /** Puts raw bytes on the wire (JetStream only), to prove malformed JSON is dead-lettered. */
  publishRaw?(subject: string, text: string): Promise<void>;
}

const TEST_TIMEOUT_MS = 20_000;

export function describeBusContract(name: string, makeBus: () => Promise<BusUnderTest>): void {
  describe(`Bus contract: ${name}`, () => {
    let sut: BusUnderTest;
    let bus: Bus;

    beforeEach(async () => {
      sut = await makeBus();
      bus = sut.bus;
    });

    afterEach(async () => {
      await sut.cleanup();
    });

    it('round-trips a message with its headers, even to a group that subscribes after the publish', async () => {
      await bus.publish('weft.step.dispatch.io', dispatch('a'), { msgId: 'r1:a:1', headers: { traceparent: TRACEPARENT, tracestate: 'weft=1' } });
      const got = deferred<Delivery<'weft.step.dispatch.io'>>();
      await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => got.resolve(d));
      const d = await within(got.promise);
      expect(d.subject).toBe('weft.step.dispatch.io');
      expect(d.data).toEqual(dispatch('a'));
      expect(d.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'weft=1', 'Nats-Msg-Id': 'r1:a:1' });
      expect(d.deliveryCount).toBe(1);
    }, TEST_TIMEOUT_MS);

    it('delivers each message of a group to one of its subscribers, and shares the work', async () => {
      const seen: string[] = [];
      const bySubscriber = [0, 0];
      // The first two deliveries wait for each other: only two subscribers working at once can pass.
      const both = barrier(2);
      const subscriber = (i: number) => async (d: Delivery<'weft.step.dispatch.io'>) => {
        seen.push(d.data.stepId);
        bySubscriber[i]++;
        if (seen.length <= 2) await within(both(), 'both subscribers holding a message');
      };
      await bus.consume('weft.step.dispatch.io', { group: 'exec', concurrency: 1 }, subscriber(0));
      await bus.consume('weft.step.dispatch.io', { group: 'exec', concurrency: 1 }, subscriber(1));
      const ids = range(20).map((i) => `s${i}`);
      for (const id of ids) await bus.publish('weft.step.dispatch.io', dispatch(id));
      await waitFor(() => seen.length >= ids.length, 'all messages processed');
      expect([...seen].sort()).toEqual([...ids].sort());
      expect(bySubscriber[0]).toBeGreaterThan(0);
      expect(bySubscriber[1]).toBeGreaterThan(0);
    }, TEST_TIMEOUT_MS);

    it('gives every group on a limits stream every message', async () => {
      const journal: string[] = [];
      const analytics: string[] = [];
      await bus.publish('weft.event.run.started', event('e1', 'run.started'));
      await bus.consume('weft.event.>', { group: 'journal' }, async (d) => void journal.push(d.data.eventId));
      await bus.consume('weft.event.>', { group: 'analytics' }, async (d) => void analytics.push(d.data.eventId));
      await bus.publish('weft.event.step.completed', event('e2', 'step.completed'));
      await bus.publish('weft.event.run.completed', event('e3', 'run.completed'));
      await waitFor(() => journal.length >= 3 && analytics.length >= 3, 'both groups got all events');
      expect(journal).toEqual(['e1', 'e2', 'e3']);
      expect(analytics).toEqual(['e1', 'e2', 'e3']);
    }, TEST_TIMEOUT_MS);

    it('hands each event of a lifecycle batch to a `weft.event.>` group as its own delivery, in order, beside single events', async () => {
      const seen: string[] = [];
      await bus.consume('weft.event.>', { group: 'journal' }, async (d) => void seen.push(`${d.subject} ${d.data.eventId}`));
      await bus.publish('weft.event.run.queued', event('e1', 'run.queued'));
      await publishBatch(bus, [event('e2', 'step.completed'), event('e3', 'step.queued'), event('e4', 'run.completed')]);
      await bus.publish('weft.event.run.started', event('e5', 'run.started'));
      await waitFor(() => seen.length >= 5, 'every event delivered');
      expect(seen).toEqual(['weft.event.run.queued e1', 'weft.event.step.completed e2', 'weft.event.step.queued e3', 'weft.event.run.completed e4', 'weft.event.run.started e5']);
      await waitFor(async () => (await bus.consumerStats()).every((c) => c.pending === 0 && c.ackPending === 0), 'the batch acknowledged');
      expect(await bus.deadLetters()).toEqual([]);
    }, TEST_TIMEOUT_MS);

    it('delivers a whole batch again when one of its events throws or naks, and acks it once every event is handled', async () => {
      const seen: string[] = [];
      await bus.consume('weft.event.>', { group: 'journal' }, async (d) => {
        seen.push(`${d.data.eventId}#${d.deliveryCount}`);
        if (d.data.eventId === 'b2' && d.deliveryCount === 1) throw new Error('database away');
        if (d.data.eventId === 'c1' && d.deliveryCount === 1) await d.nak(100);
      });
      await publishBatch(bus, [event('b1', 'step.completed'), event('b2', 'step.queued')]);
      await publishBatch(bus, [event('c1', 'step.completed'), event('c2', 'run.completed')]);
      await waitFor(() => seen.includes('b2#2') && seen.includes('c2#2'), 'both batches delivered again');
      await waitFor(async () => (await bus.consumerStats()).every((c) => c.pending === 0 && c.ackPending === 0), 'both batches acknowledged');
      expect([...seen].sort()).toEqual(['b1#1', 'b1#2', 'b2#1', 'b2#2', 'c1#1', 'c1#2', 'c2#1', 'c2#2']);
      expect(await bus.deadLetters()).toEqual([]);
    }, TEST_TIMEOUT_MS);

    it('dead-letters a malformed batch without handing any of it over, and a batch one of whose events is termed', async () => {
      const seen: string[] = [];
      await bus.consume('weft.event.>', { group: 'journal' }, async (d) => {
        seen.push(d.data.eventId);
        if (d.data.eventId === 't2') await d.term('cannot apply');
      });
      await publishBatch(bus, [event('m1', 'step.completed'), { eventId: 'm2' } as LifecycleEvent]);
      await publishBatch(bus, []);
      await publishBatch(bus, [event('t1', 'step.completed'), event('t2', 'step.queued')]);
      await bus.publish('weft.event.run.completed', event('after', 'run.completed'));
      await waitFor(() => seen.includes('after'), 'the single event after the batches');
      const dead = await waitForDeadLetters(bus, 3);
      expect([...seen].sort()).toEqual(['after', 't1', 't2']);
      expect(dead.map((d) => d.subject)).toEqual([LIFECYCLE_BATCH_SUBJECT, LIFECYCLE_BATCH_SUBJECT, LIFECYCLE_BATCH_SUBJECT]);
      const holding = (id: string) => dead.find((d) => (JSON.parse(d.payload) as { events: { eventId: string }[] }).events.some((e) => e.eventId === id));
      expect(holding('m2')?.reason).toMatch(/contract violation.*events\.1\.type/);
      expect(JSON.parse(holding('m2')?.payload ?? '')).toEqual({ events: [event('m1', 'step.completed'), { eventId: 'm2' }] });
      expect(dead.find((d) => d.payload === '{"events":[]}')?.reason).toMatch(/contract violation.*events/);
      expect(holding('t2')).toMatchObject({ group: 'journal', reason: 't2: cannot apply', deliveryCount: 1 });
      expect(JSON.parse(holding('t2')?.payload ?? '')).toEqual({ events: [event('t1', 'step.completed'), event('t2', 'step.queued')] });
    }, TEST_TIMEOUT_MS);

    it("starts a 'new' group at the end of the stream: nothing stored before it, everything after", async () => {
      const live: string[] = [];
      const durable: string[] = [];
      await bus.publish('weft.event.run.started', event('before', 'run.started'));
      await bus.consume('weft.event.>', { group: 'api', startAt: 'new' }, async (d) => void live.push(d.data.eventId));
      await bus.consume('weft.event.>', { group: 'journal', startAt: 'first' }, async (d) => void durable.push(d.data.eventId));
      await bus.publish('weft.event.step.completed', event('after1', 'step.completed'));
      await bus.publish('weft.event.run.completed', event('after2', 'run.completed'));
      await waitFor(() => live.length >= 2 && durable.length >= 3, 'both groups caught up');
      expect(live).toEqual(['after1', 'after2']);
      expect(durable).toEqual(['before', 'after1', 'after2']);
    }, TEST_TIMEOUT_MS);

    it("forgets a 'new' group with its last subscriber: a later one starts at the then end, a durable one resumes", async () => {
      const first: string[] = [];
      const journal: string[] = [];
      const sub = await bus.consume('weft.event.>', { group: 'api', startAt: 'new' }, async (d) => void first.push(d.data.eventId));
      const durable = await bus.consume('weft.event.>', { group: 'journal' }, async (d) => void journal.push(d.data.eventId));
      await bus.publish('weft.event.run.started', event('e1', 'run.started'));
      await waitFor(() => first.length >= 1 && journal.length >= 1, 'first event in both groups');
      await sub.drain();
      await durable.drain();
      await waitFor(async () => (await bus.consumerStats()).every((s) => s.group !== 'api'), 'the live group gone from the stats');

      await bus.publish('weft.event.step.completed', event('while-away', 'step.completed'));
      const again: string[] = [];
      const resumed: string[] = [];
      await bus.consume('weft.event.>', { group: 'api', startAt: 'new' }, async (d) => void again.push(d.data.eventId));
      await bus.consume('weft.event.>', { group: 'journal' }, async (d) => void resumed.push(d.data.eventId));
      await bus.publish('weft.event.run.completed', event('e3', 'run.completed'));
      await waitFor(() => again.length >= 1 && resumed.length >= 2, 'events after the restart');
      expect(first).toEqual(['e1']);
      expect(again).toEqual(['e3']);
      expect(resumed).toEqual(['while-away', 'e3']);
    }, TEST_TIMEOUT_MS);

    it("refuses startAt 'new' on a work-queue subject", async () => {
      await expect(bus.consume('weft.step.dispatch.io', { group: 'exec', startAt: 'new' }, async () => undefined)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
      await expect(bus.consume('weft.event.>', { group: 'api', startAt: 'later' as never }, async () => undefined)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
      // Nothing was created: the work queue still takes its one group.
      await bus.consume('weft.step.dispatch.>', { group: 'exec' }, async () => undefined);
    }, TEST_TIMEOUT_MS);

    it('refuses a second group on a work-queue subject, as a work queue allows one consumer per subject', async () => {
      await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async () => undefined);
      await expect(bus.consume('weft.step.dispatch.>', { group: 'other' }, async () => undefined)).rejects.toMatchObject({ code: 'CONSUMER_CONFLICT' });
      // A disjoint queue is fine.
      await bus.consume('weft.step.dispatch.cpu', { group: 'other' }, async () => undefined);
    }, TEST_TIMEOUT_MS);

    it('redelivers after nak(delay), not before', async () => {
      const deliveries: Array<{ count: number; at: number }> = [];
      await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => {
        deliveries.push({ count: d.deliveryCount, at: Date.now() });
        if (d.deliveryCount === 1) await d.nak(400);
      });
      await bus.publish('weft.step.dispatch.io', dispatch('a'));
      await waitFor(() => deliveries.length >= 2, 'redelivery after nak');
      expect(deliveries.map((d) => d.count)).toEqual([1, 2]);
      expect(deliveries[1].at - deliveries[0].at).toBeGreaterThanOrEqual(300);
    }, TEST_TIMEOUT_MS);

    it('redelivers after the ack wait when a handler neither acks nor returns, and working() holds it off', async () => {
      const release = deferred<void>();
      const counts: number[] = [];
      await bus.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 300, concurrency: 2 }, async (d) => {
        counts.push(d.deliveryCount);
        if (d.deliveryCount === 1) await release.promise;
      });
      await bus.publish('weft.step.dispatch.io', dispatch('hung'));
      await waitFor(() => counts.length >= 2, 'redelivery after ack wait');
      release.resolve();
      expect(counts).toEqual([1, 2]);

      const slow: number[] = [];
      let slowDone = false;
      await bus.consume('weft.step.dispatch.slow', { group: 'exec', ackWaitMs: 300, concurrency: 2 }, async (d) => {
        slow.push(d.deliveryCount);
        // Three ack waits of work, kept alive by progress reports; without them a redelivery lands meanwhile.
        for (let i = 0; i < 9; i++) {
          await pause(100);
          await d.working();
        }
        slowDone = true;
      });
      await bus.publish('weft.step.dispatch.slow', dispatch('slow', 'slow'));
      await waitFor(() => slowDone, 'slow step finished');
      expect(slow).toEqual([1]);
    }, TEST_TIMEOUT_MS);

    it('dead-letters a termed message with a record, never redelivers it, and keeps the rest flowing', async () => {
      const seen: string[] = [];
      await bus.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 300 }, async (d) => {
        seen.push(`${d.data.stepId}#${d.deliveryCount}`);
        if (d.data.stepId === 'bad') await d.term('input rejected');
        if (d.data.stepId === 'probe' && d.deliveryCount === 1) await d.nak(900);
      });
      await bus.publish('weft.step.dispatch.io', dispatch('bad'));
      await bus.publish('weft.step.dispatch.io', dispatch('good'));
      // The probe comes back after three ack waits: time enough for a wrongly kept message to return.
      await bus.publish('weft.step.dispatch.io', dispatch('probe'));
      await waitFor(() => seen.includes('probe#2'), 'probe redelivered');
      expect(seen.filter((s) => s.startsWith('bad'))).toEqual(['bad#1']);
      expect(seen).toContain('good#1');
      const dead = await waitForDeadLetters(bus, 1);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ subject: 'weft.step.dispatch.io', group: 'exec', reason: 'input rejected', deliveryCount: 1 });
      expect(JSON.parse(dead[0].payload)).toEqual(dispatch('bad'));
      expect(Number.isNaN(Date.parse(dead[0].at))).toBe(false);
    }, TEST_TIMEOUT_MS);

    it('dead-letters a payload that breaks its contract without handing it over, and keeps the rest flowing', async () => {
      const seen: string[] = [];
      await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => void seen.push(d.data.stepId));
      // A publisher bypassing the types: the bus must not throw at it, nor drop the message silently.
      await bus.publish('weft.step.dispatch.io', { stepId: 'broken', attempt: 0 } as unknown as StepDispatch);
      if (sut.publishRaw) await sut.publishRaw('weft.step.dispatch.io', '{"stepId": "truncated');
      await bus.publish('weft.step.dispatch.io', dispatch('good'));
      await waitFor(() => seen.includes('good'), 'good message delivered');
      const expected = sut.publishRaw ? 2 : 1;
      const dead = await waitForDeadLetters(bus, expected);
      expect(seen).toEqual(['good']);
      expect(dead).toHaveLength(expected);
      expect(dead[0]).toMatchObject({ subject: 'weft.step.dispatch.io', group: 'exec', deliveryCount: 1 });
      expect(dead[0].reason).toMatch(/contract violation.*runId/);
      expect(JSON.parse(dead[0].payload)).toEqual({ stepId: 'broken', attempt: 0 });
      if (sut.publishRaw) {
        expect(dead[1].reason).toMatch(/malformed JSON/);
        expect(dead[1].payload).toBe('{"stepId": "truncated');
      }
    }, TEST_TIMEOUT_MS);

    it('drops a second publish with the same msgId', async () => {
      const seen: string[] = [];
      await bus.publish('weft.step.dispatch.io', dispatch('a'), { msgId: 'r1:a:1' });
      await bus.publish('weft.step.dispatch.io', dispatch('a-again'), { msgId: 'r1:a:1' });
      await bus.publish('weft.step.dispatch.io', dispatch('b'), { msgId: 'r1:b:1' });
      await bus.consume('weft.step.dispatch.io', { group: 'exec', concurrency: 1 }, async (d) => void seen.push(d.data.stepId));
      await waitFor(() => seen.includes('b'), 'last message delivered');
      expect(seen).toEqual(['a', 'b']);
    }, TEST_TIMEOUT_MS);

    it('dead-letters a message once maxDeliver deliveries have failed', async () => {
      const counts: number[] = [];
      await bus.consume('weft.step.result', { group: 'scheduler', maxDeliver: 3 }, async (d) => {
        counts.push(d.deliveryCount);
        throw new Error(`boom ${d.deliveryCount}`);
      });
      await bus.publish('weft.step.result', result('a'));
      const dead = await waitForDeadLetters(bus, 1);
      expect(counts).toEqual([1, 2, 3]);
      expect(dead[0]).toMatchObject({ subject: 'weft.step.result', group: 'scheduler', deliveryCount: 3 });
      expect(dead[0].reason).toMatch(/boom 3/);
    }, TEST_TIMEOUT_MS);

    it('dead-letters a message whose last delivery timed out', async () => {
      const counts: number[] = [];
      const never = deferred<void>();
      await bus.consume('weft.step.heartbeat', { group: 'scheduler', maxDeliver: 2, ackWaitMs: 300, concurrency: 4 }, async (d) => {
        counts.push(d.deliveryCount);
        await never.promise;
      });
      await bus.publish('weft.step.heartbeat', heartbeat('a'));
      const dead = await waitForDeadLetters(bus, 1);
      never.resolve();
      expect(counts).toEqual([1, 2]);
      expect(dead[0]).toMatchObject({ subject: 'weft.step.heartbeat', group: 'scheduler', deliveryCount: 2 });
      expect(dead[0].reason).toMatch(/ack wait/);
    }, TEST_TIMEOUT_MS);

    it('holds at most `concurrency` messages in flight per subscriber', async () => {
      let inFlight = 0;
      let peak = 0;
      let done = 0;
      for (let i = 0; i < 12; i++) await bus.publish('weft.step.dispatch.io', dispatch(`s${i}`));
      await bus.consume('weft.step.dispatch.io', { group: 'exec', concurrency: 3 }, async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await pause(30);
        inFlight--;
        done++;
      });
      await waitFor(() => done === 12, 'all processed');
      expect(peak).toBe(3);
    }, TEST_TIMEOUT_MS);

    it('reports each consumer of this process with its undelivered and unacknowledged messages', async () => {
      const release = deferred<void>();
      let handled = 0;
      await bus.consume('weft.step.dispatch.io', { group: 'exec', concurrency: 1 }, async () => {
        await release.promise;
        handled++;
      });
      for (const id of ['a', 'b', 'c']) await bus.publish('weft.step.dispatch.io', dispatch(id));
      const stats = async () => (await bus.consumerStats()).find((s) => s.group === 'exec');
      await waitFor(async () => (await stats())?.ackPending === 1 && (await stats())?.pending === 2, 'one in flight, two waiting');
      expect(await stats()).toEqual({ name: 'exec__weft_step_dispatch_io', group: 'exec', filter: 'weft.step.dispatch.io', pending: 2, ackPending: 1 });
      release.resolve();
      await waitFor(() => handled === 3, 'all handled');
      await waitFor(async () => (await stats())?.pending === 0 && (await stats())?.ackPending === 0, 'backlog cleared');
    }, TEST_TIMEOUT_MS);

    it('drain() waits for in-flight handlers and stops delivery; the group keeps its messages', async () => {
      const release = deferred<void>();
      const started = deferred<void>();
      let finished = false;
      const first: string[] = [];
      const sub = await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => {
        first.push(d.data.stepId);
        started.resolve();
        await release.promise;
        finished = true;
      });
      await bus.publish('weft.step.dispatch.io', dispatch('a'));
      await within(started.promise);
      let drained = false;
      const draining = sub.drain().then(() => (drained = true));
      await pause(50);
      expect(drained).toBe(false);
      release.resolve();
      await within(draining);
      expect(finished).toBe(true);

      await bus.publish('weft.step.dispatch.io', dispatch('b'));
      const second = deferred<string>();
      await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => second.resolve(d.data.stepId));
      expect(await within(second.promise)).toBe('b');
      expect(first).toEqual(['a']);
    }, TEST_TIMEOUT_MS);

    it('broadcasts to every listener, and dead-letters a broadcast that breaks its contract', async () => {
      const a = deferred<string>();
      const b = deferred<string>();
      await bus.listen('weft.run.cancel', async (m, h) => a.resolve(`${m.runId}:${h.traceparent}`));
      await bus.listen('weft.run.cancel', async (m) => b.resolve(m.runId));
      await bus.broadcast('weft.run.cancel', { runId: 'r1', reason: 'user' }, { headers: { traceparent: TRACEPARENT } });
      expect(await within(a.promise)).toBe(`r1:${TRACEPARENT}`);
      expect(await within(b.promise)).toBe('r1');

      // Each listener rejects it on its own, as each would on separate processes.
      await bus.broadcast('weft.run.cancel', { reason: 'no run id' } as never);
      const dead = await waitForDeadLetters(bus, 2);
      expect(dead).toHaveLength(2);
      for (const d of dead) {
        expect(d).toMatchObject({ subject: 'weft.run.cancel', payload: '{"reason":"no run id"}', deliveryCount: 1 });
        expect(d.group).toBeUndefined();
        expect(d.reason).toMatch(/contract violation.*runId/);
      }
    }, TEST_TIMEOUT_MS);

    it('rejects what JetStream would reject, with named errors', async () => {
      await expect(bus.publish('weft.run.cancel', { runId: 'r', reason: 'x' })).rejects.toMatchObject({ code: 'NO_STREAM' });
      await expect(bus.publish('weft.step.dispatch.*', dispatch('a'))).rejects.toMatchObject({ code: 'INVALID_SUBJECT' });
      await expect(bus.consume('weft.step.result', { group: 'a.b' }, async () => undefined)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
      await expect(bus.consume('weft.step.result', { group: 'g', concurrency: 0 }, async () => undefined)).rejects.toBeInstanceOf(BusError);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(bus.publish('weft.step.result', cyclic as never)).rejects.toMatchObject({ code: 'UNSERIALISABLE' });
    }, TEST_TIMEOUT_MS);

    it('reports health, and refuses work once closed', async () => {
      await bus.consume('weft.step.result', { group: 'scheduler' }, async () => undefined);
      await expect(bus.health()).resolves.toMatchObject({ ok: true });
      await bus.close();
      await expect(bus.health()).resolves.toMatchObject({ ok: false });
      await expect(bus.publish('weft.step.result', result('a'))).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    }, TEST_TIMEOUT_MS);
  });
}

/** A batch as the scheduler publishes it (not in MessageMap: consumers never see the batch type). */
function publishBatch(bus: Bus, events: LifecycleEvent[]): Promise<void> {
  return bus.publish(LIFECYCLE_BATCH_SUBJECT, { events } as never);
}
