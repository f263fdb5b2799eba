// `weft dev` as the distributed tests drive it: the same composition (in-memory bus,
// PGlite in WEFT_DATA_DIR), plus a run submitted through the Scheduler instance (no
// HTTP API yet). It prints the run whenever it changes, as `RUN <json>` lines.
import 'reflect-metadata';
import { composeDev } from '@weft/cli';
import { loadConfig } from '@weft/config';
import { bootService } from '@weft/platform';
import { Scheduler } from '@weft/scheduler';

const RUN_ID = 'dev-restart';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const composition = await composeDev(config, []);
  const service = await bootService(composition.module, { name: 'dev', port: config.PORT, host: config.HOST });
  process.stdout.write(`dev up on ${composition.description}\n`);
  const scheduler = service.app.get(Scheduler);
  const spec = {
    apiVersion: 'weft/v1',
    kind: 'Workflow',
    name: 'dev-restart',
    // TEST_REVIEW=true: the first step is an approval gate (a review) instead of a durable sleep.
    steps: [
      process.env.TEST_REVIEW === 'true'
        ? { id: 'wait', action: 'noop', with: { amount: 1 }, review: { title: 'Approve?' } }
        : { id: 'wait', action: 'sleep', with: { duration: process.env.TEST_SLEEP ?? '3s' } },
      { id: 'after', needs: ['wait'], action: 'noop' },
    ],
  };
  // The same key on every start: after a restart this finds the run instead of starting another.
  const { created } = await scheduler.startRun({ idempotencyKey: RUN_ID, runId: RUN_ID, workflow: 'dev-restart', spec, inputs: {} });
  process.stdout.write(`SUBMITTED created=${created}\n`);
  let last = '';
  for (;;) {
    const run = await scheduler.getRun(RUN_ID);
    const line = JSON.stringify({
      status: run?.status,
      steps: Object.values(run?.steps ?? {}).map((s) => ({ id: s.id, status: s.status, attempt: s.attempt })),
    });
    if (line !== last) process.stdout.write(`RUN ${line}\n`);
    last = line;
    if (run?.status === 'completed' || run?.status === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await service.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
