import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Entries and checkpoints carry the namespace of their run, so the HTTP API answers each
 * caller with its own namespace's events only. Rows journaled before carry `default`
 * (every run was in `default` until namespaces existed).
 */
export class JournalNamespaces1795600000000 implements MigrationInterface {
  name = 'JournalNamespaces1795600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "journal_entries" ADD "namespace" text NOT NULL DEFAULT 'default'`);
    await queryRunner.query(`ALTER TABLE "journal_checkpoints" ADD "namespace" text NOT NULL DEFAULT 'default'`);
    // Queries across runs are always within one namespace now.
    await queryRunner.query(`DROP INDEX "ix_journal_entries_workflow_at"`);
    await queryRunner.query(`DROP INDEX "ix_journal_entries_type_at"`);
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_namespace_workflow_at" ON "journal_entries" ("namespace", "workflow", "at")`);
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_namespace_type_at" ON "journal_entries" ("namespace", "type", "at")`);
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_namespace_at" ON "journal_entries" ("namespace", "at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_journal_entries_namespace_at"`);
    await queryRunner.query(`DROP INDEX "ix_journal_entries_namespace_type_at"`);
    await queryRunner.query(`DROP INDEX "ix_journal_entries_namespace_workflow_at"`);
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_type_at" ON "journal_entries" ("type", "at")`);
    await queryRunner.query(`CREATE INDEX "ix_journal_entries_workflow_at" ON "journal_entries" ("workflow", "at")`);
    await queryRunner.query(`ALTER TABLE "journal_checkpoints" DROP COLUMN "namespace"`);
    await queryRunner.query(`ALTER TABLE "journal_entries" DROP COLUMN "namespace"`);
  }
}
