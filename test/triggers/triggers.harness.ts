import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { POSTGRES_TEST_URL } from '@weft/db/testing';
import { Authenticator, bootService, type ServiceHandle, ShutdownModule, SqlApiKeyRepository } from '@weft/platform';
import { openTriggerStore, type SqlTriggerStore, TriggerHooksModule, TriggersModule, type TriggersParts, triggersParts } from '@weft/triggers';
import type { DataSource } from 'typeorm';
import { type ApiApp, NATS_TEST_URL } from '../support/api-app.harness';

export interface TriggersProcess {
  url: string;
  parts: TriggersParts;
  store: SqlTriggerStore;
  dataSource: DataSource;
  /** Graceful stop: consumers drain, the lease is released. */
  stop(): Promise<void>;
  /** As a crash: the lease is left to expire. */
  kill(): Promise<void>;
}

let counter = 0;

/** One triggers-service instance on the API app's NATS prefix and schema (its own connections, its own lease holder). */
export async function startTriggers(api: ApiApp, options: { env?: NodeJS.ProcessEnv; now?: () => number } = {}): Promise<TriggersProcess> {
  const id = ++counter;
  const bus = await JetStreamBus.connect({ servers: NATS_TEST_URL, name: `weft-triggers-test-${id}`, prefix: api.prefix, pullExpiresMs: 2_000, onError: () => undefined });
  const { store, dataSource } = await openTriggerStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema: api.schema });
  const moduleOptions = {
    bus,
    store,
    auth: new Authenticator(new SqlApiKeyRepository(dataSource), { anonymous: false }),
    subjects: { servers: [NATS_TEST_URL], prefix: api.prefix, stream: `${api.prefix.toUpperCase()}_TRIGGER_SUBJECTS`, refreshEveryMs: 200 },
    leader: { ttlMs: 1_500, tickEveryMs: 100, syncEveryMs: 200, holder: `test-${id}` },
    ...(options.env && { env: options.env }),
    ...(options.now && { clock: { now: options.now } }),
  };
  const parts = triggersParts(moduleOptions);
  const module = TriggersModule.forRoot(moduleOptions, parts);
  @Module({ imports: [module, TriggerHooksModule.forRoot(parts), ShutdownModule.closing(() => bus.close(), () => dataSource.destroy())] })
  class TriggersTestModule {}
  const service: ServiceHandle = await bootService(TriggersTestModule, { port: 0, host: '127.0.0.1', name: 'triggers', handleSignals: false, rawBody: true, bodyLimit: '10mb' });
  return {
    url: service.url,
    parts,
    store,
    dataSource,
    stop: () => service.close(),
    kill: async () => {
      await parts.leader.abandon();
      await service.close();
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Creates, freezes and publishes a workflow from YAML through the API. */
export async function publish(api: ApiApp, key: string, yaml: string): Promise<void> {
  const name = /^name:\s*(\S+)/m.exec(yaml)?.[1];
  if (!name) throw new Error('the YAML names no workflow');
  const saved = await api.request('POST', '/v1/workflows', { key, json: { source: yaml } });
  if (saved.status >= 300) throw new Error(`saving ${name}: ${saved.status} ${await saved.text()}`);
  const frozen = await api.request('POST', `/v1/workflows/${name}/versions`, { key });
  if (frozen.status >= 300) throw new Error(`freezing ${name}: ${frozen.status} ${await frozen.text()}`);
  const version = ((await frozen.json()) as { version: number }).version;
  const published = await api.request('POST', `/v1/workflows/${name}/versions/${version}/publish`, { key });
  if (published.status >= 300) throw new Error(`publishing ${name}: ${published.status} ${await published.text()}`);
}
