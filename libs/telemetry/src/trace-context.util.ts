import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';

/** W3C trace context as it travels in message headers and rests in the database (`traceparent`, `tracestate`). */
export type TraceCarrier = Record<string, string>;

export function tracer(): Tracer {
  return trace.getTracer('weft');
}

/**
 * Writes the trace context of `ctx` (default: the active one) into a copy of `headers`.
 * With tracing off the propagator is a no-op and the headers come back unchanged.
 */
export function injectTrace(headers: TraceCarrier = {}, ctx: Context = context.active()): TraceCarrier {
  const out: TraceCarrier = { ...headers };
  propagation.inject(ctx, out);
  return out;
}

/** The context a message's headers carry, on top of `base` (default: no parent). */
export function extractTrace(headers: TraceCarrier | undefined, base: Context = ROOT_CONTEXT): Context {
  return headers ? propagation.extract(base, headers) : base;
}

/** The trace id of a context, or undefined when it holds no valid span. */
export function traceIdOf(ctx: Context = context.active()): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** The span context a carrier holds, if valid (for links). */
export function spanContextOf(carrier: TraceCarrier | undefined): SpanContext | undefined {
  if (!carrier) return undefined;
  const spanContext = trace.getSpanContext(extractTrace(carrier));
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** A carrier holding just the span's own context: a parent for work that happens later, elsewhere. */
export function carrierOf(span: Span): TraceCarrier {
  return injectTrace({}, trace.setSpan(ROOT_CONTEXT, span));
}

/** Ids of the active span for log lines; empty when nothing is traced. */
export function activeTraceFields(): { traceId?: string; spanId?: string } {
  const spanContext = trace.getSpanContext(context.active());
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return {};
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}

export interface SpanSpec {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** Parent context. @default the active context */
  parent?: Context;
}

/**
 * Runs `work` inside a new active span; a throw marks the span as an error (and
 * rethrows). With tracing off this costs a no-op span.
 */
export async function inSpan<T>(name: string, spec: SpanSpec, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = spec.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: spec.kind, attributes: spec.attributes, links: spec.links }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Records an exception on a span and sets its status to error. */
export function markFailed(span: Span, error: unknown, message?: string): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? (error instanceof Error ? error.message : String(error)) });
}

/** Runs `work` with no active trace, so background loops do not inherit whoever woke them. */
export function detached<T>(work: () => T): T {
  return context.with(ROOT_CONTEXT, work);
}

/** Runs `work` with the context a carrier holds as the active one (no parent when it holds none). */
export function underCarrier<T>(carrier: TraceCarrier | undefined, work: () => T): T {
  return context.with(extractTrace(carrier), work);
}
