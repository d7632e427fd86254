-- Pooled failover (多对多池化): pools of nodes for single-point applications with a fixed IP and port
-- (exchange and clearing links, bank front-ends). One node is primary and holds the VIP; the standbys
-- take over in priority order. Fed by import (`pools`, nodes nested) and POST /api/failover/status;
-- failover_switch updates roles and the VIP holder as its steps succeed.
CREATE TABLE failover_pools (
  id                  text PRIMARY KEY,
  name                text NOT NULL,
  aliases             text[] NOT NULL DEFAULT '{}',
  -- The system (systems.id) the pool serves; no foreign key: a pool may arrive before its system.
  system              text NOT NULL,
  -- The address that moves (e.g. 10.20.30.15 or 10.20.30.15:9100).
  vip                 text NOT NULL,
  -- How switches run for this pool; NULL: WARROOM_FAILOVER_DRIVER.
  driver              text CHECK (driver IN ('simulated', 'script')),
  -- The arbiter (split-brain guard): with it unreachable, automatic switching stops.
  arbiter_reachable   boolean NOT NULL DEFAULT true,
  arbiter_checked_at  timestamptz,
  extra               jsonb NOT NULL DEFAULT '{}',
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE failover_nodes (
  -- `pool/node`, so that re-importing a pool is an upsert per node.
  id                text PRIMARY KEY,
  pool              text NOT NULL REFERENCES failover_pools (id) ON DELETE CASCADE,
  node              text NOT NULL,
  host              text NOT NULL,
  role              text NOT NULL CHECK (role IN ('primary', 'standby')),
  -- Higher goes first among the standbys.
  priority          integer NOT NULL DEFAULT 100,
  tags              text[] NOT NULL DEFAULT '{}',
  healthy           boolean NOT NULL DEFAULT true,
  heartbeat_ok      boolean NOT NULL DEFAULT true,
  last_seen         timestamptz,
  holds_vip         boolean NOT NULL DEFAULT false,
  -- The simulated driver fails this step on this node (demos and tests); NULL: it does not.
  simulate_failure  text CHECK (simulate_failure IN ('start-service', 'health-check')),
  extra             jsonb NOT NULL DEFAULT '{}',
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (pool, node)
);
