import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JetStreamBus } from '@weft/bus';
import { eventSubject } from '@weft/contracts';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName, serverReachable } from '@weft/db/testing';
import type { DataSource } from 'typeorm';
import { AnalyticsModule } from './analytics.module';
import { expectHandCountedFigures } from './domain/analytics.figures';
import { fixedRuns, waitFor } from './domain/analytics.fixtures';
import type { AggregateDelta } from './domain/analytics.types';
import { deltaFor } from './domain/event-delta.util';
import { InsightsQueries } from './domain/insights-queries.usecase';
import type { AnalyticsStore } from './ports/analytics-store.port';
import { openAnalyticsStore, type SqlAnalyticsStore } from './persistence/sql-analytics.store';

const SERVERS = process.env.NATS_URL ?? '127.0.0.1:4222';



describeWhenReachable(`analytics on NATS ${SERVERS} and PostgreSQL`, [
    { what: `NATS at ${SERVERS}`, up: serverReachable(SERVERS, 4222) },
    { what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() },
  ], () => {
  const prefix = `anl${process.pid.toString(36)}${Date.now().toString(36)}`;
  const schema = randomSchemaName('analytics');
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  let bus: JetStreamBus;
  let store: SqlAnalyticsStore;
  let dataSource: DataSource;
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    admin = await connect({ servers: SERVERS, name: 'weft-analytics-test-admin' });
    jsm = await jetstreamManager(admin);
    bus = await JetStreamBus.connect({ servers: SERVERS, name: 'weft-analytics-test', prefix, pullExpiresMs: 2_000, errorNakDelayMs: 20, onError: () => undefined });
    ({ store, dataSource } = await openAnalyticsStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema }));
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    for (const name of bus?.streamNames() ?? []) await jsm.streams.delete(name).catch(() => false);
    await admin?.close();
    await store?.close();
    await dataSource?.destroy();
    await dropSchema(schema);
  });

  it('turns a fixed set of runs into the hand-counted figures despite duplicates and redeliveries', async () => {
    const events = fixedRuns();
    // Every fifth counted event commits and then "crashes" before its ack: JetStream must redeliver it.
    const crashAfterCommit = new Set(events.filter((e) => deltaFor(e) !== undefined).filter((_, i) => i % 5 === 0).map((e) => e.eventId));
    const deliveries = new Map<string, number>();
    const crashing: AnalyticsStore = {
      apply: async (eventId: string, delta: AggregateDelta) => {
        const seen = (deliveries.get(eventId) ?? 0) + 1;
        deliveries.set(eventId, seen);
        const result = await store.apply(eventId, delta);
        if (seen === 1 && crashAfterCommit.has(eventId)) throw new Error(`simulated crash after committing ${eventId}`);
        return result;
      },
      stepTotals: (w) => store.stepTotals(w),
      errorCodes: (w) => store.errorCodes(w),
      runBuckets: (w) => store.runBuckets(w),
      runTotals: (w) => store.runTotals(w),
      pruneBatch: (a, b, n) => store.pruneBatch(a, b, n),
      now: () => store.now(),
      close: () => store.close(),
    };
    const analytics = AnalyticsModule.forRoot({ bus, store: crashing, http: false, consumer: { concurrency: 8 } });
    @Module({ imports: [analytics] })
    class AppModule {}
    app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
    expect(await AnalyticsModule.readiness(analytics).check()).toMatchObject({ ok: true });

    for (const event of events) await bus.publish(eventSubject(event.type), event, { msgId: event.eventId });
    for (const event of events) await bus.publish(eventSubject(event.type), event, { msgId: `${event.eventId}:replayed` });

    const stream = bus.streamNames().find((name) => name.endsWith('WEFT_EVENTS')) ?? '';
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(stream, 'analytics__weft_event_ALL');
        // Each crashed event: first delivery, its redelivery, and the replayed copy.
        return info.num_pending === 0 && info.num_ack_pending === 0 && [...crashAfterCommit].every((id) => (deliveries.get(id) ?? 0) >= 3);
      },
      'every delivery settled and every crashed event redelivered',
      30_000,
    );
    expect(crashAfterCommit.size).toBeGreaterThanOrEqual(5);
    await expectHandCountedFigures(new InsightsQueries(store));
    expect(await bus.deadLetters()).toEqual([]);
  }, 60_000);
});
