import { errorMessage } from '../../core/errors.js';
import type { Queryable } from '../../db/db.js';
import type { DriverOutcome, FailoverDriver, FailoverTarget } from './driver.js';
import { loadPool } from './pool-store.js';

/** What one step did, as recorded (JSON): a failed action is an outcome the run decides on, not a crash. */
export interface StepOutcome {
  ok: boolean;
  detail: string;
  output?: string;
  /** After a failed release: does the node still hold the VIP (undefined: could not tell)? */
  holdsVip?: boolean;
  /** Found done by the probe after an interruption, not run again. */
  probed?: boolean;
}

const joinOutput = (...outs: Array<string | undefined>) => outs.filter(Boolean).join('\n').slice(-2000) || undefined;

function outcome(ok: boolean, detail: string, ...outs: Array<string | undefined>): StepOutcome {
  const output = joinOutput(...outs);
  return { ok, detail, ...(output ? { output } : {}) };
}

async function holders(driver: FailoverDriver, t: FailoverTarget, signal?: AbortSignal): Promise<string[] | undefined> {
  try {
    return await driver.whoHoldsVip({ pool: t.pool, vip: t.vip }, signal);
  } catch {
    return undefined;
  }
}

const failed = (what: string, r: DriverOutcome) => `${what}: ${r.detail}`;

/**
 * Hand over: release the VIP, then stop the service (traffic leaves before the service goes).
 * Both are attempted; on a failure the result says whether the node still holds the VIP. A release
 * that fails because the node no longer holds the VIP (already released) has reached its goal.
 */
export async function releaseAndStop(driver: FailoverDriver, t: FailoverTarget, signal?: AbortSignal): Promise<StepOutcome> {
  const release = await driver.releaseVip(t, signal);
  const stop = await driver.stopService(t, signal);
  if (release.ok && stop.ok) return outcome(true, `VIP released, service stopped on ${t.node}`, release.output, stop.output);
  const held = (await holders(driver, t, signal))?.includes(t.node);
  if (stop.ok && held === false) return outcome(true, `${t.node} no longer holds the VIP (${failed('release VIP', release)}); service stopped`, release.output, stop.output);
  const detail = [!release.ok && failed('release VIP', release), !stop.ok && failed('stop service', stop)].filter(Boolean).join('; ');
  return { ...outcome(false, detail, release.output, stop.output), ...(held === undefined ? {} : { holdsVip: held }) };
}

/** A target that did not take over: give the VIP back if it holds it; stopping its service is best effort. */
export async function cleanUpTarget(driver: FailoverDriver, t: FailoverTarget, signal?: AbortSignal): Promise<StepOutcome> {
  const held = await holders(driver, t, signal);
  const release = held?.includes(t.node) !== false ? await driver.releaseVip(t, signal) : undefined;
  const stop = await driver.stopService(t, signal);
  const stillHeld = release && !release.ok ? (await holders(driver, t, signal))?.includes(t.node) : false;
  const notes = [release ? (release.ok ? 'VIP released' : failed('release VIP', release)) : 'did not hold the VIP', stop.ok ? 'service stopped' : failed('stop service', stop)];
  return { ...outcome(stillHeld === false, notes.join('; '), release?.output, stop.output), ...(stillHeld === undefined ? {} : { holdsVip: stillHeld }) };
}

/** Take over: start the service, then move the VIP to it (the service is ready before traffic arrives). */
export async function startAndAcquire(driver: FailoverDriver, t: FailoverTarget, signal?: AbortSignal): Promise<StepOutcome> {
  const start = await driver.startService(t, signal);
  if (!start.ok) return outcome(false, failed('start service', start), start.output);
  const acquire = await driver.acquireVip(t, signal);
  if (!acquire.ok) return outcome(false, failed('acquire VIP', acquire), start.output, acquire.output);
  return outcome(true, `service started, VIP on ${t.node}`, start.output, acquire.output);
}

/** After a switch, exactly one node holds the primary role and the VIP: in the store and as the driver sees it. */
export async function verifySinglePrimary(db: Queryable, driver: FailoverDriver, t: FailoverTarget, signal?: AbortSignal): Promise<StepOutcome> {
  const pool = await loadPool(db, t.pool);
  const primaries = pool.nodes.filter((n) => n.role === 'primary').map((n) => n.id);
  let seen: string[];
  try {
    seen = await driver.whoHoldsVip({ pool: t.pool, vip: t.vip }, signal);
  } catch (err) {
    return outcome(false, `cannot tell who holds the VIP: ${errorMessage(err)}`);
  }
  const only = (list: string[]) => list.length === 1 && list[0] === t.node;
  const detail = `primary: ${primaries.join(', ') || 'none'}; VIP held by: ${seen.join(', ') || 'none'}`;
  return outcome(only(primaries) && only(seen), only(primaries) && only(seen) ? `${t.node} alone is primary and holds the VIP` : detail);
}

export async function checkHealth(driver: FailoverDriver, t: FailoverTarget, signal?: AbortSignal): Promise<StepOutcome> {
  const r = await driver.healthCheck(t, signal);
  return outcome(r.ok, r.ok ? `${t.node} answers` : failed('health check', r), r.output);
}

/** The probe of a VIP step: the node holds the VIP (acquire took effect) or does not (release took effect). */
export function vipProbe(driver: FailoverDriver, t: FailoverTarget, wantHeld: boolean, signal?: AbortSignal): () => Promise<StepOutcome | undefined> {
  return async () => {
    const held = (await driver.whoHoldsVip({ pool: t.pool, vip: t.vip }, signal)).includes(t.node);
    if (held !== wantHeld) return undefined;
    return { ok: true, detail: `found on resume: ${t.node} ${held ? 'holds' : 'no longer holds'} the VIP`, probed: true };
  };
}
