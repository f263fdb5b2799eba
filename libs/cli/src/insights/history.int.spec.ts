import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Module } from '@nestjs/common';
import { AnalyticsModule, type InsightSummary, openAnalyticsStore } from '@weft/analytics';
import { JetStreamBus } from '@weft/bus';
import type { LifecycleEvent } from '@weft/contracts';
import { parseWorkflow } from '@weft/core';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName, serverReachable } from '@weft/db/testing';
import { JournalModule, type RunHistory, type RunReconstruction, openJournalStore } from '@weft/journal';
import { Authenticator, bootService, type ServiceHandle, staticApiKeys } from '@weft/platform';
import { historyCommand } from '../commands/history.command';
import { insightsCommand } from '../commands/insights.command';
import { startEmbedded } from '../embedded/embedded-runtime';
import type { Io } from '../io';

const SERVERS = process.env.NATS_URL ?? '127.0.0.1:4222';



/** A retried step, a step skipped by its condition, a failing step, and one skipped because of it. */
const STORY = `
apiVersion: weft/v1
kind: Workflow
name: story
onFailure: continue
steps:
  - id: fetch
    action: fail
    with: { code: HTTP_503, message: upstream unavailable, untilAttempt: 2 }
    retry: { maxAttempts: 3, backoff: fixed, initialInterval: 20ms, jitter: false }
  - id: publish
    needs: [fetch]
    if: "steps.fetch.output.attempt > 5"
    action: noop
  - id: export
    needs: [fetch]
    action: fail
    with: { code: BOOM, message: disk full }
  - id: notify
    needs: [export]
    action: noop
`;

function captureIo(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, isTTY: false, out: (line) => void lines.push(line), err: (line) => void errors.push(line), write: (text) => void lines.push(text) };
}

