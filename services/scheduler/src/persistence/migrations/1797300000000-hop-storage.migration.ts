import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Where a run row keeps its spec and plan (issue 15, W1; docs/benchmarks.md "The chain hop's
 * statement"): `runs.toast_tuple_target` 256, no column or index change. The row carried both
 * compressed inline (~2.5 KB for a 100-step chain), so a page held three versions of it and,
 * whenever pruning could not keep up, an event's update left the page: not a HOT update, a new
 * entry in each of the table's indexes and the whole row in the WAL. Rows over 2 KB now keep spec
 * and plan in the TOAST table (read back when a run is loaded) and the run row is ~300 bytes, so
 * an event's update stays a HOT update on its page. Rows already stored keep their layout until
 * rewritten.
 */
export class HopStorage1797300000000 implements MigrationInterface {
  name = 'HopStorage1797300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "runs" SET (toast_tuple_target = 256)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "runs" RESET (toast_tuple_target)`);
  }
}
