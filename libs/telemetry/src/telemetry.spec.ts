import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type InMemoryTracing, installInMemoryTracing } from './in-memory.tracing';
import { PUBLISHED_AT_HEADER, secondsSincePublished, withConsumerSpan, withProducerSpan } from './messaging.tracing';
import {
  addSampleSource,
  metricValue,
  recordConsumerLag,
  recordDeadLetter,
  recordStepAttempt,
  renderMetrics,
  sharedSample,
  STEP_DURATION_BUCKETS,
} from './metrics';
import { carrierOf, extractTrace, injectTrace, inSpan, spanContextOf, traceIdOf, tracingRecords, underCarrier } from './trace-context.util';
import { tracingWanted } from './tracing';

describe('tracingWanted: off unless an exporter has somewhere to go', () => {
  it.each([
    [{}, false],
    [{ OTEL_SERVICE_NAME: 'x' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
  ])('%j -> %s', (env, wanted) => {
    expect(tracingWanted(env)).toBe(wanted);
  });
});

describe('propagation through message headers, tracing off', () => {
  it('passes headers through unchanged and yields no trace', () => {
    // No provider or propagator registered yet in this file: the API is a no-op.
    expect(injectTrace({ a: '1' })).toEqual({ a: '1' });
    expect(traceIdOf(extractTrace({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }))).toBeUndefined();
  });

  it('starts no span and makes no span context while no tracer provider is registered', async () => {
    expect(tracingRecords()).toBe(false);
    const getTracer = jest.spyOn(trace, 'getTracer');
    const setSpan = jest.spyOn(trace, 'setSpan');
    try {
      let wire: Record<string, string> = {};
      await withProducerSpan({ subject: 's', operation: 'send', msgId: 'm', headers: { a: '1' } }, async (headers) => void (wire = headers));
      expect(wire).toEqual({ a: '1', [PUBLISHED_AT_HEADER]: expect.any(String) });
      await expect(withConsumerSpan({ subject: 's', headers: wire }, async () => 'handled')).resolves.toBe('handled');
      await expect(withConsumerSpan({ subject: 's', headers: wire }, async () => Promise.reject(new Error('broke')))).rejects.toThrow('broke');
      await expect(
        withProducerSpan({ subject: 's', operation: 'send' }, () => {
          throw new Error('sync throw');
        }),
      ).rejects.toThrow('sync throw');
      await expect(inSpan('step', {}, async (span) => span.isRecording())).resolves.toBe(false);
      await expect(inSpan('step', { parent: extractTrace(wire) }, async () => Promise.reject(new Error('work broke')))).rejects.toThrow('work broke');
      expect(getTracer).not.toHaveBeenCalled();
      expect(setSpan).not.toHaveBeenCalled();
    } finally {
      getTracer.mockRestore();
      setSpan.mockRestore();
    }
  });

  it('still passes an upstream traceparent on when a propagator and context manager are registered but no provider', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      expect(tracingRecords()).toBe(false);
      const upstream = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      let wire: Record<string, string> = {};
      await withConsumerSpan({ subject: 'in', headers: { traceparent: upstream, tracestate: 'vendor=abc' } }, () =>
        withProducerSpan({ subject: 'out', operation: 'send' }, async (headers) => void (wire = headers)),
      );
      expect(wire).toMatchObject({ traceparent: upstream, tracestate: 'vendor=abc' });
      const carried = await inSpan('step', { parent: extractTrace({ traceparent: upstream }) }, async (span) => ({ headers: injectTrace(), carrier: carrierOf(span) }));
      expect(carried).toEqual({ headers: { traceparent: upstream }, carrier: { traceparent: upstream } });
    } finally {
      // Leave the API as it was, for installInMemoryTracing below.
      propagation.disable();
      context.disable();
    }
  });
});

