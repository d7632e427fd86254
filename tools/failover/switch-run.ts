import { WarroomError } from '../../core/errors.js';
import type { Queryable } from '../../db/db.js';
import type { StepRunner } from '../tool.js';
import type { FailoverDriver, FailoverTarget } from './driver.js';
import { checkHealth, cleanUpTarget, releaseAndStop, startAndAcquire, verifySinglePrimary, vipProbe, type StepOutcome } from './node-actions.js';
import { makePrimary, updateNode } from './pool-store.js';
import type { NodeRef, SwitchPlan } from './switch-plan.js';
import { acquireStep, healthStep, releaseStep, verifyStep } from './switch-steps.js';

export interface SwitchAttempt {
  node: string;
  ok: boolean;
  /** The step that failed: acquire-vip, verify-primary or health-check. */
  failedStep?: string;
  error?: string;
  output?: string;
}

export interface SwitchResult {
  pool: string;
  poolName: string;
  system: string;
  driver: SwitchPlan['driver'];
  from: string | null;
  /** Who is primary now (as verified), or null when nobody could be made primary. */
  primary: string | null;
  attempts: SwitchAttempt[];
  rolledBack: boolean;
  notes: string[];
}

interface RunDeps {
  db: Queryable;
  driver: FailoverDriver;
  steps: StepRunner;
  signal?: AbortSignal | undefined;
}

/**
 * The switch itself, after the pre-checks: hand over from the primary, then each standby in turn
 * (take over, verify one primary, health check; on failure give the VIP back and try the next), and
 * roll back to the old primary when none takes over. The store follows each step that succeeds.
 * Decisions rest only on recorded step results, so a resumed run takes the same path.
 *
 * Returns when a standby took over; throws a WarroomError otherwise, after the rollback, with the
 * whole result in `details.result`.
 */
export async function executeSwitch(plan: SwitchPlan, deps: RunDeps): Promise<SwitchResult> {
  const { db, driver, steps, signal } = deps;
  const target = (n: NodeRef): FailoverTarget => ({ pool: plan.pool, node: n.node, host: n.host, vip: plan.vip });
  const result: SwitchResult = { pool: plan.pool, poolName: plan.poolName, system: plan.system, driver: plan.driver, from: plan.from?.node ?? null, primary: null, attempts: [], rolledBack: false, notes: [] };
  const label = `${plan.poolName} (${plan.pool})`;
  const fail = (code: string, message: string, hint: string) => new WarroomError(code, message, { status: 500, hint, details: { result } });

  let handedOver = true;
  if (plan.from) {
    const from = plan.from;
    const t = target(from);
    const r = await steps(releaseStep(plan, from.node, 'handover'), () => releaseAndStop(driver, t, signal), { probe: vipProbe(driver, t, false, signal) });
    if (r.ok || r.holdsVip === false) await updateNode(db, plan.pool, from.node, { holdsVip: false });
    if (!r.ok) {
      if (r.holdsVip !== false) {
        result.primary = r.holdsVip ? from.node : null;
        throw fail('failover_release_failed', `${label}: could not release the VIP on ${from.node} (${r.detail}). No standby was started; ${r.holdsVip ? `${from.node} still holds the VIP.` : 'who holds the VIP could not be told.'}`, 'Check the old primary and the VIP by hand before trying again.');
      }
      if (from.healthy) handedOver = false;
      else result.notes.push(`${from.node} did not stop cleanly (${r.detail}) but no longer holds the VIP: the switch went on. Make sure ${from.node} is down or fenced.`);
    }
  }

  if (handedOver) {
    for (const next of plan.targets) {
      const attempt = await tryTarget(plan, target(next), deps);
      result.attempts.push(attempt.record);
      if (attempt.record.ok) {
        result.primary = next.node;
        return result;
      }
      if (attempt.stuck) {
        throw fail('failover_failed', `${label}: ${next.node} did not take over and still holds the VIP (or it cannot be told); the switch stopped there. ${describeAttempts(result)}`, 'Page a human: release the VIP on that node by hand, then check which node should serve.');
      }
    }
  }

  if (!plan.from) {
    throw fail('failover_failed', `${label}: no standby took over and the pool had no primary to roll back to. ${describeAttempts(result)}`, 'Page a human: the pool has no primary now.');
  }
  result.rolledBack = await rollBack(plan, target(plan.from), deps, result.notes);
  result.primary = result.rolledBack ? plan.from.node : null;
  const why = handedOver ? describeAttempts(result) : `${plan.from.node} did not stop cleanly, so no standby was started.`;
  if (result.rolledBack) {
    throw fail('failover_rolled_back', `${label}: the switch did not happen and was rolled back: ${plan.from.node} is primary again. ${why}`, 'Check the standbys before asking again.');
  }
  throw fail('failover_failed', `${label}: the switch failed and so did the rollback to ${plan.from.node}: no node is verified primary. ${why}`, 'Page a human now: the service behind the VIP may be down.');
}

