import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Bus, Subscription } from '@weft/bus';
import { type LifecycleEvent, SUBJECTS } from '@weft/contracts';

export interface RunEventsHubOptions {
  /**
   * Group of this process's event consumer. Each API process needs its own (every process
   * must see every event). @default `api-events-<host>-<pid>-<random>`
   */
  group?: string;
  /** Events this process handles at once. @default 256 */
  concurrency?: number;
}

type Watcher = (event: LifecycleEvent) => void;

/**
 * Fans lifecycle events out in process: one consumer of `weft.event.>` with a group of
 * its own, and watchers per run (a sync request waiting for the end, an SSE stream).
 * Watchers are called synchronously in delivery order and must not throw.
 *
 * The group is live (`startAt: 'new'`): it starts at the end of the events stream, so a
 * fresh process is live at once instead of reading the retained history first, and it
 * leaves no consumer behind (deleted when the hub stops; on JetStream the broker deletes
 * the consumer of a process that died once nobody pulls from it).
 *
 * Starting at "now" opens a race a durable start did not have: an event published
 * between a watcher reading its run's snapshot and the consumer being live would be
 * missed. It cannot happen here because the hub starts at application bootstrap, before
 * the API serves any request, so the consumer is live before any snapshot is read. And
 * a watcher registers before it reads its snapshot (RunWatch), so an event published
 * after the read is delivered to it; events carry `seq` in their id, so it ignores what
 * the snapshot already holds. RunWatch also polls the database, should an event still
 * go missing (a consumer the broker dropped while this process was cut off).
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
      { group: this.group, concurrency: this.options.concurrency ?? 256, startAt: 'new' },
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