describe('with a tracer', () => {
  let tracing: InMemoryTracing;
  // In a hook, not at collection: the test above must run before any provider exists.
  beforeAll(() => {
    tracing = installInMemoryTracing();
  });
  beforeEach(() => tracing.reset());

  it('injects the active span as traceparent and extracts it back as the parent', async () => {
    const { headers, traceId, spanId } = await inSpan('outer', {}, async (span) => ({
      headers: injectTrace({ other: 'kept' }),
      traceId: traceIdOf(),
      spanId: span.spanContext().spanId,
    }));
    expect(headers).toEqual({ other: 'kept', traceparent: `00-${traceId}-${spanId}-01` });
    const extracted = trace.getSpanContext(extractTrace(headers));
    expect(extracted).toMatchObject({ traceId, spanId, isRemote: true });
    expect(spanContextOf(headers)?.traceId).toBe(traceId);
    expect(spanContextOf({ traceparent: 'garbage' })).toBeUndefined();
    expect(extractTrace(undefined)).toBe(extractTrace({}));
  });

  it('keeps tracestate alongside traceparent', async () => {
    const withState = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const parent = extractTrace({ traceparent: withState, tracestate: 'vendor=abc' });
    const headers = await inSpan('child', { parent }, async () => injectTrace());
    expect(headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(headers.tracestate).toBe('vendor=abc');
  });

  it('keeps a span context for later: carrierOf and underCarrier', async () => {
    const carrier = await inSpan('run', {}, async (span) => carrierOf(span));
    const later = await underCarrier(carrier, () => inSpan('later', {}, async () => traceIdOf()));
    expect(later).toBe(carrier.traceparent.split('-')[1]);
    const [, later2] = tracing.spans().map((s) => s.name);
    expect(later2).toBe('later');
  });

  it('links a producer and a consumer through the headers, and records failures', async () => {
    let wire: Record<string, string> = {};
    await inSpan('caller', {}, () => withProducerSpan({ subject: 'weft.step.result', operation: 'send', msgId: 'm1' }, async (headers) => void (wire = headers)));
    expect(Number(wire[PUBLISHED_AT_HEADER])).toBeLessThanOrEqual(Date.now());
    await expect(
      withConsumerSpan({ subject: 'weft.step.result', headers: wire, group: 'g', deliveryCount: 2 }, async () => {
        throw new Error('handler broke');
      }),
    ).rejects.toThrow('handler broke');
    const producer = tracing.spans().find((s) => s.name === 'send weft.step.result');
    const consumer = tracing.spans().find((s) => s.name === 'process weft.step.result');
    expect(consumer?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
    expect(consumer?.status).toMatchObject({ code: 2, message: 'handler broke' });
    expect(consumer?.attributes).toMatchObject({ 'messaging.consumer.group.name': 'g', 'weft.delivery_count': 2 });
    // The consumer does not inherit whatever was active when it was called.
    await inSpan('unrelated', {}, () => withConsumerSpan({ subject: 'weft.step.result', headers: {} }, async () => undefined));
    const orphan = tracing.spans().filter((s) => s.name === 'process weft.step.result')[1];
    expect(orphan.parentSpanContext).toBeUndefined();
  });

  it('records spans once a provider is registered after the helpers were first used without one', async () => {
    // The 'tracing off' tests above ran these helpers with no provider; the check is made per call.
    expect(tracingRecords()).toBe(true);
    let wire: Record<string, string> = {};
    await withProducerSpan({ subject: 'late', operation: 'send' }, async (headers) => void (wire = headers));
    await withConsumerSpan({ subject: 'late', headers: wire }, () => inSpan('late step', {}, async () => undefined));
    const named = (name: string) => tracing.spans().find((s) => s.name === name);
    const [producer, consumer, step] = [named('send late'), named('process late'), named('late step')];
    expect(step?.parentSpanContext?.spanId).toBe(consumer?.spanContext().spanId);
    expect(producer?.name).toBe('send late');
    expect(wire.traceparent).toBe(`00-${producer?.spanContext().traceId}-${producer?.spanContext().spanId}-01`);
    expect(consumer?.name).toBe('process late');
    expect(consumer?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
  });

  it('measures time since publish from the header', () => {
    expect(secondsSincePublished({ [PUBLISHED_AT_HEADER]: '1000' }, 3500)).toBe(2.5);
    expect(secondsSincePublished({ [PUBLISHED_AT_HEADER]: '9000' }, 3500)).toBe(0);
    expect(secondsSincePublished({ [PUBLISHED_AT_HEADER]: 'x' }, 3500)).toBeUndefined();
    expect(secondsSincePublished({}, 3500)).toBeUndefined();
  });
});

describe('metrics', () => {
  it('records step attempts into the histogram buckets and the outcome counter', async () => {
    recordStepAttempt({ workflow: 'w', action: 'a', status: 'completed', outcome: 'completed', durationSeconds: 42 });
    recordStepAttempt({ workflow: 'w', action: 'a', status: 'failed', outcome: 'timed_out', durationSeconds: 7200 });
    expect(await metricValue('weft_step_attempts_total', { workflow: 'w', action: 'a', outcome: 'completed' })).toBe(1);
    expect(await metricValue('weft_step_attempts_total', { workflow: 'w', action: 'a', outcome: 'timed_out' })).toBe(1);
    const text = await renderMetrics();
    expect(text).toContain('weft_step_duration_seconds_bucket{le="15",workflow="w",action="a",status="completed"} 0');
    expect(text).toContain('weft_step_duration_seconds_bucket{le="60",workflow="w",action="a",status="completed"} 1');
    expect(text).toContain('weft_step_duration_seconds_bucket{le="3600",workflow="w",action="a",status="failed"} 0');
    expect(text).toContain('weft_step_duration_seconds_bucket{le="14400",workflow="w",action="a",status="failed"} 1');
    expect(STEP_DURATION_BUCKETS.at(-1)).toBe(14_400);
  });

  it('computes consumer lag on scrape from the last event time, never below zero, ignoring bad and older times', async () => {
    expect(await metricValue('weft_journal_lag_seconds')).toBeUndefined();
    recordConsumerLag('journal', new Date(Date.now() - 2_000).toISOString());
    const lag = (await metricValue('weft_journal_lag_seconds')) ?? -1;
    expect(lag).toBeGreaterThanOrEqual(2);
    expect(lag).toBeLessThan(10);
    // A redelivered older event does not make the reader look further behind.
    recordConsumerLag('journal', Date.now() - 60_000);
    expect(await metricValue('weft_journal_lag_seconds')).toBeLessThan(10);
    // It keeps growing while nothing new is applied.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await metricValue('weft_journal_lag_seconds')).toBeGreaterThan(lag);
    recordConsumerLag('analytics', Date.now() + 60_000);
    expect(await metricValue('weft_analytics_lag_seconds')).toBe(0);
    recordConsumerLag('analytics', 'not a date');
    expect(await metricValue('weft_analytics_lag_seconds')).toBe(0);
  });

  it('samples gauges on scrape from every source, skips a failing one and counts it, and forgets removed ones', async () => {
    const removeA = addSampleSource('weft_queue_depth', () => [{ labels: { queue: 'a' }, value: 3 }]);
    const removeBroken = addSampleSource('weft_queue_depth', async () => {
      throw new Error('broker away');
    });
    addSampleSource('weft_queue_depth', async () => [{ labels: { queue: 'b' }, value: 5 }]);
    let text = await renderMetrics();
    expect(text).toContain('weft_queue_depth{queue="a"} 3');
    expect(text).toContain('weft_queue_depth{queue="b"} 5');
    expect(await metricValue('weft_metric_sample_errors_total', { metric: 'weft_queue_depth' })).toBe(1);
    removeA();
    removeBroken();
    text = await renderMetrics();
    expect(text).not.toContain('weft_queue_depth{queue="a"}');
    expect(text).toContain('weft_queue_depth{queue="b"} 5');
  });

  it('reports nothing rather than 0 for an unlabelled gauge whose source failed', async () => {
    const remove = addSampleSource('weft_outbox_backlog', async () => {
      throw new Error('database away');
    });
    expect(await renderMetrics()).not.toMatch(/^weft_outbox_backlog /m);
    remove();
  });

  it('shares one read between gauges within its time to live, and does not keep a failed read', async () => {
    let reads = 0;
    let fail = false;
    const read = sharedSample(async () => {
      reads++;
      if (fail) throw new Error('down');
      return reads;
    }, 60_000);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    const expired = sharedSample(async () => ++reads, 0);
    await expired();
    await new Promise((resolve) => setTimeout(resolve, 2));
    await expired();
    expect(reads).toBe(3);
    fail = true;
    const failing = sharedSample(async () => {
      reads++;
      if (fail) throw new Error('down');
      return reads;
    }, 60_000);
    await expect(failing()).rejects.toThrow('down');
    fail = false;
    await expect(failing()).resolves.toBe(5);
  });

  it('counts dead letters by subject', async () => {
    recordDeadLetter('weft.step.result');
    recordDeadLetter('weft.step.result');
    expect(await metricValue('weft_dead_letters_total', { subject: 'weft.step.result' })).toBe(2);
  });
});
