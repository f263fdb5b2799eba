/**
 * The metrics Weft services export (prom-client), as agreed for dashboards and alerts.
 * docs/observability.md documents each one; a test keeps the two in step, and another
 * checks that the dashboard and the alerts read nothing else.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export const WEFT_METRICS: Record<string, { type: MetricType; labels: readonly string[] }> = {
  weft_runs_started_total: { type: 'counter', labels: ['workflow'] },
  weft_runs_finished_total: { type: 'counter', labels: ['workflow', 'status'] },
  weft_runs_active: { type: 'gauge', labels: ['status'] },
  weft_run_oldest_active_age_seconds: { type: 'gauge', labels: [] },
  weft_step_duration_seconds: { type: 'histogram', labels: ['workflow', 'action', 'status'] },
  weft_step_attempts_total: { type: 'counter', labels: ['workflow', 'action', 'outcome'] },
  weft_step_retries_total: { type: 'counter', labels: ['workflow', 'action'] },
  weft_dispatch_latency_seconds: { type: 'histogram', labels: ['queue'] },
  weft_queue_depth: { type: 'gauge', labels: ['queue'] },
  weft_consumer_pending: { type: 'gauge', labels: ['consumer'] },
  weft_outbox_backlog: { type: 'gauge', labels: [] },
  weft_outbox_oldest_age_seconds: { type: 'gauge', labels: [] },
  weft_redeliveries_total: { type: 'counter', labels: ['subject'] },
  weft_dead_letters_total: { type: 'counter', labels: ['subject'] },
  weft_outbox_quarantined_total: { type: 'counter', labels: ['kind'] },
  weft_journal_lag_seconds: { type: 'gauge', labels: [] },
  weft_analytics_lag_seconds: { type: 'gauge', labels: [] },
  weft_executor_queues: { type: 'gauge', labels: ['queue'] },
  weft_scheduler_active_runs: { type: 'gauge', labels: [] },
  weft_trigger_fires_total: { type: 'counter', labels: ['kind', 'outcome'] },
  weft_trigger_lag_seconds: { type: 'histogram', labels: ['kind'] },
  weft_trigger_schedule_overdue_periods: { type: 'gauge', labels: ['weft_namespace', 'workflow', 'trigger'] },
};

/** Labels Prometheus adds to every series scraped through a ServiceMonitor. */
export const TARGET_LABELS: readonly string[] = ['service', 'namespace', 'pod', 'job', 'instance', 'container', 'endpoint'];
