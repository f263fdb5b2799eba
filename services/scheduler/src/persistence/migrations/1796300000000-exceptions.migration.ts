import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Exceptions resolved with a note (issue 13 item 6): the item leaves the queue and stays in history. */
export class ExceptionResolutions1796300000000 implements MigrationInterface {
  name = 'ExceptionResolutions1796300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "exception_resolutions" (
        "namespace" text NOT NULL,
        "kind" text NOT NULL,
        "target_id" text NOT NULL,
        "note" text NOT NULL,
        "actor" jsonb NOT NULL,
        "resolved_at" timestamptz NOT NULL,
        CONSTRAINT "pk_exception_resolutions" PRIMARY KEY ("namespace", "kind", "target_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "exception_resolutions"`);
  }
}
