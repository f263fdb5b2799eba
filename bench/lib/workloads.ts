/**
 * The workloads, run inside one system's child process (bench/system.child.ts).
 * Every function is bounded in time by its caller.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type BenchSystem, chainOrder, type Shape, stepCount } from './system.port';
import { quantile, sleep, within } from './stats.util';
import { cpuSnapshot, cpuSpent, perStep } from './proc-cpu.util';

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
  /** Called with each finished run's scheduled start (performance.now() clock) and e2e latency, ms (bench/w4-tail.ts). */
  onFinished?: (intendedMs: number, latencyMs: number) => void;
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
  /** Where the tail comes from: the start call (scheduled start -> start resolved, e.g. Weft's createRun committed) p99. */
  startP99Ms?: number;
  /** e2e p99 of the runs scheduled in each 5 s of the window, in order (a tail at one moment or throughout). */
  p99ByWindowMs?: number[];
  /** This process's event-loop delay over the window (the load generator shares it with Weft's scheduler), p99 and max. */
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
  /** This process's CPU (user + system) over the window, in % of one core. */
  cpuPercent?: number;
  /**
   * CPU ms per step completed in the window, by process: `this process` (the load generator, and
   * Weft's scheduler or a peer's worker) and the system's others (BenchSystem.processes); `<role>
   * kernel` is the system part of each.
   */
  cpuMsPerStep?: Record<string, number>;
}

/** W4: chains started at a constant rate for `seconds` (or until `stop()` says so). */
export async function sustained(system: BenchSystem, options: SustainedOptions, stop: () => boolean = () => false): Promise<SustainedResult> {
  const shape: Shape = { kind: 'chain', steps: options.steps };
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  const startLatencies: number[] = [];
  const byWindow: number[][] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const processes = system.processes?.bind(system);
  const othersBefore = processes ? cpuSnapshot(await processes()) : undefined;
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
      .then(({ finished }) => {
        startLatencies.push(performance.now() - intended);
        return finished;
      })
      .then(
        (outcome) => {
          finishedTotal++;
          const latency = outcome.finishedAt - intended;
          latencies.push(latency);
          options.onFinished?.(intended, latency);
          const w = Math.floor((intended - t0) / 5000);
          (byWindow[w] ??= []).push(latency);
          if (outcome.finishedAt <= end) completedInWindow++;
        },
        () => {
          errors++;
        },
      );
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  };
  let windowEnd = end;
  for (let i = 0; ; ) {
    const now = performance.now();
    if (now >= end || stop()) {
      windowEnd = Math.min(now, end);
      break;
    }
    while (t0 + i * interval <= now && t0 + i * interval < end) {
      maxStartLagMs = Math.max(maxStartLagMs, now - (t0 + i * interval));
      launch(t0 + i * interval);
      i++;
    }
    await sleep(Math.max(0, Math.min(t0 + i * interval, end) - performance.now()));
  }
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
  const others = processes && othersBefore ? cpuSpent(othersBefore, cpuSnapshot(await processes())) : undefined;
  loop.disable();
  const backlogAtEnd = started - finishedTotal - errors;
  const drainStart = performance.now();
  while (inflight.size > 0 && performance.now() - drainStart < options.drainMs) await sleep(20);
  return {
    started,
    completedInWindow,
    stepsPerSec: (completedInWindow * options.steps) / ((windowEnd - t0) / 1000),
    offeredStepsPerSec: options.rate * options.steps,
    latencyP50Ms: quantile(latencies, 0.5),
    latencyP99Ms: quantile(latencies, 0.99),
    latencyMaxMs: latencies.length === 0 ? Number.NaN : Math.max(...latencies),
    backlogAtEnd,
    drainMsUsed: performance.now() - drainStart,
    undrained: inflight.size,
    errors,
    maxStartLagMs,
    startP99Ms: quantile(startLatencies, 0.99),
    p99ByWindowMs: Array.from(byWindow, (w) => (w ? quantile(w, 0.99) : Number.NaN)),
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    loopDelayMaxMs: loop.max / 1e6,
    cpuPercent,
    ...(others && { cpuMsPerStep: perStep({ 'this process': { totalMs: (cpu.user + cpu.system) / 1000, kernelMs: cpu.system / 1000 }, ...others }, completedInWindow * options.steps) }),
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
  /** From the `before` counters to the `after` ones: the runs plus the settle after them, all counted in `delta`. */
  windowMs: number;
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
  const windowMs = performance.now() - started;
  return { steps: runs * stepCount(shape), runs, durationMs, delta: diff(after, before), idle: diff(before, idleBefore), idleMs, windowMs };
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

export interface ManyRunsResult {
  runs: number;
  steps: number;
  /** First request to last run finished. */
  makespanMs: number;
  stepsPerSec: number;
  /** Per run: finished minus requested. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  /** This process (Weft: the scheduler; embedded: everything), sampled every 250 ms. */
  rssBeforeMb: number;
  rssPeakMb: number;
  heapBeforeMb: number;
  heapPeakMb: number;
}

/** W5: `runs` chains of `steps` requested at once (200 requests in flight at a time), all awaited. */
export async function manyRuns(system: BenchSystem, runs: number, steps: number): Promise<ManyRunsResult> {
  const shape: Shape = { kind: 'chain', steps };
  const before = process.memoryUsage();
  let rssPeak = before.rss;
  let heapPeak = before.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  }, 250);
  const latencies: number[] = [];
  let errors = 0;
  const finished: Promise<void>[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < runs; i += 200) {
      const requested = await Promise.all(Array.from({ length: Math.min(200, runs - i) }, () => system.start(shape)));
      for (const r of requested)
        finished.push(
          r.finished.then(
            (o) => void latencies.push(o.finishedAt - o.submittedAt),
            () => void errors++,
          ),
        );
    }
    await Promise.all(finished);
  } finally {
    clearInterval(sampler);
  }
  const makespanMs = performance.now() - t0;
  return {
    runs,
    steps: runs * steps,
    makespanMs,
    stepsPerSec: (runs * steps) / (makespanMs / 1000),
    latencyP50Ms: quantile(latencies, 0.5),
    latencyP99Ms: quantile(latencies, 0.99),
    errors,
    rssBeforeMb: mb(before.rss),
    rssPeakMb: mb(rssPeak),
    heapBeforeMb: mb(before.heapUsed),
    heapPeakMb: mb(heapPeak),
  };
}

