import { POSTGRES_TEST_URL, describeWhenReachable, serverReachable } from '@weft/db/testing';
import { natsServerBinary } from './private-nats.util';

export const SHARED_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const POSTGRES_URL = POSTGRES_TEST_URL;

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
  describeWhenReachable(
    title,
    [
      ...(needs.nats ? [{ what: `NATS at ${SHARED_NATS_URL}`, up: serverReachable(SHARED_NATS_URL, 4222) }] : []),
      ...(needs.postgres ? [{ what: `PostgreSQL at ${POSTGRES_URL}`, up: serverReachable(POSTGRES_URL, 5432) }] : []),
      ...(needs.natsServer ? [{ what: 'the nats-server binary (NATS_SERVER_BIN, PATH or /usr/sbin/nats-server)', up: natsServerBinary() !== undefined }] : []),
    ],
    body,
  );
}
