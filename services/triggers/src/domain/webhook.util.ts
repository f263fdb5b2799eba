import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signature verification: the signature is the credential of a delivery. Comparisons
 * are constant-time; timestamped schemes refuse deliveries outside the tolerance (replays);
 * every accepted delivery has an id that dedupes a second delivery of it.
 */

export const WEBHOOK_PRESETS = ['github', 'stripe', 'slack', 'hmac-sha256'] as const;
export type WebhookPreset = (typeof WEBHOOK_PRESETS)[number];

/** Default tolerance of timestamped schemes (Stripe's and Slack's own recommendation). */
export const DEFAULT_TOLERANCE_MS = 5 * 60_000;
/** Default largest body accepted, in bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookVerifier {
  preset: WebhookPreset;
  /** The shared secret's value (from the service's environment, never stored). */
  secret: string;
  /** Timestamped schemes: how old (or how far in the future) a delivery may be, ms. */
  toleranceMs?: number;
  /** hmac-sha256: header holding the signature. @default webhook-signature */
  header?: string;
  /** hmac-sha256: how the signature is written. @default base64 */
  encoding?: 'hex' | 'base64';
  /** hmac-sha256: header with the delivery time (Unix seconds); when set the timestamp is signed and checked. */
  timestampHeader?: string;
  /** hmac-sha256: header with the delivery id, for dedupe (and signed when a timestamp is). @default webhook-id */
  idHeader?: string;
  maxBodyBytes?: number;
}

export interface WebhookRequest {
  /** Header names in lower case; repeated headers joined or first value. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

export const REFUSAL_REASONS = ['body-too-large', 'missing-signature', 'bad-signature', 'missing-timestamp', 'stale-timestamp', 'no-secret'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export type WebhookVerdict =
  | { ok: true; deliveryId: string; timestampMs?: number }
  | { ok: false; reason: RefusalReason; message: string };

export function verifyWebhook(verifier: WebhookVerifier, request: WebhookRequest, nowMs: number): WebhookVerdict {
  const limit = verifier.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (request.body.length > limit) return refuse('body-too-large', `the body has ${request.body.length} bytes; at most ${limit} are accepted`);
  if (verifier.secret.length === 0) return refuse('no-secret', 'the trigger has no secret configured');
  switch (verifier.preset) {
    case 'github':
      return verifyGithub(verifier, request);
    case 'stripe':
      return verifyStripe(verifier, request, nowMs);
    case 'slack':
      return verifySlack(verifier, request, nowMs);
    case 'hmac-sha256':
      return verifyGeneric(verifier, request, nowMs);
  }
}

function verifyGithub(v: WebhookVerifier, req: WebhookRequest): WebhookVerdict {
  const header = req.headers['x-hub-signature-256'];
  if (!header) return refuse('missing-signature', 'no X-Hub-Signature-256 header');
  const given = header.startsWith('sha256=') ? header.slice('sha256='.length) : undefined;
  if (given === undefined) return refuse('bad-signature', 'X-Hub-Signature-256 is not sha256=<hex>');
  if (!matches(hmac(v.secret, [req.body]), decode(given, 'hex'))) return refuse('bad-signature', 'the signature does not match the body');
  return { ok: true, deliveryId: req.headers['x-github-delivery'] || bodyDigest(req.body) };
}

function verifyStripe(v: WebhookVerifier, req: WebhookRequest, nowMs: number): WebhookVerdict {
  const header = req.headers['stripe-signature'];
  if (!header) return refuse('missing-signature', 'no Stripe-Signature header');
  const pairs = header.split(',').map((part) => part.trim().split('='));
  const t = pairs.find(([k]) => k === 't')?.[1];
  const signatures = pairs.filter(([k, value]) => k === 'v1' && value !== undefined).map(([, value]) => value);
  if (t === undefined || !/^\d{1,12}$/.test(t)) return refuse('missing-timestamp', 'Stripe-Signature has no t=<unix seconds>');
  if (signatures.length === 0) return refuse('missing-signature', 'Stripe-Signature has no v1 signature');
  const expected = hmac(v.secret, [Buffer.from(`${t}.`), req.body]);
  if (!signatures.some((s) => matches(expected, decode(s, 'hex')))) return refuse('bad-signature', 'no v1 signature matches the body');
  const stale = checkTimestamp(Number(t) * 1000, v, nowMs);
  if (stale) return stale;
  return { ok: true, deliveryId: jsonField(req.body, 'id') ?? bodyDigest(req.body), timestampMs: Number(t) * 1000 };
}

function verifySlack(v: WebhookVerifier, req: WebhookRequest, nowMs: number): WebhookVerdict {
  const header = req.headers['x-slack-signature'];
  const ts = req.headers['x-slack-request-timestamp'];
  if (!header) return refuse('missing-signature', 'no X-Slack-Signature header');
  if (!ts || !/^\d{1,12}$/.test(ts)) return refuse('missing-timestamp', 'no X-Slack-Request-Timestamp header (unix seconds)');
  if (!header.startsWith('v0=')) return refuse('bad-signature', 'X-Slack-Signature is not v0=<hex>');
  const expected = hmac(v.secret, [Buffer.from(`v0:${ts}:`), req.body]);
  if (!matches(expected, decode(header.slice(3), 'hex'))) return refuse('bad-signature', 'the signature does not match the body');
  const stale = checkTimestamp(Number(ts) * 1000, v, nowMs);
  if (stale) return stale;
  return { ok: true, deliveryId: jsonField(req.body, 'event_id') ?? bodyDigest(req.body), timestampMs: Number(ts) * 1000 };
}

/**
 * Generic HMAC-SHA256. Without a timestamp header the body alone is signed; with one, the signed
 * content is `<id>.<timestamp>.<body>` (Standard Webhooks) or `<timestamp>.<body>` when the
 * delivery has no id. The header may carry several signatures separated by spaces, each
 * optionally prefixed `v1,` or `sha256=`; any match accepts. A secret written `whsec_<base64>`
 * is the base64-decoded key (Standard Webhooks).
 */
function verifyGeneric(v: WebhookVerifier, req: WebhookRequest, nowMs: number): WebhookVerdict {
  const headerName = (v.header ?? 'webhook-signature').toLowerCase();
  const header = req.headers[headerName];
  if (!header) return refuse('missing-signature', `no ${headerName} header`);
  const id = req.headers[(v.idHeader ?? 'webhook-id').toLowerCase()];
  let prefix: Buffer[] = [];
  let timestampMs: number | undefined;
  if (v.timestampHeader !== undefined) {
    const ts = req.headers[v.timestampHeader.toLowerCase()];
    if (!ts || !/^\d{1,12}$/.test(ts)) return refuse('missing-timestamp', `no ${v.timestampHeader} header (unix seconds)`);
    timestampMs = Number(ts) * 1000;
    prefix = [Buffer.from(id ? `${id}.${ts}.` : `${ts}.`)];
  }
  const key = v.secret.startsWith('whsec_') ? Buffer.from(v.secret.slice('whsec_'.length), 'base64') : Buffer.from(v.secret);
  const expected = hmac(key, [...prefix, req.body]);
  const encoding = v.encoding ?? 'base64';
  const given = header
    .split(' ')
    .filter((s) => s.length > 0)
    .map((s) => s.replace(/^(v1,|sha256=)/, ''));
  if (!given.some((s) => matches(expected, decode(s, encoding)))) return refuse('bad-signature', 'the signature does not match the body');
  if (timestampMs !== undefined) {
    const stale = checkTimestamp(timestampMs, v, nowMs);
    if (stale) return stale;
  }
  return { ok: true, deliveryId: id || bodyDigest(req.body), ...(timestampMs === undefined ? {} : { timestampMs }) };
}

function checkTimestamp(timestampMs: number, v: WebhookVerifier, nowMs: number): WebhookVerdict | undefined {
  const tolerance = v.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const age = nowMs - timestampMs;
  if (Math.abs(age) <= tolerance) return undefined;
  return refuse('stale-timestamp', age > 0 ? `the delivery is ${Math.round(age / 1000)}s old; the tolerance is ${Math.round(tolerance / 1000)}s` : `the delivery is ${Math.round(-age / 1000)}s in the future`);
}

function hmac(key: string | Buffer, parts: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const part of parts) h.update(part);
  return h.digest();
}

