import { metricsRegistry } from '@weft/telemetry';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { FireOutcome, TriggerKind } from '../domain/fire-log';

/** Cron lag spans a loop tick (ms) to a catch-up after downtime (minutes or hours). */
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600];

function registered<T>(name: string, create: () => T): T {
  // Several apps in one process (tests, weft dev) share the registry: register once.
  return (metricsRegistry.getSingleMetric(name) as T | undefined) ?? create();
}

const fires = () =>
  registered(
    'weft_trigger_fires_total',
    () => new Counter({ name: 'weft_trigger_fires_total', help: 'Trigger occurrences recorded in the fire log, by trigger kind and outcome.', labelNames: ['kind', 'outcome'], registers: [metricsRegistry] }),
  );
const lag = () =>
  registered(
    'weft_trigger_lag_seconds',
    () =>
      new Histogram({
        name: 'weft_trigger_lag_seconds',
        help: 'From a schedule tick to the publication of its run request.',
        labelNames: ['kind'],
        buckets: LAG_BUCKETS,
        registers: [metricsRegistry],
      }),
  );

export function recordFireOutcome(kind: TriggerKind, outcome: FireOutcome): void {
  fires().inc({ kind, outcome });
}

export function recordTriggerLag(kind: TriggerKind, seconds: number): void {
  lag().observe({ kind }, Math.max(0, seconds));
}

/** Registers both metrics at start-up, so a scrape shows them before the first fire. */
export function registerTriggerMetrics(): void {
  fires();
  lag();
  overdue();
}

/** What the overdue gauge reads on scrape: per cron trigger, periods since its last fire. */
export type OverdueSource = () => Promise<{ namespace: string; workflow: string; trigger: string; periods: number }[]>;
let overdueSource: OverdueSource | undefined;

const overdue = () =>
  registered(
    'weft_trigger_schedule_overdue_periods',
    () =>
      new Gauge({
        name: 'weft_trigger_schedule_overdue_periods',
        help: 'Per cron trigger (on the leader only): time since its last fired or overlap-skipped tick, in periods of its schedule. Above 2: the schedule has not fired for twice its period.',
        // `namespace` is the scrape target's label (the Kubernetes namespace): Weft's is weft_namespace.
        labelNames: ['weft_namespace', 'workflow', 'trigger'],
        registers: [metricsRegistry],
        async collect() {
          this.reset();
          for (const s of (await overdueSource?.().catch(() => [])) ?? []) this.set({ weft_namespace: s.namespace, workflow: s.workflow, trigger: s.trigger }, s.periods);
        },
      }),
  );

/** The leader's source of the overdue gauge (followers pass undefined: they report nothing). */
export function setOverdueSource(source: OverdueSource | undefined): void {
  overdue();
  overdueSource = source;
}
