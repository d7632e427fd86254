-- Change intelligence, version 3: user noise rules for perception-factor diffs, and the snapshot
-- fields that pair and explain snapshots.

-- "One-click denoise": a diff entry whose factor id and key both match these globs is left out of
-- every later diff and counted under `suppressedBy["rule:<id>"]`. Globs: `*` any run of characters,
-- `?` one character, everything else literal; the key is matched as the diff shows it (after the
-- builtin rules, e.g. ephemeral ports already read as `*`).
CREATE TABLE noise_rules (
  id           bigserial PRIMARY KEY,
  factor       text NOT NULL CHECK (length(factor) BETWEEN 1 AND 200),
  key_pattern  text NOT NULL CHECK (length(key_pattern) BETWEEN 1 AND 1000),
  reason       text,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (factor, key_pattern)
);

-- Snapshots carry the role and environment of the host (to compare test with production of the
-- same role) and the sensors that could not run, with why (so a diff says "not compared" instead
-- of "everything removed").
ALTER TABLE snapshots ADD COLUMN role text;
ALTER TABLE snapshots ADD COLUMN environment text;
ALTER TABLE snapshots ADD COLUMN skipped jsonb NOT NULL DEFAULT '{}';
CREATE INDEX snapshots_role_idx ON snapshots (role, taken_at);
