import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InsightSummary, openAnalyticsStore, RecordAnalyticsEventUseCase } from '@weft/analytics';
import type { LifecycleEvent } from '@weft/contracts';
import { openJournalStore, RecordEventUseCase, type RunHistory } from '@weft/journal';
import { historyCommand } from '../commands/history.command';
import { insightsCommand } from '../commands/insights.command';
import type { Io } from '../io';

function captureIo(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, isTTY: false, out: (line) => void lines.push(line), err: (line) => void errors.push(line), write: (text) => void lines.push(text) };
}

/** Nobody answers on the dev port: the commands must read the database themselves. */
const noDevServer = async (): Promise<Response> => {
  throw new TypeError('fetch failed');
};

/** `weft history` and `weft insights` reading the PGlite directory `weft dev` leaves behind. */
describe('weft history / weft insights on the embedded database', () => {
  let dir: string;
  const now = Date.now();
  const at = (ms: number) => new Date(now - 3_600_000 + ms).toISOString();
  const events: LifecycleEvent[] = [
    { type: 'run.queued', status: 'queued' },
    { type: 'run.started', status: 'running' },
    { type: 'step.completed', status: 'completed', stepId: 'build', attempt: 1, durationMs: 40, data: { output: { artifact: 'app.tgz' } } },
    { type: 'run.completed', status: 'completed', durationMs: 50, data: { outputs: { artifact: 'app.tgz' } } },
  ].map((fields, i) => ({ eventId: `dev-run:${i + 1}:0`, runId: 'dev-run', workflow: 'ship', version: '1', at: at(i * 10), ...fields }) as LifecycleEvent);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-embedded-'));
    // What `weft dev` does: both services' tables in WEFT_DATA_DIR, fed by lifecycle events.
    const journal = await openJournalStore({ kind: 'pglite', dataDir: dir });
    const analytics = await openAnalyticsStore({ kind: 'pglite', dataDir: dir });
    for (const event of events) {
      await new RecordEventUseCase(journal.store).execute(event);
      await new RecordAnalyticsEventUseCase(analytics.store).execute(event);
    }
    await journal.store.close();
    await analytics.store.close();
    await journal.dataSource.destroy();
    await analytics.dataSource.destroy();
  }, 60_000);

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a run history and the insights from WEFT_DATA_DIR', async () => {
    const env = { WEFT_DATA_DIR: dir, PORT: '1' };
    const history = captureIo();
    expect(await historyCommand('dev-run', { json: true }, history, env, noDevServer)).toBe(0);
    const story = JSON.parse(history.lines.join('\n')) as RunHistory;
    expect(story.run).toMatchObject({ runId: 'dev-run', status: 'completed', outputs: { artifact: 'app.tgz' } });
    expect(story.steps).toEqual([expect.objectContaining({ stepId: 'build', status: 'completed', output: { artifact: 'app.tgz' } })]);
    expect(history.errors).toEqual([]);

    const text = captureIo();
    expect(await historyCommand('dev-run', {}, text, env, noDevServer)).toBe(0);
    expect(text.lines).toContain('  +20ms  build completed in 40ms (attempt 1)');

    const insights = captureIo();
    expect(await insightsCommand({ since: '2h', json: true }, insights, env, noDevServer)).toBe(0);
    const summary = JSON.parse(insights.lines.join('\n')) as InsightSummary;
    expect(summary.runs).toMatchObject({ started: 1, finished: 1, completed: 1, avgMs: 50, p50Ms: 50, p95Ms: 50 });
    expect(summary.steps).toEqual([expect.objectContaining({ workflow: 'ship', stepId: 'build', completed: 1, avgMs: 40 })]);

    const unknown = captureIo();
    expect(await historyCommand('other-run', {}, unknown, env, noDevServer)).toBe(2);
    expect(unknown.errors).toEqual([`the journal has no entry for run other-run (in PGlite in ${dir})`]);
    const badSince = captureIo();
    expect(await insightsCommand({ since: 'a while' }, badSince, env, noDevServer)).toBe(2);
    expect(badSince.errors[0]).toMatch(/^since: expected an ISO 8601 time or a duration/);
  }, 60_000);
});
