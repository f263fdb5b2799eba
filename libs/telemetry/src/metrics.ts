import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Weft's Prometheus metrics, all in one process-wide registry served on `/metrics`.
 * Names are a public contract (dashboards and alerts in deploy/ use them): base units,
 * `_total` counters, `_seconds` durations, and never a run or step id as a label.
 *
 * Metrics are created on first use, so a process only exposes what it does: an
 * executor has no outbox gauges, a scheduler no step histograms.
 */
export const metricsRegistry = new Registry();

let defaultMetricsOn = false;

/** prom-client's process metrics (CPU, memory, event loop lag, GC). Idempotent. */
export function enableDefaultMetrics(): void {
  if (defaultMetricsOn) return;
  defaultMetricsOn = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

/** The exposition text of every metric, sampling gauges first. */
export function renderMetrics(): Promise<string> {
  return metricsRegistry.metrics();
}

export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;

/** Steps last from milliseconds (transform) to hours (human reviews, long exports). */
export const STEP_DURATION_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400];
/** From publish to handler start: milliseconds when idle, minutes when a queue is backed up. */
export const DISPATCH_LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900];

function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}

const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  once(() => new Counter<L>({ name, help, labelNames, registers: [metricsRegistry] }));
const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
  once(() => new Histogram<L>({ name, help, labelNames, buckets, registers: [metricsRegistry] }));

const runsStarted = counter('weft_runs_started_total', 'Runs created by the scheduler.', ['workflow']);
const runsFinished = counter('weft_runs_finished_total', 'Runs that reached a terminal status.', ['workflow', 'status']);
const stepDuration = histogram(
  'weft_step_duration_seconds',
  'Step attempts from handler start until the result was published (or the step handed back).',
  ['workflow', 'action', 'status'],
  STEP_DURATION_BUCKETS,
);
const stepAttempts = counter('weft_step_attempts_total', 'Step attempts an executor finished, by outcome.', ['workflow', 'action', 'outcome']);
const stepRetries = counter('weft_step_retries_total', 'Step attempts after the first (retries and re-dispatches of lost attempts).', ['workflow', 'action']);
const dispatchLatency = histogram(
  'weft_dispatch_latency_seconds',
  'From publishing a step dispatch to the start of its handler (clocks of two machines: skew shows here).',
  ['queue'],
  DISPATCH_LATENCY_BUCKETS,
);
const redeliveries = counter('weft_redeliveries_total', 'Messages delivered again (ack wait expired, nak, crash).', ['subject']);
const deadLetters = counter('weft_dead_letters_total', 'Messages the bus gave up on (poison, contract violation, max deliveries).', ['subject']);
const outboxQuarantined = counter('weft_outbox_quarantined_total', 'Outbox rows the broker refused for good (over max_payload, unserialisable), quarantined instead of relayed.', ['kind']);
const sampleErrors = counter('weft_metric_sample_errors_total', 'Scrapes that could not sample a gauge (its source failed).', ['metric']);
/** `at` (epoch ms) of the last event each reader applied; the lag gauges are computed from it on scrape. */
const lastApplied = new Map<LaggingConsumer, number>();
const lagGauge = (name: LaggingConsumer, help: string) =>
  once(
    () =>
      new Gauge({
        name: `weft_${name}_lag_seconds`,
        help,
        registers: [metricsRegistry],
        collect() {
          const at = lastApplied.get(name);
          if (at === undefined) this.remove({});
          else this.set(Math.max(0, (Date.now() - at) / 1000));
        },
      }),
  );
const consumerLag = {
  journal: lagGauge('journal', 'Now minus the `at` of the last lifecycle event the journal applied (grows while no event arrives).'),
  analytics: lagGauge('analytics', 'Now minus the `at` of the last lifecycle event analytics applied (grows while no event arrives).'),
};

export type StepStatusLabel = 'completed' | 'failed' | 'handed_back';
export type StepOutcomeLabel = 'completed' | 'failed' | 'timed_out' | 'canceled' | 'handed_back';
export type LaggingConsumer = 'journal' | 'analytics';

export function recordRunStarted(workflow: string): void {
  runsStarted().inc({ workflow });
}

export function recordRunFinished(workflow: string, status: string): void {
  runsFinished().inc({ workflow, status });
}

/** One finished step attempt, as its executor saw it. */
export function recordStepAttempt(attempt: { workflow: string; action: string; status: StepStatusLabel; outcome: StepOutcomeLabel; durationSeconds: number }): void {
  const { workflow, action } = attempt;
  stepDuration().observe({ workflow, action, status: attempt.status }, attempt.durationSeconds);
  stepAttempts().inc({ workflow, action, outcome: attempt.outcome });
}

export function recordStepRetry(workflow: string, action: string): void {
  stepRetries().inc({ workflow, action });
}

export function recordDispatchLatency(queue: string, seconds: number): void {
  dispatchLatency().observe({ queue }, Math.max(0, seconds));
}

export function recordRedelivery(subject: string): void {
  redeliveries().inc({ subject });
}

export function recordDeadLetter(subject: string): void {
  deadLetters().inc({ subject });
}

