import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServiceProcess, spawnTs } from './support/service-process.util';
import { waitFor } from './support/wait.util';

interface RunLine {
  status: string;
  steps: { id: string; status: string; attempt: number }[];
}

const runLines = (service: ServiceProcess): RunLine[] =>
  service
    .output()
    .split('\n')
    .map((line) => /\] RUN (.*)$/.exec(line)?.[1])
    .filter((json): json is string => json !== undefined)
    .map((json) => JSON.parse(json) as RunLine);

// "Done means": a run waiting in embedded mode (`weft dev`: in-memory bus, PGlite on
// disk, no NATS or PostgreSQL) survives kill -9 of the process and finishes after a restart.
describe('weft dev restarted mid-run', () => {
  let dir: string;
  const started: ServiceProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-dev-restart-'));
  });
  afterAll(async () => {
    await Promise.all(started.map((p) => p.kill()));
    await rm(dir, { recursive: true, force: true });
  });

  it('a run in a durable sleep is still there after kill -9 and completes after the restart, at the time first scheduled, attempt 1', async () => {
    const entry = join('test', 'distributed', 'support', 'dev-restart.entry.ts');
    const env = { WEFT_DATA_DIR: join(dir, 'data'), WEFT_POLL_INTERVAL_MS: '100', TEST_SLEEP: '3s' };
    const first = await spawnTs('dev#1', entry, env);
    started.push(first);
    try {
      await first.waitForOutput(/SUBMITTED created=true/, 25_000);
      await first.waitForOutput(/RUN .*"id":"wait","status":"waiting"/, 15_000);
      expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' });
      expect(runLines(first).at(-1)?.status).toBe('waiting');

      const second = await spawnTs('dev#2', entry, env);
      started.push(second);
      try {
        await second.waitForOutput(/SUBMITTED created=false/, 25_000);
        await second.waitForOutput(/RUN \{"status":"completed"/, 20_000);
        const final = runLines(second).at(-1);
        expect(final).toEqual({
          status: 'completed',
          steps: [
            // A sleep is a timer row, not a worker: the restart neither re-runs nor restarts it.
            { id: 'wait', status: 'completed', attempt: 1 },
            { id: 'after', status: 'completed', attempt: 1 },
          ],
        });
        // It closes itself once the run is done.
        await waitFor(() => !second.running, { timeoutMs: 10_000, what: 'dev#2 to exit' });
        expect(await second.exited).toEqual({ code: 0, signal: null });
      } catch (error) {
        throw withOutput(error, second);
      }
    } catch (error) {
      throw withOutput(error, first);
    }
  }, 100_000);

  it('a run waiting on a review is still there after kill -9; after the restart the decision completes it once', async () => {
    const entry = join('test', 'distributed', 'support', 'dev-restart.entry.ts');
    const env = { WEFT_DATA_DIR: join(dir, 'review-data'), WEFT_POLL_INTERVAL_MS: '100', TEST_REVIEW: 'true' };
    const first = await spawnTs('dev-review#1', entry, env);
    started.push(first);
    try {
      await first.waitForOutput(/SUBMITTED created=true/, 25_000);
      await first.waitForOutput(/RUN \{"status":"waiting".*"id":"wait","status":"waiting"/, 15_000);
      expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' });

      const second = await spawnTs('dev-review#2', entry, env);
      started.push(second);
      try {
        await second.waitForOutput(/SUBMITTED created=false/, 25_000);
        // Loopback without a key: the decision is by `local`.
        const decide = (): Promise<Response> =>
          fetch(`http://127.0.0.1:${second.port}/v1/reviews/${encodeURIComponent('dev-restart:wait:1')}/decision`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ decision: 'continue' }),
          });
        const answers = await Promise.all([decide(), decide()]);
        expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
        await second.waitForOutput(/RUN \{"status":"completed"/, 20_000);
        expect(runLines(second).at(-1)).toEqual({
          status: 'completed',
          steps: [
            { id: 'wait', status: 'completed', attempt: 1 },
            { id: 'after', status: 'completed', attempt: 1 },
          ],
        });
        await waitFor(() => !second.running, { timeoutMs: 10_000, what: 'dev-review#2 to exit' });
      } catch (error) {
        throw withOutput(error, second);
      }
    } catch (error) {
      throw withOutput(error, first);
    }
  }, 100_000);
});

function withOutput(error: unknown, service: ServiceProcess): unknown {
  if (error instanceof Error) error.message += `\n--- ${service.label} ---\n${service.output()}`;
  return error;
}
