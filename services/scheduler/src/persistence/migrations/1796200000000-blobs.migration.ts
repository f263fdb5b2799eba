import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Large payloads by reference (issue 12 item 4): step outputs above WEFT_INLINE_PAYLOAD_MAX, stored once by
 * content hash. The JSON text is `text`, not bytea: JSON.stringify escapes NUL and lone surrogates, so it is
 * always storable, and PGlite moves text ~20x faster than bytea (20 MB: 0.7 s against 12 s).
 */
export class Blobs1796200000000 implements MigrationInterface {
  name = 'Blobs1796200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "blobs" (
        "id" text NOT NULL,
        "namespace" text NOT NULL,
        "size" bigint NOT NULL,
        "json" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_blobs" PRIMARY KEY ("id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "blobs"`);
  }
}
