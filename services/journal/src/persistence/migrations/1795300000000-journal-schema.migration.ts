import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The journal's tables. Hand-written (never `synchronize`): the migrations are the schema.
 * What they build, table by table, is ../schema.snapshot.sql (regenerate it with
 * `node tools/schema-snapshot.js`; journal-schema.int.spec.ts checks it).
 */
export class JournalSchema1795300000000 implements MigrationInterface {
  name = 'JournalSchema1795300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "journal_entries" (
        "id" BIGSERIAL NOT NULL,
        "event_id" text NOT NULL,
        "run_id" text NOT NULL,
        "workflow" text NOT NULL,
        "version" text NOT NULL,
        "step_id" text,
        "attempt" integer,
        "type" text NOT NULL,
        "status" text NOT NULL,
        "at" timestamptz NOT NULL,
        "seq" integer NOT NULL DEFAULT 0,
        "idx" integer NOT NULL DEFAULT 0,
        "duration_ms" double precision,
        "error" jsonb,
        "correlation_id" text,
        "trace_id" text,
        "data" jsonb,
        "recorded_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_journal_entries" PRIMARY KEY ("id"),
        CONSTRAINT "uq_journal_entries_event_id" UNIQUE ("event_id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_run" ON "journal_entries" ("run_id", "at", "seq", "idx")`);
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_workflow_at" ON "journal_entries" ("workflow", "at")`);
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_type_at" ON "journal_entries" ("type", "at")`);
    // Time-range queries and retention.
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_at" ON "journal_entries" ("at")`);
    await queryRunner.query(`
      CREATE TABLE "journal_checkpoints" (
        "run_id" text NOT NULL,
        "step_id" text NOT NULL,
        "workflow" text NOT NULL,
        "version" text NOT NULL,
        "attempt" integer,
        "event_id" text NOT NULL,
        "at" timestamptz NOT NULL,
        "seq" integer NOT NULL DEFAULT 0,
        "idx" integer NOT NULL DEFAULT 0,
        "output" jsonb,
        "state" jsonb NOT NULL,
        "recorded_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_journal_checkpoints" PRIMARY KEY ("run_id", "step_id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_journal_checkpoints_at" ON "journal_checkpoints" ("at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "journal_checkpoints"`);
    await queryRunner.query(`DROP TABLE "journal_entries"`);
  }
}
