-- The triggers schema as its migrations build it (the migrations are the schema; there are no entities).
-- Generated, do not edit: after adding a migration run `node tools/schema-snapshot.js` and read the diff.
-- Checked on PGlite and PostgreSQL by triggers-schema.int.spec.ts. Migrations applied, oldest first:
--   TriggersSchema1795700000000

CREATE TABLE trigger_definitions (
  namespace     text        NOT NULL,
  workflow      text        NOT NULL,
  trigger_id    text        NOT NULL,
  version       integer     NOT NULL,
  kind          text        NOT NULL,
  spec          jsonb       NOT NULL,
  active        boolean     NOT NULL DEFAULT true,
  paused        boolean     NOT NULL DEFAULT false,
  handled_until timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_trigger_definitions PRIMARY KEY (namespace, workflow, trigger_id)
);

CREATE TABLE trigger_fires (
  id              bigint      NOT NULL DEFAULT nextval('trigger_fires_id_seq'::regclass),
  namespace       text        NOT NULL,
  workflow        text        NOT NULL,
  trigger_id      text        NOT NULL,
  kind            text        NOT NULL,
  occurrence      text        NOT NULL,
  claims          boolean     NOT NULL,
  outcome         text        NOT NULL,
  reason          text,
  run_id          text,
  idempotency_key text,
  scheduled_at    timestamptz,
  request         jsonb,
  held            boolean     NOT NULL DEFAULT false,
  published_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_trigger_fires PRIMARY KEY (id)
);
CREATE INDEX ix_trigger_fires_trigger ON trigger_fires USING btree (namespace, workflow, trigger_id, id);
CREATE INDEX ix_trigger_fires_unpublished ON trigger_fires USING btree (id) WHERE ((outcome = 'fired'::text) AND (published_at IS NULL));
CREATE UNIQUE INDEX uq_trigger_fires_occurrence ON trigger_fires USING btree (namespace, workflow, trigger_id, occurrence) WHERE claims;

CREATE TABLE trigger_leases (
  name       text        NOT NULL,
  holder     text        NOT NULL,
  expires_at timestamptz NOT NULL,
  CONSTRAINT pk_trigger_leases PRIMARY KEY (name)
);

CREATE TABLE trigger_poll_state (
  namespace    text        NOT NULL,
  workflow     text        NOT NULL,
  trigger_id   text        NOT NULL,
  cursor       jsonb,
  failures     integer     NOT NULL DEFAULT 0,
  next_poll_at timestamptz NOT NULL DEFAULT now(),
  last_error   text,
  CONSTRAINT pk_trigger_poll_state PRIMARY KEY (namespace, workflow, trigger_id)
);

CREATE TABLE trigger_seen_keys (
  namespace  text        NOT NULL,
  workflow   text        NOT NULL,
  trigger_id text        NOT NULL,
  key        text        NOT NULL,
  seen_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_trigger_seen_keys PRIMARY KEY (namespace, workflow, trigger_id, key)
);
CREATE INDEX ix_trigger_seen_keys_age ON trigger_seen_keys USING btree (namespace, workflow, trigger_id, seen_at);
