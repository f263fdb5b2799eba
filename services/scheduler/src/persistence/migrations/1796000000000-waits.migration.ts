import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Durable waits (issue 13): signals, the signal waits of `wait.event` steps, the deliveries
 * where the two met, and reviews. Wait, delivery and review rows belong to a run and go with it.
 */
export class Waits1796000000000 implements MigrationInterface {
  name = 'Waits1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "signals" (
        "namespace" text NOT NULL,
        "id" text NOT NULL,
        "name" text NOT NULL,
        "key" text,
        "data" jsonb,
        "received_at" timestamptz NOT NULL,
        CONSTRAINT "pk_signals" PRIMARY KEY ("namespace", "id")
      )`);
    // A registered wait looks back by (namespace, name, key) and time; retention purges by time.
    await queryRunner.query(`CREATE INDEX "ix_signals_lookup" ON "signals" ("namespace", "name", "key", "received_at")`);
    await queryRunner.query(`CREATE INDEX "ix_signals_received_at" ON "signals" ("received_at")`);
    await queryRunner.query(`
      CREATE TABLE "signal_waits" (
        "run_id" text NOT NULL,
        "step_id" text NOT NULL,
        "namespace" text NOT NULL,
        "name" text NOT NULL,
        "key" text,
        "token" text NOT NULL,
        "since" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "pk_signal_waits" PRIMARY KEY ("run_id", "step_id"),
        CONSTRAINT "fk_signal_waits_run" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE
      )`);
    // A stored signal looks for the waits of its (namespace, name), keyed or not.
    await queryRunner.query(`CREATE INDEX "ix_signal_waits_lookup" ON "signal_waits" ("namespace", "name", "key")`);
    await queryRunner.query(`
      CREATE TABLE "signal_deliveries" (
        "run_id" text NOT NULL,
        "step_id" text NOT NULL,
        "namespace" text NOT NULL,
        "signal_id" text NOT NULL,
        "token" text NOT NULL,
        "received_at" timestamptz NOT NULL,
        CONSTRAINT "pk_signal_deliveries" PRIMARY KEY ("run_id", "step_id", "signal_id"),
        CONSTRAINT "fk_signal_deliveries_signal" FOREIGN KEY ("namespace", "signal_id") REFERENCES "signals" ("namespace", "id") ON DELETE CASCADE
      )`);
    // No foreign key to runs: a signal's transaction inserts deliveries while a run's transaction holds
    // its row FOR UPDATE and waits for the same meeting lock; a key-share check on runs would deadlock them.
    // A delivery for a run that is gone is dropped when applied.
    await queryRunner.query(`CREATE INDEX "ix_signal_deliveries_received_at" ON "signal_deliveries" ("received_at")`);
    await queryRunner.query(`
      CREATE TABLE "reviews" (
        "id" text NOT NULL,
        "namespace" text NOT NULL,
        "run_id" text NOT NULL,
        "workflow" text NOT NULL,
        "step_id" text NOT NULL,
        "attempt" integer NOT NULL,
        "status" text NOT NULL,
        "title" text NOT NULL,
        "instructions" text,
        "assignees" jsonb NOT NULL DEFAULT '[]',
        "tier" integer NOT NULL DEFAULT 0,
        "overdue" boolean NOT NULL DEFAULT false,
        "by_rule" boolean NOT NULL DEFAULT false,
        "form" jsonb,
        "output" jsonb,
        "opened_at" timestamptz NOT NULL,
        "deadline_at" timestamptz,
        "decided_at" timestamptz,
        "decision" text,
        "actor" jsonb,
        "comment" text,
        "payload" jsonb,
        "decision_id" text,
        CONSTRAINT "pk_reviews" PRIMARY KEY ("id"),
        CONSTRAINT "fk_reviews_run" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "ix_reviews_namespace_status" ON "reviews" ("namespace", "status", "opened_at", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "reviews"`);
    await queryRunner.query(`DROP TABLE "signal_deliveries"`);
    await queryRunner.query(`DROP TABLE "signal_waits"`);
    await queryRunner.query(`DROP TABLE "signals"`);
  }
}
