import type { RunRequested } from '@weft/contracts';
import type { TriggerSpec } from '@weft/core';
import type { FireOutcome, TriggerKind } from '../domain/fire-log';

/** A trigger of a published version, as the service keeps it. */
export interface TriggerDefinition {
  namespace: string;
  workflow: string;
  triggerId: string;
  /** The published version it came from. */
  version: number;
  kind: TriggerKind;
  spec: TriggerSpec;
  active: boolean;
  paused: boolean;
  /** cron: the last tick handled (fired, skipped or missed), epoch ms. */
  handledUntil: number | null;
  updatedAt: number;
}

export interface TriggerRef {
  namespace: string;
  workflow: string;
  triggerId: string;
}

/** One row of the fire log. */
export interface FireRecord {
  id: string;
  namespace: string;
  workflow: string;
  triggerId: string;
  kind: TriggerKind;
  occurrence: string;
  outcome: FireOutcome;
  reason: string | null;
  runId: string | null;
  idempotencyKey: string | null;
  /** cron: the tick; epoch ms. */
  scheduledAt: number | null;
  /** Held by a buffering overlap policy until the active run ends. */
  held: boolean;
  publishedAt: number | null;
  createdAt: number;
}

/** A fire about to be recorded; `request` is set for `fired` (the outbox payload). */
export interface NewFire {
  ref: TriggerRef;
  kind: TriggerKind;
  occurrence: string;
  outcome: FireOutcome;
  reason?: string;
  scheduledAt?: number;
  request?: RunRequested;
  held?: boolean;
  /** false for rows that must not own the occurrence (duplicates, refusals of unverified deliveries). @default true */
  claims?: boolean;
}

export interface PublishedWorkflow {
  namespace: string;
  workflow: string;
  version: number;
  triggers: TriggerSpec[];
}

export const refOf = (d: TriggerRef): TriggerRef => ({ namespace: d.namespace, workflow: d.workflow, triggerId: d.triggerId });
export const refText = (r: TriggerRef): string => `${r.namespace}/${r.workflow}/${r.triggerId}`;
