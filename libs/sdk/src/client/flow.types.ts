import type { StepStatus } from '@weft/contracts';
import type { ItemCounts } from '@weft/core';

/** One item of a forEach step (GET /v1/runs/{id}/steps/{stepId}/items). Times ISO 8601. */
export interface StepItem {
  index: number;
  /** `<stepId>[<index>]`: its events in the journal carry this step id. */
  id: string;
  /** The list element. */
  item: unknown;
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  output: unknown;
  error: { code: string; message: string } | null;
}

export interface StepItemPage {
  runId: string;
  stepId: string;
  counts: ItemCounts;
  items: StepItem[];
  /** Pass as `offset` for the next page; null after the last item. */
  nextOffset: number | null;
}

export interface StepItemsQuery {
  offset?: number;
  /** 1-1000. @default 100 */
  limit?: number;
  status?: StepStatus;
}

/** Why one unfinished step has not moved (GET /v1/runs/{id}/why). */
export interface StepWhy {
  stepId: string;
  status: StepStatus;
  /** `kind` (run-queued, needs, retry-backoff, no-worker, dispatched, leased, timer, event, review, slot, rate-limited, child, items) and its details; times ISO 8601. */
  reason: { kind: string } & Record<string, unknown>;
  since: string | null;
  /** The reason in one sentence. */
  text: string;
}

export interface RunWhy {
  runId: string;
  status: string;
  at: string;
  steps: StepWhy[];
}
