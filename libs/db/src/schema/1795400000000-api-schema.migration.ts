import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The schema of @weft/platform's API-key repository (its SQL reads `api_keys`), kept here so the
 * scheduler's migrations load without @weft/platform's Nest modules (`weft run` starts faster).
 * The scheduler applies it with its own migrations (SCHEDULER_MIGRATIONS, table
 * `scheduler_migrations`), under the same name, so databases that applied it before the move
 * see it as applied. It also holds the scheduler's
 * run_links table and run indexes of the same release: an applied migration is never edited.
 *
 * What the control-plane API adds: namespaces and their API keys (stored hashed),
 * links between runs (a rerun and the run it came from), and run listings per
 * namespace (newest first, keyset-paginated on created_at, id).
 */
export class ApiSchema1795400000000 implements MigrationInterface {
  name = 'ApiSchema1795400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "namespaces" (
        "name" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_namespaces" PRIMARY KEY ("name")
      )`);
    await queryRunner.query(`INSERT INTO "namespaces" ("name") VALUES ('default')`);
    await queryRunner.query(`
      CREATE TABLE "api_keys" (
        "id" text NOT NULL,
        "namespace" text NOT NULL,
        "name" text,
        "hash" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "revoked_at" timestamptz,
        CONSTRAINT "pk_api_keys" PRIMARY KEY ("id"),
        CONSTRAINT "fk_api_keys_namespace" FOREIGN KEY ("namespace") REFERENCES "namespaces" ("name") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "ix_api_keys_namespace" ON "api_keys" ("namespace")`);
    await queryRunner.query(`
      CREATE TABLE "run_links" (
        "run_id" text NOT NULL,
        "namespace" text NOT NULL,
        "kind" text NOT NULL,
        "source_run_id" text NOT NULL,
        "from_step" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_run_links" PRIMARY KEY ("run_id"),
        CONSTRAINT "fk_run_links_run" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "ix_run_links_source_run_id" ON "run_links" ("source_run_id")`);
    await queryRunner.query(`CREATE INDEX "ix_runs_namespace_created_at" ON "runs" ("namespace", "created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_runs_namespace_workflow_created_at" ON "runs" ("namespace", "workflow", "created_at", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_runs_namespace_workflow_created_at"`);
    await queryRunner.query(`DROP INDEX "ix_runs_namespace_created_at"`);
    await queryRunner.query(`DROP TABLE "run_links"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
    await queryRunner.query(`DROP TABLE "namespaces"`);
  }
}
