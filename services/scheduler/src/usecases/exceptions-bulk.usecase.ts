import { type Actor, WeftError } from '@weft/contracts';
import { ApiError } from '../api/http/api.errors';
import type { AuditRecord, ExceptionItem, ExceptionKind } from '../ports/wait-store.port';
import type { ExceptionsUseCase } from './exceptions.usecase';
import type { RunControlUseCase } from './run-control.usecase';

/** Items one bulk call acts on at most; `more` says to call again. */
export const BULK_LIMIT = 1_000;

export interface BulkFilter {
  kind?: ExceptionKind;
  workflow?: string;
  since?: number;
}
export type BulkAction = 'retry' | 'cancel' | 'resolve';
export interface BulkResult {
  matched: number;
  done: number;
  skipped: number;
  more: boolean;
}

/**
 * `POST /v1/exceptions/bulk`: one action on every open item a filter matches. retry retries a
 * failed run and resumes a stuck one (a review cannot be retried from here: skipped); cancel
 * cancels the item's run; resolve resolves the item with the note. An item whose run changed
 * meanwhile (a 409 of the single-item route) is skipped, not an error. One audit record for the
 * whole action, with its filter and counts, appended after the items were acted on.
 */
export class ExceptionsBulkUseCase {
  constructor(
    private readonly exceptions: Pick<ExceptionsUseCase, 'list' | 'resolve'>,
    private readonly control: Pick<RunControlUseCase, 'retry' | 'resume' | 'cancel'>,
    private readonly audit: { record(namespace: string, actor: Actor, action: string, target: AuditRecord['target'], details: Record<string, unknown>): Promise<void> },
  ) {}

  async apply(namespace: string, filter: BulkFilter, action: BulkAction, actor: Actor, note?: string): Promise<BulkResult> {
    if (action === 'resolve' && note === undefined) {
      throw new ApiError('INVALID_REQUEST', 'resolve needs a note', [{ path: 'body.note', message: 'required when action is resolve', code: 'required' }]);
    }
    const page = await this.exceptions.list(namespace, { ...filter, limit: BULK_LIMIT });
    // Many items may name one run (reviews of one run): act on each run once.
    const seenRuns = new Set<string>();
    let done = 0;
    for (const item of page.items) {
      if (await this.applyOne(namespace, item, action, actor, note, seenRuns)) done += 1;
    }
    const result: BulkResult = { matched: page.items.length, done, skipped: page.items.length - done, more: page.nextCursor !== null };
    await this.audit.record(namespace, actor, 'exceptions.bulk', { kind: 'exceptions', id: action }, { filter, action, ...(note !== undefined && { note }), ...result });
    return result;
  }

  private async applyOne(namespace: string, item: ExceptionItem, action: BulkAction, actor: Actor, note: string | undefined, seenRuns: Set<string>): Promise<boolean> {
    try {
      switch (action) {
        case 'resolve':
          await this.exceptions.resolve(namespace, item.kind, item.id, note ?? '', actor);
          return true;
        case 'cancel':
          // A queue without a worker or a dead letter names a run as an example, not as the item: resolve them.
          if (!isRunItem(item) || seenRuns.has(item.runId)) return false;
          seenRuns.add(item.runId);
          await this.control.cancel(namespace, item.runId, `canceled from the exception queue`);
          return true;
        case 'retry':
          if (item.kind === 'failed') await this.control.retry(namespace, item.runId);
          else if (item.kind === 'blocked' && item.id === item.runId) await this.control.resume(namespace, item.runId);
          // A queue item: start a worker for it; a dead letter: its step already failed (retry that run).
          else return false;
          return true;
      }
    } catch (error) {
      // The item changed since it was listed (ended, resolved, retried by someone else): skipped.
      if (error instanceof WeftError && 'status' in error && (error.status === 404 || error.status === 409)) return false;
      throw error;
    }
  }
}

/** Items whose action is on their run: reviews, failed and stuck runs (not queues or dead letters). */
export function isRunItem(item: Pick<ExceptionItem, 'kind' | 'id' | 'runId'>): boolean {
  return item.kind !== 'dead-letter' && !(item.kind === 'blocked' && item.id.startsWith('queue:'));
}
