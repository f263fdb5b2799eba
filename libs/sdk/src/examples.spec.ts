import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseWorkflow, type WorkflowSpec } from '@weft/core';
import { parse } from 'yaml';
// The examples are scripts, not a library; this spec exists to check them (jest only looks under libs/).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { FAN_OUT_FILE, FAN_OUT_WIDTH, fanOutYaml } from '../../../examples/generate-fan-out';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { REGIONS, release } from '../../../examples/sdk-example';
import { dryRun } from './testing';

const EXAMPLES_DIR = path.resolve(__dirname, '..', '..', '..', 'examples');
const load = (file: string): WorkflowSpec => parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as WorkflowSpec;

describe('examples', () => {
  const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'));

  it('has the documented examples', () => {
    expect(files.sort()).toEqual(['approval.yaml', 'conditional.yaml', 'data-pipeline.yaml', 'diamond.yaml', 'durable-sleep.yaml', 'fan-out.yaml', 'flaky-retry.yaml', 'github-push.yaml', 'large-orders.yaml', 'map-over-files.yaml', 'nightly-report.yaml', 'parent-child.yaml', 'per-customer-limit.yaml', 'wait-for-event.yaml']);
  });

  it.each(files)('%s parses and validates without a warning, named after its file', (file) => {
    const { spec, diagnostics } = parseWorkflow(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'), file);
    expect(diagnostics).toEqual([]);
    expect(spec?.name).toBe(path.basename(file, '.yaml'));
  });

  it('nightly-report and github-push carry triggers and run on the inputs their triggers map', () => {
    expect(load('nightly-report.yaml').triggers?.[0]).toMatchObject({ id: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin' });
    expect(dryRun(load('nightly-report.yaml'), { scheduledAt: '2026-03-29T01:00:00.000Z' }).outputs).toEqual({ reportedUntil: '2026-03-29T01:00:00.000Z' });
    expect(load('github-push.yaml').triggers?.[0]?.webhook).toMatchObject({ preset: 'github', secret: { env: 'GITHUB_WEBHOOK_SECRET' } });
    expect(dryRun(load('github-push.yaml'), { ref: 'refs/heads/main', repository: 'acme/webapp' }).outputs).toEqual({ branch: 'main' });
  });

  it('fan-out.yaml is what generate-fan-out.ts generates', () => {
    expect(readFileSync(FAN_OUT_FILE, 'utf8')).toBe(fanOutYaml());
  });

  it('diamond passes results along with int and double arithmetic', () => {
    const result = dryRun(load('diamond.yaml'));
    expect(result.outputs).toEqual({ answer: 42, doubled: 82, scaled: 61.5, total: 124 });
    expect(result.logs).toEqual(['b=42 c=82 total=124']);
    expect(dryRun(load('diamond.yaml'), { count: 10 }).outputs).toMatchObject({ answer: 11, total: 31 });
  });

  it('flaky-retry succeeds on the third of four allowed attempts', () => {
    const spec = load('flaky-retry.yaml');
    const result = dryRun(spec);
    expect(result.steps.call_upstream).toMatchObject({ status: 'completed', attempts: 3 });
    expect(result.outputs).toEqual({ succeededOnAttempt: 3 });
    expect(spec.steps[0].retry).toMatchObject({ maxAttempts: 4, initialInterval: '100ms' });
  });

  it('conditional runs exactly one branch, chosen by the input', () => {
    const preview = dryRun(load('conditional.yaml'));
    expect([preview.steps.deploy_preview.status, preview.steps.deploy_production.status]).toEqual(['completed', 'skipped']);
    expect(preview.outputs).toEqual({ branch: 'preview', productionStatus: 'skipped', previewStatus: 'completed' });
    const production = dryRun(load('conditional.yaml'), { environment: 'production' });
    expect([production.steps.deploy_preview.status, production.steps.deploy_production.status]).toEqual(['skipped', 'completed']);
    expect(production.outputs).toEqual({ branch: 'production', productionStatus: 'completed', previewStatus: 'skipped' });
    expect(load('conditional.yaml').steps.find((s) => s.id === 'notify')?.needs).toEqual(['deploy_production', 'deploy_preview']);
  });

  it('fan-out is 1 -> 100 -> 1 and its join adds up every branch', () => {
    const spec = load('fan-out.yaml');
    const branches = spec.steps.filter((s) => s.id.startsWith('square_'));
    expect(branches).toHaveLength(FAN_OUT_WIDTH);
    expect(branches.every((s) => s.needs?.join() === 'split')).toBe(true);
    expect(spec.steps.find((s) => s.id === 'merge')?.needs).toEqual(branches.map((s) => s.id));
    expect(dryRun(spec).outputs).toEqual({ shards: 100, total: 985050 });
  });

  it('data-pipeline fetches from source, validates, reshapes and posts to sink', () => {
    const requests: Record<string, unknown>[] = [];
    const orders = [
      { id: 1, customer: 'ada', amount: 120.5 },
      { id: 2, customer: 'grace', amount: 80 },
      { id: 3, amount: 5 },
      { id: 4, customer: 'linus', amount: -1 },
    ];
    const result = dryRun(load('data-pipeline.yaml'), { source: 'http://127.0.0.1:9/orders', sink: 'http://127.0.0.1:9/import' }, (request) => {
      requests.push(request);
      return request.method === 'GET' ? { status: 200, body: orders } : { status: 201, body: { ok: true } };
    });
    expect(result.status).toBe('completed');
    expect(requests.map((r) => [r.method, r.url])).toEqual([
      ['GET', 'http://127.0.0.1:9/orders'],
      ['POST', 'http://127.0.0.1:9/import'],
    ]);
    expect(requests[1]).toMatchObject({
      headers: { 'content-type': 'application/json', 'idempotency-key': 'dry-run' },
      body: {
        source: 'http://127.0.0.1:9/orders',
        count: 2,
        rejected: 2,
        records: [
          { orderId: 1, customer: 'ada', amount: 120.5, tier: 'large' },
          { orderId: 2, customer: 'grace', amount: 80, tier: 'standard' },
        ],
      },
    });
    expect(result.outputs).toEqual({ exported: 2, rejected: 2, sinkStatus: 201 });
  });

  it('sdk-example builds a valid release workflow that runs', () => {
    const spec = release.build();
    expect(spec.steps.map((s) => s.id)).toEqual(['build', 'lint', 'unit_tests', 'deploy_0', 'deploy_1', 'deploy_2', 'verify', 'announce']);
    expect(dryRun(spec).outputs).toEqual({ artifact: 'webapp-1.4.2.tgz', regions: [...REGIONS] });
  });
});
