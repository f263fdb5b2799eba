import type { InMemorySpanExporter, NodeTracerProvider, ReadableSpan } from '@opentelemetry/sdk-trace-node';

export interface InMemoryTracing {
  /** Finished spans so far, oldest first. */
  spans(): ReadableSpan[];
  reset(): void;
}

let installed: InMemoryTracing | undefined;

/**
 * For tests: registers a global tracer provider that keeps finished spans in memory
 * (W3C propagator, AsyncLocalStorage context), so code under test traces for real.
 * Once per process (a global provider cannot be replaced); call `reset()` between tests.
 */
export function installInMemoryTracing(): InMemoryTracing {
  if (installed) return installed;
  // Loaded here, not at the top: production code never needs the exporter.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const exporter: InMemorySpanExporter = new sdk.InMemorySpanExporter();
  const provider: NodeTracerProvider = new sdk.NodeTracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor(exporter)] });
  provider.register();
  installed = { spans: () => exporter.getFinishedSpans(), reset: () => exporter.reset() };
  return installed;
}
