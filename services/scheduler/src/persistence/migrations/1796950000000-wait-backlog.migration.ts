import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * A signal wait's lookback is handed to the core a page at a time (issue 13): `backlog_at`,
 * `backlog_id` are the last stored signal handed over when more may follow (NULL once the
 * backlog is done), `backlog_until` the end of the backlog (the wait's registration; later
 * signals found the wait themselves).
 */
export class WaitBacklog1796950000000 implements MigrationInterface {
  name = 'WaitBacklog1796950000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signal_waits" ADD "backlog_at" timestamptz`);
    await queryRunner.query(`ALTER TABLE "signal_waits" ADD "backlog_id" text`);
    await queryRunner.query(`ALTER TABLE "signal_waits" ADD "backlog_until" timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signal_waits" DROP COLUMN "backlog_until"`);
    await queryRunner.query(`ALTER TABLE "signal_waits" DROP COLUMN "backlog_id"`);
    await queryRunner.query(`ALTER TABLE "signal_waits" DROP COLUMN "backlog_at"`);
  }
}
