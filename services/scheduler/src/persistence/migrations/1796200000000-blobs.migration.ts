import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Large payloads by reference (issue 12 item 4): step outputs above WEFT_INLINE_PAYLOAD_MAX, stored once by content hash. */
export class Blobs1796200000000 implements MigrationInterface {
  name = 'Blobs1796200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "blobs" (
        "id" text NOT NULL,
        "namespace" text NOT NULL,
        "size" bigint NOT NULL,
        "bytes" bytea NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_blobs" PRIMARY KEY ("id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "blobs"`);
  }
}
