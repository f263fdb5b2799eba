import type { Actor } from '@weft/contracts';
import type { ExceptionItem, ExceptionKind, ExceptionQuery, Page, WaitStore } from '../ports/wait-store.port';
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
  ) {}

  list(namespace: string, query: Omit<ExceptionQuery, 'after' | 'stuckAfterMs'> & { cursor?: string }): Promise<Page<ExceptionItem>> {
    const { cursor, ...rest } = query;
    const liveQueues = this.workers?.servedQueues();
    return this.waits.listExceptions(namespace, {
      ...rest,
      stuckAfterMs: this.stuckAfterMs,
      ...(liveQueues !== undefined && { liveQueues }),
      ...(cursor !== undefined && { after: cursorOrThrow(cursor) }),
    });
  }

  async resolve(namespace: string, kind: ExceptionKind, id: string, note: string, actor: Actor): Promise<void> {
    const outcome = await this.waits.resolveException(namespace, kind, id, note, actor);
    if (outcome === 'unknown') throw new WaitError('EXCEPTION_NOT_FOUND', `no ${kind} item ${id} in the exception queue`);
    if (outcome === 'already') throw new WaitError('EXCEPTION_RESOLVED', `${kind} item ${id} was resolved before`);
  }
}
