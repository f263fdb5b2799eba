import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Helpers for integration tests against a real PostgreSQL: each test gets its own
 * schema and drops it afterwards. TEST_DATABASE_URL overrides the CI server.
 */
export const POSTGRES_TEST_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Synchronous TCP probe, so a spec can choose describe or describe.skip before jest collects tests. */
export function tcpReachable(host: string, port: number): boolean {
  const probe = spawnSync(
    process.execPath,
    ['-e', `require('net').connect(${port}, ${JSON.stringify(host)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1))`],
    { timeout: 3_000 },
  );
  return probe.status === 0;
}

/** Whether a server answers at `scheme://host:port` or `host:port` (e.g. a NATS URL). */
export function serverReachable(url: string, defaultPort: number): boolean {
  const { hostname, port } = new URL(url.includes('://') ? url : `tcp://${url}`);
  return tcpReachable(hostname, Number(port) || defaultPort);
}

export const postgresReachable = (url: string = POSTGRES_TEST_URL): boolean => serverReachable(url, 5432);

/**
 * `describe` for specs that need real servers. Locally, a server that is down skips the
 * suite with a loud warning; under CI=true the suite always runs (and fails).
 */
export function describeWhenReachable(title: string, needs: { what: string; up: boolean }[], body: () => void): void {
  const down = needs.filter((n) => !n.up).map((n) => n.what);
  if (down.length > 0 && process.env.CI !== 'true') {
    console.warn(`\n!!! ${down.join(' and ')} not reachable: SKIPPING "${title}" (under CI=true it runs, and fails) !!!\n`);
    describe.skip(title, body);
    return;
  }
  describe(title, body);
}

/** A fresh schema name, unique per call (safe to splice into SQL). */
export const randomSchemaName = (prefix = 't'): string => `${prefix}_${randomBytes(6).toString('hex')}`;

/** Runs one statement on its own short-lived connection (schema setup and teardown). */
export async function postgresAdminQuery(sql: string, url: string = POSTGRES_TEST_URL): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export const dropSchema = (schema: string, url: string = POSTGRES_TEST_URL): Promise<void> =>
  postgresAdminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`, url);
