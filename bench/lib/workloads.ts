/**
 * The workloads, run inside one system's child process (bench/system.child.ts).
 * Every function is bounded in time by its caller.
 */
import { type BenchSystem, chainOrder, type Shape, stepCount } from './system.port';
import { quantile, sleep } from './stats.util';

export interface MakespanResult {
  makespanMs: number;
  /** W1: a step's start minus its predecessor's end, per hop. */
  hopsMs?: number[];
  /** W1, Weft: dispatch decided -> started recorded, and started -> finished recorded, per step. */
  queuedToStartMs?: number[];
  startToEndMs?: number[];
}

export async function runOnce(system: BenchSystem, shape: Shape, timings = false): Promise<MakespanResult> {
  const { finished } = await system.start(shape, { timings });
  const outcome = await finished;
  const result: MakespanResult = { makespanMs: outcome.finishedAt - outcome.submittedAt };
  if (timings && outcome.steps) {
    const steps = chainOrder(outcome.steps);
    result.hopsMs = steps.slice(1).map((s, i) => s.start - steps[i].end);
    if (steps.every((s) => s.queued !== undefined)) {
      result.queuedToStartMs = steps.map((s) => s.start - (s.queued ?? s.start));
      result.startToEndMs = steps.map((s) => s.end - s.start);
    }
  }
  return result;
}

export interface SustainedOptions {
  /** Runs started per second. */
  rate: number;
  seconds: number;
  steps: number;
  /** How long to wait for the backlog after the window. */
  drainMs: number;
}

export interface SustainedResult {
  started: number;
  /** Runs finished inside the window. */
  completedInWindow: number;
  stepsPerSec: number;
  offeredStepsPerSec: number;
  /** End-to-end latency from the run's scheduled start time (no coordinated omission). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** Runs started but not finished when the window closed. */
  backlogAtEnd: number;
  /** After the window, until the backlog was gone (or drainMs passed: then `undrained` > 0). */
  drainMsUsed: number;
  undrained: number;
  errors: number;
  /** The start loop fell behind schedule by this much at most (the load generator's own lag). */
  maxStartLagMs: number;
}

/** W4: chains started at a constant rate for `seconds`. */
export async function sustained(system: BenchSystem, options: SustainedOptions): Promise<SustainedResult> {
  const shape: Shape = { kind: 'chain', steps: options.steps };
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  let completedInWindow = 0;
  let finishedTotal = 0;
  let errors = 0;
  let started = 0;
  let maxStartLagMs = 0;
  const t0 = performance.now();
  const end = t0 + options.seconds * 1000;
  const inflight = new Set<Promise<void>>();
  const launch = (intended: number): void => {
    started++;
    const task = system
      .start(shape)
      .then(({ finished }) => finished)
      .then(
        (outcome) => {
          finishedTotal++;
          latencies.push(outcome.finishedAt - intended);
          if (outcome.finishedAt <= end) completedInWindow++;
        },
        () => {
          errors++;
        },
      );
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  };
  for (let i = 0; ; ) {
    const now = performance.now();
    if (now >= end) break;
    while (t0 + i * interval <= now && t0 + i * interval < end) {
      maxStartLagMs = Math.max(maxStartLagMs, now - (t0 + i * interval));
      launch(t0 + i * interval);
      i++;
    }
    await sleep(Math.max(0, Math.min(t0 + i * interval, end) - performance.now()));
  }
  const backlogAtEnd = started - finishedTotal - errors;
  const drainStart = performance.now();
  while (inflight.size > 0 && performance.now() - drainStart < options.drainMs) await sleep(20);
  return {
    started,
    completedInWindow,
    stepsPerSec: (completedInWindow * options.steps) / options.seconds,
    offeredStepsPerSec: options.rate * options.steps,
    latencyP50Ms: quantile(latencies, 0.5),
    latencyP99Ms: quantile(latencies, 0.99),
    latencyMaxMs: latencies.length === 0 ? Number.NaN : Math.max(...latencies),
    backlogAtEnd,
    drainMsUsed: performance.now() - drainStart,
    undrained: inflight.size,
    errors,
    maxStartLagMs,
  };
}

export interface CostResult {
  steps: number;
  runs: number;
  durationMs: number;
  /** Counter deltas over the workload. */
  delta: Record<string, number>;
  /** Counter deltas over an idle window of `idleMs` before it (background polling). */
  idle: Record<string, number>;
  idleMs: number;
}

const STATS_SETTLE_MS = 11_000;

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

/** Counter deltas around `runs` sequential runs of `shape`, and over an idle window before. */
export async function cost(system: BenchSystem, shape: Shape, runs: number, idleMs: number): Promise<CostResult> {
  if (!system.counters) throw new Error(`${system.name} has no counters`);
  // Stats of the work before (setup, warm-up) must be published first: an idle backend
  // publishes its counters within about 10 s (PGSTAT_IDLE_INTERVAL).
  await sleep(STATS_SETTLE_MS);
  const idleBefore = await system.counters();
  await sleep(idleMs);
  const before = await system.counters();
  const started = performance.now();
  for (let r = 0; r < runs; r++) await runOnce(system, shape);
  const durationMs = performance.now() - started;
  await sleep(STATS_SETTLE_MS);
  const after = await system.counters();
  return { steps: runs * stepCount(shape), runs, durationMs, delta: diff(after, before), idle: diff(before, idleBefore), idleMs };
}

export interface MemoryResult {
  runs: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  heapDeltaMbPer10k: number;
  rssDeltaMbPer10k: number;
  startMs: number;
}

const mb = (bytes: number): number => bytes / 1024 / 1024;

async function collect(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(100);
  }
  return process.memoryUsage();
}

/** Heap and RSS growth of this process with `runs` runs waiting on a long first step. */
export async function memory(system: BenchSystem, runs: number, sleepMs: number): Promise<MemoryResult> {
  const startDetached = system.startDetached?.bind(system);
  if (!startDetached) throw new Error(`${system.name} cannot start detached runs`);
  const shape: Shape = { kind: 'sleeper', sleepMs };
  await startDetached(shape);
  const before = await collect();
  const started = performance.now();
  const batch = 50;
  for (let i = 0; i < runs; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, runs - i) }, () => startDetached(shape)));
  }
  const startMs = performance.now() - started;
  // Let the relay publish every dispatch and the executor take what it can.
  await sleep(3000);
  const after = await collect();
  const per10k = 10_000 / runs;
  return {
    runs,
    heapBeforeMb: mb(before.heapUsed),
    heapAfterMb: mb(after.heapUsed),
    rssBeforeMb: mb(before.rss),
    rssAfterMb: mb(after.rss),
    heapDeltaMbPer10k: mb(after.heapUsed - before.heapUsed) * per10k,
    rssDeltaMbPer10k: mb(after.rss - before.rss) * per10k,
    startMs,
  };
}
