import type { IncomingMessage } from 'node:http';

/**
 * The OpenTelemetry variables Weft looks at to decide whether tracing starts. Everything
 * else (protocol, headers, sampler, batch delays) the SDK reads itself, by the spec's names.
 */
export interface TracingEnv {
  OTEL_SDK_DISABLED?: string | boolean;
  /** `otlp` (default when an endpoint is set), `console`, `zipkin`, or `none`. */
  OTEL_TRACES_EXPORTER?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
}

export interface TracingOptions {
  /** `service.name` unless OTEL_SERVICE_NAME says otherwise (e.g. `weft-scheduler`). */
  serviceName: string;
  env: TracingEnv;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Flushes spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

const off: Tracing = { enabled: false, shutdown: async () => undefined };
let started: Promise<Tracing> | undefined;

/**
 * Tracing is on only when an exporter has somewhere to go: an OTLP endpoint, or an
 * explicit OTEL_TRACES_EXPORTER. `weft run` and `weft dev` without either pay nothing:
 * no SDK is loaded and the API stays a no-op.
 */
export function tracingWanted(env: TracingEnv): boolean {
  const disabled = env.OTEL_SDK_DISABLED;
  if (disabled === true || (typeof disabled === 'string' && disabled.trim().toLowerCase() === 'true')) return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter === 'none') return false;
  return Boolean(exporter) || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the OpenTelemetry SDK (traces only: metrics are Prometheus, logs go to stdout)
 * with HTTP, pg and Nest instrumentation and the W3C propagators. Call it before Nest,
 * pg or express are loaded — instrumentation patches modules as they are required —
 * so a service's main() calls this first and loads its application afterwards.
 * Idempotent: the first call decides.
 */
export function startTracing(options: TracingOptions): Promise<Tracing> {
  started ??= boot(options);
  return started;
}

async function boot(options: TracingOptions): Promise<Tracing> {
  if (!tracingWanted(options.env)) return off;
  // Loaded only when wanted: the SDK and its exporters cost startup time embedded mode should not pay.
  const [{ NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }, { NestInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-nestjs-core'),
  ]);
  const sdk = new NodeSDK({
    ...(options.env.OTEL_SERVICE_NAME ? {} : { serviceName: options.serviceName }),
    instrumentations: [
      // Probes and scrapes every few seconds would drown the traces that matter.
      new HttpInstrumentation({ ignoreIncomingRequestHook: isProbe }),
      // The scheduler polls timers and the outbox several times a second: only queries inside a traced operation count.
      new PgInstrumentation({ requireParentSpan: true }),
      new NestInstrumentation(),
    ],
    // Prometheus serves metrics and stdout carries logs; without these the SDK would start OTLP exporters for both.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    enabled: true,
    shutdown: () => sdk.shutdown(),
  };
}

function isProbe(request: IncomingMessage): boolean {
  const url = request.url ?? '';
  return url.startsWith('/metrics') || url.startsWith('/health');
}
