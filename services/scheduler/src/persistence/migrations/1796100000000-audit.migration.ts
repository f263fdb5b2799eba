import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The append-only audit log (issue 13 item 7): one row per change made through the API or CLI. No route updates or deletes one. */
export class Audit1796100000000 implements MigrationInterface {
  name = 'Audit1796100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "audit" (
        "id" BIGSERIAL NOT NULL,
        "at" timestamptz NOT NULL,
        "namespace" text NOT NULL,
        "actor" jsonb NOT NULL,
        "action" text NOT NULL,
        "target_kind" text NOT NULL,
        "target_id" text NOT NULL,
        "details" jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT "pk_audit" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_audit_namespace_at" ON "audit" ("namespace", "at", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit"`);
  }
}
