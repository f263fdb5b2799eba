/** What every system under test offers the workloads (bench/lib/workloads.ts). */
import type { ProcessGroups } from './proc-cpu.util';

/** The DAG shapes the workloads run; every step is a no-op unless said otherwise. */
export type Shape =
  /** W1 / W4: s0 -> s1 -> ... */
  | { kind: 'chain'; steps: number }
  /** W2: src -> width branches -> join */
  | { kind: 'fan'; width: number }
  /** W3: `layers` layers of `width` steps; each step needs every step of the layer before. */
  | { kind: 'diamond'; layers: number; width: number }
  /** W6: `steps` independent no-op steps (one big run). */
  | { kind: 'flat'; steps: number }
  /** Memory: a first step that sleeps `sleepMs`, then a no-op. */
  | { kind: 'sleeper'; sleepMs: number }
  /** forEach memory: one step over `items` inputs (the list is the run's input), `concurrency` in flight. */
  | { kind: 'foreach'; items: number; concurrency: number };

export const stepCount = (shape: Shape): number => {
  switch (shape.kind) {
    case 'chain':
      return shape.steps;
    case 'fan':
      return shape.width + 2;
    case 'diamond':
      return shape.layers * shape.width;
    case 'flat':
      return shape.steps;
    case 'sleeper':
      return 2;
    case 'foreach':
      return shape.items;
  }
};

/** Start and end of one step, in the system's own clock (ms); only differences are used. */
export interface StepTiming {
  id: string;
  /** Weft only: when the dispatch was decided (the predecessor's result transaction). */
  queued?: number;
  start: number;
  end: number;
}

export interface RunOutcome {
  /** performance.now() just before the run was requested. */
  submittedAt: number;
  /** performance.now() when this process learned the run finished. */
  finishedAt: number;
  /** Chains only, when asked for: steps in chain order. */
  steps?: StepTiming[];
}

export interface BenchSystem {
  readonly name: string;
  setup(): Promise<void>;
  /** Durability settings printed beside the numbers. */
  durability(): Promise<Record<string, string>>;
  /** Requests a run; `finished` resolves once it has completed. */
  start(shape: Shape, options?: { timings?: boolean }): Promise<{ finished: Promise<RunOutcome> }>;
  /** Starts a run nobody waits for (memory per waiting run); Weft only. */
  startDetached?(shape: Shape): Promise<void>;
  /** Builds what a shape needs before it is timed (Weft: the spec; a 50,000-step one takes a while to build). */
  prepare?(shape: Shape): void;
  /** Starts a run, cancels it after `afterMs`; resolves with ms from the cancel request to its terminal state. Weft only. */
  startAndCancel?(shape: Shape, afterMs: number): Promise<number>;
  /** Cost counters (commits, messages, commands, ...) since the last call; optional. */
  counters?(): Promise<Record<string, number>>;
  /** The system's processes other than this one, by role (its executor, PostgreSQL backends, broker), for CPU per step. */
  processes?(): Promise<ProcessGroups>;
  teardown(): Promise<void>;
}

/** Chain step ids are `s<i>`: sorts timings into chain order. */
export function chainOrder(steps: StepTiming[]): StepTiming[] {
  return [...steps].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
}