async function tryTarget(plan: SwitchPlan, t: FailoverTarget, deps: RunDeps): Promise<{ record: SwitchAttempt; stuck: boolean }> {
  const { db, driver, steps, signal } = deps;
  let failure: { step: string; outcome: StepOutcome };
  const acquired = await steps(acquireStep(plan, t.node), () => startAndAcquire(driver, t, signal), { probe: vipProbe(driver, t, true, signal) });
  if (acquired.ok) {
    await makePrimary(db, plan.pool, t.node);
    const verified = await steps(verifyStep(t.node), () => verifySinglePrimary(db, driver, t, signal));
    const healthy = verified.ok ? await steps(healthStep(t.node), () => checkHealth(driver, t, signal)) : undefined;
    if (verified.ok && healthy?.ok) return { record: { node: t.node, ok: true }, stuck: false };
    failure = healthy ? { step: 'health-check', outcome: healthy } : { step: 'verify-primary', outcome: verified };
  } else {
    failure = { step: 'acquire-vip', outcome: acquired };
  }
  const cleaned = await steps(releaseStep(plan, t.node, 'cleanup'), () => cleanUpTarget(driver, t, signal), { probe: vipProbe(driver, t, false, signal) });
  await updateNode(db, plan.pool, t.node, { role: 'standby', healthy: false, ...(cleaned.ok ? { holdsVip: false } : {}) });
  const record: SwitchAttempt = { node: t.node, ok: false, failedStep: failure.step, error: failure.outcome.detail, ...(failure.outcome.output ? { output: failure.outcome.output } : {}) };
  return { record, stuck: !cleaned.ok };
}

/** Take the old primary back; true when it is verified the one primary again (its health check failing is noted). */
async function rollBack(plan: SwitchPlan, t: FailoverTarget, deps: RunDeps, notes: string[]): Promise<boolean> {
  const { db, driver, steps, signal } = deps;
  const acquired = await steps(acquireStep(plan, t.node, true), () => startAndAcquire(driver, t, signal), { probe: vipProbe(driver, t, true, signal) });
  if (!acquired.ok) return false;
  await makePrimary(db, plan.pool, t.node);
  const verified = await steps(verifyStep(t.node, true), () => verifySinglePrimary(db, driver, t, signal));
  if (!verified.ok) return false;
  const healthy = await steps(healthStep(t.node, true), () => checkHealth(driver, t, signal));
  if (!healthy.ok) {
    await updateNode(db, plan.pool, t.node, { healthy: false });
    notes.push(`${t.node} holds the VIP again but failed its health check (${healthy.detail}).`);
  }
  return true;
}

function describeAttempts(result: SwitchResult): string {
  if (result.attempts.length === 0) return '';
  return `Tried: ${result.attempts.map((a) => `${a.node} (${a.failedStep}: ${a.error})`).join('; ')}.`;
}