/** One outbox row quarantined; `kind`: what it carried (a step dispatch, a lifecycle event, a cancel broadcast). */
export function recordOutboxQuarantined(kind: 'dispatch' | 'event' | 'broadcast'): void {
  outboxQuarantined().inc({ kind });
}

/**
 * For the journal and analytics readers: call after applying a lifecycle event, with
 * its `at` (ISO 8601, epoch ms or Date). `weft_<name>_lag_seconds` is then now - at on
 * every scrape: it grows while no event arrives, whether the reader is stuck or
 * nothing happens (alerts read it together with activity). An older event applied
 * late (redelivery) does not move it back.
 */
export function recordConsumerLag(name: LaggingConsumer, at: string | number | Date): void {
  const atMs = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(atMs)) return;
  lastApplied.set(name, Math.max(lastApplied.get(name) ?? atMs, atMs));
  consumerLag[name]();
}

// ---- Gauges sampled on scrape -------------------------------------------------------

/** One value of a sampled gauge. */
export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export type SampleSource = () => Sample[] | Promise<Sample[]>;

/** Gauges whose value is read from somewhere (database, broker) when Prometheus scrapes. */
export const SAMPLED_GAUGES = {
  weft_runs_active: { help: 'Runs not yet finished, by status.', labelNames: ['status'] },
  weft_run_oldest_active_age_seconds: { help: 'Age of the oldest run not yet finished (0 when none).', labelNames: [] },
  weft_outbox_backlog: { help: 'Outbox messages committed but not yet published.', labelNames: [] },
  weft_outbox_oldest_age_seconds: { help: 'Age of the oldest unpublished outbox message (0 when none).', labelNames: [] },
  weft_queue_depth: { help: 'Step dispatches waiting in the dispatch stream for a queue, not yet delivered.', labelNames: ['queue'] },
  weft_consumer_pending: { help: 'Messages of a durable consumer not yet acknowledged (undelivered + ack pending).', labelNames: ['consumer'] },
  weft_executor_queues: { help: 'Task queues this executor serves (1 each).', labelNames: ['queue'] },
  weft_scheduler_active_runs: {
    help: 'Runs this scheduler decided for in the last 1-2 s; while more than one, runs without maxStepsInFlight share the smaller dispatch window (WEFT_SHARED_WINDOW).',
    labelNames: [],
  },
} as const satisfies Record<string, { help: string; labelNames: readonly string[] }>;

export type SampledGauge = keyof typeof SAMPLED_GAUGES;

const sources = new Map<SampledGauge, Set<SampleSource>>();
const sampledGauges = new Map<SampledGauge, Gauge>();

/**
 * Registers a source for a gauge, read on every scrape; returns its removal. Several
 * sources may feed one gauge (two buses in one process); a failing one is skipped and
 * counted in `weft_metric_sample_errors_total`, so one dead dependency does not blank
 * the whole scrape.
 */
export function addSampleSource(name: SampledGauge, source: SampleSource): () => void {
  let set = sources.get(name);
  if (!set) {
    set = new Set();
    sources.set(name, set);
  }
  set.add(source);
  if (!sampledGauges.has(name)) sampledGauges.set(name, createSampledGauge(name));
  return () => {
    sources.get(name)?.delete(source);
  };
}

function createSampledGauge(name: SampledGauge): Gauge {
  const { help, labelNames } = SAMPLED_GAUGES[name];
  return new Gauge({
    name,
    help,
    labelNames: [...labelNames],
    registers: [metricsRegistry],
    async collect() {
      const samples = await Promise.all(
        [...(sources.get(name) ?? [])].map(async (source) => {
          try {
            return await source();
          } catch {
            sampleErrors().inc({ metric: name });
            return [];
          }
        }),
      );
      this.reset();
      const all = samples.flat();
      for (const sample of all) this.set(sample.labels ?? {}, sample.value);
      // Without a sample (no source any more, or its source failed) say nothing rather than a made-up 0.
      if (all.length === 0 && labelNames.length === 0) this.remove({});
    },
  });
}

/**
 * Shares one read between the gauges a source feeds (four gauges, one database
 * query per scrape: a scrape collects every gauge at once): the result is reused for `ttlMs`.
 */
export function sharedSample<T>(read: () => Promise<T>, ttlMs = 250): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > ttlMs) {
      const value = read();
      cached = { at: now, value };
      // A failed read is not reused.
      void value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
}

/**
 * The current value of one series, for tests and debugging; undefined when the series
 * does not exist. Labels must match exactly. For a histogram: its observation count.
 */
export async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (!metric) return undefined;
  // Histogram series carry the name of their part (`_bucket`, `_sum`, `_count`); the typings omit it.
  const values = (await metric.get()).values as { value: number; labels: Record<string, string | number | undefined>; metricName?: string }[];
  const wanted = metric instanceof Histogram ? `${name}_count` : undefined;
  const same = (actual: Record<string, string | number | undefined>): boolean => {
    const keys = Object.keys(actual).filter((k) => k !== 'le');
    return keys.length === Object.keys(labels).length && keys.every((k) => String(actual[k]) === labels[k]);
  };
  const found = values.find((v) => (wanted === undefined || v.metricName === wanted) && same(v.labels));
  return found?.value;
}
