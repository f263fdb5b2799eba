import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `GET /v1/runs?prefix=`: a run id or correlation id that starts with the text, within a
 * namespace (the console's search box). text_pattern_ops lets `LIKE 'abc%'` use the index
 * whatever the database's collation; the planner ORs the two into one bitmap scan.
 */
export class RunsPrefix1796700000000 implements MigrationInterface {
  name = 'RunsPrefix1796700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "ix_runs_namespace_id_prefix" ON "runs" ("namespace", "id" text_pattern_ops)`);
    await queryRunner.query(`CREATE INDEX "ix_runs_namespace_correlation_prefix" ON "runs" ("namespace", "correlation_id" text_pattern_ops) WHERE correlation_id IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_runs_namespace_correlation_prefix"`);
    await queryRunner.query(`DROP INDEX "ix_runs_namespace_id_prefix"`);
  }
}
