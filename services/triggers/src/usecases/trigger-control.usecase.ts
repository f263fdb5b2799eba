import { randomUUID } from 'node:crypto';
import type { Actor } from '@weft/contracts';
import type { Caller, SqlApiKeyRepository } from '@weft/platform';
import { parseDuration, TRIGGER_DEFAULTS } from '@weft/core';
import { ticksBetween, nextFireAfter } from '../domain/schedule.util';
import { type FireOutcome, tickOccurrence } from '../domain/fire-log';
import { verifyWebhook, type WebhookRequest } from '../domain/webhook.util';
import { TriggersError } from '../domain/triggers.errors';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { Clock } from '../ports/clock.port';
import type { FireRecord, TriggerDefinition, TriggerRef } from '../ports/trigger.types';
import type { OccurrencePreview, OccurrenceResult, RecordOccurrenceUseCase } from './record-occurrence.usecase';
import type { PollUseCase } from './poll.usecase';
import type { ScheduleUseCase } from './schedule.usecase';
import { webhookVerifier } from './webhook.usecase';

/** Most ticks one backfill may fire. */
export const MAX_BACKFILL_TICKS = 1_000;
export const MAX_FIRES_PAGE = 500;

export interface TriggerSummary {
  workflow: string;
  trigger: string;
  kind: string;
  state: 'active' | 'paused';
  version: number;
  /** cron: the next tick, ISO-8601. */
  nextFireAt?: string;
  lastFire?: { outcome: FireOutcome; at: string; runId?: string };
  counts: Partial<Record<FireOutcome, number>>;
}

export interface TestRequest {
  /** subject, event: the sample event ({ data, headers, subject } or a signal). */
  event?: unknown;
  /** webhook: the request to verify. */
  headers?: Record<string, string>;
  body?: string;
  /** cron: the instant to evaluate at (ISO); default now. */
  at?: string;
}

/** What `POST .../test` answers: what the trigger would do, having started nothing. */
export interface TestResult extends OccurrencePreview {
  kind: string;
  refused?: { reason: string; message: string };
  deliveryId?: string;
  /** poll: one real fetch. */
  items?: { key: string; new: boolean; inputs?: Record<string, unknown>; passed: boolean; error?: string }[];
  cursor?: unknown;
  /** cron: the next fires after `at`. */
  nextFires?: string[];
}

/** The API's use cases: the catalog, the fire log, pause/resume, fire now, backfill, test. */
export class TriggerControlUseCase {
  constructor(
    private readonly store: SqlTriggerStore,
    private readonly occurrences: RecordOccurrenceUseCase,
    private readonly schedules: ScheduleUseCase,
    private readonly polls: PollUseCase,
    private readonly clock: Clock,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly keys?: Pick<SqlApiKeyRepository, 'find'>,
  ) {}

  /** Who a caller is in the audit log: the API key's id and name, or `local` (no key). */
  private async actorOf(caller: Caller | undefined): Promise<Actor> {
    if (!caller || caller.keyId === null) return 'local';
    const record = await this.keys?.find(caller.keyId);
    return { keyId: caller.keyId, name: record?.name ?? '' };
  }

  async catalog(namespace: string): Promise<TriggerSummary[]> {
    const defs = await this.store.definitions(undefined, { active: true, namespace });
    const summaries = await this.store.fireSummaries(namespace);
    const now = this.clock.now();
    return defs.map((def) => {
      const s = summaries.get(`${def.workflow}/${def.triggerId}`);
      let nextFireAt: string | undefined;
      if (def.kind === 'cron' && !def.paused) {
        try {
          const next = nextFireAfter(this.schedules.scheduleOf(def), Math.max(now, def.handledUntil ?? now));
          if (next !== undefined) nextFireAt = tickOccurrence(next);
        } catch {
          nextFireAt = undefined;
        }
      }
      return {
        workflow: def.workflow,
        trigger: def.triggerId,
        kind: def.kind,
        state: def.paused ? 'paused' : 'active',
        version: def.version,
        ...(nextFireAt === undefined ? {} : { nextFireAt }),
        ...(s?.last ? { lastFire: { outcome: s.last.outcome, at: new Date(s.last.createdAt).toISOString(), ...(s.last.runId ? { runId: s.last.runId } : {}) } } : {}),
        counts: s?.counts ?? {},
      };
    });
  }

  async fires(ref: TriggerRef, options: { limit?: number; before?: string; outcome?: FireOutcome }): Promise<FireRecord[]> {
    await this.find(ref);
    return this.store.fires(ref, { limit: Math.min(options.limit ?? 50, MAX_FIRES_PAGE), ...(options.before ? { before: options.before } : {}), ...(options.outcome ? { outcome: options.outcome } : {}) });
  }

  async setPaused(ref: TriggerRef, paused: boolean, caller?: Caller): Promise<TriggerDefinition> {
    await this.find(ref);
    const actor = await this.actorOf(caller);
    await this.store.transaction(async (tx) => {
      await this.store.setPaused(ref, paused, tx);
      await this.store.audit(tx, { namespace: ref.namespace, actor, action: paused ? 'trigger.paused' : 'trigger.resumed', targetId: targetOf(ref), details: { workflow: ref.workflow, trigger: ref.triggerId } });
    });
    return this.find(ref);
  }

