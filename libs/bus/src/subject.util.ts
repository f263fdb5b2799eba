import { BusError } from './bus.errors';

/**
 * Subject grammar and the stream layout shared by both buses, so the in-memory bus
 * accepts and rejects exactly what JetStream would.
 */

const TOKEN = /^[^\s.*>]+$/;

/** Throws INVALID_SUBJECT unless `subject` is a dotted subject; wildcards only when `allowWildcards`. */
export function assertSubject(subject: string, allowWildcards: boolean): void {
  const tokens = subject.split('.');
  tokens.forEach((token, i) => {
    const wildcard = token === '*' || (token === '>' && i === tokens.length - 1);
    if (wildcard && allowWildcards) return;
    if (!TOKEN.test(token)) {
      throw new BusError('INVALID_SUBJECT', `invalid subject "${subject}"${wildcard ? ' (wildcards are not allowed here)' : ''}`);
    }
  });
}

/** NATS matching: `*` matches one token, a trailing `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** True when some literal subject matches both patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const xt: string | undefined = x[i];
    const yt: string | undefined = y[i];
    if (xt === undefined || yt === undefined) return xt === undefined && yt === undefined;
    if (xt === '>' || yt === '>') return true;
    if (xt !== '*' && yt !== '*' && xt !== yt) return false;
  }
}

export type Retention = 'workqueue' | 'limits';

export interface StreamLayout {
  /** Stream name before the prefix. */
  name: string;
  subjects: readonly string[];
  /** Work-queue streams drop a message once acked and allow one consumer per subject. */
  retention: Retention;
}

export const DISPATCH_STREAM: StreamLayout = { name: 'WEFT_DISPATCH', subjects: ['weft.step.dispatch.>'], retention: 'workqueue' };
/** The scheduler's inbox (signals: outside events for `wait.event` steps, `weft.signal.<name>`). */
export const INBOX_STREAM: StreamLayout = {
  name: 'WEFT_INBOX',
  subjects: ['weft.run.requested', 'weft.run.cancel-requested', 'weft.slot.>', 'weft.step.result', 'weft.step.heartbeat', 'weft.signal.>'],
  retention: 'workqueue',
};
export const EVENTS_STREAM: StreamLayout = { name: 'WEFT_EVENTS', subjects: ['weft.event.>'], retention: 'limits' };
export const DEAD_LETTER_STREAM: StreamLayout = { name: 'WEFT_DEADLETTER', subjects: ['weft.deadletter.>'], retention: 'limits' };

/** Streams that `publish` and `consume` may address (dead letters are written by the bus only). */
export const MESSAGE_STREAMS: readonly StreamLayout[] = [DISPATCH_STREAM, INBOX_STREAM, EVENTS_STREAM];

export const DEAD_LETTER_SUBJECT_PREFIX = 'weft.deadletter.';

/** The stream that stores a published (literal) subject. */
export function streamForSubject(subject: string): StreamLayout {
  const stream = MESSAGE_STREAMS.find((s) => s.subjects.some((p) => subjectMatches(p, subject)));
  if (!stream) throw new BusError('NO_STREAM', `no stream stores subject "${subject}" (use broadcast for non-durable subjects)`);
  return stream;
}

/** The one stream a consumer's filter falls in; a filter spanning streams or none is rejected. */
export function streamForFilter(filter: string): StreamLayout {
  const streams = MESSAGE_STREAMS.filter((s) => s.subjects.some((p) => patternsOverlap(p, filter)));
  if (streams.length === 1) return streams[0];
  if (streams.length === 0) throw new BusError('NO_STREAM', `no stream stores subjects matching "${filter}"`);
  throw new BusError('INVALID_SUBJECT', `filter "${filter}" spans several streams (${streams.map((s) => s.name).join(', ')})`);
}

/** Durable consumer name for a group and filter: tokens joined by `_`, wildcards spelled out. */
export function consumerName(group: string, filter: string): string {
  const spelled = filter
    .split('.')
    .map((t) => (t === '*' ? 'STAR' : t === '>' ? 'ALL' : t))
    .join('_');
  return `${group}__${spelled}`;
}

const GROUP = /^[A-Za-z0-9_-]+$/;

export function assertGroup(group: string): void {
  if (!GROUP.test(group)) throw new BusError('INVALID_OPTIONS', `invalid group "${group}": use letters, digits, "_" and "-"`);
}

/**
 * `startAt: 'new'` is for limits streams only: JetStream lets a work-queue consumer start nowhere
 * but at the first message (`deliver_policy: all`), and a live-only reader of work makes no sense.
 */
export function assertStartAt(layout: StreamLayout, filter: string, startAt: 'first' | 'new'): void {
  if (startAt === 'new' && layout.retention === 'workqueue') {
    throw new BusError('INVALID_OPTIONS', `startAt 'new' is for lifecycle events, not the work-queue subject "${filter}" (stream ${layout.name})`);
  }
}
