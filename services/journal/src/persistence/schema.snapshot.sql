-- The journal schema as its migrations build it (the migrations are the schema; there are no entities).
-- Generated, do not edit: after adding a migration run `node tools/schema-snapshot.js` and read the diff.
-- Checked on PGlite and PostgreSQL by journal-schema.int.spec.ts. Migrations applied, oldest first:
--   JournalSchema1795300000000
--   JournalNamespaces1795600000000

CREATE TABLE journal_checkpoints (
  run_id      text        NOT NULL,
  step_id     text        NOT NULL,
  workflow    text        NOT NULL,
  version     text        NOT NULL,
  attempt     integer,
  event_id    text        NOT NULL,
  at          timestamptz NOT NULL,
  seq         integer     NOT NULL DEFAULT 0,
  idx         integer     NOT NULL DEFAULT 0,
  output      jsonb,
  state       jsonb       NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  namespace   text        NOT NULL DEFAULT 'default'::text,
  CONSTRAINT pk_journal_checkpoints PRIMARY KEY (run_id, step_id)
);
CREATE INDEX ix_journal_checkpoints_at ON journal_checkpoints USING btree (at);

CREATE TABLE journal_entries (
  id             bigint           NOT NULL DEFAULT nextval('journal_entries_id_seq'::regclass),
  event_id       text             NOT NULL,
  run_id         text             NOT NULL,
  workflow       text             NOT NULL,
  version        text             NOT NULL,
  step_id        text,
  attempt        integer,
  type           text             NOT NULL,
  status         text             NOT NULL,
  at             timestamptz      NOT NULL,
  seq            integer          NOT NULL DEFAULT 0,
  idx            integer          NOT NULL DEFAULT 0,
  duration_ms    double precision,
  error          jsonb,
  correlation_id text,
  trace_id       text,
  data           jsonb,
  recorded_at    timestamptz      NOT NULL DEFAULT now(),
  namespace      text             NOT NULL DEFAULT 'default'::text,
  CONSTRAINT pk_journal_entries PRIMARY KEY (id),
  CONSTRAINT uq_journal_entries_event_id UNIQUE (event_id)
);
CREATE INDEX ix_journal_entries_at ON journal_entries USING btree (at);
CREATE INDEX ix_journal_entries_namespace_at ON journal_entries USING btree (namespace, at);
CREATE INDEX ix_journal_entries_namespace_type_at ON journal_entries USING btree (namespace, type, at);
CREATE INDEX ix_journal_entries_namespace_workflow_at ON journal_entries USING btree (namespace, workflow, at);
CREATE INDEX ix_journal_entries_run ON journal_entries USING btree (run_id, at, seq, idx);
