import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Review insights (issue 13): when reviews opened and how they were decided, for time to decision and rejection rate. */
export class AnalyticsReviews1796960000100 implements MigrationInterface {
  name = 'AnalyticsReviews1796960000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "analytics_review_openings" (
        "namespace" text NOT NULL,
        "review_id" text NOT NULL,
        "opened_at" timestamptz NOT NULL,
        CONSTRAINT "pk_analytics_review_openings" PRIMARY KEY ("namespace", "review_id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_analytics_review_openings_opened_at" ON "analytics_review_openings" ("opened_at")`);
    await queryRunner.query(`
      CREATE TABLE "analytics_review_decisions" (
        "namespace" text NOT NULL,
        "review_id" text NOT NULL,
        "workflow" text NOT NULL,
        "step_id" text NOT NULL,
        "decision" text NOT NULL,
        "decided_at" timestamptz NOT NULL,
        CONSTRAINT "pk_analytics_review_decisions" PRIMARY KEY ("namespace", "review_id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_analytics_review_decisions_decided_at" ON "analytics_review_decisions" ("namespace", "decided_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "analytics_review_decisions"`);
    await queryRunner.query(`DROP TABLE "analytics_review_openings"`);
  }
}
