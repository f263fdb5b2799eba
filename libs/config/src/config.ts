import { z } from 'zod';
import { WeftError } from '@weft/contracts';
import { parseDuration } from '@weft/core';
import { blobCredentialsOf, parseBlobUrl } from './blob-config';

/**
 * Every environment variable Weft reads, validated at boot. A bad value stops the
 * process with a message that names the variable; nothing else reads process.env.
 * docs/operations.md lists each one (config.docs.spec.ts keeps that table and this schema in step).
 */
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** A PostgreSQL URL with a host: `new URL` must read it, so the driver will too. */
const postgresUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'expected postgres://user@host:port/db');

/** `30d`, `12h`, `90m`, `1h30m` as milliseconds; `0` is 0 (off). */
const duration = (examples: string) =>
  z
    .string()
    .trim()
    .transform((text, ctx) => {
      if (text === '0') return 0;
      try {
        return parseDuration(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected a duration such as ${examples}, or 0` });
        return z.NEVER;
      }
    });
const interval = (examples: string) => duration(examples).refine((ms) => ms >= 1_000, 'must be at least 1s');

/** `900kb`, `1mb`, `4096` (bytes) as bytes, from 1kb to `maxMb` mb; `examples` for the message. */
const byteSizeUpTo = (maxMb: number, examples: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+(b|kb|mb)?$/i, `expected a size such as ${examples} or a number of bytes`)
    .transform((text) => {
      const [, digits = '0', unit = ''] = /^(\d+)([a-z]*)$/i.exec(text) ?? [];
      return Number(digits) * ({ '': 1, b: 1, kb: 1024, mb: 1024 * 1024 } as Record<string, number>)[unit.toLowerCase()];
    })
    .refine((bytes) => bytes >= 1024 && bytes <= maxMb * 1024 * 1024, `must be from 1kb to ${maxMb}mb`);
/** Up to 64mb (NATS's largest max_payload). */
const byteSize = byteSizeUpTo(64, '512kb, 1mb');

export const EnvSchema = z.object({
  /** NATS servers, comma-separated. Absent: the in-memory bus (embedded mode). */
  NATS_URL: z.string().regex(/^(nats|tls|ws|wss):\/\/[^,\s]+(,(nats|tls|ws|wss):\/\/[^,\s]+)*$/, 'expected nats://host:port[,nats://...]').optional(),
  /** Prefix of stream names and wire subjects; isolates deployments sharing one NATS. @default none */
  WEFT_NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  /**
   * Replicas of Weft's JetStream streams, 1 to 5; more than 1 needs a JetStream cluster of at least
   * that many servers. Set: streams are created with it and scaled to it at every boot. Unset: new
   * streams get 1 and existing ones keep their count. Give every process the same value. @default unset (new streams: 1)
   */
  WEFT_NATS_REPLICAS: integer(1, 5).optional(),
  /** Lifetime of one JetStream pull request; a dead pull is noticed after half of it (ms). @default 30000 */
  WEFT_NATS_PULL_EXPIRES_MS: integer(1_000, 300_000).optional(),
  /** PostgreSQL connection string. Absent: PGlite in WEFT_DATA_DIR. */
  DATABASE_URL: postgresUrl.optional(),
  /** PostgreSQL schema for Weft's tables (spliced into SQL, hence the narrow pattern). @default public */
  WEFT_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a lower-case identifier such as weft').max(63).optional(),
  /** PGlite data directory for embedded mode; `memory://` keeps it in memory. @default .weft/data */
  WEFT_DATA_DIR: z
    .string()
    .min(1)
    .refine((dir) => dir.trim() === dir, 'expected a directory path or memory:// without surrounding spaces')
    .default('.weft/data'),
  /** HTTP port (health, metrics, API). @default 8080 */
  PORT: integer(0, 65535).default(8080),
  /** HTTP address to bind. `weft dev` on a loopback address serves the API without keys. @default 127.0.0.1 */
  HOST: z.string().default('127.0.0.1'),
  /** Executor: task queues served, comma-separated. @default default */
  WEFT_QUEUES: z.string().regex(/^[a-z0-9*][a-z0-9_*-]*(,[a-z0-9*][a-z0-9_*-]*)*$/).default('default'),
  /** Executor: steps run at once per process. @default 16 */
  WEFT_CONCURRENCY: integer(1, 10_000).default(16),
  /**
   * Executor: dispatches held per queue beyond WEFT_CONCURRENCY, waiting for a slot; freed slots go
   * to the waiting dispatches' runs in turn (fair share across runs). 0 pulls only for free slots.
   * @default unset: WEFT_CONCURRENCY (the worker's default)
   */
  WEFT_PREFETCH: integer(0, 10_000).optional(),
  /** Executor: JS modules with action handlers, comma-separated. */
  WEFT_ACTIONS: z.string().optional(),
  /**
   * Executor: destinations http.request may reach although they are loopback, link-local, private or
   * reserved, comma-separated host names (`api.internal`, `*.svc.cluster.local`) and CIDRs
   * (`10.0.0.0/8`, `127.0.0.1/32`, `fd00::/8`). The deployment's own NATS, PostgreSQL and API
   * endpoints stay refused whatever it says (docs/security.md). @default none: public addresses only
   */
  WEFT_HTTP_ALLOW: z
    .string()
    .max(4_096)
    .regex(/^\s*[\w.*:/[\]-]+(\s*,\s*[\w.*:/[\]-]+)*\s*$/, 'expected hosts or CIDRs, comma-separated, e.g. api.internal,10.0.0.0/8')
    .optional(),
  /** Executor: how long SIGTERM waits for in-flight steps before handing them back (ms). @default 25000 */
  WEFT_SHUTDOWN_GRACE_MS: integer(0, 3_600_000).default(25_000),
  /** Executor: interval of progress heartbeats of a running step (ms). @default 10000 */
  WEFT_HEARTBEAT_MS: integer(50, 3_600_000).optional(),
  /** Scheduler: longest pause between timer and lease scans (ms). @default 250 */
  WEFT_POLL_INTERVAL_MS: integer(10, 60_000).default(250),
  /**
   * Scheduler: how long a dispatched or running attempt may stay silent before it is presumed
   * lost and dispatched again (ms). Keep it well above WEFT_HEARTBEAT_MS. @default 60000 (the engine's LEASE_MS)
   */
  WEFT_LEASE_MS: integer(100, 86_400_000).optional(),
  /** Scheduler: how long the outbox relay owns the rows it took before another relay may send them (ms). @default 15000 */
  WEFT_OUTBOX_CLAIM_MS: integer(100, 3_600_000).optional(),
  /**
   * TEST ONLY: the scheduler's outbox relay exits the process (code 86) right after claiming
   * committed rows and before publishing them, to prove the outbox survives that crash.
   */
  WEFT_TEST_CRASH_AFTER_COMMIT: flag.default(false),
  /** Scheduler API: a directory of workflow files offered at /v1/catalog/templates. @default the SDK's templates */
  WEFT_TEMPLATES_DIR: z.string().min(1).optional(),
  /** API: largest JSON request body; bigger ones get 413. @default 1mb */
  WEFT_API_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 512kb or 1mb').default('1mb'),
  /**
   * Scheduler, executor, `weft dev`, `weft run`: largest JSON payload one message carries (a step's
   * dispatched input, a result's output, a run's outputs), in bytes after parsing (`900kb`, `1mb`).
   * Over it a step fails with PAYLOAD_TOO_LARGE. Keep it below the NATS server's max_payload (1mb by
   * default) with room for headers; give every process the same value. @default 900kb
   */
  WEFT_MAX_PAYLOAD: byteSize.prefault('900kb'),
  /**
   * Scheduler, executor, `weft dev`: a step output, run input, run output or dispatch field whose JSON is
   * larger than this is stored once as a blob (the `blobs` table) and carried by reference
   * (docs/persistence.md, "Large payloads").
   * Must be below WEFT_MAX_PAYLOAD. @default 256kb
   */
  WEFT_INLINE_PAYLOAD_MAX: byteSize.prefault('256kb'),
  /** Scheduler, executor, `weft dev`: largest step output, run input or output, or dispatch field stored by reference, in bytes of JSON (`100mb`; 1kb to 512mb). @default 100mb */
  WEFT_MAX_OUTPUT: byteSizeUpTo(512, '20mb').prefault('100mb'),
  /**
   * Scheduler, executor, `weft worker`, `weft dev`: an S3-compatible bucket for large payloads' bytes,
   * `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1&forcePathStyle=true` (the `blobs`
   * table keeps each blob's id, namespace, size and age). Give every process the same value. Needs
   * WEFT_BLOB_ACCESS_KEY_ID and WEFT_BLOB_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
   * @default unset (bytes in the database)
   */
  WEFT_BLOB_URL: z
    .string()
    .trim()
    .optional()
    .superRefine((url, ctx) => {
      const parsed = url === undefined ? undefined : parseBlobUrl(url);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    }),
  /** The access key id for WEFT_BLOB_URL; unset: AWS_ACCESS_KEY_ID. */
  WEFT_BLOB_ACCESS_KEY_ID: z.string().optional(),
  /** The secret access key for WEFT_BLOB_URL; unset: AWS_SECRET_ACCESS_KEY. */
  WEFT_BLOB_SECRET_ACCESS_KEY: z.string().optional(),
  /** Read only as WEFT_BLOB_URL's access key id when WEFT_BLOB_ACCESS_KEY_ID is unset. */
  AWS_ACCESS_KEY_ID: z.string().optional(),
  /** Read only as WEFT_BLOB_URL's secret when WEFT_BLOB_SECRET_ACCESS_KEY is unset. */
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  /**
   * Scheduler API, `weft dev`: most steps one workflow may have (ad-hoc runs, drafts, versions, POST /v1/validate).
   * More is a TOO_MANY_STEPS diagnostic, found before the spec is converted and validated. @default 100000
   */
  WEFT_MAX_STEPS: integer(1, 1_000_000).default(100_000),
  /**
   * Scheduler, `weft dev`: most items one forEach step may fan out to; a longer list fails the step
   * with FOREACH_TOO_MANY_ITEMS (docs/flow-control.md). @default 10000
   */
  WEFT_MAX_FOREACH_ITEMS: integer(1, 100_000).default(10_000),
  /**
   * Scheduler, `weft dev`, `weft run`: deepest nesting of child runs (`action: workflow`); a step that
   * would start a child deeper fails with RUN_DEPTH_EXCEEDED (docs/flow-control.md). @default 10
   */
  WEFT_MAX_RUN_DEPTH: integer(1, 100).default(10),
  /**
   * Scheduler, `weft dev`: the dispatch window of a run whose workflow sets no maxStepsInFlight while
   * other runs are active beside it (64 alone; 64 or more turns sharing off; docs/flow-control.md). @default 16
   */
  WEFT_SHARED_WINDOW: integer(1, 10_000).default(16),
  /** Run migrations at boot (the Kubernetes migration Job sets false on services). @default true */
  WEFT_MIGRATE: flag.default(true),
  /** Journal: how long entries and checkpoints are kept, in ms after parsing (`0` keeps them forever). @default 30d */
  WEFT_JOURNAL_RETENTION: duration('30d, 12h or 90m').prefault('30d'),
  /** Journal: pause between retention passes, in ms after parsing; at least 1s. @default 10m */
  WEFT_JOURNAL_PRUNE_INTERVAL: interval('30d, 12h or 90m').prefault('10m'),
  /** Analytics: how long hourly aggregates are kept, in ms after parsing (`0` keeps them forever). @default 90d */
  WEFT_ANALYTICS_RETENTION: duration('90d or 12h').prefault('90d'),
  /** Analytics: pause between retention passes, in ms after parsing; at least 1s. @default 10m */
  WEFT_ANALYTICS_PRUNE_INTERVAL: interval('90d or 12h').prefault('10m'),
  /** Scheduler, `weft dev`: how long signals are kept for wait.event lookbacks, in ms after parsing (`0` keeps them forever). @default 7d */
  WEFT_SIGNAL_RETENTION: duration('7d or 12h').prefault('7d'),
  /**
   * Scheduler, `weft dev`: how long an outbox row is kept once published (the message is in NATS by
   * then; the row stays for operators to read), in ms after parsing (`0` keeps them forever). @default 1h
   */
  WEFT_OUTBOX_RETENTION: duration('1h, 30m or 7d').prefault('1h'),
  /** Scheduler, `weft dev`: pause between outbox retention passes, in ms after parsing; at least 1s. @default 1m */
  WEFT_OUTBOX_PRUNE_INTERVAL: interval('1m or 10m').prefault('1m'),
  /** Triggers, `weft dev`: how long the fire log keeps a row, in ms after parsing (`0` keeps them forever). @default 30d */
  WEFT_TRIGGER_FIRE_RETENTION: duration('30d or 12h').prefault('30d'),
  /** Triggers, `weft dev`: pause between fire log retention passes, in ms after parsing; at least 1s. @default 10m */
  WEFT_TRIGGER_PRUNE_INTERVAL: interval('10m or 1h').prefault('10m'),
  /**
   * Scheduler, `weft dev`: a blob (large payload stored by reference) that no run names is removed once
   * older than this, in ms after parsing (`0` never removes blobs). Keep it above the longest a dispatch or result may wait in NATS. @default 24h
   */
  WEFT_BLOB_SWEEP_GRACE: duration('24h or 90m').prefault('24h'),
  /** Scheduler API, `weft dev`: a running run with steps dispatched and no progress this long is `blocked` in the exception queue, in ms after parsing. @default 15m */
  WEFT_STUCK_AFTER: duration('15m or 1h').prefault('15m'),
  /** CLI: the deployment API the verbs talk to (`--api`). @default http://127.0.0.1:8080 */
  WEFT_API_URL: z.string().regex(/^https?:\/\/\S+$/, 'expected http(s)://host:port').optional(),
  /**
   * Scheduler API, `weft dev`: the operator's admin credential. Sent as `Authorization: Bearer`,
   * it may mint keys for any namespace (POST /v1/keys); without it only `weft keys create` on the
   * database can. At least 32 characters; keep it like a database password. @default none
   */
  WEFT_ADMIN_KEY: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)').max(512).optional(),
  /** CLI: API key sent as `Authorization: Bearer` (`--api-key`). */
  WEFT_API_KEY: z.string().min(1).optional(),
  /** Log lines at this level and above. @default info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // OpenTelemetry: Weft reads these to decide whether tracing starts; the SDK reads the rest of OTEL_* itself.
  /** `true` turns tracing off whatever else is set. */
  OTEL_SDK_DISABLED: z.string().optional(),
  /** `otlp` (default when an endpoint is set), `console`, `zipkin` or `none`. */
  OTEL_TRACES_EXPORTER: z.string().optional(),
  /** Where spans go (an OTLP collector); set, tracing starts. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  /** As OTEL_EXPORTER_OTLP_ENDPOINT, for traces only. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  /** `service.name` of the spans. @default weft-<service> */
  OTEL_SERVICE_NAME: z.string().optional(),
});

export type WeftConfig = z.infer<typeof EnvSchema>;
export type WeftVariable = keyof typeof EnvSchema.shape;

export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends WeftError<'CONFIG_INVALID'> {
  constructor(readonly problems: ConfigProblem[]) {
    super('CONFIG_INVALID', `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
  }
}

/** `value` with a URL's password (and a user before `:`) masked, so a refused URL is not a secret in a log line. */
function withoutPassword(value: string | undefined): string | undefined {
  return value?.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*:[^/@\s]*@/i, '$1***:***@');
}

/** Parses the environment; throws ConfigError naming every bad variable. Blank values count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WeftConfig {
  const relevant = Object.fromEntries(Object.keys(EnvSchema.shape).flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])));
  const result = EnvSchema.safeParse(relevant);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '(env)');
        return { variable, message: `${issue.message} (got ${JSON.stringify(withoutPassword(relevant[variable]))})` };
      }),
    );
  }
  if (result.data.WEFT_BLOB_URL !== undefined && blobCredentialsOf(result.data) === undefined) {
    throw new ConfigError([{ variable: 'WEFT_BLOB_URL', message: 'an S3 blob store needs WEFT_BLOB_ACCESS_KEY_ID and WEFT_BLOB_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)' }]);
  }
  return result.data;
}

/** Throws ConfigError naming `variable` unless the config has it (a process that cannot run without it). */
export function requireVariable<K extends WeftVariable>(config: WeftConfig, variable: K, why: string): NonNullable<WeftConfig[K]> {
  const value = config[variable];
  if (value === undefined || value === null) throw new ConfigError([{ variable, message: why }]);
  return value as NonNullable<WeftConfig[K]>;
}

export const queuesOf = (config: WeftConfig): string[] => config.WEFT_QUEUES.split(',');
export const listOf = (value: string | undefined): string[] => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : []);
