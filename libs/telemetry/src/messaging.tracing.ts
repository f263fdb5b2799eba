import { type Attributes, context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { extractTrace, injectTrace, markFailed, type TraceCarrier, tracer, tracingRecords } from './trace-context.util';

/** Epoch ms at which the bus handed a message to the broker; the executor measures dispatch latency with it. */
export const PUBLISHED_AT_HEADER = 'weft-published-at';

export interface ProducerInfo {
  subject: string;
  /** `send` to a stream, or a fire-and-forget `broadcast`. */
  operation: 'send' | 'broadcast';
  msgId?: string;
  headers?: TraceCarrier;
}

/**
 * A PRODUCER span around one publish, as a child of the active context; `send` gets the
 * headers to put on the wire: the caller's, plus `traceparent`/`tracestate` of this span
 * and the publish time.
 *
 * While no tracer provider is registered ({@link tracingRecords}) there is no span: `send`
 * runs at once with the caller's headers, the publish time and whatever a registered
 * propagator writes for the active context (nothing without one) — the headers a no-op
 * span would have produced, since it carries its parent's span context.
 */
export function withProducerSpan(info: ProducerInfo, send: (headers: TraceCarrier) => Promise<void>): Promise<void> {
  if (tracingRecords()) return producerSpan(info, send);
  try {
    const headers: TraceCarrier = { ...info.headers, [PUBLISHED_AT_HEADER]: String(Date.now()) };
    propagation.inject(context.active(), headers);
    return send(headers);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function producerSpan(info: ProducerInfo, send: (headers: TraceCarrier) => Promise<void>): Promise<void> {
  const parent = context.active();
  const attributes: Attributes = {
    'messaging.system': 'nats',
    'messaging.destination.name': info.subject,
    'messaging.operation.type': 'send',
    'messaging.operation.name': info.operation === 'broadcast' ? 'publish' : 'send',
  };
  if (info.msgId !== undefined) attributes['messaging.message.id'] = info.msgId;
  const span = tracer().startSpan(`send ${info.subject}`, { kind: SpanKind.PRODUCER, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  const headers = injectTrace({ ...info.headers, [PUBLISHED_AT_HEADER]: String(Date.now()) }, ctx);
  try {
    await context.with(ctx, () => send(headers));
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

export interface ConsumerInfo {
  subject: string;
  headers: TraceCarrier;
  /** Durable consumer group; absent for a broadcast listener. */
  group?: string;
  deliveryCount?: number;
}

/**
 * A CONSUMER span around one handler call, as a child of the context the message
 * carries (a new trace when it carries none); the handler runs inside it.
 *
 * While no tracer provider is registered there is no span: the handler runs under the
 * context the headers carry (with no propagator or context manager registered, a direct
 * call), so a registered propagator still passes an upstream trace on to what it publishes.
 */
export function withConsumerSpan<T>(info: ConsumerInfo, handle: () => Promise<T>): Promise<T> {
  if (tracingRecords()) return consumerSpan(info, handle);
  try {
    return context.with(extractTrace(info.headers), handle);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function consumerSpan<T>(info: ConsumerInfo, handle: () => Promise<T>): Promise<T> {
  const parent = extractTrace(info.headers);
  const attributes: Attributes = {
    'messaging.system': 'nats',
    'messaging.destination.name': info.subject,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
  };
  const msgId = info.headers['Nats-Msg-Id'];
  if (msgId !== undefined) attributes['messaging.message.id'] = msgId;
  if (info.group !== undefined) attributes['messaging.consumer.group.name'] = info.group;
  if (info.deliveryCount !== undefined) attributes['weft.delivery_count'] = info.deliveryCount;
  const span = tracer().startSpan(`process ${info.subject}`, { kind: SpanKind.CONSUMER, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), handle);
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Seconds since the message's publish time, or undefined when it carries none. */
export function secondsSincePublished(headers: TraceCarrier, now = Date.now()): number | undefined {
  const raw = headers[PUBLISHED_AT_HEADER];
  if (raw === undefined) return undefined;
  const at = Number(raw);
  return Number.isFinite(at) ? Math.max(0, (now - at) / 1000) : undefined;
}
