import { type MessageOf, parseMessage, type Subject } from '@weft/contracts';
import { BusError } from './bus.errors';
import { type ConsumeOptions } from './bus.port';

export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_MAX_DELIVER = 10;
export const DEFAULT_CONCURRENCY = 64;
/** JetStream's own default duplicate window. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
export const DEFAULT_EVENTS_MAX_AGE_MS = 7 * 24 * 3_600_000;
/**
 * The in-memory bus's bound on a limits stream's stored messages (lifecycle events), in characters
 * of their JSON: past it the oldest that every consumer has settled are dropped. JetStream keeps its
 * events on disk for the age alone; an embedded host keeps them in its memory, at ~4-5x their JSON
 * (the decoded event, headers, the log's entry): 16 MiB is ~80,000 events and ~70 MB of heap.
 */
export const DEFAULT_EVENTS_MAX_BYTES = 16 * 1024 * 1024;
/** A throwing handler is retried soon, not hot-looped: retries with backoff belong to the scheduler. */
export const DEFAULT_ERROR_NAK_DELAY_MS = 1_000;

export interface ResolvedConsumeOptions {
  group: string;
  ackWaitMs: number;
  maxDeliver: number;
  concurrency: number;
  startAt: 'first' | 'new';
}

export function resolveConsumeOptions(options: ConsumeOptions): ResolvedConsumeOptions {
  const resolved = {
    group: options.group,
    ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    maxDeliver: options.maxDeliver ?? DEFAULT_MAX_DELIVER,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    startAt: options.startAt ?? 'first',
  };
  if (resolved.startAt !== 'first' && resolved.startAt !== 'new') {
    throw new BusError('INVALID_OPTIONS', `startAt must be 'first' or 'new', got ${JSON.stringify(resolved.startAt)}`);
  }
  const positiveInt = (name: 'ackWaitMs' | 'maxDeliver' | 'concurrency', value: number) => {
    if (!Number.isInteger(value) || value < 1) throw new BusError('INVALID_OPTIONS', `${name} must be a positive integer, got ${value}`);
  };
  positiveInt('ackWaitMs', resolved.ackWaitMs);
  positiveInt('maxDeliver', resolved.maxDeliver);
  positiveInt('concurrency', resolved.concurrency);
  return resolved;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** JSON text of a payload; the in-memory bus uses it too so nothing non-serialisable slips through. */
export function encodePayload(subject: string, payload: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (cause) {
    throw new BusError('UNSERIALISABLE', `payload for ${subject} is not JSON-serialisable: ${errorMessage(cause)}`, { cause });
  }
  if (text === undefined) throw new BusError('UNSERIALISABLE', `payload for ${subject} is not JSON-serialisable`);
  return text;
}

export type Decoded<T> = { ok: true; data: T } | { ok: false; reason: string };

/** Decodes JSON text and checks the subject's contract; failures become a dead-letter reason. */
export function decodePayload<S extends Subject>(subject: S, text: string): Decoded<MessageOf<S>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `malformed JSON: ${errorMessage(error)}` };
  }
  try {
    return { ok: true, data: parseMessage(subject, value) };
  } catch (error) {
    return { ok: false, reason: `contract violation: ${errorMessage(error)}` };
  }
}

/**
 * Decodes once for every reader: the checked payload, deep-frozen so no reader can change what
 * another one sees (a write throws in strict mode). Dates are strings and undefined is gone, as
 * after any JSON round trip.
 */
export function decodeShared<S extends Subject>(subject: S, text: string): Decoded<MessageOf<S>> {
  const decoded = decodePayload(subject, text);
  if (decoded.ok) deepFreeze(decoded.data);
  return decoded;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
}
