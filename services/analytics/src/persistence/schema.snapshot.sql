-- The analytics schema as its migrations build it (the migrations are the schema; there are no entities).
-- Generated, do not edit: after adding a migration run `node tools/schema-snapshot.js` and read the diff.
-- Checked on PGlite and PostgreSQL by analytics-schema.int.spec.ts. Migrations applied, oldest first:
--   AnalyticsSchema1795300000100
--   AnalyticsNamespaces1795600000100
--   AnalyticsReviews1796960000100

CREATE TABLE analytics_processed_events (
  event_id     text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_analytics_processed_events PRIMARY KEY (event_id)
);
CREATE INDEX ix_analytics_processed_events_processed_at ON analytics_processed_events USING btree (processed_at);

CREATE TABLE analytics_review_decisions (
  namespace  text        NOT NULL,
  review_id  text        NOT NULL,
  workflow   text        NOT NULL,
  step_id    text        NOT NULL,
  decision   text        NOT NULL,
  decided_at timestamptz NOT NULL,
  CONSTRAINT pk_analytics_review_decisions PRIMARY KEY (namespace, review_id)
);
CREATE INDEX ix_analytics_review_decisions_decided_at ON analytics_review_decisions USING btree (namespace, decided_at);

CREATE TABLE analytics_review_openings (
  namespace text        NOT NULL,
  review_id text        NOT NULL,
  opened_at timestamptz NOT NULL,
  CONSTRAINT pk_analytics_review_openings PRIMARY KEY (namespace, review_id)
);
CREATE INDEX ix_analytics_review_openings_opened_at ON analytics_review_openings USING btree (opened_at);

CREATE TABLE analytics_run_hourly (
  workflow            text             NOT NULL,
  bucket              timestamptz      NOT NULL,
  started             integer          NOT NULL DEFAULT 0,
  restarted           integer          NOT NULL DEFAULT 0,
  completed           integer          NOT NULL DEFAULT 0,
  partially_completed integer          NOT NULL DEFAULT 0,
  failed              integer          NOT NULL DEFAULT 0,
  canceled            integer          NOT NULL DEFAULT 0,
  duration_count      integer          NOT NULL DEFAULT 0,
  duration_sum_ms     double precision NOT NULL DEFAULT 0,
  duration_min_ms     double precision,
  duration_max_ms     double precision,
  duration_hist       jsonb            NOT NULL DEFAULT '{}'::jsonb,
  namespace           text             NOT NULL DEFAULT 'default'::text,
  CONSTRAINT pk_analytics_run_hourly PRIMARY KEY (namespace, workflow, bucket)
);
CREATE INDEX ix_analytics_run_hourly_bucket ON analytics_run_hourly USING btree (bucket);

CREATE TABLE analytics_step_errors (
  workflow  text        NOT NULL,
  step_id   text        NOT NULL,
  bucket    timestamptz NOT NULL,
  code      text        NOT NULL,
  failures  integer     NOT NULL DEFAULT 0,
  retries   integer     NOT NULL DEFAULT 0,
  namespace text        NOT NULL DEFAULT 'default'::text,
  CONSTRAINT pk_analytics_step_errors PRIMARY KEY (namespace, workflow, step_id, bucket, code)
);
CREATE INDEX ix_analytics_step_errors_bucket ON analytics_step_errors USING btree (bucket);

CREATE TABLE analytics_step_hourly (
  workflow        text             NOT NULL,
  step_id         text             NOT NULL,
  bucket          timestamptz      NOT NULL,
  completed       integer          NOT NULL DEFAULT 0,
  failed          integer          NOT NULL DEFAULT 0,
  retried         integer          NOT NULL DEFAULT 0,
  skipped         integer          NOT NULL DEFAULT 0,
  canceled        integer          NOT NULL DEFAULT 0,
  timed_out       integer          NOT NULL DEFAULT 0,
  duration_count  integer          NOT NULL DEFAULT 0,
  duration_sum_ms double precision NOT NULL DEFAULT 0,
  duration_min_ms double precision,
  duration_max_ms double precision,
  duration_hist   jsonb            NOT NULL DEFAULT '{}'::jsonb,
  last_failed_at  timestamptz,
  namespace       text             NOT NULL DEFAULT 'default'::text,
  CONSTRAINT pk_analytics_step_hourly PRIMARY KEY (namespace, workflow, step_id, bucket)
);
CREATE INDEX ix_analytics_step_hourly_bucket ON analytics_step_hourly USING btree (bucket);
