/**
 * What holds embedded Weft's event loop while W6's small runs wait beside a big run (issue 15):
 * 5-step chains at 10 runs/s (3 s unmeasured, then `quiet` 8 s alone), then beside a `steps`-step
 * flat run until it ends. Records, on one clock, each small run's end-to-end latency, the loop's
 * stalls (a 2 ms interval timer's lateness) and every garbage collection (PerformanceObserver
 * 'gc'), then prints the ten slowest small runs beside the big one with the stalls and the
 * collections inside each, and the phase's collections (kind 1 = scavenge, 4 = mark-compact,
 * 8 = incremental marking). Session 14 (docs/benchmarks.md): the slowest runs' stalls add up to
 * their latency; collections are ~18 % of the phase's time and most of the stalls, not all (one
 * reading's slowest run sat behind a 28 ms stall with no collection in it).
 *
 *   node -r @swc-node/register bench/w6-gc-trace.ts [steps=50000]
 */
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { quantile } from './lib/stats.util';
import { WeftEmbedded } from './systems/weft.system';

interface Sample {
  /** Intended start (performance.now() ms). */
  at: number;
  ms: number;
}

interface Collection {
  at: number;
  ms: number;
  kind: number;
}

const RATE_INTERVAL_MS = 100;
const PROBE_MS = 2;

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 50_000);
  const system = new WeftEmbedded(16);
  await system.setup();
  const stalls: { at: number; ms: number }[] = [];
  const collections: Collection[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.push({ at: entry.startTime, ms: entry.duration, kind: (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0 });
  });
  observer.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    stalls.push({ at: now, ms: now - last - PROBE_MS });
    last = now;
  }, PROBE_MS);

  /** 5-step chains every 100 ms for `seconds` or until `stop()`; resolves with every run's latency. */
  const smallRuns = async (seconds: number, stop: () => boolean): Promise<Sample[]> => {
    const out: Sample[] = [];
    const t0 = performance.now();
    const runs: Promise<void>[] = [];
    for (let i = 0; ; i++) {
      const at = t0 + i * RATE_INTERVAL_MS;
      if (at > t0 + seconds * 1000 || stop()) break;
      const wait = at - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      runs.push(
        system
          .start({ kind: 'chain', steps: 5 })
          .then(({ finished }) => finished)
          .then((outcome) => void out.push({ at, ms: outcome.finishedAt - at })),
      );
    }
    await Promise.all(runs);
    return out;
  };

  try {
    system.prepare({ kind: 'flat', steps });
    await smallRuns(3, () => false);
    const quiet = (await smallRuns(8, () => false)).map((s) => s.ms);
    const requested = performance.now();
    const big = await system.start({ kind: 'flat', steps });
    const besideFrom = performance.now();
    let done = false;
    const finished = big.finished.finally(() => (done = true));
    const beside = await smallRuns(900, () => done);
    const outcome = await finished;
    const f = (n: number): string => n.toFixed(1);
    console.log(`big run: start request ${f(besideFrom - requested)} ms, ${steps} steps in ${f((outcome.finishedAt - outcome.submittedAt) / 1000)} s`);
    console.log(`quiet: ${quiet.length} runs, p50 ${f(quantile(quiet, 0.5))} ms, p99 ${f(quantile(quiet, 0.99))} ms`);
    const besideMs = beside.map((s) => s.ms);
    console.log(`beside: ${beside.length} runs, p50 ${f(quantile(besideMs, 0.5))} ms, p99 ${f(quantile(besideMs, 0.99))} ms; the slowest:`);
    for (const run of [...beside].sort((a, b) => b.ms - a.ms).slice(0, 10)) {
      const end = run.at + run.ms;
      // A stall is recorded when it ends: the ones that end inside the run held it.
      const held = stalls.filter((s) => s.at >= run.at && s.at <= end + PROBE_MS && s.ms > 3);
      const inside = collections.filter((c) => c.at + c.ms >= run.at && c.at <= end);
      console.log(
        `  +${f((run.at - besideFrom) / 1000)} s: ${f(run.ms)} ms; stalls over 3 ms ${f(held.reduce((sum, s) => sum + s.ms, 0))} ms (max ${f(Math.max(0, ...held.map((s) => s.ms)))}); ` +
          `collections ${f(inside.reduce((sum, c) => sum + c.ms, 0))} ms [${inside.map((c) => `${c.kind}:${f(c.ms)}`).join(' ')}]`,
      );
    }
    const phase = collections.filter((c) => c.at >= besideFrom);
    const seconds = (performance.now() - besideFrom) / 1000;
    console.log(
      `collections beside: ${phase.length} in ${f(seconds)} s, ${f(phase.reduce((sum, c) => sum + c.ms, 0))} ms in all; longest ` +
        [...phase]
          .sort((a, b) => b.ms - a.ms)
          .slice(0, 10)
          .map((c) => `${c.kind}:${f(c.ms)}`)
          .join(' '),
    );
  } finally {
    clearInterval(probe);
    observer.disconnect();
    await system.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
