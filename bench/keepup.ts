/**
 * Do the journal and analytics keep up with the scheduler? Distributed Weft (NATS +
 * PostgreSQL, every module in one process as `weft dev` runs them) under a W4-style
 * load: 5-step chains started at a constant rate. Samples, once a second, how many
 * lifecycle events the scheduler has committed versus how many the journal and
 * analytics have applied, then how long each takes to catch up after the last run ends.
 *
 *   node -r @swc-node/register bench/keepup.ts [--rate 40] [--seconds 20]
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AnalyticsModule, openAnalyticsStore } from '@weft/analytics';
import { JetStreamBus } from '@weft/bus';
import { ExecutorModule } from '@weft/executor';
import { JournalModule, openJournalStore } from '@weft/journal';
import { openSqlRunStore, Scheduler, SchedulerModule } from '@weft/scheduler';
import { chain, step, workflow } from '@weft/sdk';
import { builtinActions, silentLogger } from '@weft/worker';
import { adminQuery, pgUrl } from './lib/pg.util';
import { sleep } from './lib/stats.util';
import { deleteStreams, NATS_URL } from './systems/weft.system';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main(): Promise<void> {
  const rate = arg('rate', 40);
  const seconds = arg('seconds', 20);
  const database = `weft_keepup_${randomUUID().slice(0, 8)}`;
  const prefix = `keep${randomUUID().slice(0, 8)}`;
  await adminQuery(`CREATE DATABASE ${database}`);
  const db = { kind: 'postgres' as const, url: pgUrl(database), schema: 'weft' };
  const runs = await openSqlRunStore(db);
  const journal = await openJournalStore(db, { migrate: true });
  const analytics = await openAnalyticsStore(db, { migrate: true });
  const bus = await JetStreamBus.connect({ servers: NATS_URL, prefix, name: 'bench-keepup' });

  @Module({
    imports: [
      SchedulerModule.forRoot({ bus, store: runs.store }),
      ExecutorModule.forRoot({ bus, queues: ['default'], actions: builtinActions(), concurrency: 16, logger: silentLogger }),
      JournalModule.forRoot({ bus, store: journal.store, http: false }),
      AnalyticsModule.forRoot({ bus, store: analytics.store, http: false }),
    ],
  })
  class KeepUpModule {}
  const app = await NestFactory.createApplicationContext(KeepUpModule, { logger: false });
  await app.init();
  const scheduler = app.get(Scheduler);

  const count = async (sql: string): Promise<number> => Number((await runs.dataSource.query(sql))[0].n);
  const committed = () => count(`SELECT count(*)::int AS n FROM weft.outbox WHERE subject LIKE '%weft.event.%'`);
  // Analytics applies only the events that move a figure (run start/end, step outcomes).
  const analysable = () =>
    count(
      `SELECT count(*)::int AS n FROM weft.outbox WHERE substring(subject from 'weft\\.event\\.(.*)$') IN
       ('run.started','run.completed','run.partially_completed','run.failed','run.canceled','step.completed','step.failed','step.retrying','step.skipped','step.canceled','step.timed_out')`,
    );
  const journaled = () => count('SELECT count(*)::int AS n FROM weft.journal_entries');
  const analysed = () => count('SELECT count(*)::int AS n FROM weft.analytics_processed_events');
  const finished = () => count(`SELECT count(*)::int AS n FROM weft.runs WHERE status IN ('completed','failed','partially_completed','canceled')`);

  const spec = workflow('keepup').add(chain(...[1, 2, 3, 4, 5].map((n) => step(`s${n}`, 'noop')))).build();
  const total = rate * seconds;
  const samples: { t: number; committed: number; analysable: number; journal: number; analytics: number }[] = [];
  const started = Date.now();
  const sampler = setInterval(() => {
    void Promise.all([committed(), analysable(), journaled(), analysed()]).then(([c, ca, j, a]) =>
      samples.push({ t: (Date.now() - started) / 1000, committed: c, analysable: ca, journal: j, analytics: a }),
    );
  }, 1000);
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    void scheduler.startRun({ idempotencyKey: `k${i}`, workflow: spec.name, spec, inputs: {} });
  }
  while ((await finished()) < total) await sleep(100);
  const runsDoneAt = Date.now();
  const expected = await committed();
  const expectedAnalytics = await analysable();
  let journalAt = 0;
  let analyticsAt = 0;
  while (!journalAt || !analyticsAt) {
    const [j, a] = await Promise.all([journaled(), analysed()]);
    if (!journalAt && j >= expected) journalAt = Date.now();
    if (!analyticsAt && a >= expectedAnalytics) analyticsAt = Date.now();
    if (Date.now() - runsDoneAt > 120_000) break;
    await sleep(50);
  }
  clearInterval(sampler);
  const maxBehind = (key: 'journal' | 'analytics'): number => Math.max(0, ...samples.map((s) => (key === 'journal' ? s.committed : s.analysable) - s[key]));
  console.log(`load: ${total} runs (${total * 5} steps) at ${rate} runs/s for ${seconds} s; all runs finished after ${((runsDoneAt - started) / 1000).toFixed(1)} s`);
  console.log(`lifecycle events committed: ${expected} (${(expected / ((runsDoneAt - started) / 1000)).toFixed(0)}/s), ${expectedAnalytics} of them figures for analytics`);
  for (const [name, at, key] of [['journal', journalAt, 'journal'], ['analytics', analyticsAt, 'analytics']] as const) {
    console.log(`${name}: caught up ${at ? `${at - runsDoneAt} ms after the last run finished` : 'NOT within 120 s'}; most events behind at a 1 s sample: ${maxBehind(key)}`);
  }

  await app.close();
  await runs.store.close();
  for (const ds of [runs.dataSource, journal.dataSource, analytics.dataSource]) await ds.destroy();
  const streams = bus.streamNames();
  await bus.close();
  await deleteStreams(streams);
  await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
