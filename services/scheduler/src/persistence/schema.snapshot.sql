-- The scheduler schema as its migrations build it (the migrations are the schema; there are no entities).
-- Generated, do not edit: after adding a migration run `node tools/schema-snapshot.js` and read the diff.
-- Checked on PGlite and PostgreSQL by scheduler-schema.int.spec.ts. Migrations applied, oldest first:
--   SchedulerSchema1795247300000
--   ApiSchema1795400000000
--   OutboxQuarantine1795900000000
--   Waits1796000000000
--   Audit1796100000000
--   Blobs1796200000000
--   ExceptionResolutions1796300000000
--   Slots1796400000000
--   BlobSweep1796510000000
--   RunsPrefix1796700000000
--   WaitBacklog1796950000000
--   RateLimits1797100000000
--   SlotStrategy1797200000000
--   HopStorage1797300000000
--   EarlyCancels1797400000000

CREATE TABLE api_keys (
  id         text        NOT NULL,
  namespace  text        NOT NULL,
  name       text,
  hash       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CONSTRAINT pk_api_keys PRIMARY KEY (id),
  CONSTRAINT fk_api_keys_namespace FOREIGN KEY (namespace) REFERENCES namespaces(name) ON DELETE CASCADE
);
CREATE INDEX ix_api_keys_namespace ON api_keys USING btree (namespace);

CREATE TABLE audit (
  id          bigint      NOT NULL DEFAULT nextval('audit_id_seq'::regclass),
  at          timestamptz NOT NULL,
  namespace   text        NOT NULL,
  actor       jsonb       NOT NULL,
  action      text        NOT NULL,
  target_kind text        NOT NULL,
  target_id   text        NOT NULL,
  details     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT pk_audit PRIMARY KEY (id)
);
CREATE INDEX ix_audit_namespace_at ON audit USING btree (namespace, at, id);

CREATE TABLE blobs (
  id         text        NOT NULL,
  namespace  text        NOT NULL,
  size       bigint      NOT NULL,
  json       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_blobs PRIMARY KEY (id)
);
CREATE INDEX idx_blobs_created_at ON blobs USING btree (created_at, id);

CREATE TABLE concurrency_slots (
  token        text        NOT NULL,
  namespace    text        NOT NULL,
  scope        text        NOT NULL,
  key          text        NOT NULL,
  run_id       text        NOT NULL,
  step_id      text        NOT NULL,
  priority     integer     NOT NULL,
  slot_limit   integer     NOT NULL,
  state        text        NOT NULL,
  requested_at timestamptz NOT NULL,
  granted_at   timestamptz,
  expires_at   timestamptz,
  strategy     text        NOT NULL DEFAULT 'queue'::text,
  CONSTRAINT pk_concurrency_slots PRIMARY KEY (token)
);
CREATE INDEX ix_concurrency_slots_expires ON concurrency_slots USING btree (state, expires_at);
CREATE INDEX ix_concurrency_slots_scope ON concurrency_slots USING btree (namespace, scope, state, key);

CREATE TABLE early_cancels (
  run_id     text        NOT NULL,
  reason     text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_early_cancels PRIMARY KEY (run_id)
);
CREATE INDEX ix_early_cancels_created_at ON early_cancels USING btree (created_at);

CREATE TABLE exception_resolutions (
  namespace   text        NOT NULL,
  kind        text        NOT NULL,
  target_id   text        NOT NULL,
  note        text        NOT NULL,
  actor       jsonb       NOT NULL,
  resolved_at timestamptz NOT NULL,
  CONSTRAINT pk_exception_resolutions PRIMARY KEY (namespace, kind, target_id)
);

CREATE TABLE namespaces (
  name       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_namespaces PRIMARY KEY (name)
);

CREATE TABLE outbox (
  id                bigint      NOT NULL DEFAULT nextval('outbox_id_seq'::regclass),
  run_id            text        NOT NULL,
  kind              text        NOT NULL,
  subject           text        NOT NULL,
  payload           jsonb       NOT NULL,
  msg_id            text        NOT NULL,
  headers           jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  claimed_until     timestamptz,
  published_at      timestamptz,
  quarantined_at    timestamptz,
  quarantine_reason text,
  CONSTRAINT pk_outbox PRIMARY KEY (id)
);
CREATE INDEX ix_outbox_quarantined ON outbox USING btree (id) WHERE (quarantined_at IS NOT NULL);
CREATE INDEX ix_outbox_unpublished ON outbox USING btree (id) WHERE (published_at IS NULL);

