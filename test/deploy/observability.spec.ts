import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { PrometheusRuleSchema, validateObject } from './k8s-validate.util';
import { isObject, type Json, type JsonObject, type KObject, readYamlDocuments } from './kustomize.util';
import { find, obj, REPO, renderEnv, stringMap } from './manifests.helpers';
import { TARGET_LABELS, WEFT_METRICS } from './metrics.catalog';
import { labelValuesQuery, promqlRefs } from './promql.util';

/** Series name -> labels it may carry: the catalog (histograms as _bucket/_sum/_count) plus prom-client's defaults. */
const series = new Map<string, Set<string>>();

beforeAll(async () => {
  const add = (name: string, labels: readonly string[], histogram: boolean): void => {
    const all = [...labels, ...TARGET_LABELS];
    if (!histogram) series.set(name, new Set(all));
    else {
      series.set(`${name}_bucket`, new Set([...all, 'le']));
      series.set(`${name}_sum`, new Set(all));
      series.set(`${name}_count`, new Set(all));
    }
  };
  for (const [name, m] of Object.entries(WEFT_METRICS)) add(name, m.labels, m.type === 'histogram');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const m of await registry.getMetricsAsJSON()) {
    const labels = [...new Set(m.values.flatMap((v) => Object.keys(v.labels)))];
    const histogram = String(m.type) === 'histogram';
    add(m.name, histogram ? [...labels, 'kind'] : labels, histogram);
  }
});

/** Every problem with an expression: unknown series, labels a series does not have, grouping on labels nobody has. */
function problems(expr: string): string[] {
  const refs = promqlRefs(expr);
  const out: string[] = [];
  const available = new Set<string>();
  if (refs.selectors.length === 0) out.push(`${expr}: reads no metric`);
  for (const s of refs.selectors) {
    const labels = series.get(s.metric);
    if (!labels) {
      out.push(`unknown metric ${s.metric || '(none)'}`);
      continue;
    }
    labels.forEach((l) => available.add(l));
    for (const l of s.labels) if (!labels.has(l)) out.push(`${s.metric} has no label ${l}`);
  }
  for (const l of refs.grouping) if (!available.has(l)) out.push(`no metric in "${expr}" has label ${l}`);
  return out;
}

const metricsIn = (expr: string): string[] => promqlRefs(expr).selectors.map((s) => s.metric.replace(/_(bucket|sum|count)$/, ''));

describe('the PromQL checker', () => {
  it('rejects unknown metrics and labels', () => {
    expect(problems('sum by (queue) (weft_consumer_pending)')).toEqual(['no metric in "sum by (queue) (weft_consumer_pending)" has label queue']);
    expect(problems('rate(weft_runs_started{workflow="x"}[5m])')).toEqual(['unknown metric weft_runs_started']);
    expect(problems('weft_step_retries_total{outcome="failed"}')).toEqual(['weft_step_retries_total has no label outcome']);
    expect(problems('histogram_quantile(0.9, sum by (le, action) (rate(weft_step_duration_seconds_bucket[5m])))')).toEqual([]);
    expect(problems('nodejs_eventloop_lag_p99_seconds{service="weft-executor"}')).toEqual([]);
  });
});

// ---- dashboard ----------------------------------------------------------------------

const DASHBOARD_FILE = join(REPO, 'deploy/grafana/weft-dashboard.json');
const dashboardText = readFileSync(DASHBOARD_FILE, 'utf8');
const dashboard = obj(JSON.parse(dashboardText) as Json);
const arr = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const panels = arr(dashboard.panels).flatMap((p) => [p, ...arr(p.panels)]);
const targets = panels.flatMap((p) => arr(p.targets).map((t) => ({ panel: String(p.title), expr: String(t.expr ?? '') })));
const variables = arr(obj(dashboard.templating).list);

