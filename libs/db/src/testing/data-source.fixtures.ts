import { Column, Entity, type MigrationInterface, PrimaryColumn, type QueryRunner } from 'typeorm';

/** A one-table schema for testing the plumbing without any service's tables. */
@Entity({ name: 'notes' })
export class NoteEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_notes' })
  id!: string;

  @Column({ type: 'jsonb' })
  body!: unknown;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;
}

export class Notes1700000000000 implements MigrationInterface {
  name = 'Notes1700000000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "notes" ("id" text NOT NULL, "body" jsonb NOT NULL, "at" timestamptz NOT NULL DEFAULT now(), CONSTRAINT "pk_notes" PRIMARY KEY ("id"))`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "notes"`);
  }
}

/** Fails halfway: the first statement must be rolled back with it. */
export class Broken1700000000001 implements MigrationInterface {
  name = 'Broken1700000000001';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "half" ("id" int)`);
    await queryRunner.query(`SELECT no_such_function()`);
  }
  async down(): Promise<void> {}
}

export const NOTES = { entities: [NoteEntity], migrations: [Notes1700000000000], migrationsTableName: 'notes_migrations' };
