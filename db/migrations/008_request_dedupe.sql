-- Deliveries Warroom has already accepted (db/dedupe.ts), so one that arrives again — a signed Slack
-- request replayed, Slack's or WeCom's retry of an event — is acknowledged and dropped instead of run
-- twice. Kept in the database, not in memory: it survives a restart and is shared by every Warroom
-- process on the same database. A row past expires_at may be claimed again and is pruned in passing.
-- Times are the app's clock (app.clock()), not the database's.
CREATE TABLE request_claims (
  -- What kind of delivery, e.g. 'slack:request', 'slack:event', 'wecom:<corp id>:<agent id>'.
  scope          text NOT NULL,
  -- Its identity within the scope (a digest of the signature, an event id, a MsgId…); never a secret.
  key            text NOT NULL,
  first_seen_at  timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (scope, key),
  CHECK (expires_at > first_seen_at)
);
CREATE INDEX request_claims_expires_idx ON request_claims (expires_at);
