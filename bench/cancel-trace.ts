/**
 * Cancel of a big run (issue 15, W6): distributed Weft (scheduler here, executor in its own
 * process), a `steps`-step flat run canceled 100 ms after its start request returned; prints
 * the cancel time (request to canceled state committed) `reps` times.
 *
 *   node -r @swc-node/register bench/cancel-trace.ts [steps=50000] [reps=2] [embedded]
 *
 * TRACE=1 prints every store call over 20 ms (start -> end, ms since setup); PROF=<file>
 * writes a .cpuprofile of this process (the scheduler's, in distributed mode) over all reps.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { WeftDistributed, WeftEmbedded } from './systems/weft.system';

async function main(): Promise<void> {
  const [stepsArg, repsArg, mode] = process.argv.slice(2);
  const steps = Number(stepsArg ?? 50_000);
  const reps = Number(repsArg ?? 2);
  const system = mode === 'embedded' ? new WeftEmbedded(16) : new WeftDistributed({ concurrency: 16 });
  await system.setup();
  const t0 = performance.now();
  if (process.env.TRACE) system.store().timeline = (call, start, end) => {
    if (end - start > 20) process.stdout.write(`  ${call} ${(start - t0).toFixed(0)} -> ${(end - t0).toFixed(0)} (${(end - start).toFixed(0)} ms)\n`);
  };
  const session = new Session();
  if (process.env.PROF) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  try {
    for (let i = 0; i < reps; i++) {
      const started = performance.now();
      process.stdout.write(`rep ${i} at ${(started - t0).toFixed(0)}\n`);
      const cancelMs = await system.startAndCancel({ kind: 'flat', steps }, 100);
      process.stdout.write(`${steps} steps: cancel ${cancelMs.toFixed(0)} ms (start + cancel ${(performance.now() - started).toFixed(0)} ms)\n`);
    }
    if (process.env.PROF) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(process.env.PROF, JSON.stringify(profile));
    }
  } finally {
    await system.teardown();
  }
}

void main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
