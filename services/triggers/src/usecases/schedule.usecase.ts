import { parseDuration, parseSchedule, type Schedule, TRIGGER_DEFAULTS } from '@weft/core';
import { planDueTicks } from '../domain/catchup.util';
import { periodAfter } from '../domain/schedule.util';
import { tickOccurrence } from '../domain/fire-log';
import type { RunRequested } from '@weft/contracts';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { Clock } from '../ports/clock.port';
import { refOf, type TriggerDefinition, type TriggerRef } from '../ports/trigger.types';
import type { TriggersLogger } from '../ports/triggers-logger.port';
import type { RunRequestPublisher } from '../runtime/run-request.publisher';
import { recordFireOutcome, recordTriggerLag } from '../runtime/trigger-metrics';
import type { RecordOccurrenceUseCase } from './record-occurrence.usecase';

/** Most ticks one planning pass fires or lists as missed per trigger. */
const TICKS_PER_PASS = 100;

/**
 * The leader's schedule pass: for each active cron trigger, the ticks due since the last one
 * handled fire (overlap policy applied) or are recorded as missed (catch-up window), and the
 * trigger's position advances, all in one transaction under the definition's row lock.
 */
export class ScheduleUseCase {
  private readonly schedules = new Map<string, { key: string; schedule: Schedule }>();

  constructor(
    private readonly store: SqlTriggerStore,
    private readonly occurrences: RecordOccurrenceUseCase,
    private readonly publisher: RunRequestPublisher,
    private readonly clock: Clock,
    private readonly log: TriggersLogger,
  ) {}

  /** One pass over every active cron trigger; `leadingSinceMs`: when this process became leader. */
  async pass(leadingSinceMs: number): Promise<number> {
    let fired = 0;
    for (const def of await this.store.definitions(undefined, { active: true })) {
      if (def.kind !== 'cron') continue;
      try {
        fired += await this.planTrigger(refOf(def), leadingSinceMs);
      } catch (error) {
        this.log.error('schedule pass failed for a trigger', { trigger: `${def.workflow}/${def.triggerId}`, error: String(error) });
      }
    }
    await this.releaseBuffered();
    return fired;
  }

  /** Per active cron trigger: time since its last fired (or overlap-skipped) tick, in periods of its schedule. */
  async overdue(): Promise<{ namespace: string; workflow: string; trigger: string; periods: number }[]> {
    const now = this.clock.now();
    const out: { namespace: string; workflow: string; trigger: string; periods: number }[] = [];
    for (const { ref, def, lastAt } of await this.store.lastScheduleFires()) {
      const since = lastAt ?? def.updatedAt;
      let period: number | undefined;
      try {
        period = periodAfter(this.scheduleOf(def), since);
      } catch {
        period = undefined;
      }
      if (period !== undefined && period > 0) out.push({ namespace: ref.namespace, workflow: ref.workflow, trigger: ref.triggerId, periods: Math.max(0, now - since) / period });
    }
    return out;
  }

  scheduleOf(def: TriggerDefinition): Schedule {
    const cron = def.spec.cron ?? '';
    const timezone = def.spec.timezone ?? TRIGGER_DEFAULTS.timezone;
    const key = `${cron}\0${timezone}`;
    const id = `${def.namespace}/${def.workflow}/${def.triggerId}`;
    const cached = this.schedules.get(id);
    if (cached?.key === key) return cached.schedule;
    const schedule = parseSchedule(cron, timezone);
    this.schedules.set(id, { key, schedule });
    return schedule;
  }

  private async planTrigger(ref: TriggerRef, leadingSinceMs: number): Promise<number> {
    const toPublish: { id: string; request: RunRequested }[] = [];
    const toCancel: string[] = [];
    const results = await this.store.transaction(async (tx) => {
      const def = await this.store.lockDefinition(tx, ref);
      if (!def?.active || def.kind !== 'cron') return [];
      const now = this.clock.now();
      const plan = planDueTicks({
        schedule: this.scheduleOf(def),
        afterMs: def.handledUntil ?? now,
        nowMs: now,
        catchupMs: parseDuration(def.spec.catchup ?? TRIGGER_DEFAULTS.catchup),
        leadingSinceMs,
        limit: TICKS_PER_PASS,
      });
      if (plan.fire.length === 0 && plan.missed.length === 0 && plan.missedUnlisted === 0) return [];
      const out: { outcome: string; scheduledAt: number }[] = [];
      for (const tick of plan.missed) {
        await this.store.recordFire(tx, { ref, kind: 'cron', occurrence: tickOccurrence(tick), outcome: 'missed', scheduledAt: tick, reason: 'outside the catch-up window' });
        out.push({ outcome: 'missed', scheduledAt: tick });
      }
      if (plan.missedUnlisted > 0) this.log.warn('schedule ticks missed beyond the listing bound', { trigger: `${ref.workflow}/${ref.triggerId}`, unlisted: plan.missedUnlisted });
      for (const tick of plan.fire) {
        const result = await this.occurrences.recordIn(tx, { def, occurrence: tickOccurrence(tick), scheduledAt: tick, overlap: true }, toPublish, toCancel);
        out.push({ outcome: result.outcome, scheduledAt: tick });
      }
      await this.store.setHandledUntil(tx, ref, plan.handledUntilMs);
      return out;
    });
    for (const runId of toCancel) await this.occurrences.cancelRun(runId);
    if (toPublish.length > 0) await this.publisher.publishCommitted(toPublish);
    const now = this.clock.now();
    for (const r of results) {
      recordFireOutcome('cron', r.outcome as Parameters<typeof recordFireOutcome>[1]);
      if (r.outcome === 'fired') recordTriggerLag('cron', (now - r.scheduledAt) / 1000);
    }
    return results.filter((r) => r.outcome === 'fired').length;
  }

  /** Buffered fires start once their trigger has no active run. */
  private async releaseBuffered(): Promise<void> {
    for (const ref of await this.store.triggersWithHeld()) {
      const released = await this.store.transaction(async (tx) => {
        if ((await this.store.activeRunIds(tx, ref)).length > 0) return undefined;
        const id = await this.store.releaseOldestHeld(tx, ref);
        return id === undefined ? undefined : { id, request: await this.store.requestOf(id, tx) };
      });
      if (released?.request) await this.publisher.publishCommitted([{ id: released.id, request: released.request }]);
    }
  }
}
