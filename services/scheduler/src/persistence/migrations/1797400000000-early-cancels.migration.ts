import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Cancels that arrived before their run (docs/triggers.md, "Overlap"): a trigger's
 * `cancel-other` may ask the scheduler to cancel a run whose request it has not created yet
 * (the two travel on different consumers). The cancel leaves a row here and the run, once
 * created, finds it and is canceled: whichever comes first, they meet (DESIGN.md §8). A row
 * is removed when its run takes it; rows no run took are deleted after a day.
 */
export class EarlyCancels1797400000000 implements MigrationInterface {
  name = 'EarlyCancels1797400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "early_cancels" (
        "run_id" text NOT NULL,
        "reason" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_early_cancels" PRIMARY KEY ("run_id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_early_cancels_created_at" ON "early_cancels" ("created_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "early_cancels"`);
  }
}
