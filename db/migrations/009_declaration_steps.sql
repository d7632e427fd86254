-- Declarations as durable steps. A declaration records the incident, then opens its room, invites,
-- posts the card (and the commander's card where rooms carry no buttons), pins it and announces
-- it; each completed step is written here as it happens, so a process that dies half-way is
-- resumed from the last completed step (at start and by the timers) instead of leaving an
-- incident without a room or a room without an incident. Incidents declared before this table
-- have no row and count as finished.
CREATE TABLE incident_declarations (
  incident_id  text PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
  -- The platform the room opens on; NULL when none was connected (nothing left to do).
  platform     text,
  -- The room's name (unique: it carries the incident id) and a random key fixed at record time:
  -- WeCom uses it as the chat id, so a retried create finds the chat instead of making a second.
  room_name    text NOT NULL,
  room_key     text NOT NULL,
  -- Warroom person ids to bring into the room, the commander first, as decided at record time.
  members      text[] NOT NULL DEFAULT '{}',
  -- The onset the declarer gave (`--since`), for the localization card.
  onset        timestamptz,
  -- Completed steps: {"room": {"at": "…", …}, "card": {…}, …}.
  steps        jsonb NOT NULL DEFAULT '{}'::jsonb,
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  -- Wall-clock time of the row (the database's), to tell a room this declaration made from an
  -- older one with the same name on the chat platform.
  created_at   timestamptz NOT NULL DEFAULT now(),
  done_at      timestamptz
);
CREATE INDEX incident_declarations_pending_idx ON incident_declarations (created_at) WHERE done_at IS NULL;
