-- Warroom schema, version 1. The same SQL runs on PostgreSQL (with pgvector) and PGlite.
-- Records imported from other systems keep fields we do not model in `extra`, so export
-- gives back what was imported.

CREATE EXTENSION IF NOT EXISTS vector;

-- CMDB subset: the systems people ask about, with their dependencies (upstream systems this one calls).
CREATE TABLE systems (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  aliases     text[] NOT NULL DEFAULT '{}',
  tier        text CHECK (tier IN ('S', 'A', 'B', 'C')),
  depends_on  text[] NOT NULL DEFAULT '{}',
  owners      jsonb NOT NULL DEFAULT '{}',
  extra       jsonb NOT NULL DEFAULT '{}',
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE people (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  slack       text,
  wecom       text,
  roles       text[] NOT NULL DEFAULT '{}',
  extra       jsonb NOT NULL DEFAULT '{}',
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX people_slack_idx ON people (slack) WHERE slack IS NOT NULL;
CREATE UNIQUE INDEX people_wecom_idx ON people (wecom) WHERE wecom IS NOT NULL;

-- On-call shifts. The key is derived from its parts so that re-importing a shift is an upsert.
CREATE TABLE oncall (
  id          text PRIMARY KEY,
  system      text NOT NULL,
  role        text NOT NULL,
  person      text NOT NULL,
  starts_at   timestamptz,
  ends_at     timestamptz,
  extra       jsonb NOT NULL DEFAULT '{}',
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oncall_system_idx ON oncall (system, role);

-- Change tickets (ITSM / CAB).
CREATE TABLE changes (
  id             text PRIMARY KEY,
  title          text NOT NULL,
  system         text NOT NULL,
  risk           text CHECK (risk IN ('low', 'medium', 'high')),
  status         text,
  planned_start  timestamptz,
  planned_end    timestamptz,
  executor       text,
  reviewer       text,
  objects        text[] NOT NULL DEFAULT '{}',
  rollback_plan  text,
  extra          jsonb NOT NULL DEFAULT '{}',
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_system_start_idx ON changes (system, planned_start);

-- Change operation events: when, in what scene, who, where (system + environment), what action, on what object.
CREATE TABLE change_events (
  id           text PRIMARY KEY,
  at           timestamptz NOT NULL,
  scene        text,
  operator     text NOT NULL,
  system       text NOT NULL,
  environment  text,
  action       text NOT NULL,
  object       text NOT NULL,
  change_id    text,
  source       text,
  extra        jsonb NOT NULL DEFAULT '{}',
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_events_system_at_idx ON change_events (system, at);
CREATE INDEX change_events_change_idx ON change_events (change_id);

CREATE TABLE alerts (
  id           text PRIMARY KEY,
  fingerprint  text,
  system       text NOT NULL,
  severity     text NOT NULL,
  title        text NOT NULL,
  starts_at    timestamptz NOT NULL,
  ends_at      timestamptz,
  labels       jsonb NOT NULL DEFAULT '{}',
  -- Repeats of the same fingerprint raise the count instead of adding rows.
  repeat_count integer NOT NULL DEFAULT 1,
  last_seen_at timestamptz,
  extra        jsonb NOT NULL DEFAULT '{}',
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_system_starts_idx ON alerts (system, starts_at);
CREATE INDEX alerts_fingerprint_idx ON alerts (fingerprint);

CREATE TABLE incidents (
  id            text PRIMARY KEY,
  title         text NOT NULL,
  system        text NOT NULL,
  severity      text NOT NULL CHECK (severity IN ('P0', 'P1', 'P2', 'P3')),
  status        text NOT NULL DEFAULT 'investigating'
                CHECK (status IN ('investigating', 'identified', 'mitigated', 'resolved')),
  opened_at     timestamptz NOT NULL,
  resolved_at   timestamptz,
  summary       text,
  impact        text,
  root_cause    text,
  resolution    text,
  change_ids    text[] NOT NULL DEFAULT '{}',
  -- Times each stage was reached (discover → respond → localize → recover), for stage timers and reports.
  stages        jsonb NOT NULL DEFAULT '{}',
  room          jsonb,
  extra         jsonb NOT NULL DEFAULT '{}',
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_open_idx ON incidents (status, opened_at);

CREATE TABLE incident_roles (
  incident_id  text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  role         text NOT NULL,
  person       text NOT NULL,
  assigned_by  text,
  assigned_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, role)
);

CREATE TABLE incident_timeline (
  id           bigserial PRIMARY KEY,
  incident_id  text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text,
  kind         text NOT NULL,
  text         text NOT NULL,
  data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_timeline_incident_idx ON incident_timeline (incident_id, at);

-- Runbooks and their heading-level chunks. The embedding dimension depends on the embedder, so the
-- column is unconstrained here and the vector index is built per dimension by the knowledge base.
CREATE TABLE runbooks (
  id            text PRIMARY KEY,
  title         text NOT NULL,
  systems       text[] NOT NULL DEFAULT '{}',
  tags          text[] NOT NULL DEFAULT '{}',
  source        text NOT NULL,
  content_hash  text NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runbook_chunks (
  id            text PRIMARY KEY,
  runbook_id    text NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
  ord           integer NOT NULL,
  section       text NOT NULL,
  heading_path  text[] NOT NULL DEFAULT '{}',
  content       text NOT NULL,
  search_text   text NOT NULL DEFAULT '',
  embedder      text,
  embedding     vector
);
CREATE INDEX runbook_chunks_runbook_idx ON runbook_chunks (runbook_id, ord);

-- Perception-factor snapshots of a host (or database, or cluster) at a moment.
CREATE TABLE snapshots (
  id          text PRIMARY KEY,
  host        text NOT NULL,
  taken_at    timestamptz NOT NULL,
  label       text,
  change_id   text,
  factors     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX snapshots_host_idx ON snapshots (host, taken_at);
CREATE INDEX snapshots_change_idx ON snapshots (change_id);

-- Write or high-risk tool calls waiting for, or past, human approval.
CREATE TABLE action_requests (
  id            text PRIMARY KEY,
  tool          text NOT NULL,
  input         jsonb NOT NULL,
  risk          text NOT NULL CHECK (risk IN ('write', 'high')),
  requested_by  text NOT NULL,
  incident_id   text,
  room          jsonb,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
  approvals     jsonb NOT NULL DEFAULT '[]',
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  decided_at    timestamptz,
  finished_at   timestamptz,
  result        jsonb,
  error         text
);
CREATE INDEX action_requests_status_idx ON action_requests (status, created_at);

-- Audit log: append-only, each row chained to the previous by hash so an edit shows.
CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  target     text,
  outcome    text NOT NULL,
  detail     jsonb NOT NULL DEFAULT '{}',
  prev_hash  text NOT NULL,
  hash       text NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
