import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeDistributed } from './support/infra.util';
import { type Scenario, scenario } from './support/scenario.util';
import type { ServiceProcess } from './support/service-process.util';
import { waitFor } from './support/wait.util';

// Observability across processes: a scheduler and an executor, spawned as operators run
// them, export their spans to an OTLP/HTTP receiver owned by the test and serve /metrics.

/** One span as OTLP/JSON carries it, with the service that sent it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpKeyValue[] }[] }[];
  }[];
}

const flatten = (attributes: OtlpKeyValue[] = []): Record<string, string | number | boolean> =>
  Object.fromEntries(
    attributes.map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? ''))]),
  );

/** A local OTLP/HTTP traces receiver (JSON encoding): POST /v1/traces. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      this.accept(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(body: OtlpExport): void {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = String(flatten(resourceSpans.resource?.attributes)['service.name'] ?? '');
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({ service, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', name: span.name, kind: span.kind, attributes: flatten(span.attributes) });
        }
      }
    }
  }
}

/** The value of one series in Prometheus text, or undefined when absent. Labels must match exactly. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (have === wanted) return Number(match[3]);
  }
  return undefined;
}

async function scrape(service: ServiceProcess): Promise<string> {
  const response = await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  return response.text();
}

const tracingEnv = (receiver: OtlpReceiver): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
  // Export every 100 ms instead of every 5 s, so the test waits less.
  OTEL_BSP_SCHEDULE_DELAY: '100',
  LOG_LEVEL: 'info',
});

async function startServices(s: Scenario, receiver: OtlpReceiver, executorEnv: Record<string, string> = {}): Promise<[ServiceProcess, ServiceProcess]> {
  s.onCleanup(() => receiver.close());
  const [scheduler, executor] = await Promise.all([s.spawn('scheduler', tracingEnv(receiver)), s.spawn('executor', { ...tracingEnv(receiver), ...executorEnv })]);
  return [scheduler, executor];
}

describeDistributed('telemetry across processes', { nats: true, postgres: true }, () => {
  scenario('one run is one trace across scheduler and executor, and /metrics moves as it runs', 90_000, async (s) => {
    const receiver = await OtlpReceiver.start();
    const [scheduler, executor] = await startServices(s, receiver);
    const workflow = 'traced-run';
    const before = { scheduler: await scrape(scheduler), executor: await scrape(executor) };
    expect(sample(before.scheduler, 'weft_runs_started_total', { workflow })).toBeUndefined();
    expect(sample(before.executor, 'weft_executor_queues', { queue: 'default' })).toBe(1);
    expect(sample(before.executor, 'weft_queue_depth', { queue: 'default' })).toBe(0);
    expect(sample(before.scheduler, 'weft_outbox_backlog')).toBe(0);
    expect(sample(before.scheduler, 'process_cpu_seconds_total')).toBeGreaterThan(0);

    const runId = await s.submit(workflow, [
      { id: 'first', with: { file: s.recordFile, ms: 1500 } },
      { id: 'second', needs: ['first'], with: { file: s.recordFile } },
    ]);
    // While `first` runs: the run is live, and the scheduler has counted it.
    await waitFor(async () => (await s.records()).some((r) => r.stepId === 'first' && r.event === 'start'), { timeoutMs: 15_000, what: 'step first to start' });
    // Database gauges are sampled at most every 250 ms: the scrape before the run may still be the cached answer.
    const during = await waitFor(
      async () => {
        const text = await scrape(scheduler);
        return sample(text, 'weft_runs_active', { status: 'running' }) === 1 ? text : undefined;
      },
      { timeoutMs: 5_000, what: 'weft_runs_active{status="running"} to be 1' },
    );
    expect(sample(during, 'weft_runs_started_total', { workflow })).toBe(1);
    expect(sample(during, 'weft_run_oldest_active_age_seconds')).toBeGreaterThan(0);

    await s.waitForStatus(runId, 'completed', 20_000);
    // The last result's ack may follow the run's completion by the bus's ack delay (held acks,
    // docs/bus.md), and the consumer gauge is sampled at most every 250 ms: wait for both.
    const after = {
      scheduler: await waitFor(async () => {
        const text = await scrape(scheduler);
        const settled =
          sample(text, 'weft_runs_active', { status: 'running' }) === undefined &&
          sample(text, 'weft_consumer_pending', { consumer: 'scheduler-results__weft_step_result' }) === 0;
        return settled ? text : undefined;
      }, { timeoutMs: 5_000, what: 'no live run and no pending result on /metrics' }),
      executor: await scrape(executor),
    };
    expect(sample(after.scheduler, 'weft_runs_finished_total', { workflow, status: 'completed' })).toBe(1);
    expect(sample(after.scheduler, 'weft_consumer_pending', { consumer: 'scheduler-results__weft_step_result' })).toBe(0);
    const attempt = { workflow, action: 'test.record' };
    expect(sample(after.executor, 'weft_step_attempts_total', { ...attempt, outcome: 'completed' })).toBe(2);
    expect(sample(after.executor, 'weft_step_duration_seconds_count', { ...attempt, status: 'completed' })).toBe(2);
    // `first` took 1.5 s: above the 1 s bucket, within the 5 s one.
    expect(sample(after.executor, 'weft_step_duration_seconds_bucket', { ...attempt, status: 'completed', le: '1' })).toBe(1);
    expect(sample(after.executor, 'weft_step_duration_seconds_bucket', { ...attempt, status: 'completed', le: '5' })).toBe(2);
    expect(sample(after.executor, 'weft_dispatch_latency_seconds_count', { queue: 'default' })).toBe(2);

    // Traces: the run's root span, then everything that descends from it, in both services.
    const runStart = await waitFor(() => receiver.spans.find((span) => span.name === `run.start ${workflow}` && span.attributes['weft.run.id'] === runId), {
      timeoutMs: 10_000,
      what: 'the run.start span',
    });
    const traceId = runStart.traceId;
    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    await waitFor(() => inTrace().filter((span) => span.name === 'step test.record').length === 2 && inTrace().some((span) => span.name === 'run.transition step.completed' && span.attributes['weft.run.status'] === 'completed'), {
      timeoutMs: 10_000,
      what: 'both step spans and the final transition in the run trace',
    });
    const spans = inTrace();
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['weft-scheduler', 'weft-executor']));
    // Nothing of this run went to another trace.
    expect(receiver.spans.filter((span) => span.attributes['weft.run.id'] === runId && span.traceId !== traceId)).toEqual([]);
    // Run requested -> run.start -> dispatch sent -> dispatch processed -> step -> result sent -> result processed.
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const step = spans.find((span) => span.name === 'step test.record' && span.attributes['weft.step.id'] === 'first');
    const consumer = step && byId.get(step.parentSpanId);
    const producer = consumer && byId.get(consumer.parentSpanId);
    expect([consumer?.name, consumer?.service]).toEqual(['process weft.step.dispatch.default', 'weft-executor']);
    expect([producer?.name, producer?.service, producer?.parentSpanId]).toEqual(['send weft.step.dispatch.default', 'weft-scheduler', runStart.spanId]);
    expect(spans.some((span) => span.name === 'process weft.step.result' && span.service === 'weft-scheduler')).toBe(true);
    expect(spans.some((span) => span.name.startsWith('send weft.event.') && span.parentSpanId === runStart.spanId)).toBe(true);
    // Instrumentation loaded before the application: pg queries of the transactions are in the trace.
    expect(spans.some((span) => span.service === 'weft-scheduler' && span.attributes['db.system.name'] === 'postgresql')).toBe(true);
    // The trace context rests with the run, for timers and retries that come later.
    const [stored] = await s.sql<{ traceparent: string }>(`SELECT extra->'traceContext'->>'traceparent' AS traceparent FROM runs WHERE id = $1`, [runId]);
    expect(stored.traceparent).toBe(`00-${traceId}-${runStart.spanId}-01`);
  });

  scenario('SIGTERM during a step: readiness fails, the step drains, its spans are flushed, and the process exits 0', 90_000, async (s) => {
    const receiver = await OtlpReceiver.start();
    // A long batch delay: only the flush at shutdown can deliver the executor's spans in time.
    const [, executor] = await startServices(s, receiver, { OTEL_BSP_SCHEDULE_DELAY: '600000', WEFT_SHUTDOWN_GRACE_MS: '10000' });
    const runId = await s.submit('drained-run', [{ id: 'long', with: { file: s.recordFile, ms: 2000 } }]);
    await waitFor(async () => (await s.records()).some((r) => r.stepId === 'long' && r.event === 'start'), { timeoutMs: 15_000, what: 'step long to start' });
    expect(receiver.spans.some((span) => span.service === 'weft-executor')).toBe(false);

    executor.signal('SIGTERM');
    await waitFor(async () => (await executor.health()).status === 503, { timeoutMs: 1_500, intervalMs: 20, what: 'readiness to fail while draining' });
    expect(await executor.exited).toEqual({ code: 0, signal: null });
    const records = await s.records();
    expect(records.filter((r) => r.stepId === 'long').map((r) => r.event)).toEqual(['start', 'done']);

    const step = receiver.spans.find((span) => span.service === 'weft-executor' && span.name === 'step test.record' && span.attributes['weft.run.id'] === runId);
    expect(step?.attributes['weft.step.outcome']).toBe('completed');
    await s.waitForStatus(runId, 'completed', 15_000);
  });
});
