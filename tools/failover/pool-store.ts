import { WarroomError } from '../../core/errors.js';
import type { Queryable } from '../../db/db.js';

/** Failover pools as stored (db/migrations/011_failover_pools.sql), read and updated by the failover tools. */
export type NodeRole = 'primary' | 'standby';
export type DriverKind = 'simulated' | 'script';
export type SimulatedFailure = 'start-service' | 'health-check';

export interface PoolNode {
  id: string;
  host: string;
  role: NodeRole;
  priority: number;
  tags: string[];
  healthy: boolean;
  heartbeat: boolean;
  lastSeen: Date | null;
  holdsVip: boolean;
  simulateFailure: SimulatedFailure | null;
}

export interface Pool {
  id: string;
  name: string;
  aliases: string[];
  system: string;
  vip: string;
  /** The pool's own driver; null: WARROOM_FAILOVER_DRIVER. */
  driver: DriverKind | null;
  arbiterReachable: boolean;
  arbiterCheckedAt: Date | null;
  /** Primary first, then the standbys by priority (highest first), then id. */
  nodes: PoolNode[];
}

interface PoolRow {
  id: string;
  name: string;
  aliases: string[];
  system: string;
  vip: string;
  driver: DriverKind | null;
  arbiter_reachable: boolean;
  arbiter_checked_at: Date | string | null;
}

interface NodeRow {
  pool: string;
  node: string;
  host: string;
  role: NodeRole;
  priority: number;
  tags: string[];
  healthy: boolean;
  heartbeat_ok: boolean;
  last_seen: Date | string | null;
  holds_vip: boolean;
  simulate_failure: SimulatedFailure | null;
}

const toDate = (v: Date | string | null): Date | null => (v === null ? null : v instanceof Date ? v : new Date(v));

function toNode(r: NodeRow): PoolNode {
  return {
    id: r.node,
    host: r.host,
    role: r.role,
    priority: Number(r.priority),
    tags: r.tags,
    healthy: r.healthy,
    heartbeat: r.heartbeat_ok,
    lastSeen: toDate(r.last_seen),
    holdsVip: r.holds_vip,
    simulateFailure: r.simulate_failure,
  };
}

/** Every pool with its nodes, ordered by id. */
export async function loadPools(db: Queryable, ids?: string[]): Promise<Pool[]> {
  const where = ids ? 'WHERE id = ANY($1::text[])' : '';
  const pools = await db.query<PoolRow & Record<string, unknown>>(
    `SELECT id, name, aliases, system, vip, driver, arbiter_reachable, arbiter_checked_at FROM failover_pools ${where} ORDER BY id`,
    ids ? [ids] : [],
  );
  const nodes = await db.query<NodeRow & Record<string, unknown>>(
    `SELECT pool, node, host, role, priority, tags, healthy, heartbeat_ok, last_seen, holds_vip, simulate_failure FROM failover_nodes
     ${ids ? 'WHERE pool = ANY($1::text[])' : ''} ORDER BY pool, (role = 'primary') DESC, priority DESC, node`,
    ids ? [ids] : [],
  );
  return pools.map((p) => ({
    id: p.id,
    name: p.name,
    aliases: p.aliases,
    system: p.system,
    vip: p.vip,
    driver: p.driver,
    arbiterReachable: p.arbiter_reachable,
    arbiterCheckedAt: toDate(p.arbiter_checked_at),
    nodes: nodes.filter((n) => n.pool === p.id).map(toNode),
  }));
}

export async function loadPool(db: Queryable, id: string): Promise<Pool> {
  const [pool] = await loadPools(db, [id]);
  if (!pool) throw new WarroomError('unknown_pool', `Failover pool "${id}" is no longer in the store.`, { status: 404 });
  return pool;
}

const norm = (s: string) => s.trim().toLowerCase();

/** The pool a person means (id, name or alias, any case); otherwise an error listing the pools there are. */
export async function resolvePool(db: Queryable, name: string): Promise<Pool> {
  const pools = await loadPools(db);
  const wanted = norm(name);
  const found = pools.find((p) => [p.id, p.name, ...p.aliases].some((n) => norm(n) === wanted));
  if (found) return found;
  const known = pools.map((p) => `${p.name} (${p.id})`);
  throw new WarroomError('unknown_pool', `No failover pool matches "${name}".`, {
    status: 404,
    hint: known.length ? `Known pools: ${known.join(', ')}.` : 'No failover pools are loaded: import them (`pools` in the import format) or run `warroom demo`.',
    details: { knownPools: pools.map((p) => p.id) },
  });
}

export interface NodePatch {
  role?: NodeRole;
  healthy?: boolean;
  heartbeat?: boolean;
  holdsVip?: boolean;
  lastSeen?: Date;
}

const NODE_COLUMNS: Record<keyof NodePatch, string> = { role: 'role', healthy: 'healthy', heartbeat: 'heartbeat_ok', holdsVip: 'holds_vip', lastSeen: 'last_seen' };

/** Change some facts of one node; returns false when the pool has no such node. */
export async function updateNode(db: Queryable, pool: string, node: string, patch: NodePatch): Promise<boolean> {
  const sets: string[] = [];
  const values: unknown[] = [pool, node];
  for (const [key, column] of Object.entries(NODE_COLUMNS) as Array<[keyof NodePatch, string]>) {
    const value = patch[key];
    if (value === undefined) continue;
    values.push(value instanceof Date ? value.toISOString() : value);
    sets.push(`${column} = $${values.length}`);
  }
  if (sets.length === 0) return (await db.query('SELECT 1 FROM failover_nodes WHERE pool = $1 AND node = $2', [pool, node])).length > 0;
  const rows = await db.query(`UPDATE failover_nodes SET ${sets.join(', ')}, updated_at = now() WHERE pool = $1 AND node = $2 RETURNING node`, values);
  return rows.length > 0;
}

/** After a takeover: `node` is the one primary and the one VIP holder of its pool. */
export async function makePrimary(db: Queryable, pool: string, node: string): Promise<void> {
  await db.query(
    `UPDATE failover_nodes SET role = CASE WHEN node = $2 THEN 'primary' ELSE 'standby' END, holds_vip = (node = $2), updated_at = now() WHERE pool = $1`,
    [pool, node],
  );
}

export async function setArbiter(db: Queryable, pool: string, reachable: boolean, at: Date): Promise<void> {
  await db.query('UPDATE failover_pools SET arbiter_reachable = $2, arbiter_checked_at = $3, updated_at = now() WHERE id = $1', [pool, reachable, at.toISOString()]);
}
