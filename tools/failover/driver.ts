import type { DriverKind } from './pool-store.js';

/** One node of one pool, as a driver acts on it. */
export interface FailoverTarget {
  pool: string;
  node: string;
  host: string;
  vip: string;
}

/** What one driver action did: recorded in the step result, so `output` is a short tail. */
export interface DriverOutcome {
  ok: boolean;
  /** One line for people: "exit 0", "exit 7: connection refused", "timed out after 30 s". */
  detail: string;
  /** The end of stdout/stderr, when the action ran a command. */
  output?: string;
  durationMs: number;
}

/**
 * How failover steps touch the world. `simulated` keeps the state in the store (the demo);
 * `script` runs configured commands (tools/failover/script-driver.ts). A failed action resolves
 * with `ok: false`; only `whoHoldsVip` throws, when it cannot tell.
 */
export interface FailoverDriver {
  readonly kind: DriverKind;
  releaseVip(target: FailoverTarget, signal?: AbortSignal): Promise<DriverOutcome>;
  stopService(target: FailoverTarget, signal?: AbortSignal): Promise<DriverOutcome>;
  acquireVip(target: FailoverTarget, signal?: AbortSignal): Promise<DriverOutcome>;
  startService(target: FailoverTarget, signal?: AbortSignal): Promise<DriverOutcome>;
  healthCheck(target: FailoverTarget, signal?: AbortSignal): Promise<DriverOutcome>;
  /** The nodes holding the pool's VIP now, as the world says (the probe of the VIP steps). */
  whoHoldsVip(pool: { pool: string; vip: string }, signal?: AbortSignal): Promise<string[]>;
}
