import { WarroomError } from '../../core/errors.js';
import { assessPool } from './assess.js';
import type { DriverKind, Pool, PoolNode } from './pool-store.js';

export interface NodeRef {
  node: string;
  host: string;
}

/**
 * The pre-checks' verdict: who hands over, who takes over in which order, and what people should
 * know. JSON-serialisable: the `precheck` step records it, and a resumed run follows the same plan.
 */
export interface SwitchPlan {
  pool: string;
  poolName: string;
  system: string;
  vip: string;
  driver: DriverKind;
  /** The primary that hands over; null when the pool has none (nothing to release, nothing to roll back to). */
  from: (NodeRef & { healthy: boolean }) | null;
  /** Healthy standbys in the order they are tried (the named `to` first). */
  targets: NodeRef[];
  notes: string[];
}

const ref = (n: PoolNode): NodeRef => ({ node: n.id, host: n.host });
const label = (pool: Pool) => `${pool.name} (${pool.id})`;

/**
 * The pre-checks of failover_switch, over the pool's stored facts. Throws a WarroomError that says
 * why when the switch must not happen.
 *
 * The arbiter: DOMAIN says that with the arbiter gone automatic switching stops and only manual
 * switching is allowed. A failover_switch is manual (people requested and approved it), so it is
 * allowed, with a note asking them to make sure the old primary is really down or fenced, since
 * nothing arbitrates a split brain.
 */
export function planSwitch(pool: Pool, input: { to?: string | undefined }, driver: DriverKind): SwitchPlan {
  const a = assessPool(pool);
  if (a.primaries.length > 1) {
    throw new WarroomError('failover_split_brain', `${label(pool)}: ${a.primaries.map((n) => n.id).join(' and ')} all claim the primary role (split brain); not switching.`, {
      hint: 'Resolve it first: the higher-priority original primary stays and the others step down. Then report the roles (POST /api/failover/status) and ask again.',
    });
  }
  const primary = a.primary;
  if (primary && primary.healthy && !primary.heartbeat) {
    throw new WarroomError(
      'failover_heartbeat_only',
      `心跳丢失但主节点 ${primary.id} 健康：不切换，通知备机不要接管，请人工处理。Heartbeat lost but the primary ${primary.id} of ${label(pool)} is healthy: do not switch. Tell the standbys not to take over and page a human.`,
      { hint: 'A heartbeat loss alone is not a reason to switch: check the heartbeat link and the primary by hand. Switch only once the primary itself is abnormal.' },
    );
  }
  let targets = a.candidates;
  if (input.to !== undefined) {
    const wanted = input.to.trim().toLowerCase();
    const to = pool.nodes.find((n) => n.id.toLowerCase() === wanted || n.host.toLowerCase() === wanted);
    if (!to) {
      throw new WarroomError('unknown_node', `${label(pool)} has no node "${input.to}".`, { hint: `Its nodes: ${pool.nodes.map((n) => `${n.id} (${n.role})`).join(', ')}.` });
    }
    if (to.role === 'primary') throw new WarroomError('failover_already_primary', `${to.id} is already the primary of ${label(pool)}: nothing to switch.`);
    if (!to.healthy) {
      throw new WarroomError('failover_target_unhealthy', `${to.id} is not healthy: it cannot take over ${label(pool)}.`, {
        hint: a.candidates.length ? `Healthy standbys: ${a.candidates.map((n) => n.id).join(', ')}; or leave out the target to take them in priority order.` : 'No standby of the pool is healthy.',
      });
    }
    targets = [to, ...a.candidates.filter((n) => n !== to)];
  }
  if (targets.length === 0) {
    throw new WarroomError('failover_no_standby', `${label(pool)} has no healthy standby: nothing can take over.`, {
      hint: a.unhealthyStandbys.length ? `Unhealthy standbys: ${a.unhealthyStandbys.map((n) => n.id).join(', ')}. Repair one, report it healthy, and ask again.` : 'Add a standby to the pool.',
    });
  }

  const notes: string[] = [];
  const [first, ...fallbacks] = targets.map((n) => n.id);
  if (fallbacks.length) notes.push(`If ${first} fails, then ${fallbacks.join(', then ')}${primary ? `; if none takes over, roll back to ${primary.id}` : ''}.`);
  else if (primary) notes.push(`If ${first} fails, roll back to ${primary.id}.`);
  for (const n of a.unhealthyStandbys) notes.push(`Standby ${n.id} is unhealthy: skipped.`);
  if (!primary) notes.push('The pool has no primary: nothing to release, and nothing to roll back to if no standby takes over.');
  else if (primary.healthy) notes.push(`The primary ${primary.id} is healthy: this is a planned switch; its service stops during the switch.`);
  else notes.push(`The primary ${primary.id} is unhealthy: if its VIP cannot be released but it no longer holds it, the switch goes on; make sure ${primary.id} is down or fenced.`);
  if (!pool.arbiterReachable) {
    notes.push('The arbiter is unreachable: automatic switching is off, and this approved switch is a manual one. Nothing guards against split brain: confirm the old primary is down or fenced before approving.');
  }
  if (driver === 'simulated') notes.push('Simulated driver: the store changes, nothing on real hosts does.');

  return {
    pool: pool.id,
    poolName: pool.name,
    system: pool.system,
    vip: pool.vip,
    driver,
    from: primary ? { ...ref(primary), healthy: primary.healthy } : null,
    targets: targets.map(ref),
    notes,
  };
}
