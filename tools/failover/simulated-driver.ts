import { performance } from 'node:perf_hooks';
import type { Queryable } from '../../db/db.js';
import type { DriverOutcome, FailoverDriver, FailoverTarget } from './driver.js';
import { updateNode, type SimulatedFailure } from './pool-store.js';

export interface SimulatedDriverOptions {
  /** Pause per action, so a demo's progress can be watched; default none. */
  delayMs?: number;
}

/**
 * The demo's driver: the VIP holder lives in the store (`holds_vip`), services always start and
 * answer, except on a node whose `simulate_failure` names the step that should fail there.
 */
export function createSimulatedDriver(db: Queryable, options: SimulatedDriverOptions = {}): FailoverDriver {
  const pause = () => (options.delayMs ? new Promise((r) => setTimeout(r, options.delayMs)) : Promise.resolve());
  const facts = async (t: FailoverTarget) =>
    (await db.query<{ healthy: boolean; simulate_failure: SimulatedFailure | null }>('SELECT healthy, simulate_failure FROM failover_nodes WHERE pool = $1 AND node = $2', [t.pool, t.node]))[0];
  const act = async (what: (t: FailoverTarget) => Promise<string | undefined>, t: FailoverTarget): Promise<DriverOutcome> => {
    const started = performance.now();
    await pause();
    const failure = await what(t);
    return { ok: failure === undefined, detail: failure ?? 'done (simulated)', durationMs: Math.round(performance.now() - started) };
  };
  return {
    kind: 'simulated',
    releaseVip: (t) => act(async () => ((await updateNode(db, t.pool, t.node, { holdsVip: false })) ? undefined : `no node ${t.node}`), t),
    stopService: (t) => act(async () => undefined, t),
    acquireVip: (t) => act(async () => ((await updateNode(db, t.pool, t.node, { holdsVip: true })) ? undefined : `no node ${t.node}`), t),
    startService: (t) => act(async () => ((await facts(t))?.simulate_failure === 'start-service' ? `the service on ${t.node} did not start (simulated failure)` : undefined), t),
    healthCheck: (t) =>
      act(async () => {
        const f = await facts(t);
        if (!f?.healthy) return `${t.node} is reported unhealthy`;
        return f.simulate_failure === 'health-check' ? `${t.node} does not answer through the VIP (simulated failure)` : undefined;
      }, t),
    async whoHoldsVip(p) {
      return (await db.query<{ node: string }>('SELECT node FROM failover_nodes WHERE pool = $1 AND holds_vip ORDER BY node', [p.pool])).map((r) => r.node);
    },
  };
}
