import { z } from 'zod';
import { parseDuration } from '@weft/core';

/**
 * Every environment variable Weft reads, validated at boot. A bad value stops the
 * process with a message that names the variable; nothing else reads process.env.
 */
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

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
  /** PostgreSQL connection string. Absent: PGlite in WEFT_DATA_DIR. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres://user@host:port/db').optional(),
  /** PostgreSQL schema for Weft's tables. @default public */
  WEFT_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).optional(),
  /** PGlite data directory for embedded mode. @default .weft/data */
  WEFT_DATA_DIR: z.string().min(1).default('.weft/data'),
  /** HTTP port (health, metrics, API). @default 8080 */
  PORT: integer(0, 65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  /** Executor: task queues served, comma-separated. @default default */
  WEFT_QUEUES: z.string().regex(/^[a-z0-9*][a-z0-9_*-]*(,[a-z0-9*][a-z0-9_*-]*)*$/).default('default'),
  /** Executor: steps run at once per process. @default 16 */
  WEFT_CONCURRENCY: integer(1, 10_000).default(16),
  /** Executor: JS modules with action handlers, comma-separated. */
  WEFT_ACTIONS: z.string().optional(),
  /** Executor: how long SIGTERM waits for in-flight steps before handing them back (ms). @default 25000 */
  WEFT_SHUTDOWN_GRACE_MS: integer(0, 3_600_000).default(25_000),
  /** Scheduler: longest pause between timer and lease scans (ms). @default 250 */
  WEFT_POLL_INTERVAL_MS: integer(10, 60_000).default(250),
  /**
   * Scheduler: how long a dispatched or running attempt may stay silent before it is presumed
   * lost and dispatched again (ms). Keep it well above WEFT_HEARTBEAT_MS. @default 60000 (the engine's LEASE_MS)
   */
  WEFT_LEASE_MS: integer(100, 86_400_000).optional(),
  /** Scheduler: how long the outbox relay owns the rows it took before another relay may send them (ms). @default 15000 */
  WEFT_OUTBOX_CLAIM_MS: integer(100, 3_600_000).optional(),
  /** Executor: interval of progress heartbeats of a running step (ms). @default 10000 */
  WEFT_HEARTBEAT_MS: integer(50, 3_600_000).optional(),
  /** Lifetime of one JetStream pull request; a dead pull is noticed after half of it (ms). @default 30000 */
  WEFT_NATS_PULL_EXPIRES_MS: integer(1_000, 300_000).optional(),
  /**
   * TEST ONLY: the scheduler's outbox relay exits the process (code 86) right after claiming
   * committed rows and before publishing them, to prove the outbox survives that crash.
   */
  WEFT_TEST_CRASH_AFTER_COMMIT: flag.default(false),
  /** CLI: the deployment API the verbs talk to (`--api`). @default http://127.0.0.1:8080 */
  WEFT_API_URL: z.string().regex(/^https?:\/\/\S+$/, 'expected http(s)://host:port').optional(),
  /** CLI: API key sent as `Authorization: Bearer` (`--api-key`). */
  WEFT_API_KEY: z.string().min(1).optional(),
  /** API: largest JSON request body; bigger ones get 413. @default 1mb */
  /** Scheduler API: a directory of workflow files offered at /v1/catalog/templates. @default the SDK's templates */
  WEFT_TEMPLATES_DIR: z.string().min(1).optional(),
  WEFT_API_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 512kb or 1mb').default('1mb'),
  /** Run migrations at boot (the Kubernetes migration Job sets false on services). @default true */
  WEFT_MIGRATE: flag.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type WeftConfig = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WeftConfig {
  const relevant = Object.fromEntries(Object.keys(EnvSchema.shape).flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])));
  const result = EnvSchema.safeParse(relevant);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '(env)');
        return { variable, message: `${issue.message} (got ${JSON.stringify(relevant[variable])})` };
      }),
    );
  }
  return result.data;
}

export const queuesOf = (config: WeftConfig): string[] => config.WEFT_QUEUES.split(',');
export const listOf = (value: string | undefined): string[] => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : []);

/**
 * A service's duration variable (`30d`, `12h`, `90m`; `0` means off): `fallback` when unset
 * or blank. Throws ConfigError naming the variable, with `examples` in the message.
 */
export function durationVariable(env: NodeJS.ProcessEnv, variable: string, fallback: string, examples: string): number {
  const raw = env[variable];
  const text = raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  if (text === '0') return 0;
  try {
    return parseDuration(text);
  } catch {
    throw new ConfigError([{ variable, message: `expected a duration such as ${examples}, or 0 (got ${JSON.stringify(raw)})` }]);
  }
}
