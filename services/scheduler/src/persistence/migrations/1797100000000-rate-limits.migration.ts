import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Rate limits (issue 16): one row per (namespace, scope, key) holding the key's theoretical
 * arrival time (GCRA). A row whose TAT passed means the same as no row; the slot reconciler
 * deletes those.
 */
export class RateLimits1797100000000 implements MigrationInterface {
  name = 'RateLimits1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "rate_limits" (
        "namespace" text NOT NULL,
        "scope" text NOT NULL,
        "key" text NOT NULL,
        "tat" timestamptz NOT NULL,
        CONSTRAINT "pk_rate_limits" PRIMARY KEY ("namespace", "scope", "key")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_rate_limits_tat" ON "rate_limits" ("tat")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "rate_limits"`);
  }
}
