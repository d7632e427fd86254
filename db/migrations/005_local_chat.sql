-- The local web chat at /chat (bot/platforms/local.ts): rooms, their members and messages, kept in
-- the database so a conversation survives a restart. Person ids are Warroom `people` ids, not foreign
-- keys: people can be re-imported without touching the chat history.

CREATE TABLE local_rooms (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('dm', 'channel', 'incident')),
  topic       text NOT NULL DEFAULT '',
  -- For a 'dm' room: the person talking to the bot in it (one DM room per person).
  dm_of       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'dm') = (dm_of IS NOT NULL))
);
CREATE UNIQUE INDEX local_rooms_dm_idx ON local_rooms (dm_of) WHERE dm_of IS NOT NULL;

CREATE TABLE local_room_members (
  room_id    text NOT NULL REFERENCES local_rooms (id) ON DELETE CASCADE,
  person     text NOT NULL,
  joined_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, person)
);
CREATE INDEX local_room_members_person_idx ON local_room_members (person);

CREATE TABLE local_messages (
  id          bigserial PRIMARY KEY,
  room_id     text NOT NULL REFERENCES local_rooms (id) ON DELETE CASCADE,
  -- A person id, or 'warroom' for the bot.
  author      text NOT NULL,
  -- The neutral OutgoingMessage (bot/messages.ts); a person's line is {"text": "..."}.
  message     jsonb NOT NULL,
  -- Set for a message only one person sees (a private reply); NULL means everyone in the room.
  private_to  text,
  pinned      boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX local_messages_room_idx ON local_messages (room_id, id);
CREATE INDEX local_messages_pinned_idx ON local_messages (room_id) WHERE pinned;
