import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Bus, Subscription } from '@weft/bus';
import { type LifecycleEvent, SUBJECTS } from '@weft/contracts';

export interface RunEventsHubOptions {
  /**
   * Durable group of this process's event consumer. Each API process needs its own
   * (every process must see every event). @default `api-events-<host>-<pid>-<random>`
   */
  group?: string;
  /**
   * Removes the group's consumer from the broker once the hub stopped, so consumers of
   * past processes do not pile up (JetStream keeps a durable until it is deleted).
   */
  removeGroup?: (group: string) => Promise<void>;
  /** Events this process handles at once. @default 256 */
  concurrency?: number;
}

type Watcher = (event: LifecycleEvent) => void;

/**
 * Fans lifecycle events out in process: one consumer of `weft.event.>` with a group of
 * its own, and watchers per run (a sync request waiting for the end, an SSE stream).
 * Watchers are called synchronously in delivery order and must not throw.
 *
 * A new group starts at the first stored event: a fresh process reads the retained
 * history once before it is live. Watchers are registered only for runs of interest,
 * so old events cost a lookup each, and they carry `seq` in their id, so a watcher that
 * read a snapshot ignores what the snapshot already holds.
 */
export class RunEventsHub {
  readonly group: string;
  private readonly watchers = new Map<string, Set<Watcher>>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly options: RunEventsHubOptions = {},
  ) {
    this.group = options.group ?? defaultGroup();
  }

  async start(): Promise<void> {
    this.subscription = await this.bus.consume(
      `${SUBJECTS.eventPrefix}>`,
      { group: this.group, concurrency: this.options.concurrency ?? 256 },
      async (delivery) => {
        const watching = this.watchers.get(delivery.data.runId);
        if (watching) for (const watcher of [...watching]) watcher(delivery.data);
      },
    );
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.drain();
    this.watchers.clear();
    if (subscription) await this.options.removeGroup?.(this.group);
  }

  /** Calls `watcher` with every event of the run from now on; returns how to stop. */
  watch(runId: string, watcher: Watcher): () => void {
    let watching = this.watchers.get(runId);
    if (!watching) this.watchers.set(runId, (watching = new Set()));
    watching.add(watcher);
    return () => {
      watching.delete(watcher);
      if (watching.size === 0 && this.watchers.get(runId) === watching) this.watchers.delete(runId);
    };
  }

  /** Runs watched now (for tests and metrics). */
  watchedRuns(): number {
    return this.watchers.size;
  }
}

/** The run transition an event came from: its id is `<runId>:<seq>:<n>`. */
export function eventSeq(event: LifecycleEvent): number | undefined {
  const parts = event.eventId.split(':');
  const seq = Number(parts[parts.length - 2]);
  return parts.length >= 3 && Number.isInteger(seq) ? seq : undefined;
}

function defaultGroup(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  return `api-events-${host}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
