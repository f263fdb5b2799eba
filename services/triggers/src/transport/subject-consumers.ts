import { createHash } from 'node:crypto';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { subjectMatches } from '@weft/bus';
import { ContractError, eventSubject, isLifecycleBatchSubject, type LifecycleEvent, lifecycleEventsOf, SUBJECTS } from '@weft/contracts';
import { parseDuration, TRIGGER_DEFAULTS } from '@weft/core';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { TriggerDefinition } from '../ports/trigger.types';
import type { TriggersLogger } from '../ports/triggers-logger.port';
import type { RecordOccurrenceUseCase } from '../usecases/record-occurrence.usecase';

export interface SubjectConsumersOptions {
  servers: string[];
  /** WEFT_NATS_PREFIX: names the triggers' own stream like the bus's (`<PREFIX>_WEFT_TRIGGER_SUBJECTS`). */
  prefix?: string;
  /** Stream created for trigger subjects no other stream stores. @default WEFT_TRIGGER_SUBJECTS (prefixed like the bus's) */
  stream?: string;
  /** How often the consumers follow the definitions. @default 2000 */
  refreshEveryMs?: number;
  /** Stored messages of the trigger stream expire after this. @default 7 days */
  maxAgeMs?: number;
}

interface Running {
  key: string;
  subject: string;
  stream: string;
  durable: string;
  messages: ConsumerMessages;
  loop: Promise<void>;
}

const NANOS_PER_MS = 1_000_000;

/**
 * Subject triggers: one durable JetStream consumer per trigger, shared by every
 * replica (each message goes to one of them), created when the trigger appears and kept while
 * the service is down, so nothing published meanwhile is lost. A message's occurrence is its
 * stream position (`<stream>:<seq>`), so a redelivery is a duplicate in the fire log.
 */
