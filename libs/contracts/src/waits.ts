import { z } from 'zod';

/**
 * Contracts of durable waits: signals (outside events a `wait.event` step waits for),
 * review decisions and who made them. Shared by the core, the scheduler, the CLI and the SDK.
 */

/** Signal names: dotted lower-case words (they become NATS subject tokens: `weft.signal.<name>`). */
export const SIGNAL_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)*$';
export const SignalName = z
  .string()
  .max(200)
  .regex(new RegExp(SIGNAL_NAME_PATTERN), { message: 'signal names are dotted lower-case words, e.g. invoice.approved' });

/** Bounds of one signal, checked at every edge (HTTP, NATS, CLI). */
export const SIGNAL_LIMITS = {
  /** Characters of a key or an id. */
  keyLength: 500,
  /** Bytes of `data` once serialised as JSON. */
  dataBytes: 256 * 1024,
} as const;

/**
 * A signal as a sender gives it: on `POST /v1/signals`, `weft signal` and the NATS
 * subject `weft.signal.<name>` (where `name` may be left out: the subject names it).
 */
export const SignalSend = z.object({
  name: SignalName,
  /** Narrows which waits it satisfies: a wait with a key takes only signals with that key. */
  key: z.string().min(1).max(SIGNAL_LIMITS.keyLength).optional(),
  /** Any JSON; the waiting step's output carries it. */
  data: z.unknown().optional(),
  /** Deduplicates sends: a repeated id (per namespace) is the same signal. @default a new id */
  id: z.string().min(1).max(SIGNAL_LIMITS.keyLength).optional(),
});
export type SignalSend = z.infer<typeof SignalSend>;

/** The payload of `weft.signal.<name>`: a SignalSend whose name may come from the subject, plus its namespace. */
export const SignalMessage = SignalSend.extend({
  name: SignalName.optional(),
  /** @default `default` */
  namespace: z.string().min(1).optional(),
});
export type SignalMessage = z.infer<typeof SignalMessage>;

/** A stored signal, as a satisfied wait's output and `GET /v1/signals` show it. */
export interface ReceivedSignal {
  id: string;
  name: string;
  key?: string;
  data?: unknown;
  /** Epoch ms, database time. */
  receivedAt: number;
}

export const signalSubject = (name: string): `weft.signal.${string}` => `weft.signal.${name}`;

/** What a reviewer can decide. */
export const REVIEW_DECISIONS = ['continue', 'correct', 'retry', 'reject', 'escalate'] as const;
export const ReviewDecision = z.enum(REVIEW_DECISIONS);
export type ReviewDecision = z.infer<typeof ReviewDecision>;

/** Who changed something: an API key (id and name), or `local` (loopback without a key, `weft run`). */
export const Actor = z.union([z.object({ keyId: z.string().min(1), name: z.string() }), z.literal('local')]);
export type Actor = z.infer<typeof Actor>;

/** Actors the engine itself decides as (a review deadline). */
export const SYSTEM_ACTORS = { deadline: { keyId: 'system', name: 'deadline' } } as const;

export const actorLabel = (actor: Actor): string => (actor === 'local' ? 'local' : `${actor.name} (${actor.keyId})`);
