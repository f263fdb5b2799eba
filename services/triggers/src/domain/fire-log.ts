import { createHash } from 'node:crypto';

/**
 * The fire log's vocabulary. Every occurrence of a trigger (a tick, a message, a delivery, a
 * polled item) gets exactly one row with one of these outcomes.
 */
export const FIRE_OUTCOMES = ['fired', 'skipped', 'missed', 'filtered', 'duplicate', 'refused', 'failed'] as const;
export type FireOutcome = (typeof FIRE_OUTCOMES)[number];

export const TRIGGER_KINDS = ['cron', 'subject', 'event', 'webhook', 'poll'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** Occurrence ids longer than this are replaced by their SHA-256 (keys stay indexable). */
export const MAX_OCCURRENCE_LENGTH = 128;

/**
 * The occurrence part of a key: a tick's ISO time, a delivery id, a message's dedupe key or a
 * polled item's key. Long or multi-line values are hashed so every key is bounded.
 */
export function occurrenceId(raw: string): string {
  if (raw.length <= MAX_OCCURRENCE_LENGTH && !/[\s]/.test(raw)) return raw;
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/** A tick's occurrence id: its instant, ISO-8601 in UTC. */
export function tickOccurrence(tickMs: number): string {
  return new Date(tickMs).toISOString();
}

/**
 * The run request's idempotency key: `trigger:<workflow>:<trigger>:<occurrence>`. The scheduler
 * starts at most one run per key, so a duplicate fire or a replayed delivery starts nothing.
 */
export function triggerIdempotencyKey(workflow: string, trigger: string, occurrence: string): string {
  return `trigger:${workflow}:${trigger}:${occurrenceId(occurrence)}`;
}

/** The run's source, as the scheduler records it. */
export function triggerSource(triggerId: string): string {
  return `trigger:${triggerId}`;
}