export interface BigRunOptions {
  /** Steps of the big run (independent no-ops). */
  steps: number;
  /** Small runs beside it: W4-style chains at this rate (runs/s). */
  rate: number;
  smallSteps: number;
  /** The small runs alone first, for their quiet latency. */
  quietSeconds: number;
  /** Small runs before the quiet phase, not measured: the quiet p99 is of a warm process, not of its first runs' compiling. @default 0 */
  warmSeconds?: number;
  /** Longest the big run may take. */
  maxSeconds: number;
}

export interface BigRunResult {
  steps: number;
  quiet: SustainedResult;
  beside: SustainedResult;
  /** The request that starts the big run (validation, planning, the first dispatches' commit). */
  requestMs: number;
  bigMakespanMs: number;
  bigStepsPerSec: number;
  /** A second big run, canceled after `canceledAfterMs`: cancel request to terminal state committed. */
  cancelMs: number;
  canceledAfterMs: number;
  rssPeakMb: number;
}

/** W6: one big run beside small ones (their latency vs quiet), its per-step throughput, and the cancel of another. */
export async function bigRun(system: BenchSystem, options: BigRunOptions): Promise<BigRunResult> {
  const startCanceled = system.startAndCancel?.bind(system);
  if (!startCanceled) throw new Error(`${system.name} cannot cancel runs`);
  const small = { rate: options.rate, steps: options.smallSteps, drainMs: 60_000 };
  system.prepare?.({ kind: 'flat', steps: options.steps });
  if (options.warmSeconds) await sustained(system, { ...small, seconds: options.warmSeconds });
  const quiet = await sustained(system, { ...small, seconds: options.quietSeconds });
  let rssPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 250);
  try {
    const requested = performance.now();
    const big = await system.start({ kind: 'flat', steps: options.steps });
    const requestMs = performance.now() - requested;
    let done = false;
    const outcome = big.finished.finally(() => (done = true));
    const beside = await sustained(system, { ...small, seconds: options.maxSeconds }, () => done);
    const { submittedAt, finishedAt } = await within(options.maxSeconds * 1000, 'the big run', outcome);
    const canceledAfterMs = 100;
    const cancelMs = await startCanceled({ kind: 'flat', steps: options.steps }, canceledAfterMs);
    return {
      steps: options.steps,
      quiet,
      beside,
      requestMs,
      bigMakespanMs: finishedAt - submittedAt,
      bigStepsPerSec: options.steps / ((finishedAt - submittedAt) / 1000),
      cancelMs,
      canceledAfterMs,
      rssPeakMb: mb(rssPeak),
    };
  } finally {
    clearInterval(sampler);
  }
}

export interface ForEachMemoryResult {
  items: number;
  concurrency: number;
  makespanMs: number;
  itemsPerSec: number;
  /** This process after `global.gc()`, before the run was requested. */
  heapBeforeMb: number;
  rssBeforeMb: number;
  /** Highest live heap seen by a `global.gc()` every second during the run (what the scheduler keeps). */
  liveHeapPeakMb: number;
  /** Highest heapUsed / RSS sampled every 100 ms (garbage included). */
  heapPeakMb: number;
  rssPeakMb: number;
  /** After `global.gc()` once the run has completed. */
  heapAfterMb: number;
}

/** One run of a forEach over `items` no-op items, `concurrency` in flight: the scheduling process's memory while it runs. */
export async function forEachMemory(system: BenchSystem, items: number, concurrency: number): Promise<ForEachMemoryResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  const shape: Shape = { kind: 'foreach', items, concurrency };
  system.prepare?.(shape);
  const before = await collect();
  let heapPeak = before.heapUsed;
  let rssPeak = before.rss;
  let liveHeapPeak = before.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    heapPeak = Math.max(heapPeak, m.heapUsed);
    rssPeak = Math.max(rssPeak, m.rss);
  }, 100);
  const live = setInterval(() => {
    gc();
    liveHeapPeak = Math.max(liveHeapPeak, process.memoryUsage().heapUsed);
  }, 1000);
  try {
    const run = await system.start(shape);
    const { submittedAt, finishedAt } = await within(600_000, `the ${items}-item forEach`, run.finished);
    const after = await collect();
    return {
      items,
      concurrency,
      makespanMs: finishedAt - submittedAt,
      itemsPerSec: items / ((finishedAt - submittedAt) / 1000),
      heapBeforeMb: mb(before.heapUsed),
      rssBeforeMb: mb(before.rss),
      liveHeapPeakMb: mb(liveHeapPeak),
      heapPeakMb: mb(heapPeak),
      rssPeakMb: mb(rssPeak),
      heapAfterMb: mb(after.heapUsed),
    };
  } finally {
    clearInterval(sampler);
    clearInterval(live);
  }
}
