import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import type { ApiApp } from '../support/api-app.harness';

/**
 * The hostile-input suite's parts (issue 12), shared by the CI spec (fixed seed, few runs)
 * and `npm run fuzz` (the same properties, many runs): requests an attacker would send, and
 * what every answer to them must be — a 4xx problem document, nothing written, the server
 * still serving, in bounded time.
 */

/** Tables whose row counts a refused request must leave unchanged. */
export const COUNTED_TABLES = ['runs', 'step_runs', 'workflows', 'workflow_versions', 'api_keys', 'namespaces', 'outbox', 'timers'] as const;
export type RowCounts = Record<(typeof COUNTED_TABLES)[number], number>;

/** Every answer must come within this (a 1 MB body, a 10,000-deep JSON included). */
export const ANSWER_WITHIN_MS = 10_000;

export async function rowCounts(app: ApiApp): Promise<RowCounts> {
  const rows = await app.query<{ name: string; n: string }>(COUNTED_TABLES.map((t) => `SELECT '${t}' AS name, count(*)::text AS n FROM ${t}`).join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)])) as RowCounts;
}

export interface HostileRequest {
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers?: Record<string, string>;
  /** A JSON value (sent as application/json), or raw text/bytes. */
  json?: unknown;
  raw?: string | Uint8Array;
}

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  allow: string | null;
}

