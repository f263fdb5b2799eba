import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The blob sweep (issue 12 item 4, sweepUnnamedBlobs in @weft/db) asks, for each old blob, whether a step
 * output or a run's inputs or outputs names it. Partial expression indexes answer that without a scan:
 * they hold only the rows whose value is a reference (`? '$weftBlob'`), so inline outputs cost an insert
 * nothing but the predicate check. blobs(created_at, id) is the order the sweep walks in.
 */
export class BlobSweep1796510000000 implements MigrationInterface {
  name = 'BlobSweep1796510000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "idx_step_runs_output_blob" ON "step_runs" (("output"->>'$weftBlob')) WHERE "output" ? '$weftBlob'`);
    await queryRunner.query(`CREATE INDEX "idx_runs_inputs_blob" ON "runs" (("inputs"->>'$weftBlob')) WHERE "inputs" ? '$weftBlob'`);
    await queryRunner.query(`CREATE INDEX "idx_runs_outputs_blob" ON "runs" (("outputs"->>'$weftBlob')) WHERE "outputs" ? '$weftBlob'`);
    await queryRunner.query(`CREATE INDEX "idx_blobs_created_at" ON "blobs" ("created_at", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "idx_blobs_created_at"`);
    await queryRunner.query(`DROP INDEX "idx_runs_outputs_blob"`);
    await queryRunner.query(`DROP INDEX "idx_runs_inputs_blob"`);
    await queryRunner.query(`DROP INDEX "idx_step_runs_output_blob"`);
  }
}
