import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { inSpan, installInMemoryTracing, metricValue, PUBLISHED_AT_HEADER, renderMetrics, traceIdOf } from '@weft/telemetry';
import { deferred, dispatch, waitFor, within } from './testing';
import type { Delivery, Headers } from './bus.port';
import { InMemoryBus } from './in-memory.bus';

const tracing = installInMemoryTracing();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('bus telemetry (InMemoryBus with a real tracer)', () => {
  let bus: InMemoryBus;

  beforeEach(() => {
    tracing.reset();
    bus = new InMemoryBus({ errorNakDelayMs: 10 });
  });

  afterEach(async () => {
    await bus.close();
  });

  it('publishes inside a PRODUCER span whose context travels in traceparent, and handles inside a CONSUMER span of the same trace', async () => {
    const got = deferred<{ headers: Headers; traceId: string | undefined }>();
    await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => got.resolve({ headers: d.headers, traceId: traceIdOf() }));
    const traceId = await inSpan('caller', {}, async () => {
      await bus.publish('weft.step.dispatch.io', dispatch('a'), { msgId: 'r1:a:1' });
      return traceIdOf();
    });
    const { headers, traceId: handlerTraceId } = await within(got.promise);
    await waitFor(() => tracing.spans().some((s) => s.name === 'process weft.step.dispatch.io'), 'consumer span ended');

    const producer = tracing.spans().find((s) => s.name === 'send weft.step.dispatch.io');
    const consumer = tracing.spans().find((s) => s.name === 'process weft.step.dispatch.io');
    expect(producer?.kind).toBe(SpanKind.PRODUCER);
    expect(consumer?.kind).toBe(SpanKind.CONSUMER);
    const [, headerTrace, headerSpan] = TRACEPARENT.exec(headers.traceparent) ?? [];
    expect(headerTrace).toBe(traceId);
    expect(headerSpan).toBe(producer?.spanContext().spanId);
    expect(handlerTraceId).toBe(traceId);
    expect(consumer?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
    expect(producer?.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': 'weft.step.dispatch.io', 'messaging.message.id': 'r1:a:1' });
    expect(consumer?.attributes).toMatchObject({ 'messaging.consumer.group.name': 'exec', 'weft.delivery_count': 1 });
    expect(Number(headers[PUBLISHED_AT_HEADER])).toBeGreaterThan(Date.now() - 10_000);
  });

  it('replaces a stale traceparent given by the caller with its own span', async () => {
    const got = deferred<Headers>();
    await bus.consume('weft.step.result', { group: 'scheduler' }, async (d) => got.resolve(d.headers));
    const stale = '00-11111111111111111111111111111111-2222222222222222-01';
    await inSpan('caller', {}, () => bus.publish('weft.step.result', result(), { headers: { traceparent: stale } }));
    const headers = await within(got.promise);
    expect(headers.traceparent).not.toBe(stale);
    expect(headers.traceparent).toMatch(TRACEPARENT);
  });

  it('starts a new trace for a message that carries none', async () => {
    const got = deferred<string | undefined>();
    await bus.consume('weft.step.result', { group: 'scheduler' }, async () => got.resolve(traceIdOf()));
    await bus.publish('weft.step.result', result());
    expect(await within(got.promise)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('marks the CONSUMER span of a failing handler as an error and counts the redelivery', async () => {
    const subject = 'weft.step.dispatch.io';
    const before = (await metricValue('weft_redeliveries_total', { subject })) ?? 0;
    const deliveries: Delivery<typeof subject>[] = [];
    await bus.consume(subject, { group: 'exec' }, async (d) => {
      deliveries.push(d);
      if (d.deliveryCount === 1) throw new Error('first time fails');
    });
    await bus.publish(subject, dispatch('a'));
    await waitFor(() => deliveries.length === 2, 'redelivery');
    await waitFor(() => tracing.spans().filter((s) => s.name === `process ${subject}`).length === 2, 'both consumer spans');
    const [first, second] = tracing.spans().filter((s) => s.name === `process ${subject}`);
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(first.events.map((e) => e.name)).toContain('exception');
    expect(second.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(await metricValue('weft_redeliveries_total', { subject })).toBe(before + 1);
  });

  it('counts dead letters by subject', async () => {
    const subject = 'weft.step.result';
    await bus.consume(subject, { group: 'scheduler' }, async (d) => d.term('poison'));
    await bus.publish(subject, result());
    await waitFor(async () => (await bus.deadLetters()).length === 1, 'dead letter');
    expect(await metricValue('weft_dead_letters_total', { subject })).toBe(1);
  });

  it('continues the trace of a broadcast in its listeners', async () => {
    const got = deferred<string | undefined>();
    await bus.listen('weft.run.cancel', () => got.resolve(traceIdOf()));
    const traceId = await inSpan('caller', {}, async () => {
      await bus.broadcast('weft.run.cancel', { runId: 'r1', reason: 'user' });
      return traceIdOf();
    });
    expect(await within(got.promise)).toBe(traceId);
  });

  it('exposes each consumer backlog as weft_consumer_pending on scrape, and stops after close', async () => {
    const release = deferred<void>();
    await bus.consume('weft.step.dispatch.io', { group: 'exec', concurrency: 1 }, () => release.promise);
    for (const id of ['a', 'b', 'c']) await bus.publish('weft.step.dispatch.io', dispatch(id));
    await waitFor(async () => (await bus.consumerStats())[0]?.ackPending === 1, 'one in flight');
    expect(await renderMetrics()).toContain('weft_consumer_pending{consumer="exec__weft_step_dispatch_io"} 3');
    release.resolve();
    await bus.close();
    expect(await renderMetrics()).not.toContain('consumer="exec__weft_step_dispatch_io"');
  });
});

function result() {
  return { outcome: 'completed' as const, runId: 'r1', stepId: 'a', attempt: 1, token: 'tok', workerId: 'w1', output: null };
}