/** Sends one request (node:http, so any method, header and byte can go out) and reads the answer, within ANSWER_WITHIN_MS. */
export function send(app: ApiApp, req: HostileRequest): Promise<Answer> {
  const url = new URL(app.url);
  const body = req.json !== undefined ? Buffer.from(JSON.stringify(req.json)) : req.raw === undefined ? undefined : Buffer.from(req.raw);
  return new Promise<Answer>((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: {
          ...(body !== undefined && { 'Content-Type': 'application/json' }),
          // Chunked when the case says so (no declared length), else the exact length.
          ...(body !== undefined && req.headers?.['Transfer-Encoding'] === undefined && { 'Content-Length': String(body.length) }),
          ...req.headers,
        },
        timeout: ANSWER_WITHIN_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
            allow: typeof response.headers.allow === 'string' ? response.headers.allow : null,
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${ANSWER_WITHIN_MS} ms to ${req.method} ${req.path.slice(0, 200)}`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Writes raw bytes on a socket and reads until the server closes or answers fully (for what node:http would not send). */
export function sendRaw(app: ApiApp, bytes: string): Promise<string> {
  const url = new URL(app.url);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length:\s*(\d+)/i.exec(text)?.[1];
      if (head >= 0 && length !== undefined && Buffer.byteLength(text.slice(head + 4)) >= Number(length)) socket.end();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close while we still write (a refused 10 GB body): what it answered counts.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
      clearTimeout(timer);
      reject(error);
    });
    socket.write(bytes);
  });
}

/** What every refusal must be: the status among `statuses`, a problem document with a code. */
export function problemOf(answer: Answer): { status: number; code: unknown; problemJson: boolean } {
  let code: unknown;
  try {
    code = (JSON.parse(answer.body) as { code?: unknown }).code;
  } catch {
    code = undefined;
  }
  return { status: answer.status, code, problemJson: answer.contentType.startsWith('application/problem+json') };
}

// ---- generated requests

const SPEC = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'hostile-ok', steps: [{ id: 'a', action: 'noop' }] };

/** Strings no field accepts: NUL inside, or longer than any field's maximum (unicode included). */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => `${a}\u0000${b}`),
  fc.string({ unit: 'grapheme', minLength: 2_001, maxLength: 3_000 }),
  fc.integer({ min: 2_001, max: 100_000 }).map((n) => 'a'.repeat(n)),
  fc.string({ unit: 'binary', minLength: 2_001, maxLength: 2_500 }),
);

/** Numbers no version, limit or count accepts. */
export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1e20, -1, 0, 1.5, 2 ** 31, 2 ** 53, Number.MAX_VALUE, -0),
  fc.double({ min: 1e10, max: 1e300, noNaN: true }),
  fc.integer({ max: 0 }),
  fc.string({ maxLength: 5 }),
);

/** Durations past every bound, or not durations at all. */
export const hostileDuration: fc.Arbitrary<string> = fc.oneof(
  fc.bigInt({ min: 10n ** 8n, max: 10n ** 30n }).map((n) => `${n}m`),
  fc.bigInt({ min: 10n ** 7n, max: 10n ** 30n }).map((n) => `${n}h`),
  // Neither a duration nor an ISO time (both start with a digit).
  fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/^\d/.test(s)),
);

/** A valid request with one field swapped for a hostile value: every one must be refused and change nothing. */
export const mutatedRequest: fc.Arbitrary<HostileRequest> = fc.oneof(
  hostileString.map((name) => ({ method: 'POST', path: '/v1/workflows', json: { name } })),
  hostileString.map((description) => ({ method: 'POST', path: '/v1/workflows', json: { name: 'hostile-new', description } })),
  hostileString.map((name) => ({ method: 'POST', path: '/v1/runs/adhoc', json: { spec: { ...SPEC, name } } })),
  hostileString.map((id) => ({ method: 'POST', path: '/v1/runs/adhoc', json: { spec: { ...SPEC, steps: [{ id, action: 'noop' }] } } })),
  hostileString.map((correlationId) => ({ method: 'POST', path: '/v1/runs/adhoc', json: { spec: SPEC, correlationId } })),
  hostileNumber.map((version) => ({ method: 'POST', path: '/v1/workflows/diamond/runs', json: { version } })),
  hostileString.map((correlationId) => ({ method: 'POST', path: '/v1/workflows/diamond/runs', json: { correlationId } })),
  hostileDuration.map((wait) => ({ method: 'POST', path: `/v1/workflows/diamond/runs?mode=sync&wait=${encodeURIComponent(wait)}`, json: {} })),
  hostileDuration.map((since) => ({ method: 'GET', path: `/v1/runs?since=${encodeURIComponent(since)}` })),
  hostileString.map((namespace) => ({ method: 'POST', path: '/v1/keys', json: { namespace } })),
  hostileString.map((name) => ({ method: 'POST', path: '/v1/keys', json: { name } })),
  fc.string({ unit: 'grapheme-ascii', minLength: 201, maxLength: 4_000 }).map((key) => ({
    method: 'POST',
    path: '/v1/workflows/diamond/runs',
    headers: { 'Idempotency-Key': key.replace(/[^\x20-\x7e]/g, 'k') },
    json: {},
  })),
  fc.string({ minLength: 1, maxLength: 20 }).map((name) => ({ method: 'GET', path: `/v1/workflows?${encodeURIComponent(`x${name}`)}=1` })),
  hostileString.map((id) => ({ method: 'GET', path: `/v1/runs/${encodeURIComponent(id)}` })),
  hostileString.map((id) => ({ method: 'POST', path: `/v1/runs/${encodeURIComponent(id)}/cancel` })),
  fc.constantFrom('PUT', 'DELETE', 'PATCH').map((method) => ({ method, path: '/v1/runs' })),
);

/** JSON nested past the limit, duplicate keys, random bytes: bodies the parser must refuse before anything reads them. */
export const hostileBody: fc.Arbitrary<HostileRequest> = fc.oneof(
  fc.tuple(fc.integer({ min: 65, max: 20_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
    const close = open === '[' ? ']' : '}';
    return { method: 'POST', path: '/v1/runs/adhoc', raw: `{"spec":${open.repeat(depth)}1${close.repeat(depth)}}` };
  }),
  fc.constantFrom('spec', 'inputs', 'name').map((key) => ({ method: 'POST', path: '/v1/runs/adhoc', raw: `{"${key}":{},"${key}":{}}` })),
  fc.uint8Array({ minLength: 1, maxLength: 2_000 }).map((raw) => ({ method: 'POST', path: '/v1/workflows', raw })),
  fc.string({ unit: 'binary', maxLength: 500 }).map((text) => ({ method: 'POST', path: '/v1/validate', raw: text })),
);

/**
 * What a refused request is: 400, 403, 404, 405, 409, 413, 415, 422 or 431 (a URL past Node's
 * header limit), a problem document with a code — never 2xx (it would have written something)
 * and never 5xx.
 */
export const REFUSALS = [400, 403, 404, 405, 409, 413, 415, 422, 431];

/** fast-check's run count: FUZZ_RUNS, else `ci`. */
function numRuns(ci: number): number {
  const runs = Number(process.env.FUZZ_RUNS ?? '');
  return Number.isInteger(runs) && runs > 0 ? runs : ci;
}

/** Under `npm run fuzz` (FUZZ_RUNS or FUZZ_SECONDS set): a property may run this long (FUZZ_SECONDS, default 10 minutes). */
export const FUZZING = process.env.FUZZ_RUNS !== undefined || process.env.FUZZ_SECONDS !== undefined;
const fuzzSeconds = Number(process.env.FUZZ_SECONDS ?? '');
export const FUZZ_TIME_LIMIT_MS = Number.isFinite(fuzzSeconds) && fuzzSeconds > 0 ? fuzzSeconds * 1000 : 600_000;

/** fast-check parameters of a property: fixed seed and `ciRuns` in CI; FUZZ_* under `npm run fuzz`. */
export function fuzzParameters(ciRuns: number, ciSeed: number): { numRuns: number; seed: number; endOnFailure: true; interruptAfterTimeLimit?: number } {
  return {
    numRuns: FUZZING ? numRuns(1_000_000) : ciRuns,
    seed: seed(ciSeed),
    endOnFailure: true,
    ...(FUZZING && { interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS }),
  };
}

/** A property's jest timeout: two minutes in CI, the fuzz time (plus a minute) under `npm run fuzz`. */
export const PROPERTY_TIMEOUT_MS = FUZZING ? FUZZ_TIME_LIMIT_MS + 60_000 : 120_000;

/** fast-check's seed: FUZZ_SEED (to replay a failure); a fresh one under `npm run fuzz` (FUZZ_RUNS set); else `ci` (CI is deterministic). */
function seed(ci: number): number {
  const value = Number(process.env.FUZZ_SEED ?? '');
  if (process.env.FUZZ_SEED !== undefined && Number.isInteger(value)) return value;
  return FUZZING ? Date.now() % 2 ** 31 : ci;
}