  /** Starts a run now; `key` (optional) makes a retried call idempotent. */
  async fireNow(ref: TriggerRef, inputs: Record<string, unknown>, key?: string, caller?: Caller): Promise<OccurrenceResult> {
    const def = await this.find(ref);
    const actor = await this.actorOf(caller);
    const now = this.clock.now();
    const occurrence = `manual:${key ?? randomUUID()}`;
    // A repeated key changes nothing (duplicate): only a claimed fire is audited.
    const [result] = await this.occurrences.recordMany([{ def: { ...def, paused: false }, occurrence, scheduledAt: now, extraInputs: inputs }], async (tx, [fired]) => {
      if (fired?.outcome === 'duplicate') return;
      await this.store.audit(tx, { namespace: ref.namespace, actor, action: 'trigger.fired', targetId: targetOf(ref), details: { workflow: ref.workflow, trigger: ref.triggerId, occurrence, runId: fired?.runId ?? null, inputs } });
    });
    return result;
  }

  /** cron: one occurrence per tick in [from, to] (the same occurrences as the schedule's own), overlap applied. */
  async backfill(ref: TriggerRef, fromIso: string, toIso: string, caller?: Caller): Promise<{ ticks: number; results: OccurrenceResult[] }> {
    const def = await this.find(ref);
    const actor = await this.actorOf(caller);
    if (def.kind !== 'cron') throw new TriggersError('NOT_SUPPORTED', `backfill applies to cron triggers; ${ref.triggerId} is a ${def.kind} trigger`);
    const from = Date.parse(fromIso);
    const to = Date.parse(toIso);
    if (Number.isNaN(from) || Number.isNaN(to) || to < from) throw new TriggersError('INVALID_REQUEST', 'backfill needs from and to, ISO-8601 times with from <= to');
    const list = ticksBetween(this.schedules.scheduleOf(def), from - 1, to, MAX_BACKFILL_TICKS);
    if (list.truncated) throw new TriggersError('INVALID_REQUEST', `the range holds more than ${MAX_BACKFILL_TICKS} ticks; backfill a shorter one`);
    const results = await this.occurrences.recordMany(
      list.ticks.map((tick) => ({ def: { ...def, paused: false }, occurrence: tickOccurrence(tick), scheduledAt: tick, overlap: true })),
      (tx) => this.store.audit(tx, { namespace: ref.namespace, actor, action: 'trigger.backfilled', targetId: targetOf(ref), details: { workflow: ref.workflow, trigger: ref.triggerId, from: fromIso, to: toIso, ticks: list.ticks.length } }),
    );
    return { ticks: list.ticks.length, results };
  }

  /** What the trigger would do with a sample (or, for poll, one real fetch); records and starts nothing. */
  async test(ref: TriggerRef, sample: TestRequest): Promise<TestResult> {
    const def = await this.find(ref);
    switch (def.kind) {
      case 'cron': {
        const at = sample.at === undefined ? this.clock.now() : Date.parse(sample.at);
        if (Number.isNaN(at)) throw new TriggersError('INVALID_REQUEST', 'at must be an ISO-8601 time');
        const next = ticksBetween(this.schedules.scheduleOf(def), at, at + 366 * 86_400_000, 5).ticks;
        const preview = this.occurrences.preview({ def, occurrence: tickOccurrence(next[0] ?? at), scheduledAt: next[0] ?? at });
        return { kind: def.kind, ...preview, nextFires: next.map(tickOccurrence) };
      }
      case 'subject':
      case 'event':
        return { kind: def.kind, ...this.occurrences.preview({ def, occurrence: 'test', context: { event: sample.event ?? {} }, expressions: true }) };
      case 'webhook': {
        const body = Buffer.from(sample.body ?? '');
        const headers = Object.fromEntries(Object.entries(sample.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
        const verdict = verifyWebhook(webhookVerifier(def, this.env), { headers, body } satisfies WebhookRequest, this.clock.now());
        if (!verdict.ok) return { kind: def.kind, passed: false, refused: { reason: verdict.reason, message: verdict.message } };
        const event = { headers, body: parseBody(body), deliveryId: verdict.deliveryId };
        return { kind: def.kind, deliveryId: verdict.deliveryId, ...this.occurrences.preview({ def, occurrence: verdict.deliveryId, context: { event }, expressions: true }) };
      }
      case 'poll': {
        const state = await this.store.polling.pollState(this.store.dataSource, ref);
        const { response, page } = await this.polls.fetchPage(def, state?.cursor);
        const seen = await this.store.polling.seenKeys(this.store.dataSource, ref, page.items.map((i) => i.key));
        const items = page.items.slice(0, 100).map((i) => {
          const p = this.occurrences.preview({ def, occurrence: i.key, context: { item: i.item, response, cursor: state?.cursor }, expressions: true });
          return { key: i.key, new: !seen.has(i.key), passed: p.passed, ...(p.inputs ? { inputs: p.inputs } : {}), ...(p.error ? { error: p.error } : {}) };
        });
        return { kind: def.kind, passed: true, items, cursor: page.cursor ?? state?.cursor ?? null };
      }
    }
  }

  async find(ref: TriggerRef): Promise<TriggerDefinition> {
    const def = await this.store.definition(ref);
    if (!def?.active) throw new TriggersError('TRIGGER_NOT_FOUND', `no trigger ${ref.triggerId} on workflow ${ref.workflow} (in namespace ${ref.namespace}); triggers come from the published version`);
    return def;
  }
}

/** The audit log's target id of a trigger. */
const targetOf = (ref: TriggerRef): string => `${ref.workflow}/${ref.triggerId}`;

export function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function catchupMsOf(def: TriggerDefinition): number {
  return parseDuration(def.spec.catchup ?? TRIGGER_DEFAULTS.catchup);
}
