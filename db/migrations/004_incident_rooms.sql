-- Incident rooms: declaration, the messages the bot posted for an incident, status-update drafts,
-- stage-timer nudges and the stored postmortem.

-- INC-YYYYMMDD-NNN: one counter per calendar day (in the configured time zone), taken atomically.
CREATE TABLE incident_counters (
  day  text PRIMARY KEY,
  n    integer NOT NULL
);

ALTER TABLE incidents ADD COLUMN declared_by text;
ALTER TABLE incidents ADD COLUMN postmortem text;
-- The incident a room belongs to: commands typed in a room act on its incident.
CREATE INDEX incidents_room_idx ON incidents ((room ->> 'platform'), (room ->> 'id'));

-- The incident an alert opened or was attached to; repeats of its fingerprint only raise the count.
ALTER TABLE alerts ADD COLUMN incident_id text;

-- Messages the bot posted for an incident (the pinned card, announcements, drafts), to update them later.
CREATE TABLE incident_messages (
  incident_id  text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('card', 'announcement', 'draft', 'nudge')),
  platform     text NOT NULL,
  room_id      text NOT NULL,
  message_id   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, kind, platform, room_id, message_id)
);

-- Status updates: drafted by Warroom for the communications lead, then posted (possibly edited).
CREATE TABLE incident_updates (
  id           bigserial PRIMARY KEY,
  incident_id  text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  status       text NOT NULL CHECK (status IN ('drafted', 'posted', 'discarded')),
  text         text NOT NULL,
  drafted_at   timestamptz NOT NULL,
  posted_at    timestamptz,
  posted_by    text
);
CREATE INDEX incident_updates_incident_idx ON incident_updates (incident_id, drafted_at);

-- One nudge per overrun stage, so the timer loop never nags twice for the same thing.
CREATE TABLE incident_nudges (
  incident_id  text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  stage        text NOT NULL,
  at           timestamptz NOT NULL,
  PRIMARY KEY (incident_id, stage)
);
