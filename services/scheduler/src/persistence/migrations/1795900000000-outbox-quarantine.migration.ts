import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Poison outbox rows (issue 12): a row the broker refuses for good (over NATS's max_payload,
 * unserialisable) is quarantined with the reason instead of being handed out for ever; the
 * relay skips it and operators list it (docs/operations.md, "Quarantined outbox rows").
 */
export class OutboxQuarantine1795900000000 implements MigrationInterface {
  name = 'OutboxQuarantine1795900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "outbox" ADD "quarantined_at" timestamptz`);
    await queryRunner.query(`ALTER TABLE "outbox" ADD "quarantine_reason" text`);
    await queryRunner.query(`CREATE INDEX "ix_outbox_quarantined" ON "outbox" ("id") WHERE (quarantined_at IS NOT NULL)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_outbox_quarantined"`);
    await queryRunner.query(`ALTER TABLE "outbox" DROP COLUMN "quarantine_reason"`);
    await queryRunner.query(`ALTER TABLE "outbox" DROP COLUMN "quarantined_at"`);
  }
}
