import { z } from 'zod';
import { formatZoned } from '../../core/time.js';
import { defineTool } from '../tool.js';
import { assessPool, POOL_FLAGS, type PoolFlag } from './assess.js';
import { loadPools, resolvePool, type Pool } from './pool-store.js';

const nodeStatus = z.object({
  node: z.string(),
  host: z.string(),
  role: z.enum(['primary', 'standby']),
  priority: z.number().int(),
  tags: z.array(z.string()),
  healthy: z.boolean(),
  heartbeat: z.boolean(),
  holdsVip: z.boolean(),
  lastSeen: z.string().nullable(),
});

export const poolStatusSchema = z.object({
  pool: z.string(),
  name: z.string(),
  system: z.string(),
  /** The one primary; null when none or several claim it (see `flags`). */
  primary: z.string().nullable(),
  vip: z.string(),
  driver: z.enum(['simulated', 'script']).nullable(),
  arbiterReachable: z.boolean(),
  arbiterCheckedAt: z.string().nullable(),
  /** What needs attention, by the rules of pooled failover. */
  flags: z.array(z.enum(POOL_FLAGS as [PoolFlag, ...PoolFlag[]])),
  nodes: z.array(nodeStatus),
});

export type PoolStatus = z.output<typeof poolStatusSchema>;

export function poolStatus(pool: Pool, timeZone: string): PoolStatus {
  const a = assessPool(pool);
  const at = (d: Date | null) => (d ? formatZoned(d, timeZone) : null);
  return {
    pool: pool.id,
    name: pool.name,
    system: pool.system,
    primary: a.primary?.id ?? null,
    vip: pool.vip,
    driver: pool.driver,
    arbiterReachable: pool.arbiterReachable,
    arbiterCheckedAt: at(pool.arbiterCheckedAt),
    flags: a.flags,
    nodes: pool.nodes.map((n) => ({ node: n.id, host: n.host, role: n.role, priority: n.priority, tags: n.tags, healthy: n.healthy, heartbeat: n.heartbeat, holdsVip: n.holdsVip, lastSeen: at(n.lastSeen) })),
  };
}

export const failoverStatusTool = defineTool({
  name: 'failover_status',
  description: 'Failover pools (多对多池化): the primary, the VIP holder, each node\'s role, priority, health and heartbeat, the arbiter, and what needs attention. One pool (id, name or alias) or all.',
  risk: 'read',
  input: z.object({ pool: z.string().trim().min(1).optional().describe('pool id, name or alias, e.g. zd-baopan or 中登报盘; omit for every pool') }),
  output: z.object({ pools: z.array(poolStatusSchema) }),
  async run(input, ctx) {
    const pools = input.pool ? [await resolvePool(ctx.db, input.pool)] : await loadPools(ctx.db);
    const statuses = pools.map((p) => poolStatus(p, ctx.timeZone));
    const line = (s: PoolStatus) => `${s.name} (${s.pool}): primary ${s.primary ?? 'none'}${s.flags.length ? `, ${s.flags.join(', ')}` : ''}`;
    return {
      data: { pools: statuses },
      status: statuses.length ? 'success' : 'no_data',
      summary: statuses.length ? statuses.map(line).join('; ') : 'No failover pools are loaded.',
    };
  },
});