CREATE TABLE rate_limits (
  namespace text        NOT NULL,
  scope     text        NOT NULL,
  key       text        NOT NULL,
  tat       timestamptz NOT NULL,
  CONSTRAINT pk_rate_limits PRIMARY KEY (namespace, scope, key)
);
CREATE INDEX ix_rate_limits_tat ON rate_limits USING btree (tat);

CREATE TABLE reviews (
  id           text        NOT NULL,
  namespace    text        NOT NULL,
  run_id       text        NOT NULL,
  workflow     text        NOT NULL,
  step_id      text        NOT NULL,
  attempt      integer     NOT NULL,
  status       text        NOT NULL,
  title        text        NOT NULL,
  instructions text,
  assignees    jsonb       NOT NULL DEFAULT '[]'::jsonb,
  tier         integer     NOT NULL DEFAULT 0,
  overdue      boolean     NOT NULL DEFAULT false,
  by_rule      boolean     NOT NULL DEFAULT false,
  form         jsonb,
  output       jsonb,
  opened_at    timestamptz NOT NULL,
  deadline_at  timestamptz,
  decided_at   timestamptz,
  decision     text,
  actor        jsonb,
  comment      text,
  payload      jsonb,
  decision_id  text,
  CONSTRAINT pk_reviews PRIMARY KEY (id),
  CONSTRAINT fk_reviews_run FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE
);
CREATE INDEX ix_reviews_namespace_status ON reviews USING btree (namespace, status, opened_at, id);

CREATE TABLE run_links (
  run_id        text        NOT NULL,
  namespace     text        NOT NULL,
  kind          text        NOT NULL,
  source_run_id text        NOT NULL,
  from_step     text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_run_links PRIMARY KEY (run_id),
  CONSTRAINT fk_run_links_run FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE
);
CREATE INDEX ix_run_links_source_run_id ON run_links USING btree (source_run_id);

CREATE TABLE runs (
  id              text        NOT NULL,
  namespace       text        NOT NULL DEFAULT 'default'::text,
  workflow        text        NOT NULL,
  version         text        NOT NULL,
  status          text        NOT NULL,
  inputs          jsonb       NOT NULL,
  outputs         jsonb,
  error           jsonb,
  spec            jsonb       NOT NULL,
  plan            jsonb       NOT NULL,
  extra           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  seq             integer     NOT NULL,
  idempotency_key text,
  correlation_id  text,
  created_at      timestamptz NOT NULL,
  started_at      timestamptz,
  finished_at     timestamptz,
  deadline_at     timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_runs PRIMARY KEY (id),
  CONSTRAINT uq_runs_idempotency_key UNIQUE (namespace, idempotency_key)
) WITH (toast_tuple_target=256);
CREATE INDEX idx_runs_inputs_blob ON runs USING btree (((inputs ->> '$weftBlob'::text))) WHERE (inputs ? '$weftBlob'::text);
CREATE INDEX idx_runs_outputs_blob ON runs USING btree (((outputs ->> '$weftBlob'::text))) WHERE (outputs ? '$weftBlob'::text);
CREATE INDEX ix_runs_created_at ON runs USING btree (created_at);
CREATE INDEX ix_runs_namespace_correlation_prefix ON runs USING btree (namespace, correlation_id text_pattern_ops) WHERE (correlation_id IS NOT NULL);
CREATE INDEX ix_runs_namespace_created_at ON runs USING btree (namespace, created_at, id);
CREATE INDEX ix_runs_namespace_id_prefix ON runs USING btree (namespace, id text_pattern_ops);
CREATE INDEX ix_runs_namespace_workflow_created_at ON runs USING btree (namespace, workflow, created_at, id);
CREATE INDEX ix_runs_status_created_at ON runs USING btree (status, created_at);
CREATE INDEX ix_runs_workflow_created_at ON runs USING btree (workflow, created_at);

