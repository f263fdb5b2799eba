import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The triggers service's tables. It reads the scheduler's `workflows`, `workflow_versions`
 * and `runs` (published specs, active runs) but never writes them. What its migrations build,
 * table by table, is ../schema.snapshot.sql (`node tools/schema-snapshot.js` rewrites it).
 */
export class TriggersSchema1795700000000 implements MigrationInterface {
  name = 'TriggersSchema1795700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // One row per trigger of a published version; replaced when another version is published.
    await queryRunner.query(`
      CREATE TABLE "trigger_definitions" (
        "namespace" text NOT NULL,
        "workflow" text NOT NULL,
        "trigger_id" text NOT NULL,
        "version" integer NOT NULL,
        "kind" text NOT NULL,
        "spec" jsonb NOT NULL,
        "active" boolean NOT NULL DEFAULT true,
        "paused" boolean NOT NULL DEFAULT false,
        "handled_until" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_trigger_definitions" PRIMARY KEY ("namespace", "workflow", "trigger_id")
      )`);
    // The fire log and the run-request outbox in one: a claiming row owns its occurrence
    // (unique), so a second fire of the same tick, delivery or item can only be a duplicate.
    await queryRunner.query(`
      CREATE TABLE "trigger_fires" (
        "id" BIGSERIAL NOT NULL,
        "namespace" text NOT NULL,
        "workflow" text NOT NULL,
        "trigger_id" text NOT NULL,
        "kind" text NOT NULL,
        "occurrence" text NOT NULL,
        "claims" boolean NOT NULL,
        "outcome" text NOT NULL,
        "reason" text,
        "run_id" text,
        "idempotency_key" text,
        "scheduled_at" timestamptz,
        "request" jsonb,
        "held" boolean NOT NULL DEFAULT false,
        "published_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_trigger_fires" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_trigger_fires_occurrence" ON "trigger_fires" ("namespace", "workflow", "trigger_id", "occurrence") WHERE claims`);
    await queryRunner.query(`CREATE INDEX "ix_trigger_fires_trigger" ON "trigger_fires" ("namespace", "workflow", "trigger_id", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_trigger_fires_unpublished" ON "trigger_fires" ("id") WHERE (outcome = 'fired' AND published_at IS NULL)`);
    await queryRunner.query(`
      CREATE TABLE "trigger_leases" (
        "name" text NOT NULL,
        "holder" text NOT NULL,
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "pk_trigger_leases" PRIMARY KEY ("name")
      )`);
    await queryRunner.query(`
      CREATE TABLE "trigger_poll_state" (
        "namespace" text NOT NULL,
        "workflow" text NOT NULL,
        "trigger_id" text NOT NULL,
        "cursor" jsonb,
        "failures" integer NOT NULL DEFAULT 0,
        "next_poll_at" timestamptz NOT NULL DEFAULT now(),
        "last_error" text,
        CONSTRAINT "pk_trigger_poll_state" PRIMARY KEY ("namespace", "workflow", "trigger_id")
      )`);
    // Poll item keys (bounded per trigger) and subject dedupe keys (expire after their window).
    await queryRunner.query(`
      CREATE TABLE "trigger_seen_keys" (
        "namespace" text NOT NULL,
        "workflow" text NOT NULL,
        "trigger_id" text NOT NULL,
        "key" text NOT NULL,
        "seen_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_trigger_seen_keys" PRIMARY KEY ("namespace", "workflow", "trigger_id", "key")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_trigger_seen_keys_age" ON "trigger_seen_keys" ("namespace", "workflow", "trigger_id", "seen_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "trigger_seen_keys"`);
    await queryRunner.query(`DROP TABLE "trigger_poll_state"`);
    await queryRunner.query(`DROP TABLE "trigger_leases"`);
    await queryRunner.query(`DROP TABLE "trigger_fires"`);
    await queryRunner.query(`DROP TABLE "trigger_definitions"`);
  }
}
