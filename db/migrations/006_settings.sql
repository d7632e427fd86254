-- Small named facts about this store that are not domain data, e.g. which week the demo was moved to
-- (so loading the demo again updates it in place instead of adding a second copy in another week).
CREATE TABLE settings (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