CREATE TABLE signal_deliveries (
  run_id      text        NOT NULL,
  step_id     text        NOT NULL,
  namespace   text        NOT NULL,
  signal_id   text        NOT NULL,
  token       text        NOT NULL,
  received_at timestamptz NOT NULL,
  CONSTRAINT pk_signal_deliveries PRIMARY KEY (run_id, step_id, signal_id),
  CONSTRAINT fk_signal_deliveries_signal FOREIGN KEY (namespace, signal_id) REFERENCES signals(namespace, id) ON DELETE CASCADE
);
CREATE INDEX ix_signal_deliveries_received_at ON signal_deliveries USING btree (received_at);

CREATE TABLE signal_waits (
  run_id        text        NOT NULL,
  step_id       text        NOT NULL,
  namespace     text        NOT NULL,
  name          text        NOT NULL,
  key           text,
  token         text        NOT NULL,
  since         timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  backlog_at    timestamptz,
  backlog_id    text,
  backlog_until timestamptz,
  CONSTRAINT pk_signal_waits PRIMARY KEY (run_id, step_id),
  CONSTRAINT fk_signal_waits_run FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE
);
CREATE INDEX ix_signal_waits_lookup ON signal_waits USING btree (namespace, name, key);

CREATE TABLE signals (
  namespace   text        NOT NULL,
  id          text        NOT NULL,
  name        text        NOT NULL,
  key         text,
  data        jsonb,
  received_at timestamptz NOT NULL,
  CONSTRAINT pk_signals PRIMARY KEY (namespace, id)
);
CREATE INDEX ix_signals_lookup ON signals USING btree (namespace, name, key, received_at);
CREATE INDEX ix_signals_received_at ON signals USING btree (received_at);

CREATE TABLE step_runs (
  run_id           text        NOT NULL,
  step_id          text        NOT NULL,
  status           text        NOT NULL,
  attempt          integer     NOT NULL,
  token            text,
  queued_at        timestamptz,
  started_at       timestamptz,
  finished_at      timestamptz,
  lease_expires_at timestamptz,
  next_attempt_at  timestamptz,
  output           jsonb,
  error            jsonb,
  attempts         jsonb       NOT NULL DEFAULT '[]'::jsonb,
  extra            jsonb       NOT NULL DEFAULT '{}'::jsonb,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_step_runs PRIMARY KEY (run_id, step_id),
  CONSTRAINT fk_step_runs_run FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE
);
CREATE INDEX idx_step_runs_output_blob ON step_runs USING btree (((output ->> '$weftBlob'::text))) WHERE (output ? '$weftBlob'::text);
CREATE INDEX ix_step_runs_status_lease ON step_runs USING btree (status, lease_expires_at);

CREATE TABLE timers (
  run_id  text        NOT NULL,
  timer   text        NOT NULL,
  step_id text        NOT NULL DEFAULT ''::text,
  attempt integer,
  fire_at timestamptz NOT NULL,
  CONSTRAINT pk_timers PRIMARY KEY (run_id, timer, step_id),
  CONSTRAINT fk_timers_run FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE
);
CREATE INDEX ix_timers_fire_at ON timers USING btree (fire_at);

CREATE TABLE workflow_versions (
  id         uuid        NOT NULL DEFAULT gen_random_uuid(),
  namespace  text        NOT NULL DEFAULT 'default'::text,
  workflow   text        NOT NULL,
  version    integer     NOT NULL,
  spec       jsonb       NOT NULL,
  hash       text        NOT NULL,
  archived   boolean     NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_workflow_versions PRIMARY KEY (id),
  CONSTRAINT fk_workflow_versions_workflow FOREIGN KEY (namespace, workflow) REFERENCES workflows(namespace, name) ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT uq_workflow_versions_hash UNIQUE (namespace, workflow, hash),
  CONSTRAINT uq_workflow_versions_version UNIQUE (namespace, workflow, version)
);

CREATE TABLE workflows (
  id                uuid        NOT NULL DEFAULT gen_random_uuid(),
  namespace         text        NOT NULL DEFAULT 'default'::text,
  name              text        NOT NULL,
  description       text,
  draft_spec        jsonb,
  draft_revision    integer     NOT NULL DEFAULT 0,
  published_version integer,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_workflows PRIMARY KEY (id),
  CONSTRAINT uq_workflows_namespace_name UNIQUE (namespace, name)
);
