import type { RunRequested } from '@weft/contracts';
import type { Bus } from '@weft/bus';
import { type FireOutcome, tickOccurrence, triggerIdempotencyKey, triggerSource } from '../domain/fire-log';
import { decideOverlap, DEFAULT_OVERLAP } from '../domain/overlap.util';
import { evaluateOccurrence, TriggerExpressionError } from '../domain/trigger-expr.util';
import { type Sql, SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { Clock } from '../ports/clock.port';
import { type NewFire, refOf, type TriggerDefinition } from '../ports/trigger.types';
import type { TriggersLogger } from '../ports/triggers-logger.port';
import type { RunRequestPublisher } from '../runtime/run-request.publisher';
import { recordFireOutcome, recordTriggerLag } from '../runtime/trigger-metrics';

/** One occurrence of a trigger: a tick, a message, a delivery, a polled item, a manual fire. */
export interface Occurrence {
  def: TriggerDefinition;
  /** Unique per trigger: the fire log keeps one claiming row per occurrence. */
  occurrence: string;
  /** CEL variables besides `trigger` (event, item, response). */
  context?: Record<string, unknown>;
  /** cron: the tick (epoch ms); becomes trigger.scheduledAt. */
  scheduledAt?: number;
  /** Inputs laid over the trigger's rendered inputs (manual fire). */
  extraInputs?: Record<string, unknown>;
  /** Apply the trigger's overlap policy (cron ticks, backfill). */
  overlap?: boolean;
  /** Evaluate the trigger's filter and dedupe (events, deliveries, items). */
  expressions?: boolean;
  /** subject/event dedupe window. */
  dedupeWindowMs?: number;
}

export interface OccurrenceResult {
  outcome: FireOutcome;
  reason?: string;
  runId?: string;
  idempotencyKey?: string;
  fireId: string;
}

/** What an occurrence would do, without recording it (`POST .../test`). */
export interface OccurrencePreview {
  passed: boolean;
  dedupeKey?: string;
  inputs?: Record<string, unknown>;
  idempotencyKey?: string;
  error?: string;
}

/**
 * Records occurrences in the fire log and requests their runs (outbox): the claiming fire row
 * and its run request commit together, and the request is published after commit.
 */
export class RecordOccurrenceUseCase {
  constructor(
    private readonly store: SqlTriggerStore,
    private readonly publisher: RunRequestPublisher,
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly log: TriggersLogger,
  ) {}

  /** Filter, dedupe key and inputs of an occurrence, as recording it would compute them. */
  preview(o: Occurrence): OccurrencePreview {
    try {
      const verdict = this.evaluate(o);
      if (!verdict.passed) return { passed: false };
      return {
        passed: true,
        ...(verdict.dedupeKey === undefined ? {} : { dedupeKey: verdict.dedupeKey }),
        inputs: verdict.inputs,
        idempotencyKey: triggerIdempotencyKey(o.def.workflow, o.def.triggerId, o.occurrence),
      };
    } catch (error) {
      return { passed: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async record(o: Occurrence): Promise<OccurrenceResult> {
    return (await this.recordMany([o]))[0];
  }

  /** Records several occurrences of one trigger in one transaction (a catch-up, a poll page). */
  /** `extra` runs in the same transaction, after the occurrences, with their results. */
  async recordMany(occurrences: Occurrence[], extra?: (tx: Sql, results: OccurrenceResult[]) => Promise<void>): Promise<OccurrenceResult[]> {
    const toPublish: { id: string; request: RunRequested }[] = [];
    const toCancel: string[] = [];
    const results = await this.store.transaction(async (tx) => {
      const out: OccurrenceResult[] = [];
      for (const o of occurrences) out.push(await this.recordIn(tx, o, toPublish, toCancel));
      if (extra) await extra(tx, out);
      return out;
    });
    for (const runId of toCancel) await this.cancelRun(runId);
    if (toPublish.length > 0) await this.publisher.publishCommitted(toPublish);
    const now = this.clock.now();
    occurrences.forEach((o, i) => {
      recordFireOutcome(o.def.kind, results[i].outcome);
      if (results[i].outcome === 'fired' && o.scheduledAt !== undefined) recordTriggerLag(o.def.kind, (now - o.scheduledAt) / 1000);
    });
    return results;
  }

  /** overlap cancel-other: asks the scheduler to cancel an active run (durably, through its inbox). */
  async cancelRun(runId: string, by?: string): Promise<void> {
    await this.bus
      .publish('weft.run.cancel-requested', { runId, reason: 'canceled by the overlap policy cancel-other of its trigger', ...(by !== undefined && { by }) }, { msgId: `trigger-cancel:${runId}` })
      .catch((error: unknown) => this.log.warn('cancel of an overlapping run not sent', { runId, error: String(error) }));
  }

  /** Records an occurrence inside the caller's transaction; the caller publishes `toPublish` after commit. */
  async recordIn(tx: Sql, o: Occurrence, toPublish: { id: string; request: RunRequested }[], toCancel: string[]): Promise<OccurrenceResult> {
    const { def } = o;
    const base: Omit<NewFire, 'outcome'> = { ref: refOf(def), kind: def.kind, occurrence: o.occurrence, ...(o.scheduledAt === undefined ? {} : { scheduledAt: o.scheduledAt }) };
    const write = async (fire: NewFire): Promise<OccurrenceResult> => {
      const { record } = await this.store.recordFire(tx, fire);
      if (record.outcome === 'fired' && !record.held && fire.request) toPublish.push({ id: record.id, request: fire.request });
      return {
        outcome: record.outcome,
        fireId: record.id,
        ...(record.reason === null ? {} : { reason: record.reason }),
        ...(record.runId === null ? {} : { runId: record.runId }),
        ...(record.idempotencyKey === null ? {} : { idempotencyKey: record.idempotencyKey }),
      };
    };
    if (def.paused) return write({ ...base, outcome: 'skipped', reason: 'the trigger is paused' });
    let verdict: ReturnType<RecordOccurrenceUseCase['evaluate']>;
    try {
      verdict = this.evaluate(o);
    } catch (error) {
      if (!(error instanceof TriggerExpressionError)) throw error;
      return write({ ...base, outcome: 'failed', reason: error.message.slice(0, 1000) });
    }
    if (!verdict.passed) return write({ ...base, outcome: 'filtered', reason: 'the filter is false' });
    if (verdict.dedupeKey !== undefined && o.dedupeWindowMs !== undefined) {
      const fresh = await this.store.polling.claimDedupeKey(tx, refOf(def), verdict.dedupeKey, o.dedupeWindowMs);
      if (!fresh) return write({ ...base, outcome: 'duplicate', reason: `dedupe key ${verdict.dedupeKey} was seen within the window` });
    }
    const request: RunRequested = {
      idempotencyKey: triggerIdempotencyKey(def.workflow, def.triggerId, o.occurrence),
      runId: SqlTriggerStore.newRunId(),
      workflow: def.workflow,
      inputs: verdict.inputs,
      namespace: def.namespace,
      source: triggerSource(def.triggerId),
    };
    if (o.overlap) {
      const decision = decideOverlap(def.spec.overlap ?? DEFAULT_OVERLAP, {
        activeRunIds: await this.store.activeRunIds(tx, refOf(def)),
        buffered: await this.store.heldCount(tx, refOf(def)),
      });
      switch (decision.kind) {
        case 'skip':
          return write({ ...base, outcome: 'skipped', reason: decision.reason });
        case 'buffer':
          return write({ ...base, outcome: 'fired', request, held: true, reason: `buffered by overlap ${def.spec.overlap ?? DEFAULT_OVERLAP} until the active run ends` });
        case 'start': {
          const result = await write({ ...base, outcome: 'fired', request, ...(decision.cancel.length > 0 && { reason: `canceled ${decision.cancel.length} active run(s)` }) });
          if (result.outcome === 'fired') toCancel.push(...decision.cancel);
          return result;
        }
      }
    }
    return write({ ...base, outcome: 'fired', request });
  }

  private evaluate(o: Occurrence): { passed: false } | { passed: true; dedupeKey: string | undefined; inputs: Record<string, unknown> } {
    const { def } = o;
    const context = {
      ...o.context,
      trigger: {
        id: def.triggerId,
        workflow: def.workflow,
        namespace: def.namespace,
        kind: def.kind,
        occurrence: o.occurrence,
        scheduledAt: o.scheduledAt === undefined ? null : tickOccurrence(o.scheduledAt),
        firedAt: new Date(this.clock.now()).toISOString(),
      },
    };
    const verdict = evaluateOccurrence(
      {
        ...(o.expressions && def.spec.filter !== undefined ? { filter: def.spec.filter } : {}),
        ...(o.expressions && def.spec.dedupe !== undefined ? { dedupe: def.spec.dedupe } : {}),
        ...(def.spec.inputs === undefined ? {} : { inputs: def.spec.inputs }),
      },
      context,
    );
    if (!verdict.passed) return verdict;
    return { ...verdict, inputs: { ...verdict.inputs, ...o.extraInputs } };
  }
}
