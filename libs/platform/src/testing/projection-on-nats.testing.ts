import { type ConsumerInfo, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JetStreamBus } from '@weft/bus';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName, serverReachable } from '@weft/db/testing';
import type { DataSource } from 'typeorm';
import { type OpenSqlStore, withHarnessParts } from './sql-store.testing';

const SERVERS = process.env.NATS_URL ?? '127.0.0.1:4222';

/** What a projection's end-to-end spec works with; set up in beforeAll, torn down (streams, schema) in afterAll. */
export interface ProjectionOnNats<S> {
  /** Stream names start with it; runs may use it to be unique. */
  readonly prefix: string;
  readonly bus: JetStreamBus;
  readonly store: S;
  readonly dataSource: DataSource;
  /** Boots `module` as an application context (closed in afterAll). */
  start(module: DynamicModule): Promise<INestApplicationContext>;
  /** The durable consumer's state on the lifecycle-event stream (pending and unacknowledged counts). */
  eventConsumer(durable: string): Promise<ConsumerInfo>;
}

/**
 * `describe` for a projection (journal, analytics ...) on NATS and PostgreSQL: a bus with its
 * own stream prefix and fast redelivery, a store on a fresh schema. Skipped loudly when a server
 * is down (never under CI).
 */
export function describeProjectionOnNats<S extends { close(): Promise<void> }>(name: string, open: OpenSqlStore<S>, body: (harness: ProjectionOnNats<S>) => void): void {
  const needs = [
    { what: `NATS at ${SERVERS}`, up: serverReachable(SERVERS, 4222) },
    { what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() },
  ];
  describeWhenReachable(`${name} on NATS ${SERVERS} and PostgreSQL`, needs, () => {
    const prefix = `${name.slice(0, 3)}${process.pid.toString(36)}${Date.now().toString(36)}`;
    const schema = randomSchemaName(name);
    let admin: NatsConnection | undefined;
    let jsm: JetStreamManager | undefined;
    let bus: JetStreamBus | undefined;
    let opened: { store: S; dataSource: DataSource } | undefined;
    const apps: INestApplicationContext[] = [];
    const ready = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error(`${name}: NATS and PostgreSQL are not set up (read outside a test?)`);
      return value;
    };

    beforeAll(async () => {
      admin = await connect({ servers: SERVERS, name: `weft-${name}-test-admin` });
      jsm = await jetstreamManager(admin);
      bus = await JetStreamBus.connect({ servers: SERVERS, name: `weft-${name}-test`, prefix, pullExpiresMs: 2_000, errorNakDelayMs: 20, onError: () => undefined });
      opened = await open({ kind: 'postgres', url: POSTGRES_TEST_URL, schema }, {});
    }, 30_000);

    afterAll(async () => {
      for (const app of apps.splice(0)) await app.close();
      await bus?.close();
      for (const stream of bus?.streamNames() ?? []) await jsm?.streams.delete(stream).catch(() => false);
      await admin?.close();
      await opened?.store.close();
      await opened?.dataSource.destroy();
      await dropSchema(schema);
    });

    body(
      withHarnessParts<JetStreamBus, S, Omit<ProjectionOnNats<S>, 'bus' | 'store' | 'dataSource'>>(name, () => ({ bus, opened }), {
        prefix,
        start: async (module) => {
          @Module({ imports: [module] })
          class AppModule {}
          const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
          apps.push(app);
          await app.init();
          return app;
        },
        eventConsumer: (durable) => {
          const stream = ready(bus).streamNames().find((s) => s.endsWith('WEFT_EVENTS')) ?? '';
          return ready(jsm).consumers.info(stream, durable);
        },
      }),
    );
  });
}
