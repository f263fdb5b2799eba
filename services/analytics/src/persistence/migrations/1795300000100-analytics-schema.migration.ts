import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The analytics tables: hourly aggregates, updated in place per event, and the ids of
 * the events applied (so a redelivered event changes nothing). Hand-written: the migrations
 * are the schema. What they build, table by table, is ../schema.snapshot.sql (regenerate it
 * with `node tools/schema-snapshot.js`; analytics-schema.int.spec.ts checks it).
 */
export class AnalyticsSchema1795300000100 implements MigrationInterface {
  name = 'AnalyticsSchema1795300000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "analytics_processed_events" (
        "event_id" text NOT NULL,
        "processed_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_analytics_processed_events" PRIMARY KEY ("event_id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_analytics_processed_events_processed_at" ON "analytics_processed_events" ("processed_at")`);
    await queryRunner.query(`
      CREATE TABLE "analytics_step_hourly" (
        "workflow" text NOT NULL,
        "step_id" text NOT NULL,
        "bucket" timestamptz NOT NULL,
        "completed" integer NOT NULL DEFAULT 0,
        "failed" integer NOT NULL DEFAULT 0,
        "retried" integer NOT NULL DEFAULT 0,
        "skipped" integer NOT NULL DEFAULT 0,
        "canceled" integer NOT NULL DEFAULT 0,
        "timed_out" integer NOT NULL DEFAULT 0,
        "duration_count" integer NOT NULL DEFAULT 0,
        "duration_sum_ms" double precision NOT NULL DEFAULT 0,
        "duration_min_ms" double precision,
        "duration_max_ms" double precision,
        "duration_hist" jsonb NOT NULL DEFAULT '{}',
        "last_failed_at" timestamptz,
        CONSTRAINT "pk_analytics_step_hourly" PRIMARY KEY ("workflow", "step_id", "bucket")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_analytics_step_hourly_bucket" ON "analytics_step_hourly" ("bucket")`);
    await queryRunner.query(`
      CREATE TABLE "analytics_step_errors" (
        "workflow" text NOT NULL,
        "step_id" text NOT NULL,
        "bucket" timestamptz NOT NULL,
        "code" text NOT NULL,
        "failures" integer NOT NULL DEFAULT 0,
        "retries" integer NOT NULL DEFAULT 0,
        CONSTRAINT "pk_analytics_step_errors" PRIMARY KEY ("workflow", "step_id", "bucket", "code")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_analytics_step_errors_bucket" ON "analytics_step_errors" ("bucket")`);
    await queryRunner.query(`
      CREATE TABLE "analytics_run_hourly" (
        "workflow" text NOT NULL,
        "bucket" timestamptz NOT NULL,
        "started" integer NOT NULL DEFAULT 0,
        "restarted" integer NOT NULL DEFAULT 0,
        "completed" integer NOT NULL DEFAULT 0,
        "partially_completed" integer NOT NULL DEFAULT 0,
        "failed" integer NOT NULL DEFAULT 0,
        "canceled" integer NOT NULL DEFAULT 0,
        "duration_count" integer NOT NULL DEFAULT 0,
        "duration_sum_ms" double precision NOT NULL DEFAULT 0,
        "duration_min_ms" double precision,
        "duration_max_ms" double precision,
        "duration_hist" jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT "pk_analytics_run_hourly" PRIMARY KEY ("workflow", "bucket")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_analytics_run_hourly_bucket" ON "analytics_run_hourly" ("bucket")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "analytics_run_hourly"`);
    await queryRunner.query(`DROP TABLE "analytics_step_errors"`);
    await queryRunner.query(`DROP TABLE "analytics_step_hourly"`);
    await queryRunner.query(`DROP TABLE "analytics_processed_events"`);
  }
}
