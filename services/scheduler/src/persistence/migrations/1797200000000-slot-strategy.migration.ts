import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** A slot request's strategy (issue 16, a workflow's own limit): queue, cancel-in-progress or cancel-newest. */
export class SlotStrategy1797200000000 implements MigrationInterface {
  name = 'SlotStrategy1797200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "concurrency_slots" ADD COLUMN "strategy" text NOT NULL DEFAULT 'queue'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "concurrency_slots" DROP COLUMN "strategy"`);
  }
}
