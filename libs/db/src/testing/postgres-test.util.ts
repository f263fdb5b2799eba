import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Helpers for integration tests against a real PostgreSQL: each test gets its own
 * schema and drops it afterwards. TEST_DATABASE_URL overrides the CI server.
 */
export const POSTGRES_TEST_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Synchronous TCP probe, so a spec can choose describe or describe.skip before jest collects tests. */
export function postgresReachable(url: string = POSTGRES_TEST_URL): boolean {
  const { hostname, port } = new URL(url);
  const probe = spawnSync(
    process.execPath,
    ['-e', `require('net').connect(${Number(port) || 5432}, ${JSON.stringify(hostname)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1))`],
    { timeout: 3_000 },
  );
  return probe.status === 0;
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
