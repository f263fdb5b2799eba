import type { Actor } from '@weft/contracts';
import type { ExceptionItem, ExceptionKind, ExceptionQuery, Page, WaitStore } from '../ports/wait-store.port';
import { encodeCursor } from '../persistence/wait-rows.util';
import { BUS_ITEM_PREFIX, type BusDeadLetters } from './bus-dead-letters';
import { cursorOrThrow } from './signals.usecase';
import { WaitError } from './wait.errors';

/** WEFT_STUCK_AFTER's default: 15 minutes. */
export const DEFAULT_STUCK_AFTER_MS = 15 * 60_000;

/** What live workers serve (the API's ActionCatalog, from worker announcements; `why` reads the same). */
export interface LiveQueues {
  /** The served queues, `all` when a worker serves every queue; undefined while it cannot tell yet. */
  servedQueues(): readonly string[] | 'all' | undefined;
}

/**
 * The exception queue: everything that needs a person in one list (open reviews, failed and stuck
 * runs, queues with work and no live worker, dead-lettered outbox rows), and resolving an item with a note (it leaves the queue and stays in history, with an audit
 * record). Retrying or canceling goes through the run routes (`/v1/runs/{id}/retry|cancel`).
 */
export class ExceptionsUseCase {
  constructor(
    private readonly waits: Pick<WaitStore, 'listExceptions' | 'resolveException'>,
    /** WEFT_STUCK_AFTER in ms: a running run with steps dispatched and no progress this long is `blocked`. */
    private readonly stuckAfterMs: number = DEFAULT_STUCK_AFTER_MS,
    /** Absent (no catalog): no queue is listed as without a worker. */
    private readonly workers?: LiveQueues,
    /** The bus's dead letters; absent, only quarantined outbox rows are `dead-letter` items. */
    private readonly busLetters?: Pick<BusDeadLetters, 'items'>,
  ) {}

  async list(namespace: string, query: Omit<ExceptionQuery, 'after' | 'stuckAfterMs' | 'liveQueues'> & { cursor?: string }): Promise<Page<ExceptionItem>> {
    const { cursor, ...rest } = query;
    const after = cursor === undefined ? undefined : cursorOrThrow(cursor);
    const liveQueues = this.workers?.servedQueues();
    const stored = await this.waits.listExceptions(namespace, {
      ...rest,
      stuckAfterMs: this.stuckAfterMs,
      ...(liveQueues !== undefined && { liveQueues }),
      ...(after !== undefined && { after }),
    });
    if (this.busLetters === undefined || (query.kind !== undefined && query.kind !== 'dead-letter')) return stored;
    let letters = await this.busLetters.items(namespace, {
      ...(query.workflow !== undefined && { workflow: query.workflow }),
      ...(query.since !== undefined && { since: query.since }),
      ...(after !== undefined && { after }),
      ...(query.resolved === true && { resolved: true }),
    });
    // The store has more beyond its page: bus items after its last one wait for the next page.
    const last = stored.items[stored.items.length - 1];
    if (stored.nextCursor !== null && last !== undefined) letters = letters.filter((l) => l.at < last.at || (l.at === last.at && l.id < last.id));
    const merged = [...stored.items, ...letters].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const items = merged.slice(0, query.limit);
    const tail = items[items.length - 1];
    const more = merged.length > query.limit || stored.nextCursor !== null;
    return { items, nextCursor: more && tail !== undefined ? encodeCursor(tail.at, tail.id) : null };
  }

  async resolve(namespace: string, kind: ExceptionKind, id: string, note: string, actor: Actor): Promise<void> {
    // A bus dead letter is found on the bus (and in this namespace) before its resolution is written.
    const onBus = kind === 'dead-letter' && id.startsWith(BUS_ITEM_PREFIX);
    if (onBus && !(await this.busLetters?.items(namespace, { resolved: true }))?.some((i) => i.id === id)) {
      throw new WaitError('EXCEPTION_NOT_FOUND', `no ${kind} item ${id} in the exception queue`);
    }
    const outcome = await this.waits.resolveException(namespace, kind, id, note, actor, { listedElsewhere: onBus });
    if (outcome === 'unknown') throw new WaitError('EXCEPTION_NOT_FOUND', `no ${kind} item ${id} in the exception queue`);
    if (outcome === 'already') throw new WaitError('EXCEPTION_RESOLVED', `${kind} item ${id} was resolved before`);
  }
}
