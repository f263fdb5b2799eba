import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type CheckedSpec, checkSpec, type SpecLimits, type SpecSource } from './spec-source.util';
import { WorkflowError } from './workflow.errors';

/** Specs at least this large (characters of their text, or of the object's JSON) are checked off the event loop. */
export const DEFAULT_OFF_LOOP_CHARS = 16 * 1024;
/** Checks waiting for the worker thread at most; one more is refused with SPEC_CHECKS_BUSY (503). */
export const DEFAULT_MAX_WAITING_CHECKS = 32;
/** An idle worker thread is stopped after this long (its heap and loaded modules are freed); the next large check starts another. */
export const DEFAULT_THREAD_IDLE_MS = 60_000;

export interface SpecCheckerOptions {
  /** Bounds every check applies (WEFT_MAX_STEPS). */
  limits?: SpecLimits;
  /** @default DEFAULT_OFF_LOOP_CHARS; Infinity checks everything on the event loop. */
  offLoopChars?: number;
  /** @default DEFAULT_MAX_WAITING_CHECKS */
  maxWaiting?: number;
  /** @default DEFAULT_THREAD_IDLE_MS */
  idleMs?: number;
  /** Told once when the worker thread cannot run, after which checks run on the event loop. */
  onWorkerFailed?: (error: string) => void;
  /** The worker module (tests point it at a missing file). @default spec-check.worker beside this module */
  workerEntry?: string;
}

/** A message to the worker thread (spec-check.worker.ts). */
export interface SpecCheckRequest {
  id: number;
  input: SpecSource;
  file: string;
  limits: SpecLimits;
}

/** The worker's answer: the check, or why checkSpec threw. */
export type SpecCheckReply = { id: number; checked: CheckedSpec; error?: undefined } | { id: number; error: string; checked?: undefined };

interface Waiting {
  resolve(checked: CheckedSpec): void;
  reject(error: unknown): void;
}

/**
 * checkSpec for the API, without taking the event loop: parsing and validating a spec costs
 * ~35 us per step on this machine (a 1 MB, 30,000-step body ~1 s), time in which the scheduler in
 * the same process would handle no result, timer or request. A small spec is checked at once; a
 * large one on one worker thread, started on first need and stopped after `idleMs` without work, one check at a time,
 * the others waiting in order (at most `maxWaiting`). The diagnostics are the same either way.
 * If the thread cannot start at all (it never answered), checks run on the event loop from then on
 * (correct, only slower) and `onWorkerFailed` says so. If a thread that worked dies (a spec that
 * ran it out of its `resourceLimits`), the checks it held fail with SPEC_CHECKS_BUSY and the next
 * check starts a new thread: what killed it is never retried on the event loop.
 */
export class SpecChecker {
  private readonly offLoopChars: number;
  private readonly maxWaiting: number;
  private worker: Worker | undefined;
  /** Stops the thread once it has been idle for `idleMs`. */
  private idleTimer: NodeJS.Timeout | undefined;
  /** A thread has answered once: the hook and the module load here. */
  private started = false;
  /** The thread could not start: checks run on the event loop. */
  private broken = false;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting & { request: SpecCheckRequest }>();

  constructor(private readonly options: SpecCheckerOptions = {}) {
    this.offLoopChars = options.offLoopChars ?? DEFAULT_OFF_LOOP_CHARS;
    this.maxWaiting = options.maxWaiting ?? DEFAULT_MAX_WAITING_CHECKS;
  }

  /** checkSpec's result for `input` under the checker's limits; rejects with WorkflowError SPEC_CHECKS_BUSY when too many large checks wait. */
  check(input: SpecSource, file = ''): Promise<CheckedSpec> {
    const limits = this.options.limits ?? {};
    if (this.broken || sizeOf(input) < this.offLoopChars) return Promise.resolve(checkSpec(input, file, limits));
    if (this.waiting.size >= this.maxWaiting) {
      return Promise.reject(new WorkflowError('SPEC_CHECKS_BUSY', `${this.waiting.size} large specs are being checked; try again shortly`));
    }
    const request: SpecCheckRequest = { id: ++this.nextId, input, file, limits };
    clearTimeout(this.idleTimer);
    return new Promise<CheckedSpec>((resolve, reject) => {
      this.waiting.set(request.id, { request, resolve, reject });
      try {
        this.thread().postMessage(request);
      } catch (error) {
        this.fail(error);
      }
    });
  }

  /** True while a worker thread is up (started by a large check, stopped once idle). */
  get threadRunning(): boolean {
    return this.worker !== undefined;
  }

  /** Stops the worker thread (checks still waiting run on the event loop). */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.broken = true;
    await worker?.terminate();
    this.runWaitingHere();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry: this.options.workerEntry ?? WORKER_ENTRY }, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    worker.unref();
    worker.on('message', (reply: SpecCheckReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(new Error(`the spec check thread exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }

  private settle(reply: SpecCheckReply): void {
    this.started = true;
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (reply.checked) waiting.resolve(reply.checked);
    else waiting.reject(new Error(reply.error));
    if (this.waiting.size === 0) this.stopWhenIdle();
  }

  private stopWhenIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const worker = this.worker;
      // Cleared first: its exit is not a failure.
      this.worker = undefined;
      void worker?.terminate();
    }, this.options.idleMs ?? DEFAULT_THREAD_IDLE_MS);
    this.idleTimer.unref();
  }

  /**
   * The thread failed. Never started: every check runs here from now on, the waiting ones first.
   * Died after working: the checks it held are refused (one of them may be what killed it) and the next check starts another.
   */
  private fail(error: unknown): void {
    if (this.broken) return;
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    const reason = error instanceof Error ? error.message : String(error);
    if (!this.started) {
      this.broken = true;
      this.options.onWorkerFailed?.(reason);
      this.runWaitingHere();
      return;
    }
    for (const [id, waiting] of this.waiting) {
      this.waiting.delete(id);
      waiting.reject(new WorkflowError('SPEC_CHECKS_BUSY', `the spec check thread stopped (${reason}); try again shortly`));
    }
  }

  private runWaitingHere(): void {
    for (const [id, waiting] of this.waiting) {
      this.waiting.delete(id);
      try {
        waiting.resolve(checkSpec(waiting.request.input, waiting.request.file, waiting.request.limits));
      } catch (error) {
        waiting.reject(error);
      }
    }
  }
}

/** Characters of the spec as checkSpec reads it (the object's JSON). */
function sizeOf(input: SpecSource): number {
  if (input.source !== undefined) return input.source.length;
  try {
    return JSON.stringify(input.spec ?? null)?.length ?? 0;
  } catch {
    return 0;
  }
}

/** The worker thread's heap: a spec at the body limit needs a fraction of it; more is hostile. */
const WORKER_HEAP_MB = 1024;

/** The worker module beside this one: `.ts` when Weft runs from source (TypeScript loaded by @swc-node/register), `.js` once built. */
const WORKER_ENTRY = join(__dirname, `spec-check.worker${extname(__filename)}`);

/** Loads the worker module, with the TypeScript hook when it is source (a worker thread does not share jest's or the CLI's module loader). */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.entry.endsWith('.ts')) require('@swc-node/register');
require(workerData.entry);
`;
