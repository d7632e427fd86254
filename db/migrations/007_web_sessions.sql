-- Sign-in for the local web chat at /chat (bot/platforms/local/sessions.ts). `warroom start` and
-- `warroom demo` print a one-time sign-in link; opening it makes a session whose cookie the browser
-- keeps. Only SHA-256 hashes of the link tokens and session ids are stored, so reading this table
-- does not let anyone sign in.

CREATE TABLE web_sign_in_tokens (
  token_hash  text PRIMARY KEY,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  -- Set when the link was opened: a link works once.
  used_at     timestamptz
);

CREATE TABLE web_sessions (
  id_hash     text PRIMARY KEY,
  -- The Warroom person (people.id) the session acts as; chosen by the signed-in operator, NULL until then.
  person      text,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);
