import { spawnSync } from 'node:child_process';
import { POSTGRES_TEST_URL } from '@weft/db';
import { natsServerBinary } from './private-nats.util';

export const SHARED_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const POSTGRES_URL = POSTGRES_TEST_URL;

/** Synchronous TCP probe, so a suite can choose describe or describe.skip before jest collects tests. */
function reachable(url: string, defaultPort: number): boolean {
  const { hostname, port } = new URL(url.includes('://') ? url : `tcp://${url}`);
  const probe = spawnSync(
    process.execPath,
    ['-e', `require('net').connect(${Number(port) || defaultPort}, ${JSON.stringify(hostname)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1))`],
    { timeout: 3_000 },
  );
  return probe.status === 0;
}

export interface Needs {
  /** The shared NATS server (NATS_URL or 127.0.0.1:4222). */
  nats?: boolean;
  postgres?: boolean;
  /** A nats-server binary to run a private server. */
  natsServer?: boolean;
}

/**
 * `describe` for suites that need real infrastructure. Locally, a missing dependency
 * skips the suite with a loud warning; under CI=true the suite always runs (and fails).
 */
export function describeDistributed(title: string, needs: Needs, body: () => void): void {
  const missing: string[] = [];
  if (needs.nats && !reachable(SHARED_NATS_URL, 4222)) missing.push(`NATS at ${SHARED_NATS_URL}`);
  if (needs.postgres && !reachable(POSTGRES_URL, 5432)) missing.push(`PostgreSQL at ${POSTGRES_URL}`);
  if (needs.natsServer && !natsServerBinary()) missing.push('the nats-server binary (NATS_SERVER_BIN, PATH or /usr/sbin/nats-server)');
  if (missing.length > 0 && process.env.CI !== 'true') {
    console.warn(`\n!!! ${missing.join(' and ')} unavailable: SKIPPING "${title}" (under CI=true it runs, and fails) !!!\n`);
    describe.skip(title, body);
    return;
  }
  describe(title, body);
}