describe('deploy/grafana/weft-dashboard.json', () => {
  it('is a Grafana dashboard with unique panel ids laid out on the 24-column grid without overlaps', () => {
    expect(dashboard.uid).toBe('weft-overview');
    expect(Number(dashboard.schemaVersion)).toBeGreaterThanOrEqual(36);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = panels.map((p) => ({ id: p.id, ...(obj(p.gridPos) as { x: number; y: number; w: number; h: number }) }));
    for (const b of boxes) {
      expect(b.w).toBeGreaterThan(0);
      expect(b.x + b.w).toBeLessThanOrEqual(24);
    }
    const overlapping = boxes.flatMap((a, i) => boxes.slice(i + 1).filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h).map((b) => [a.id, b.id]));
    expect(overlapping).toEqual([]);
  });

  it('queries the data source variable from every panel and target', () => {
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(obj(p.datasource).uid).toBe('${datasource}');
      expect(arr(p.targets).length).toBeGreaterThan(0);
      for (const t of arr(p.targets)) expect(obj(t.datasource).uid).toBe('${datasource}');
    }
    expect(variables.find((v) => v.name === 'datasource')?.query).toBe('prometheus');
  });

  it('reads only metrics Weft exports, with their labels', () => {
    expect(targets.length).toBeGreaterThan(20);
    expect(targets.flatMap((t) => problems(t.expr).map((p) => `${t.panel}: ${p}`))).toEqual([]);
    for (const v of variables.filter((x) => x.type === 'query')) {
      const q = labelValuesQuery(String(obj(v.query).query ?? v.query));
      if (!q) throw new Error(`variable ${String(v.name)}: expected label_values(...)`);
      expect(problems(q.selector)).toEqual([]);
      const [selector] = promqlRefs(q.selector).selectors;
      expect(series.get(selector.metric)?.has(q.label)).toBe(true);
    }
  });

  it('uses only variables it defines', () => {
    const defined = new Set([...variables.map((v) => String(v.name)), '__rate_interval', '__range', '__interval']);
    const used = new Set([...dashboardText.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
    expect([...used].filter((u) => !defined.has(u))).toEqual([]);
  });

  it('shows every Weft metric somewhere', () => {
    const shown = new Set(targets.flatMap((t) => metricsIn(t.expr)));
    expect(Object.keys(WEFT_METRICS).filter((m) => !shown.has(m))).toEqual([]);
  });

  it('ships as a ConfigMap for the Grafana sidecar in prod, small enough for kubectl apply', () => {
    // kubectl apply keeps the object in an annotation limited to 256 KiB
    expect(Buffer.byteLength(dashboardText)).toBeLessThan(200 * 1024);
    const prod = renderEnv('prod', 'deploy/k8s/overlays/prod', 'deploy/k8s/overlays/prod/migrate', 'weft');
    const cm = find(prod.objects, 'ConfigMap', 'weft-dashboard');
    expect(stringMap(cm.metadata.labels).grafana_dashboard).toBe('1');
    expect(stringMap(cm.data)['weft-dashboard.json']).toBe(dashboardText);
  });
});

// ---- alerts -------------------------------------------------------------------------

const [ruleDoc] = readYamlDocuments(join(REPO, 'deploy/prometheus/weft-alerts.yaml'));
const rule = PrometheusRuleSchema.parse(ruleDoc);
const alerts = rule.spec.groups.flatMap((g) => g.rules);
const observabilityDoc = readFileSync(join(REPO, 'docs/observability.md'), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
const anchors = new Set(
  [...observabilityDoc.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
    m[1]
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9 _-]/g, '')
      .replace(/ /g, '-'),
  ),
);

describe('deploy/prometheus/weft-alerts.yaml', () => {
  it('is a valid PrometheusRule, deployed with prod', () => {
    expect(() => validateObject(ruleDoc as KObject)).not.toThrow();
    const prod = renderEnv('prod', 'deploy/k8s/overlays/prod', 'deploy/k8s/overlays/prod/migrate', 'weft');
    expect(find(prod.objects, 'PrometheusRule', 'weft').spec).toEqual(rule.spec);
  });

  it('alerts on stuck runs, failures, the outbox, lag, missing executors, dead letters and the journal', () => {
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining(['WeftRunStuck', 'WeftRunFailureRateRising', 'WeftOutboxBacklog', 'WeftConsumerLag', 'WeftNoExecutorsForQueue', 'WeftDeadLetters', 'WeftJournalLag']),
    );
  });

  it('reads only metrics Weft exports, with their labels', () => {
    expect(alerts.flatMap((a) => problems(a.expr).map((p) => `${a.alert}: ${p}`))).toEqual([]);
  });

  it('only templates labels the aggregated expression keeps', () => {
    for (const a of alerts) {
      const kept = new Set(promqlRefs(a.expr).grouping);
      const used = [...Object.values(a.annotations).join(' ').matchAll(/\$labels\.([A-Za-z_]+)/g)].map((m) => m[1]);
      expect({ alert: a.alert, missing: used.filter((l) => !kept.has(l)) }).toEqual({ alert: a.alert, missing: [] });
    }
  });

  it('links each alert to its runbook section in docs/observability.md', () => {
    for (const a of alerts) {
      const [file, anchor] = a.annotations.runbook_url.split('#');
      expect(file).toBe('docs/observability.md');
      expect({ alert: a.alert, found: anchors.has(anchor) && anchor === a.alert.toLowerCase() }).toEqual({ alert: a.alert, found: true });
    }
  });
});

describe('docs/observability.md', () => {
  it('documents every metric with its labels', () => {
    const rows = observabilityDoc.split('\n').filter((l) => l.startsWith('|'));
    for (const [name, m] of Object.entries(WEFT_METRICS)) {
      const row = rows.find((r) => r.includes(`\`${name}\``));
      expect({ name, documented: row !== undefined }).toEqual({ name, documented: true });
      for (const label of m.labels) expect({ name, label, documented: row?.includes(label) }).toEqual({ name, label, documented: true });
      expect(row).toContain(m.type);
    }
  });
});
