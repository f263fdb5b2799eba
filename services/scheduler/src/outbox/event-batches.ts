import { eventSubject, isLifecycleBatchSubject, LIFECYCLE_BATCH_SUBJECT, type LifecycleEvent, type LifecycleEventBatch, MAX_EVENTS_PER_BATCH, SUBJECTS } from '@weft/contracts';
import type { OutboxMessage, Transition } from '../ports/run-store.port';

/**
 * How a transition's lifecycle events travel as batch messages on `weft.event.batch` (issue 15):
 * the events of one transition (eventIds `<runId>:<seq>:<n>`) go together, up to
 * MAX_EVENTS_PER_BATCH per message, each message where its first event was, msgId
 * `<runId>:<seq>:events:<first>-<last>` (the event indexes it carries). A lone event goes as itself.
 * The publisher applies the rule to the rows it sends (sendOutboxRows); the SQL store applies it
 * before writing a transition with many events (storedWithEventBatches), so such rows are already
 * batches.
 */

const COLON = ':'.charCodeAt(0);

/** `<runId>:<seq>` of a lifecycle event message of run `runId`; undefined for anything else (a batch too). */
export function eventTransitionOf(message: Pick<OutboxMessage, 'kind' | 'subject' | 'msgId'>, runId: string): string | undefined {
  if (message.kind !== 'publish' || !message.subject.startsWith(SUBJECTS.eventPrefix) || isLifecycleBatchSubject(message.subject)) return undefined;
  const { msgId } = message;
  const end = msgId.lastIndexOf(':');
  return end > runId.length && msgId.charCodeAt(runId.length) === COLON && msgId.startsWith(runId) ? msgId.slice(0, end) : undefined;
}

/** Indexes of `messages` per message that goes out, in order: a transition's events join its first event's message. */
export function eventGroups(messages: readonly Pick<OutboxMessage, 'kind' | 'subject' | 'msgId'>[], runIdOf: (index: number) => string): number[][] {
  const groups: number[][] = [];
  const open = new Map<string, number[]>();
  messages.forEach((message, i) => {
    const transition = eventTransitionOf(message, runIdOf(i));
    if (transition === undefined) {
      groups.push([i]);
      return;
    }
    const current = open.get(transition);
    if (current !== undefined && current.length < MAX_EVENTS_PER_BATCH) {
      current.push(i);
      return;
    }
    const next = [i];
    open.set(transition, next);
    groups.push(next);
  });
  return groups;
}

/**
 * The batch message of `events` (event messages of one transition, in order, at most
 * MAX_EVENTS_PER_BATCH), with the first one's headers; `stored`: its payload a StoredEventBatch.
 */
export function batchMessage(events: readonly OutboxMessage[], runId: string, stored = false): OutboxMessage {
  const [first] = events;
  const last = events[events.length - 1];
  const index = (message: OutboxMessage) => message.msgId.slice(message.msgId.lastIndexOf(':') + 1);
  const transition = eventTransitionOf(first, runId) ?? runId;
  const payloads = events.map((message) => message.payload as LifecycleEvent);
  const message: OutboxMessage = {
    kind: 'publish',
    subject: LIFECYCLE_BATCH_SUBJECT,
    payload: stored ? storedBatch(payloads, transition) : ({ events: payloads } satisfies LifecycleEventBatch),
    msgId: `${transition}:events:${index(first)}-${index(last)}`,
  };
  if (first.headers !== undefined) message.headers = first.headers;
  return message;
}

/**
 * A batch row's payload as the SQL store writes it (storedWithEventBatches): the fields the events
 * share once, and each event's other fields, eventIds left out when they run on
 * (`<prefix>:<first + i>`). A 50,000-step cancel's ~200 rows then hold ~2 MB of JSON rather
 * than ~15 MB (PostgreSQL parsed, compressed and logged every byte inside the cancel's
 * statement). Only this process reads it: eventsOfBatch gives the events back, equal, keys in the
 * first event's order (toTransition builds every event in one order), for the message (the bus
 * carries LifecycleEventBatch).
 */
interface StoredEventBatch {
  /** Fields every event has, with the first event's value (an event whose value differs holds its own). */
  shared: Record<string, unknown>;
  /** The key order of the events (the first one's): each is rebuilt in it. */
  keys: string[];
  /** Each event's other fields, and those whose value is not the shared one. */
  events: Record<string, unknown>[];
  /** When the eventIds run on from `first`: `<prefix>:<first + i>`, and no event holds its own. */
  ids?: { prefix: string; first: number };
}

const isStoredBatch = (payload: unknown): payload is StoredEventBatch => typeof payload === 'object' && payload !== null && 'shared' in payload;

