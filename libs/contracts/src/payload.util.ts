/**
 * Bounds on what a step, an expression or a run may carry (issue 12): checked where a payload is
 * made (the executor before it publishes a result, the engine before it dispatches a step or
 * stores an output), so nothing the broker or PostgreSQL would refuse is ever committed or sent.
 */

/**
 * Largest JSON payload one message carries (a dispatch's input, a result's output, a run's
 * outputs), in bytes of its JSON text: `WEFT_MAX_PAYLOAD`. Below NATS's default `max_payload`
 * (1 MiB), leaving room for the envelope and headers.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 900 * 1024;

/** Stable codes of payload failures; none is retried (the same input makes the same payload). */
export const PAYLOAD_ERROR_CODES = {
  /** A result, dispatch input or run output larger than `WEFT_MAX_PAYLOAD`. */
  tooLarge: 'PAYLOAD_TOO_LARGE',
  /** A string or key holds what PostgreSQL cannot store (NUL `\u0000`, a lone UTF-16 surrogate). */
  unstorable: 'UNSTORABLE_OUTPUT',
  /** The broker refused a step's dispatch for good (the outbox row was quarantined). */
  dispatchFailed: 'DISPATCH_FAILED',
} as const;
export type PayloadErrorCode = (typeof PAYLOAD_ERROR_CODES)[keyof typeof PAYLOAD_ERROR_CODES];

export interface PayloadProblem {
  code: typeof PAYLOAD_ERROR_CODES.tooLarge | typeof PAYLOAD_ERROR_CODES.unstorable;
  /** Human-readable, names the JSON path (`$.rows[3].name`) for unstorable text. */
  message: string;
}

/** Quick screen: NUL or any surrogate; surrogates are then checked for pairing. */
const SUSPECT = /[\u0000\ud800-\udfff]/;
const NON_ASCII = /[^\u0000-\u007f]/;
const ESCAPED = /["\\\u0000-\u001f]/;
const ESCAPED_ALL = /["\\\u0000-\u001f]/g;
const SHORT_ESCAPES = '"\\\b\f\n\r\t';

/**
 * Whether `value`'s JSON text would exceed `maxBytes` (UTF-8) or hold text PostgreSQL refuses.
 * Walks the value without building its JSON (a value beyond V8's string limit is refused, not
 * stringified) and stops as soon as it is over the bound, so the cost is O(min(size, maxBytes)).
 * Shared references count each time they appear, as JSON would write them.
 */
export function checkPayload(value: unknown, maxBytes: number): PayloadProblem | undefined {
  return measure(value, maxBytes).problem;
}

/** Bytes of `value`'s JSON text (UTF-8), counted until past `stopAbove` (then some number above it). */
export function jsonBytes(value: unknown, stopAbove = Number.MAX_SAFE_INTEGER): number {
  return measure(value, stopAbove).bytes;
}

function measure(value: unknown, maxBytes: number): { bytes: number; problem?: PayloadProblem } {
  let bytes = 0;
  const stack: Frame[] = [{ value, parent: undefined, key: '$' }];
  // Objects met before: met again, either shared (JSON writes it again) or a cycle (JSON cannot write it).
  // The first one is kept on its own: a payload with one object (`{}`, a flat record) makes no WeakSet.
  let first: object | undefined;
  let seen: WeakSet<object> | undefined;
  const metBefore = (v: object): boolean => v === first || seen?.has(v) === true;
  const meet = (v: object): void => {
    if (first === undefined) first = v;
    else (seen ??= new WeakSet<object>()).add(v);
  };
  const tooLarge = (): { bytes: number; problem: PayloadProblem } => ({
    bytes,
    problem: { code: PAYLOAD_ERROR_CODES.tooLarge, message: `larger than the ${maxBytes}-byte limit (WEFT_MAX_PAYLOAD)` },
  });
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const v = frame.value;
    if (typeof v === 'string') {
      // Every character is at least one byte: a string longer than the bound is over it, uncounted.
      if (v.length > maxBytes - bytes) {
        bytes += v.length;
        return tooLarge();
      }
      const bad = unstorableAt(v);
      if (bad !== undefined) return { bytes, problem: unstorable(frame, bad) };
      bytes += stringBytes(v);
    } else if (typeof v === 'number' || typeof v === 'boolean') {
      bytes += String(v).length;
    } else if (v === null || typeof v !== 'object') {
      bytes += 4; // null, or a value JSON drops or writes as null
    } else if (metBefore(v) && isAncestor(frame, v)) {
      // A cycle has no JSON: not a payload problem, JSON.stringify reports it to whoever serialises.
      return { bytes };
    } else if (Array.isArray(v)) {
      meet(v);
      bytes += 2 + Math.max(0, v.length - 1);
      if (bytes > maxBytes) return tooLarge();
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i] as unknown, parent: frame, key: i });
    } else {
      meet(v);
      const keys = Object.keys(v);
      bytes += 2 + Math.max(0, keys.length - 1);
      for (let i = keys.length - 1; i >= 0 && bytes <= maxBytes; i--) {
        const key = keys[i];
        const child: Frame = { value: (v as Record<string, unknown>)[key], parent: frame, key };
        const bad = unstorableAt(key);
        if (bad !== undefined) return { bytes, problem: unstorable(child, bad, true) };
        bytes += stringBytes(key) + 1;
        stack.push(child);
      }
    }
    if (bytes > maxBytes) return tooLarge();
  }
  return { bytes };
}

/**
 * The same text with what PostgreSQL refuses replaced by U+FFFD: for messages Weft writes
 * itself (error messages, reasons), where losing a NUL is better than losing the message.
 */
export function storableText(text: string): string {
  if (!SUSPECT.test(text)) return text;
  return text.replace(/\u0000/g, '\ufffd').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function isAncestor(frame: Frame, value: object): boolean {
  for (let f = frame.parent; f !== undefined; f = f.parent) if (f.value === value) return true;
  return false;
}

interface Frame {
  value: unknown;
  parent: Frame | undefined;
  key: string | number;
}

/** Index of the first NUL or lone surrogate, or undefined. */
function unstorableAt(text: string): number | undefined {
  if (!SUSPECT.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return i;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return i;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return i;
    }
  }
  return undefined;
}

function unstorable(frame: Frame, index: number, inKey = false): PayloadProblem {
  const path = pathOf(frame);
  const what = inKey ? 'a key' : 'a string';
  return {
    code: PAYLOAD_ERROR_CODES.unstorable,
    message: `${what} at ${path} holds a character PostgreSQL cannot store (NUL \\u0000 or a lone UTF-16 surrogate) at index ${index}`,
  };
}

function pathOf(frame: Frame): string {
  const parts: string[] = [];
  for (let f: Frame | undefined = frame; f !== undefined; f = f.parent) {
    if (f.parent === undefined) parts.push('$');
    else if (typeof f.key === 'number') parts.push(`[${f.key}]`);
    else parts.push(/^[A-Za-z_$][\w$]*$/.test(f.key) ? `.${f.key}` : `[${JSON.stringify(storableText(f.key).slice(0, 40))}]`);
  }
  return parts.reverse().join('');
}

/** Bytes of a JSON string literal: quotes, UTF-8 text, escapes (`\n` is 2 characters, `\u001f` 6). */
function stringBytes(text: string): number {
  let bytes = 2 + (NON_ASCII.test(text) ? utf8Length(text) : text.length);
  if (ESCAPED.test(text)) {
    for (const c of text.match(ESCAPED_ALL) ?? []) bytes += SHORT_ESCAPES.includes(c) ? 1 : 5;
  }
  return bytes;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
