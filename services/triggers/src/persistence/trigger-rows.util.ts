import type { TriggerSpec } from '@weft/core';
import type { EntityManager } from 'typeorm';
import type { FireOutcome, TriggerKind } from '../domain/fire-log';
import type { FireRecord, TriggerDefinition, TriggerRef } from '../ports/trigger.types';

// The rows of the service's tables as PostgreSQL returns them, and their mapping to the domain's records.

export type Sql = Pick<EntityManager, 'query'>;

export const FIRE_COLUMNS = `id::text AS id, namespace, workflow, trigger_id, kind, occurrence, outcome, reason, run_id, idempotency_key,
  scheduled_at, held, published_at, created_at`;

export interface FireRow {
  id: string;
  namespace: string;
  workflow: string;
  trigger_id: string;
  kind: string;
  occurrence: string;
  outcome: string;
  reason: string | null;
  run_id: string | null;
  idempotency_key: string | null;
  scheduled_at: Date | null;
  held: boolean;
  published_at: Date | null;
  created_at: Date;
}

export const DEFINITION_COLUMNS = 'namespace, workflow, trigger_id, version, kind, spec, active, paused, handled_until, updated_at';

export interface DefinitionRow {
  namespace: string;
  workflow: string;
  trigger_id: string;
  version: number;
  kind: string;
  spec: TriggerSpec;
  active: boolean;
  paused: boolean;
  handled_until: Date | null;
  updated_at: Date;
}

export const ms = (d: Date | string | null): number | null => (d === null ? null : new Date(d).getTime());

export function toFire(r: FireRow): FireRecord {
  return {
    id: r.id,
    namespace: r.namespace,
    workflow: r.workflow,
    triggerId: r.trigger_id,
    kind: r.kind as TriggerKind,
    occurrence: r.occurrence,
    outcome: r.outcome as FireOutcome,
    reason: r.reason,
    runId: r.run_id,
    idempotencyKey: r.idempotency_key,
    scheduledAt: ms(r.scheduled_at),
    held: r.held,
    publishedAt: ms(r.published_at),
    createdAt: ms(r.created_at) ?? 0,
  };
}

export function toDefinition(r: DefinitionRow): TriggerDefinition {
  return {
    namespace: r.namespace,
    workflow: r.workflow,
    triggerId: r.trigger_id,
    version: r.version,
    kind: r.kind as TriggerKind,
    spec: r.spec,
    active: r.active,
    paused: r.paused,
    handledUntil: ms(r.handled_until),
    updatedAt: ms(r.updated_at) ?? 0,
  };
}

/** `$1, $2, $3` of every per-trigger query. */
export const refArgs = (r: TriggerRef): string[] => [r.namespace, r.workflow, r.triggerId];
