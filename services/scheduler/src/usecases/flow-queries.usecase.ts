import { explainRun, isoOrNull, itemCounts, itemId, type RunWhy, type StepState, type WhyReason } from '@weft/core';
import { ApiError } from '../api/http/api.errors';
import type { ItemPageView, RunWhyResponse } from '../api/flow.schemas';
import type { RunAccess } from './run-access';
import type { SlotStore } from '../ports/slot-store.port';

/** Concurrency keys one `why` loads the holders of (a run waits on a few keys, a forEach on more). */
const MAX_WHY_SLOT_KEYS = 50;

/** Items of one page when the query gives no limit, and the most one page holds. */
export const DEFAULT_ITEM_PAGE = 100;
export const MAX_ITEM_PAGE = 1000;

export interface ItemPageQuery {
  offset?: string;
  limit?: string;
  status?: StepState['status'];
}

/** Live workers per queue (from worker announcements); `*` serves every queue. */
export type LiveQueues = () => ReadonlyMap<string, readonly string[]>;

/** Reading flow control of one run: a forEach step's items, and why each unfinished step waits. */
export class FlowQueriesUseCase {
  constructor(
    private readonly runs: Pick<RunAccess, 'get'>,
    private readonly now: () => Promise<number>,
    private readonly workers: LiveQueues | undefined,
    /** Who holds the slots a step waits for (`why`'s slot holders). */
    private readonly slots?: Pick<SlotStore, 'holders'>,
    /** The window a run whose workflow sets none gets now (the scheduler's SharedWindows.peek), when this process decides runs. */
    private readonly defaultWindow?: (runId: string) => number,
  ) {}

  /** A page of a forEach step's items, in index order. */
  async items(namespace: string, runId: string, stepId: string, query: ItemPageQuery): Promise<ItemPageView> {
    const state = await this.runs.get(namespace, runId);
    const step = Object.hasOwn(state.steps, stepId) ? state.steps[stepId] : undefined;
    const counts = itemCounts(step);
    if (!step || !counts) {
      const what = state.plan.some((p) => p.id === stepId) ? `step ${stepId} has no items (it is not a forEach step, or it has not started)` : `run ${runId} has no step ${stepId}`;
      throw new ApiError('STEP_NOT_FOUND', what);
    }
    const limit = Math.min(MAX_ITEM_PAGE, Math.max(1, Number(query.limit ?? DEFAULT_ITEM_PAGE)));
    const items: ItemPageView['items'] = [];
    let index = Number(query.offset ?? 0);
    for (; index < counts.total && items.length < limit; index++) {
      const item = state.steps[itemId(stepId, index)];
      if (!item || (query.status !== undefined && item.status !== query.status)) continue;
      items.push({
        index,
        id: item.id,
        item: item.item?.value ?? null,
        status: item.status,
        attempts: item.attempt - (item.attemptBase ?? 0),
        startedAt: isoOrNull(item.attempts[0]?.startedAt ?? item.startedAt),
        finishedAt: isoOrNull(item.finishedAt),
        output: item.output ?? null,
        error: item.error ? { code: item.error.code, message: item.error.message } : null,
      });
    }
    return { runId, stepId, counts, items, nextOffset: index < counts.total ? index : null };
  }

  /** Why every unfinished step of the run has not moved, and since when. */
  async why(namespace: string, runId: string): Promise<RunWhyResponse> {
    const state = await this.runs.get(namespace, runId);
    const holders = await this.slotHolders(namespace, Object.values(state.steps));
    const why = explainRun(state, {
      now: await this.now(),
      ...(this.defaultWindow !== undefined && { defaultWindow: this.defaultWindow(runId) }),
      ...(this.workers !== undefined && { workers: this.workers() }),
      ...(holders !== undefined && { slotHolders: (scope: string, key: string) => holders.get(`${scope}\n${key}`) }),
    });
    return whyView(why);
  }

  /** The holders of every slot key the run's steps wait for (loaded before the pure explanation). */
  private async slotHolders(namespace: string, steps: readonly StepState[]): Promise<Map<string, { runId: string; stepId: string; since: number }[]> | undefined> {
    if (this.slots === undefined) return undefined;
    const out = new Map<string, { runId: string; stepId: string; since: number }[]>();
    for (const step of steps) {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      if (wait?.kind !== 'slot' || out.size >= MAX_WHY_SLOT_KEYS) continue;
      const id = `${wait.scope}\n${wait.key}`;
      if (out.has(id)) continue;
      out.set(id, (await this.slots.holders(namespace, wait.scope, wait.key)).map((h) => ({ runId: h.runId, stepId: h.stepId, since: h.grantedAt })));
    }
    return out;
  }
}

/** Times as ISO 8601 (every `until`, `since` and lease time in a reason). */
export function whyView(why: RunWhy): RunWhyResponse {
  return {
    runId: why.runId,
    status: why.status,
    at: new Date(why.at).toISOString(),
    steps: why.steps.map((s) => ({ stepId: s.stepId, status: s.status, reason: reasonView(s.reason), since: isoOrNull(s.since), text: s.text })),
  };
}

function reasonView(reason: WhyReason): { kind: string } & Record<string, unknown> {
  const out: { kind: string } & Record<string, unknown> = { kind: reason.kind };
  for (const [key, value] of Object.entries(reason)) {
    if (key === 'kind') continue;
    if (key === 'item' && value !== null && typeof value === 'object') {
      const inner = value as { id: string; reason: WhyReason };
      out[key] = { id: inner.id, reason: reasonView(inner.reason) };
    } else if (key === 'holders' && Array.isArray(value)) {
      out[key] = (value as { runId: string; stepId: string; since: number }[]).map((h) => ({ ...h, since: new Date(h.since).toISOString() }));
    } else out[key] = typeof value === 'number' && (key === 'until' || key === 'leaseExpiresAt') ? new Date(value).toISOString() : value;
  }
  return out;
}
