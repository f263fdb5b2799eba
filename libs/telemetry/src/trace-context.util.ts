import {
  type Attributes,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  type Link,
  propagation,
  ProxyTracerProvider,
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

/** The API's no-op provider: what a ProxyTracerProvider with no delegate hands out. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether a tracer provider is registered, i.e. spans started now can be recorded.
 * Without one (no SDK: `weft run`, embedded Weft) the global is the API's proxy with no
 * delegate and every span is a no-op, so the messaging helpers skip them (no span, context
 * or carrier per message). Asked on each call — a few property reads — so a provider
 * registered later (an SDK started after this module loaded, a test's in-memory tracing)
 * is traced from its first message on. A provider from another copy of the API is not our
 * proxy class and counts as registered.
 */
export function tracingRecords(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
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

/** The span `work` gets while no provider is registered, when the parent holds none. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs `work` inside a new active span; a throw marks the span as an error (and
 * rethrows). While no tracer provider is registered ({@link tracingRecords}) no span is
 * started: `work` runs under the parent and gets the parent's (non-recording) span, or
 * an invalid one — what a no-op span would have carried.
 */
export function inSpan<T>(name: string, spec: SpanSpec, work: (span: Span) => Promise<T>): Promise<T> {
  if (tracingRecords()) return recordedSpan(name, spec, work);
  try {
    const span = trace.getSpan(spec.parent ?? context.active()) ?? NO_SPAN;
    return spec.parent === undefined ? work(span) : context.with(spec.parent, work, undefined, span);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function recordedSpan<T>(name: string, spec: SpanSpec, work: (span: Span) => Promise<T>): Promise<T> {
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
