-- Approved actions. A write or high-risk tool call is stored here first (pending), shown with
-- Approve/Reject buttons, decided by people the policy allows, and only then run by a worker.
ALTER TABLE action_requests
  ADD COLUMN reason text,
  -- The plan preview shown before anyone approves: {summary, steps: [{id, title}], notes, system}.
  ADD COLUMN plan jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- The system the action touches (who is on call to approve it).
  ADD COLUMN system text,
  ADD COLUMN lang text NOT NULL DEFAULT 'zh',
  -- Distinct approvers needed, fixed when requested (risk, plus one in a trading session).
  ADD COLUMN approvals_needed integer NOT NULL DEFAULT 1,
  -- Why it needs that many ("high: 2", "+1 trading session").
  ADD COLUMN approvals_rule text,
  -- The request card in the room, updated after each decision and with the job's progress.
  ADD COLUMN message jsonb,
  -- Who rejected or cancelled it, and why.
  ADD COLUMN decided_by text,
  ADD COLUMN decision_note text,
  ADD COLUMN cancel_requested_at timestamptz,
  ADD COLUMN started_at timestamptz,
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE INDEX action_requests_incident_idx ON action_requests (incident_id, created_at);

-- Steps of a running action, recorded before and after each runs: a worker that dies mid-way
-- resumes at the recorded step (a step that is not idempotent is run again only when its probe
-- says it did not take effect).
CREATE TABLE action_steps (
  action_id    text NOT NULL REFERENCES action_requests (id) ON DELETE CASCADE,
  step         text NOT NULL,
  seq          integer NOT NULL,
  title        text NOT NULL,
  idempotent   boolean NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  result       jsonb,
  error        text,
  progress     text,
  PRIMARY KEY (action_id, step)
);

-- The outbox between approval and the queue: written in the approval's transaction, removed once
-- the job is on the queue. A crash (or Redis away) between the two leaves the row, and the sweeper
-- enqueues it later; the job id is the action id, so enqueuing twice still runs once.
CREATE TABLE action_outbox (
  action_id    text PRIMARY KEY REFERENCES action_requests (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text
);

-- Every message that carries a request's buttons (the room's card, cards sent directly to approvers):
-- a button press counts only from one of them, so a payload naming another room's request is refused.
CREATE TABLE action_messages (
  action_id   text NOT NULL REFERENCES action_requests (id) ON DELETE CASCADE,
  platform    text NOT NULL,
  room_id     text NOT NULL,
  message_id  text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('card', 'direct')),
  PRIMARY KEY (action_id, platform, room_id, message_id)
);
