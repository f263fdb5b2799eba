import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Concurrency slots (issue 16): one row per slot request of a step attempt, `queued` until the
 * scheduler grants it, `held` with a lease (expires_at, database time) renewed while its step
 * holds it, `released` when the step ends or the lease is reclaimed. Released rows stay as
 * tombstones so a late request for the same token grants nothing; the slot scan purges them.
 */
export class Slots1796400000000 implements MigrationInterface {
  name = 'Slots1796400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "concurrency_slots" (
        "token" text NOT NULL,
        "namespace" text NOT NULL,
        "scope" text NOT NULL,
        "key" text NOT NULL,
        "run_id" text NOT NULL,
        "step_id" text NOT NULL,
        "priority" integer NOT NULL,
        "slot_limit" integer NOT NULL,
        "state" text NOT NULL,
        "requested_at" timestamptz NOT NULL,
        "granted_at" timestamptz,
        "expires_at" timestamptz,
        CONSTRAINT "pk_concurrency_slots" PRIMARY KEY ("token")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_concurrency_slots_scope" ON "concurrency_slots" ("namespace", "scope", "state", "key")`);
    await queryRunner.query(`CREATE INDEX "ix_concurrency_slots_expires" ON "concurrency_slots" ("state", "expires_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "concurrency_slots"`);
  }
}
