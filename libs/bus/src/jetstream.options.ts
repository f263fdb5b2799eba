import { DEFAULT_DUPLICATE_WINDOW_MS, DEFAULT_ERROR_NAK_DELAY_MS, DEFAULT_EVENTS_MAX_AGE_MS } from './bus.defaults';
import { BusError } from './bus.errors';

export interface JetStreamBusOptions {
  servers: string | string[];
  /** Connection name shown by the server (e.g. the service name). */
  name?: string;
  /** Isolates deployments and tests: wire subjects become `<prefix>.<subject>`, stream names `<PREFIX>_<NAME>`. */
  prefix?: string;
  /** Retention of lifecycle events. @default 7 days */
  eventsMaxAgeMs?: number;
  /** Retention of dead letters. @default 30 days */
  deadLetterMaxAgeMs?: number;
  /** JetStream de-duplication window of every stream. @default 120000 */
  duplicateWindowMs?: number;
  /**
   * Replicas of every stream, 1 to 5 (`WEFT_NATS_REPLICAS`). Given: streams are created with it,
   * and the boot-time update scales an existing stream to it (a JetStream cluster copies or drops
   * the data; consumers follow their stream). Left out: a new stream gets 1 and an existing one
   * keeps the count it has. More than 1 needs a JetStream cluster of at least that many servers:
   * against a standalone server, or too few servers, connect() rejects with INVALID_OPTIONS.
   */
  replicas?: number;
  /** Lifetime of one pull request; missed-heartbeat detection is half of it. Min 1000. @default 30000 */
  pullExpiresMs?: number;
  /** Redelivery delay after a handler throws. @default 1000 */
  errorNakDelayMs?: number;
  /**
   * How long a handled message's ack may wait to ride this connection's next publish or pull in one
   * socket write (HeldAcks); 0 sends each ack at once. Far below any ack wait. @default 20
   */
  ackDelayMs?: number;
  /**
   * Publishes (and broadcasts) made later in one event-loop turn than its first are sent together at
   * the end of the turn (setImmediate), in order, in one socket write (CoalescedWrites); the turn's
   * first publish, and any made in the same synchronous stretch, go at once. false: each at once.
   * @default true
   */
  coalescePublishes?: boolean;
  /**
   * `inactive_threshold` of consumers created with `startAt: 'new'`: the server deletes one nobody
   * has pulled from for this long (a subscriber always has a pull waiting, so only a dead or cut-off
   * process's consumer goes). Min 1000. @default 60000
   */
  liveConsumerInactiveMs?: number;
  /** Where failures nobody awaits go (recoveries, throwing listeners). @default console.error */
  onError?: (error: unknown, context: string) => void;
}

const DEFAULT_DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 3_600_000;
const DEFAULT_PULL_EXPIRES_MS = 30_000;
const DEFAULT_LIVE_CONSUMER_INACTIVE_MS = 60_000;
const DEFAULT_ACK_DELAY_MS = 20;
const MAX_ACK_DELAY_MS = 1_000;
const MAX_REPLICAS = 5;
const PREFIX = /^[A-Za-z0-9_-]+$/;

/** The options with their defaults filled in. */
export type Settings = Required<Omit<JetStreamBusOptions, 'name' | 'servers' | 'replicas'>> & { replicas: number | undefined };

/** Fills in defaults and refuses invalid options (INVALID_OPTIONS) before anything connects. */
export function resolveSettings(options: JetStreamBusOptions): Settings {
  const prefix = options.prefix ?? '';
  if (prefix !== '' && !PREFIX.test(prefix)) throw new BusError('INVALID_OPTIONS', `invalid prefix "${prefix}": use letters, digits, "_" and "-"`);
  const settings: Settings = {
    prefix,
    eventsMaxAgeMs: options.eventsMaxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS,
    deadLetterMaxAgeMs: options.deadLetterMaxAgeMs ?? DEFAULT_DEAD_LETTER_MAX_AGE_MS,
    duplicateWindowMs: options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS,
    pullExpiresMs: options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS,
    errorNakDelayMs: options.errorNakDelayMs ?? DEFAULT_ERROR_NAK_DELAY_MS,
    ackDelayMs: options.ackDelayMs ?? DEFAULT_ACK_DELAY_MS,
    coalescePublishes: options.coalescePublishes ?? true,
    liveConsumerInactiveMs: options.liveConsumerInactiveMs ?? DEFAULT_LIVE_CONSUMER_INACTIVE_MS,
    replicas: options.replicas,
    onError: options.onError ?? ((error: unknown, context: string) => console.error(`[JetStreamBus] ${context}`, error)),
  };
  if (settings.pullExpiresMs < 1000) throw new BusError('INVALID_OPTIONS', 'pullExpiresMs must be at least 1000');
  if (!(settings.ackDelayMs >= 0 && settings.ackDelayMs <= MAX_ACK_DELAY_MS)) throw new BusError('INVALID_OPTIONS', `ackDelayMs must be from 0 to ${MAX_ACK_DELAY_MS}`);
  if (!(settings.liveConsumerInactiveMs >= 1000)) throw new BusError('INVALID_OPTIONS', 'liveConsumerInactiveMs must be at least 1000');
  const { replicas } = settings;
  if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 1 && replicas <= MAX_REPLICAS)) {
    throw new BusError('INVALID_OPTIONS', `stream replicas (option replicas, WEFT_NATS_REPLICAS) must be an integer from 1 to ${MAX_REPLICAS}, got ${replicas}`);
  }
  return settings;
}
