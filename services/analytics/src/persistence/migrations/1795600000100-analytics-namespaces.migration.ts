import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Aggregates are kept per namespace (a workflow name may exist in several), so insights
 * answer each caller with its own namespace's runs only. Rows counted before carry
 * `default` (every run was in `default` until namespaces existed).
 */
export class AnalyticsNamespaces1795600000100 implements MigrationInterface {
  name = 'AnalyticsNamespaces1795600000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, key] of TABLES) {
      await queryRunner.query(`ALTER TABLE "${table}" ADD "namespace" text NOT NULL DEFAULT 'default'`);
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "pk_${table}"`);
      await queryRunner.query(`ALTER TABLE "${table}" ADD CONSTRAINT "pk_${table}" PRIMARY KEY ("namespace", ${key})`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, key] of TABLES) {
      // Namespaces' rows of one workflow and hour would collide: keep `default`'s.
      await queryRunner.query(`DELETE FROM "${table}" WHERE "namespace" <> 'default'`);
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "pk_${table}"`);
      await queryRunner.query(`ALTER TABLE "${table}" ADD CONSTRAINT "pk_${table}" PRIMARY KEY (${key})`);
      await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "namespace"`);
    }
  }
}

const TABLES: [string, string][] = [
  ['analytics_step_hourly', '"workflow", "step_id", "bucket"'],
  ['analytics_step_errors', '"workflow", "step_id", "bucket", "code"'],
  ['analytics_run_hourly', '"workflow", "bucket"'],
];