function decode(text: string, encoding: 'hex' | 'base64'): Buffer {
  if (encoding === 'hex') return /^[0-9a-fA-F]*$/.test(text) && text.length % 2 === 0 ? Buffer.from(text, 'hex') : Buffer.alloc(0);
  return Buffer.from(text, 'base64');
}

/** Constant-time for equal lengths; a length mismatch (public: every SHA-256 is 32 bytes) fails at once. */
function matches(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function jsonField(body: Buffer, field: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const value = (parsed as Record<string, unknown>)[field];
      if (typeof value === 'string' && value.length > 0 && value.length <= 200) return value;
    }
  } catch {
    // not JSON: the body digest identifies the delivery
  }
  return undefined;
}

/** A delivery without an id of its own is identified by its body. */
export function bodyDigest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

function refuse(reason: RefusalReason, message: string): WebhookVerdict {
  return { ok: false, reason, message };
}

/** Signs like the sender would: for tests, `weft triggers test` and documentation examples. */
export function signWebhook(preset: WebhookPreset, secret: string, body: Buffer, options: { timestampSec?: number; id?: string; encoding?: 'hex' | 'base64' } = {}): Record<string, string> {
  const ts = String(options.timestampSec ?? 0);
  switch (preset) {
    case 'github':
      return { 'x-hub-signature-256': `sha256=${hmac(secret, [body]).toString('hex')}`, ...(options.id ? { 'x-github-delivery': options.id } : {}) };
    case 'stripe':
      return { 'stripe-signature': `t=${ts},v1=${hmac(secret, [Buffer.from(`${ts}.`), body]).toString('hex')}` };
    case 'slack':
      return { 'x-slack-signature': `v0=${hmac(secret, [Buffer.from(`v0:${ts}:`), body]).toString('hex')}`, 'x-slack-request-timestamp': ts };
    case 'hmac-sha256': {
      const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret);
      const prefix = options.timestampSec === undefined ? [] : [Buffer.from(options.id ? `${options.id}.${ts}.` : `${ts}.`)];
      const signature = hmac(key, [...prefix, body]).toString(options.encoding ?? 'base64');
      return {
        'webhook-signature': options.encoding === 'hex' ? signature : `v1,${signature}`,
        ...(options.id ? { 'webhook-id': options.id } : {}),
        ...(options.timestampSec === undefined ? {} : { 'webhook-timestamp': ts }),
      };
    }
  }
}
