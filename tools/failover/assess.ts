import type { Pool, PoolNode } from './pool-store.js';

/**
 * What a pool's stored facts say, by the rules of pooled failover (../shared/DOMAIN.md): exactly one
 * primary holding the VIP; a heartbeat loss with a healthy primary is no reason to switch; without
 * the arbiter only manual switching is allowed; standbys take over by priority.
 */
export type PoolFlag =
  | 'no-primary'
  | 'split-brain'
  | 'vip-not-on-primary'
  | 'primary-unhealthy'
  | 'heartbeat-lost-primary-healthy'
  | 'arbiter-unreachable'
  | 'no-healthy-standby';

export const POOL_FLAGS: readonly PoolFlag[] = ['no-primary', 'split-brain', 'vip-not-on-primary', 'primary-unhealthy', 'heartbeat-lost-primary-healthy', 'arbiter-unreachable', 'no-healthy-standby'];

export interface PoolAssessment {
  /** The primary, when exactly one node claims the role. */
  primary: PoolNode | undefined;
  primaries: PoolNode[];
  vipHolders: PoolNode[];
  /** Healthy standbys in takeover order: priority (highest first), then id. */
  candidates: PoolNode[];
  unhealthyStandbys: PoolNode[];
  flags: PoolFlag[];
}

export function byTakeoverOrder(a: PoolNode, b: PoolNode): number {
  return b.priority - a.priority || a.id.localeCompare(b.id);
}

export function assessPool(pool: Pool): PoolAssessment {
  const primaries = pool.nodes.filter((n) => n.role === 'primary');
  const primary = primaries.length === 1 ? primaries[0] : undefined;
  const vipHolders = pool.nodes.filter((n) => n.holdsVip);
  const standbys = pool.nodes.filter((n) => n.role === 'standby').sort(byTakeoverOrder);
  const candidates = standbys.filter((n) => n.healthy);
  const flags: PoolFlag[] = [];
  if (primaries.length === 0) flags.push('no-primary');
  if (primaries.length > 1) flags.push('split-brain');
  if (primary && (vipHolders.length !== 1 || vipHolders[0] !== primary)) flags.push('vip-not-on-primary');
  if (primary && !primary.healthy) flags.push('primary-unhealthy');
  if (primary && primary.healthy && !primary.heartbeat) flags.push('heartbeat-lost-primary-healthy');
  if (!pool.arbiterReachable) flags.push('arbiter-unreachable');
  if (candidates.length === 0) flags.push('no-healthy-standby');
  return { primary, primaries, vipHolders, candidates, unhealthyStandbys: standbys.filter((n) => !n.healthy), flags };
}