export class SubjectConsumers {
  private nc: Awaited<ReturnType<typeof connect>> | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private readonly running = new Map<string, Running>();
  private readonly failing = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: SqlTriggerStore,
    private readonly occurrences: RecordOccurrenceUseCase,
    private readonly options: SubjectConsumersOptions,
    private readonly log: TriggersLogger,
  ) {}

  private get streamName(): string {
    const base = this.options.stream ?? 'WEFT_TRIGGER_SUBJECTS';
    return this.options.prefix && this.options.stream === undefined ? `${this.options.prefix.toUpperCase()}_${base}` : base;
  }

  async start(): Promise<void> {
    this.nc = await connect({ servers: this.options.servers, name: 'weft-triggers-subjects' });
    this.js = jetstream(this.nc);
    this.jsm = await jetstreamManager(this.nc);
    await this.refresh();
    const loop = (): void => {
      this.refreshing = this.refresh()
        .catch((error: unknown) => this.log.warn('subject consumers refresh failed', { error: String(error) }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.options.refreshEveryMs ?? 2_000);
        });
    };
    this.timer = setTimeout(loop, this.options.refreshEveryMs ?? 2_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.refreshing;
    for (const r of this.running.values()) r.messages.stop();
    await Promise.all([...this.running.values()].map((r) => r.loop));
    this.running.clear();
    await this.nc?.drain();
  }

  /** Readiness: every active subject trigger has a bound consumer. */
  health(): Promise<{ ok: boolean; detail?: string }> {
    if (!this.nc || this.nc.isClosed()) return Promise.resolve({ ok: false, detail: 'not connected to NATS' });
    if (this.failing.size > 0) return Promise.resolve({ ok: false, detail: [...this.failing].map(([k, v]) => `${k}: ${v}`).join('; ').slice(0, 500) });
    return Promise.resolve({ ok: true, detail: `${this.running.size} consumer(s)` });
  }

  subjectOf(def: TriggerDefinition): string | undefined {
    if (def.kind === 'subject') return def.spec.subject;
    return undefined;
  }

  private durableOf(def: TriggerDefinition): string {
    return `weft-trigger-${createHash('sha256').update(`${def.namespace}/${def.workflow}/${def.triggerId}`).digest('hex').slice(0, 20)}`;
  }

  /** Starts consumers for new definitions, stops (and deletes) those of removed ones. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    const defs = (await this.store.definitions(undefined, { active: true })).filter((d) => d.kind === 'subject');
    const wanted = new Map<string, TriggerDefinition>();
    for (const def of defs) {
      const subject = this.subjectOf(def);
      if (subject) wanted.set(`${this.durableOf(def)}|${subject}`, def);
    }
    for (const [key, r] of this.running) {
      if (wanted.has(key)) continue;
      r.messages.stop();
      await r.loop;
      this.running.delete(key);
      await this.jsm?.consumers.delete(r.stream, r.durable).catch(() => undefined);
    }
    for (const [key, def] of wanted) {
      if (this.running.has(key)) continue;
      try {
        await this.startConsumer(key, def);
        this.failing.delete(key);
      } catch (error) {
        this.failing.set(`${def.workflow}/${def.triggerId}`, String(error));
        this.log.warn('subject consumer not started', { trigger: `${def.workflow}/${def.triggerId}`, error: String(error) });
      }
    }
  }

  private async streamFor(subject: string): Promise<string> {
    const jsm = this.jsm;
    if (!jsm) throw new Error('not started');
    try {
      return await jsm.streams.find(subject);
    } catch {
      // No stream stores it: add it to the triggers' own stream.
    }
    const name = this.streamName;
    const maxAge = (this.options.maxAgeMs ?? 7 * 86_400_000) * NANOS_PER_MS;
    try {
      const info = await jsm.streams.info(name);
      const subjects = new Set(info.config.subjects ?? []);
      subjects.add(subject);
      await jsm.streams.update(name, { subjects: [...subjects] });
    } catch (error) {
      if (!String(error).toLowerCase().includes('stream not found')) throw error;
      await jsm.streams.add({ name, subjects: [subject], retention: RetentionPolicy.Limits, storage: StorageType.File, max_age: maxAge });
    }
    return name;
  }

  /** `weft.event.` on the wire (under the bus's prefix): where Weft's own lifecycle events are. */
  private get lifecycleRoot(): string {
    return this.options.prefix ? `${this.options.prefix}.${SUBJECTS.eventPrefix}` : SUBJECTS.eventPrefix;
  }

  /**
   * A trigger on Weft's lifecycle events (`weft.event.run.completed`, ...) reads all of them: a
   * transition's events travel as one `weft.event.batch` message, which a filter on the event's own
   * subject would never see (NATS 2.9 has one filter per consumer). Each event is matched on its own.
   */
  private readsLifecycleEvents(subject: string): boolean {
    return subject.startsWith(this.lifecycleRoot);
  }

  private async startConsumer(key: string, def: TriggerDefinition): Promise<void> {
    const jsm = this.jsm;
    const js = this.js;
    const subject = this.subjectOf(def);
    if (!jsm || !js || !subject) return;
    const lifecycle = this.readsLifecycleEvents(subject);
    const stream = await this.streamFor(subject);
    // A wider filter is another consumer (2.9 cannot change a consumer's filter).
    const durable = lifecycle ? `${this.durableOf(def)}-events` : this.durableOf(def);
    try {
      await jsm.consumers.info(stream, durable);
    } catch {
      // New trigger: from now on (what was published before it existed is not its business),
      // or, replacing the consumer of an older version, from where that one stopped.
      const earlier = lifecycle ? await jsm.consumers.info(stream, this.durableOf(def)).catch(() => undefined) : undefined;
      await jsm.consumers.add(stream, {
        durable_name: durable,
        filter_subject: lifecycle ? `${this.lifecycleRoot}>` : subject,
        ack_policy: AckPolicy.Explicit,
        ...(earlier ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: earlier.ack_floor.stream_seq + 1 } : { deliver_policy: DeliverPolicy.New }),
        ack_wait: 30_000 * NANOS_PER_MS,
        max_deliver: 10,
      });
      if (earlier) await jsm.consumers.delete(stream, this.durableOf(def)).catch(() => undefined);
    }
    const consumer = await js.consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: 64 });
    const windowMs = parseDuration(def.spec.dedupeWindow ?? TRIGGER_DEFAULTS.dedupeWindow);
    const handle = lifecycle ? (m: JsMsg) => this.handleEvents(def, subject, m, stream, windowMs) : (m: JsMsg) => this.handle(def, m, stream, windowMs);
    const loop = (async () => {
      for await (const m of messages) await handle(m);
    })().catch((error: unknown) => this.log.warn('subject consumer stopped', { trigger: `${def.workflow}/${def.triggerId}`, error: String(error) }));
    this.running.set(key, { key, subject, stream, durable, messages, loop });
  }

  /**
   * A lifecycle message: each of its events that the trigger's subject matches is an occurrence,
   * `{ subject: weft.event.<type>, data: the event, headers }` as a message of its own would be;
   * a single event's occurrence is its stream position, a batch's event's `<stream>:<seq>:<index>`.
   */
  private async handleEvents(def: TriggerDefinition, subject: string, m: JsMsg, stream: string, windowMs: number): Promise<void> {
    const unwired = m.subject.slice(this.lifecycleRoot.length - SUBJECTS.eventPrefix.length);
    if (!isLifecycleBatchSubject(unwired) && !subjectMatches(subject, m.subject)) {
      // A single event on a subject the trigger does not match: acked unread (no parse or validation per event).
      m.ack();
      return;
    }
    let events: LifecycleEvent[];
    try {
      events = lifecycleEventsOf(unwired, JSON.parse(m.string()) as unknown);
    } catch (error) {
      // The bus dead-letters it for Weft's own consumers; nothing here could make it an event.
      this.log.warn('lifecycle message skipped: not events', { trigger: `${def.workflow}/${def.triggerId}`, subject: m.subject, error: error instanceof ContractError ? error.message : String(error) });
      m.ack();
      return;
    }
    try {
      const headers = headersOf(m);
      const batch = isLifecycleBatchSubject(unwired);
      for (const [i, event] of events.entries()) {
        const wire = `${this.lifecycleRoot}${eventSubject(event.type).slice(SUBJECTS.eventPrefix.length)}`;
        if (!subjectMatches(subject, wire)) continue;
        const occurrence = batch ? `${stream}:${m.seq}:${i}` : `${stream}:${m.seq}`;
        await this.occurrences.record({ def, occurrence, context: { event: { subject: wire, data: event, headers } }, expressions: true, dedupeWindowMs: windowMs });
      }
      m.ack();
    } catch (error) {
      this.log.warn('lifecycle event not recorded; redelivered later', { trigger: `${def.workflow}/${def.triggerId}`, error: String(error) });
      m.nak(1_000);
    }
  }

  private async handle(def: TriggerDefinition, m: JsMsg, stream: string, windowMs: number): Promise<void> {
    try {
      const text = m.string();
      let data: unknown = text;
      try {
        data = JSON.parse(text) as unknown;
      } catch {
        // not JSON: the event's data is the text
      }
      const event = { subject: m.subject, data, headers: headersOf(m) };
      await this.occurrences.record({ def, occurrence: `${stream}:${m.seq}`, context: { event }, expressions: true, dedupeWindowMs: windowMs });
      m.ack();
    } catch (error) {
      this.log.warn('subject message not recorded; redelivered later', { trigger: `${def.workflow}/${def.triggerId}`, error: String(error) });
      m.nak(1_000);
    }
  }
}

function headersOf(m: JsMsg): Record<string, string> {
  const headers: Record<string, string> = {};
  if (m.headers) for (const [k, v] of m.headers) headers[k.toLowerCase()] = v.join(',');
  return headers;
}