/** The events of a batch message's payload, stored (StoredEventBatch) or as published (LifecycleEventBatch), in order. */
export function eventsOfBatch(payload: unknown): LifecycleEvent[] {
  if (!isStoredBatch(payload)) return (payload as LifecycleEventBatch).events;
  const { shared, keys, events, ids } = payload;
  return events.map((own, i) => {
    const event: Record<string, unknown> = {};
    for (const key of keys) {
      if (key === 'eventId' && ids !== undefined) event.eventId = `${ids.prefix}:${ids.first + i}`;
      else if (Object.hasOwn(own, key)) event[key] = own[key];
      else if (Object.hasOwn(shared, key)) event[key] = shared[key];
    }
    for (const key in own) if (!Object.hasOwn(event, key)) event[key] = own[key];
    return event as LifecycleEvent;
  });
}

/** The event types a batch message's payload carries (stored or as published), without rebuilding its events. */
export function eventTypesOf(payload: unknown): LifecycleEvent['type'][] {
  if (!isStoredBatch(payload)) return (payload as LifecycleEventBatch).events.map((event) => event.type);
  const shared = payload.shared.type as LifecycleEvent['type'] | undefined;
  return payload.events.map((event) => (Object.hasOwn(event, 'type') ? (event.type as LifecycleEvent['type']) : (shared as LifecycleEvent['type'])));
}

/** A message as it goes on the bus: a stored batch (StoredEventBatch) as the LifecycleEventBatch it holds, anything else as it is. */
export function asPublished(message: OutboxMessage): OutboxMessage {
  if (!isLifecycleBatchSubject(message.subject) || !isStoredBatch(message.payload)) return message;
  return { ...message, payload: { events: eventsOfBatch(message.payload) } satisfies LifecycleEventBatch };
}

/** `events` (of one transition, in order) as a StoredEventBatch. */
function storedBatch(events: readonly LifecycleEvent[], prefix: string): StoredEventBatch {
  const records = events as readonly Record<string, unknown>[];
  const [first] = records;
  const keys = Object.keys(first);
  // A field every event has is stored once, with the first event's value; an event whose value differs keeps its own.
  const shared: Record<string, unknown> = {};
  for (const key of keys) if (key !== 'eventId' && records.every((event) => Object.hasOwn(event, key))) shared[key] = first[key];
  const start = Number(events[0].eventId.slice(prefix.length + 1));
  const runOn = Number.isInteger(start) && events.every((event, i) => event.eventId === `${prefix}:${start + i}`);
  const own = records.map((event) => {
    const rest: Record<string, unknown> = {};
    for (const key in event) {
      if (key === 'eventId' ? runOn : Object.hasOwn(shared, key) && jsonEqual(event[key], shared[key])) continue;
      rest[key] = event[key];
    }
    return rest;
  });
  return { shared, keys, events: own, ...(runOn && { ids: { prefix, first: start } }) };
}

/** Equal as JSON, keys in the same order (so the first event's value stands for every one's). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  for (let i = 0; i < keysA.length; i++) {
    const key = keysA[i];
    if (key !== keysB[i] || !jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** The events of a batch message, each as the message it would be alone (a batch the broker refuses for good is sent so). */
export function eventMessagesOf(batch: Pick<OutboxMessage, 'payload' | 'headers'>): OutboxMessage[] {
  return eventsOfBatch(batch.payload).map((event) => {
    const message: OutboxMessage = { kind: 'publish', subject: eventSubject(event.type), payload: event, msgId: event.eventId };
    if (batch.headers !== undefined) message.headers = batch.headers;
    return message;
  });
}

/**
 * A transition with more lifecycle events than this has its events stored as their batch messages:
 * one outbox row per message instead of one per event (a 50,000-step run's cancel: ~200 rows, not
 * 50,000). Up to it, a row per event, as they always were (what an operator reads in `outbox`).
 */
export const EVENT_ROWS_PER_TRANSITION = 32;

/**
 * `transition` as the SQL store writes it: with more than EVENT_ROWS_PER_TRANSITION events, those go as
 * batch messages (eventGroups' rule), their payloads stored compact (StoredEventBatch).
 */
export function storedWithEventBatches(transition: Transition): Transition {
  const { outbox } = transition;
  if (outbox.length <= EVENT_ROWS_PER_TRANSITION) return transition;
  const { runId } = transition.state;
  let events = 0;
  for (const message of outbox) if (eventTransitionOf(message, runId) !== undefined) events++;
  if (events <= EVENT_ROWS_PER_TRANSITION) return transition;
  const messages = eventGroups(outbox, () => runId).map((group) => (group.length === 1 ? outbox[group[0]] : batchMessage(group.map((i) => outbox[i]), runId, true)));
  return { ...transition, outbox: messages };
}