async function waitFor(predicate: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describeWhenReachable(`weft history and weft insights against a deployment (NATS ${SERVERS}, PostgreSQL)`, [
    { what: `NATS at ${SERVERS}`, up: serverReachable(SERVERS, 4222) },
    { what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() },
  ], () => {
  const prefix = `hist${process.pid.toString(36)}${Date.now().toString(36)}`;
  const schema = randomSchemaName('history');
  const closers: (() => Promise<unknown>)[] = [];
  let api: string;
  let runtimeBus: JetStreamBus;
  const tenants = staticApiKeys(['default', 'team-b']);
  const apiKey = tenants.keyOf('default');

  beforeAll(async () => {
    // The journal and analytics as a deployment runs them: their own connection, PostgreSQL, HTTP.
    const bus = await JetStreamBus.connect({ servers: SERVERS, name: 'weft-history-test', prefix, pullExpiresMs: 2_000, onError: () => undefined });
    closers.push(async () => {
      const admin = await connect({ servers: SERVERS });
      const jsm = await jetstreamManager(admin);
      for (const name of bus.streamNames()) await jsm.streams.delete(name).catch(() => false);
      await admin.close();
    });
    closers.push(() => bus.close());
    const journal = await openJournalStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
    const analytics = await openAnalyticsStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
    closers.push(() => dropSchema(schema), () => journal.dataSource.destroy(), () => analytics.dataSource.destroy(), () => journal.store.close(), () => analytics.store.close());
    // Each behind its own API-key gate, as when they serve HTTP alone (keys in memory here: this schema has no scheduler tables).
    const auth = new Authenticator(tenants.keys, { anonymous: false });
    @Module({ imports: [JournalModule.forRoot({ bus, store: journal.store, auth }), AnalyticsModule.forRoot({ bus, store: analytics.store, auth })] })
    class DeploymentModule {}
    const service: ServiceHandle = await bootService(DeploymentModule, { name: 'history-test', port: 0, host: '127.0.0.1', handleSignals: false });
    closers.push(() => service.close());
    api = service.url;
    runtimeBus = await JetStreamBus.connect({ servers: SERVERS, name: 'weft-history-test-runtime', prefix, pullExpiresMs: 2_000, onError: () => undefined });
  }, 60_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch((error: unknown) => console.error('cleanup failed', error));
  });

  it('tells the complete, ordered story of a real run with a retry, skips and a failure, and counts it in the insights', async () => {
    const spec = parseWorkflow(STORY, 'story.yaml').spec;
    if (!spec) throw new Error('the story workflow does not parse');
    const runtime = await startEmbedded({ bus: runtimeBus, logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    const emitted: LifecycleEvent[] = [];
    let state;
    try {
      state = await runtime.run(spec, {}, { onEvent: (event) => emitted.push(event) });
    } finally {
      await runtime.close();
    }
    expect(state.status).toBe('partially_completed');
    const runId = state.runId;

    // The journal has every event the run emitted, once, in the scheduler's order.
    let reconstruction: RunReconstruction | undefined;
    await waitFor(async () => {
      const response = await fetch(`${api}/v1/runs/${runId}/reconstruct`, { headers: { Authorization: `Bearer ${apiKey}` } });
      if (!response.ok) return false;
      reconstruction = (await response.json()) as RunReconstruction;
      return reconstruction.events.length === emitted.length;
    }, 'every event journaled');
    if (!reconstruction) throw new Error('no reconstruction');
    const { events, run, steps, checkpoints } = reconstruction;
    expect(new Set(events.map((e) => e.eventId))).toEqual(new Set(emitted.map((e) => e.eventId)));
    for (let i = 1; i < events.length; i++) {
      const [a, b] = [events[i - 1], events[i]];
      expect(a.seq < b.seq || (a.seq === b.seq && a.index < b.index)).toBe(true);
    }
    expect(events[0].type).toBe('run.queued');
    expect(events.at(-1)?.type).toBe('run.partially_completed');
    expect(run).toMatchObject({ runId, workflow: 'story', status: 'partially_completed', error: { code: 'STEPS_FAILED' }, restarts: 0, events: emitted.length });
    expect(steps.map((s) => [s.stepId, s.status, s.attempts.length])).toEqual([
      ['fetch', 'completed', 2],
      ['publish', 'skipped', 0],
      ['export', 'failed', 1],
      ['notify', 'skipped', 0],
    ]);
    const fetchStep = steps[0];
    expect(fetchStep.attempts[0]).toMatchObject({ attempt: 1, status: 'failed', error: { code: 'HTTP_503', message: 'upstream unavailable' }, retryDelayMs: 20 });
    expect(fetchStep.attempts[1]).toMatchObject({ attempt: 2, status: 'completed', error: null });
    expect(fetchStep.output).toEqual({ attempt: 2 });
    expect(steps[1].reason).toBe('condition is false');
    expect(steps[2]).toMatchObject({ error: { code: 'BOOM', message: 'disk full' }, attempts: [{ status: 'failed', error: { code: 'BOOM' } }] });
    expect(steps[3].reason).toBe('upstream failed: export');
    expect(checkpoints.map((c) => [c.stepId, c.state])).toEqual([['fetch', { fetch: { attempt: 2 } }]]);

    // weft history --api, as JSON and as a timeline.
    const json = captureIo();
    expect(await historyCommand(runId, { api, apiKey, json: true }, json, {})).toBe(0);
    const history = JSON.parse(json.lines.join('\n')) as RunHistory;
    expect(history.timeline.map((t) => t.type)).toEqual(events.map((e) => e.type));
    const text = captureIo();
    expect(await historyCommand(runId, { api, apiKey }, text, {})).toBe(0);
    expect(text.lines[0]).toMatch(new RegExp(`^run ${runId} · story version \\S+ · partially_completed in \\S+$`));
    expect(text.lines.join('\n')).toContain('fetch attempt 1 failed: HTTP_503 upstream unavailable; retrying in 20ms');
    expect(text.lines.join('\n')).toContain('publish skipped: condition is false');
    expect(text.lines.find((l) => l.startsWith('export '))).toMatch(/^export\s+failed\s+1\s+\S+\s+BOOM disk full$/);

    // An unknown run: the API's problem detail, exit 2.
    const missing = captureIo();
    expect(await historyCommand('no-such-run', { api, apiKey }, missing, {})).toBe(2);
    expect(missing.errors).toEqual(['404 Not Found: the journal has no entry for run no-such-run']);

    // weft insights --api counts the run.
    let summary: InsightSummary | undefined;
    await waitFor(async () => {
      const out = captureIo();
      if ((await insightsCommand({ api, apiKey, workflow: 'story', since: '1h', json: true }, out, {})) !== 0) return false;
      summary = JSON.parse(out.lines.join('\n')) as InsightSummary;
      return summary.runs.finished === 1;
    }, 'the run counted by analytics');
    expect(summary?.runs).toMatchObject({ started: 1, finished: 1, partiallyCompleted: 1, completed: 0 });
    expect(summary?.hotspots.map((h) => [h.stepId, h.failures, h.retries, h.topError?.code])).toEqual([
      ['export', 1, 0, 'BOOM'],
      ['fetch', 0, 1, 'HTTP_503'],
    ]);
    expect(summary?.steps.find((s) => s.stepId === 'publish')).toMatchObject({ skipped: 1 });
    const table = captureIo();
    expect(await insightsCommand({ api, apiKey, workflow: 'story', since: '1h' }, table, {})).toBe(0);
    expect(table.lines[0]).toMatch(/^Insights: story · /);
    expect(table.lines).toContainEqual(expect.stringMatching(/^ {2}story\s+export\s+1\s+0\s+100\.0%\s+BOOM \(1\)$/));

    // A key of another namespace sees neither the run nor its figures; no key is refused.
    const teamB = tenants.keyOf('team-b');
    const hidden = captureIo();
    expect(await historyCommand(runId, { api, apiKey: teamB }, hidden, {})).toBe(2);
    expect(hidden.errors).toEqual([`404 Not Found: the journal has no entry for run ${runId}`]);
    const theirs = captureIo();
    expect(await insightsCommand({ api, apiKey: teamB, workflow: 'story', since: '1h', json: true }, theirs, {})).toBe(0);
    expect((JSON.parse(theirs.lines.join('\n')) as InsightSummary).runs).toMatchObject({ started: 0, finished: 0 });
    const anonymous = captureIo();
    expect(await historyCommand(runId, { api }, anonymous, {})).not.toBe(0);
    expect(anonymous.errors.join('\n')).toMatch(/401/);
  }, 90_000);

  it('shows the sub-workflow tree: a parent lists its child and grandchild, a child names its parent', async () => {
    const specOf = (yaml: string) => {
      const spec = parseWorkflow(yaml, 'tree.yaml').spec;
      if (!spec) throw new Error('a tree workflow does not parse');
      return spec;
    };
    const leaf = specOf('apiVersion: weft/v1\nkind: Workflow\nname: tree-leaf\nsteps:\n  - id: work\n    action: noop\n');
    const middle = specOf('apiVersion: weft/v1\nkind: Workflow\nname: tree-middle\nsteps:\n  - id: deeper\n    action: workflow\n    with: { workflow: tree-leaf }\n');
    const root = specOf('apiVersion: weft/v1\nkind: Workflow\nname: tree-root\nsteps:\n  - id: sub\n    action: workflow\n    with: { workflow: tree-middle }\n');
    const byName = new Map([leaf, middle].map((spec) => [spec.name, spec]));
    const catalog = { resolve: async (name: string) => (byName.has(name) ? { spec: byName.get(name)!, version: '1' } : undefined) };
    // The first case's runtime closed runtimeBus: a connection of its own.
    const bus = await JetStreamBus.connect({ servers: SERVERS, name: 'weft-history-test-tree', prefix, pullExpiresMs: 2_000, onError: () => undefined });
    const runtime = await startEmbedded({ bus, catalog, logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    let state;
    try {
      state = await runtime.run(root, {});
    } finally {
      await runtime.close();
    }
    expect(state.status).toBe('completed');
    let history: RunHistory | undefined;
    await waitFor(async () => {
      const out = captureIo();
      if ((await historyCommand(state.runId, { api, apiKey, json: true }, out, {})) !== 0) return false;
      history = JSON.parse(out.lines.join('\n')) as RunHistory;
      return history.children?.length === 2 && history.children.every((c) => c.status === 'completed') && history.run.status === 'completed';
    }, 'the parent, its child and grandchild journaled');
    const [child, grandchild] = history?.children ?? [];
    expect(child).toMatchObject({ parentRunId: state.runId, stepId: 'sub', depth: 1, workflow: 'tree-middle', status: 'completed' });
    expect(grandchild).toMatchObject({ parentRunId: child?.runId, stepId: 'deeper', depth: 2, workflow: 'tree-leaf', status: 'completed' });
    const text = captureIo();
    expect(await historyCommand(state.runId, { api, apiKey }, text, {})).toBe(0);
    expect(text.lines.slice(text.lines.indexOf('sub-workflow runs:'))).toEqual([
      'sub-workflow runs:',
      expect.stringMatching(new RegExp(`^  └ ${child?.runId} · tree-middle · completed in \\S+ \\(step sub\\)$`)),
      expect.stringMatching(new RegExp(`^    └ ${grandchild?.runId} · tree-leaf · completed in \\S+ \\(step deeper\\)$`)),
    ]);
    const ofChild = captureIo();
    expect(await historyCommand(child?.runId ?? '', { api, apiKey }, ofChild, {})).toBe(0);
    expect(ofChild.lines[1]).toContain(`child of run ${state.runId} (step sub)`);
  }, 90_000);
});
