import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The scheduler's tables. Hand-written (never `synchronize`): the migrations are the schema.
 * What they build, table by table, is ../schema.snapshot.sql (regenerate it with
 * `node tools/schema-snapshot.js`; scheduler-schema.int.spec.ts checks it).
 * Times are timestamptz; the store converts to epoch ms at its edge.
 */
export class SchedulerSchema1795247300000 implements MigrationInterface {
  name = 'SchedulerSchema1795247300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "workflows" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "namespace" text NOT NULL DEFAULT 'default',
        "name" text NOT NULL,
        "description" text,
        "draft_spec" jsonb,
        "draft_revision" integer NOT NULL DEFAULT 0,
        "published_version" integer,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_workflows" PRIMARY KEY ("id"),
        CONSTRAINT "uq_workflows_namespace_name" UNIQUE ("namespace", "name")
      )`);
    await queryRunner.query(`
      CREATE TABLE "workflow_versions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "namespace" text NOT NULL DEFAULT 'default',
        "workflow" text NOT NULL,
        "version" integer NOT NULL,
        "spec" jsonb NOT NULL,
        "hash" text NOT NULL,
        "archived" boolean NOT NULL DEFAULT false,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_workflow_versions" PRIMARY KEY ("id"),
        CONSTRAINT "uq_workflow_versions_version" UNIQUE ("namespace", "workflow", "version"),
        CONSTRAINT "uq_workflow_versions_hash" UNIQUE ("namespace", "workflow", "hash"),
        CONSTRAINT "fk_workflow_versions_workflow" FOREIGN KEY ("namespace", "workflow")
          REFERENCES "workflows" ("namespace", "name") ON DELETE CASCADE ON UPDATE CASCADE
      )`);
    await queryRunner.query(`
      CREATE TABLE "runs" (
        "id" text NOT NULL,
        "namespace" text NOT NULL DEFAULT 'default',
        "workflow" text NOT NULL,
        "version" text NOT NULL,
        "status" text NOT NULL,
        "inputs" jsonb NOT NULL,
        "outputs" jsonb,
        "error" jsonb,
        "spec" jsonb NOT NULL,
        "plan" jsonb NOT NULL,
        "extra" jsonb NOT NULL DEFAULT '{}',
        "seq" integer NOT NULL,
        "idempotency_key" text,
        "correlation_id" text,
        "created_at" timestamptz NOT NULL,
        "started_at" timestamptz,
        "finished_at" timestamptz,
        "deadline_at" timestamptz,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_runs" PRIMARY KEY ("id"),
        CONSTRAINT "uq_runs_idempotency_key" UNIQUE ("namespace", "idempotency_key")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_runs_created_at" ON "runs" ("created_at")`);
    await queryRunner.query(`CREATE INDEX "ix_runs_workflow_created_at" ON "runs" ("workflow", "created_at")`);
    await queryRunner.query(`CREATE INDEX "ix_runs_status_created_at" ON "runs" ("status", "created_at")`);
    await queryRunner.query(`
      CREATE TABLE "step_runs" (
        "run_id" text NOT NULL,
        "step_id" text NOT NULL,
        "status" text NOT NULL,
        "attempt" integer NOT NULL,
        "token" text,
        "queued_at" timestamptz,
        "started_at" timestamptz,
        "finished_at" timestamptz,
        "lease_expires_at" timestamptz,
        "next_attempt_at" timestamptz,
        "output" jsonb,
        "error" jsonb,
        "attempts" jsonb NOT NULL DEFAULT '[]',
        "extra" jsonb NOT NULL DEFAULT '{}',
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_step_runs" PRIMARY KEY ("run_id", "step_id"),
        CONSTRAINT "fk_step_runs_run" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE
      )`);
    // The reconciler: queued/running steps whose lease passed.
    await queryRunner.query(`CREATE INDEX "ix_step_runs_status_lease" ON "step_runs" ("status", "lease_expires_at")`);
    await queryRunner.query(`
      CREATE TABLE "outbox" (
        "id" BIGSERIAL NOT NULL,
        "run_id" text NOT NULL,
        "kind" text NOT NULL,
        "subject" text NOT NULL,
        "payload" jsonb NOT NULL,
        "msg_id" text NOT NULL,
        "headers" jsonb,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "claimed_until" timestamptz,
        "published_at" timestamptz,
        CONSTRAINT "pk_outbox" PRIMARY KEY ("id")
      )`);
    // The relay scans only unpublished rows; published ones are not in the index at all.
    await queryRunner.query(`CREATE INDEX "ix_outbox_unpublished" ON "outbox" ("id") WHERE (published_at IS NULL)`);
    await queryRunner.query(`
      CREATE TABLE "timers" (
        "run_id" text NOT NULL,
        "timer" text NOT NULL,
        "step_id" text NOT NULL DEFAULT '',
        "attempt" integer,
        "fire_at" timestamptz NOT NULL,
        CONSTRAINT "pk_timers" PRIMARY KEY ("run_id", "timer", "step_id"),
        CONSTRAINT "fk_timers_run" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "ix_timers_fire_at" ON "timers" ("fire_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "timers"`);
    await queryRunner.query(`DROP TABLE "outbox"`);
    await queryRunner.query(`DROP TABLE "step_runs"`);
    await queryRunner.query(`DROP TABLE "runs"`);
    await queryRunner.query(`DROP TABLE "workflow_versions"`);
    await queryRunner.query(`DROP TABLE "workflows"`);
  }
}
