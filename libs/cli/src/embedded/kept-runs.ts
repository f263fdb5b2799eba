import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Bus, Headers, Subscription } from '@weft/bus';
import { databaseConfigOf, type WeftConfig } from '@weft/config';
import type { LifecycleEvent } from '@weft/contracts';
import type { RunState } from '@weft/core';
import { type DatabaseConfig, lockDataDir } from '@weft/db';
import { type CreateRunOptions, MemoryRunStore, type RunStore, type Transition } from '@weft/scheduler';

/**
 * What `weft run` leaves for the local store when it keeps a run in PGlite: the finished runs
 * (the root and its children) and every lifecycle event they published, in order. PGlite's
 * start (WASM compile, Postgres start, ~0.6-1 s) was most of a short `weft run`; the run now
 * runs in memory and writes this one file, and the next process that opens the store
 * (`weft history`, `weft runs list`, `weft insights`, `weft dev`) imports it first
 * (kept-runs.import.ts): the same rows as if the run had been written there as it went.
 */
export interface KeptRunsFile {
  format: typeof KEPT_RUNS_FORMAT;
  runs: { idempotencyKey: string; state: RunState }[];
  events: { data: LifecycleEvent; headers: Headers }[];
}

export const KEPT_RUNS_FORMAT = 1;

/** Where kept runs wait for their import: beside the data directory, as its lock is (`.weft/data` -> `.weft/data.pending`). */
export const pendingDirOf = (dataDir: string): string => `${resolve(dataDir).replace(/[\\/]+$/, '')}.pending`;

/** The store `weft dev` keeps (PGlite in WEFT_DATA_DIR, or DATABASE_URL), as one embedded run sees it. */
export interface LocalStore {
  store: RunStore;
  /** More modules for the run's application (the journal and analytics folding its events). */
  modules: import('@nestjs/common').DynamicModule[];
  /** For messages: `PGlite in .weft/data`. */
  description: string;
  /** Resolves once every event published so far is journaled and counted, or kept for that (bounded). */
  settle(bus: Bus, timeoutMs?: number): Promise<boolean>;
  /** After the runtime closed: the stores, data sources and locks it holds. */
  close(): Promise<void>;
}

/** False for WEFT_DATA_DIR=memory://: a store in memory outlives nothing, so `weft run` skips it (and PGlite's start-up). */
export const keepsRuns = (config: WeftConfig): boolean => {
  const database = databaseConfigOf(config);
  return database.kind === 'postgres' || database.dataDir !== undefined;
};

export const describeDatabase = (config: DatabaseConfig): string => (config.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.dataDir ?? 'memory'}`);

/** A memory store that remembers each run's idempotency key (a child run's is its parent step's token), for the import. */
class KeyedMemoryRunStore extends MemoryRunStore {
  readonly keys = new Map<string, string>();

  override createRun(idempotencyKey: string, build: (now: number) => Transition, options?: CreateRunOptions): Promise<{ runId: string; created: boolean }> {
    return super.createRun(
      idempotencyKey,
      (now) => {
        const transition = build(now);
        if (!this.keys.has(transition.state.runId)) this.keys.set(transition.state.runId, idempotencyKey);
        return transition;
      },
      options,
    );
  }
}

/**
 * Keeps one `weft run` for the PGlite store in `dataDir` without opening PGlite: the run goes to
 * a memory store, and `settle` writes the finished runs and their events to `<dataDir>.pending/`
 * (written whole, fsync'ed, then renamed into place). The directory's lock is held from here to
 * `close`, as an open PGlite holds it: a `weft dev` or another `weft run` on it is refused
 * (DbError DB_LOCKED, naming the holder), and no reader sees the store before the file is there.
 */
export async function keepRunsInFile(dataDir: string, bus: Bus): Promise<LocalStore> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const unlock = lockDataDir(dir);
  const store = new KeyedMemoryRunStore();
  const events: KeptRunsFile['events'] = [];
  let subscription: Subscription;
  try {
    subscription = await bus.consume('weft.event.>', { group: 'weft-run-kept', concurrency: 1 }, async (delivery) => {
      events.push({ data: delivery.data, headers: delivery.headers });
    });
  } catch (error) {
    unlock();
    throw error;
  }
  let written = false;
  return {
    store,
    modules: [],
    description: describeDatabase({ kind: 'pglite', dataDir }),
    settle: async (target, timeoutMs = 10_000) => {
      const settled = await eventsSettled(target, timeoutMs);
      if (!written) {
        const runs = (await store.listRuns()).map((state) => ({ idempotencyKey: store.keys.get(state.runId) ?? state.runId, state }));
        const root = runs.find((r) => r.state.parent === undefined) ?? runs[0];
        if (root) writeKeptRuns(dir, `${Date.now()}-${root.state.runId}`, { format: KEPT_RUNS_FORMAT, runs, events });
        written = true;
      }
      return settled;
    },
    close: async () => {
      await subscription.drain().catch(() => undefined);
      unlock();
    },
  };
}

function writeKeptRuns(dataDir: string, name: string, file: KeptRunsFile): void {
  const pending = pendingDirOf(dataDir);
  mkdirSync(pending, { recursive: true });
  const target = join(pending, `${name}.json`);
  const tmp = `${target}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(file));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, target);
  // The rename itself is durable once the directory is synced.
  const dirFd = openSync(pending, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Every consumer of lifecycle events has nothing pending or in flight: the journal and analytics are caught up. */
export async function eventsSettled(bus: Bus, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await bus.consumerStats();
    if (stats.filter((c) => c.filter.startsWith('weft.event')).every((c) => c.pending === 0 && c.ackPending === 0)) return true;
    if (Date.now() >= deadline) return false;
    // The in-memory bus delivers within a few ms of the last event: a short pause, not a frame of 20 ms at the end of every run.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
