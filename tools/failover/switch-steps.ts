import type { StepSpec } from '../tool.js';
import type { SwitchPlan } from './switch-plan.js';

/**
 * The steps of a switch, with ids that stay the same for a given node (`acquire-vip@zdbp-03`), so a
 * resumed run finds each recorded step: the first target's, the next one's, the rollback's.
 */
export const precheckStep: StepSpec = {
  id: 'precheck',
  title: 'Pre-checks: a healthy standby, the arbiter, heartbeat versus primary health, no other switch running',
  idempotent: true,
};

export function releaseStep(plan: SwitchPlan, node: string, why: 'handover' | 'cleanup'): StepSpec {
  return {
    id: `release-vip@${node}`,
    title: why === 'handover' ? `Release the VIP ${plan.vip} on ${node} and stop its service` : `${node} did not take over: release the VIP there (if it holds it) and stop its service`,
    idempotent: false,
  };
}

export function acquireStep(plan: SwitchPlan, node: string, rollback = false): StepSpec {
  return { id: `acquire-vip@${node}`, title: `${rollback ? 'Roll back: ' : ''}Start the service on ${node} and move the VIP ${plan.vip} to it`, idempotent: false };
}

export function verifyStep(node: string, rollback = false): StepSpec {
  return { id: `verify-primary@${node}`, title: `${rollback ? 'Roll back: v' : 'V'}erify that ${node} alone is primary and holds the VIP`, idempotent: true };
}

export function healthStep(node: string, rollback = false): StepSpec {
  return { id: `health-check@${node}`, title: `${rollback ? 'Roll back: h' : 'H'}ealth check of ${node} through the VIP`, idempotent: true };
}

/** The steps the plan preview shows: the first target's; the fallbacks are in the plan's notes. */
export function plannedSteps(plan: SwitchPlan): StepSpec[] {
  const first = plan.targets[0]!.node;
  return [precheckStep, ...(plan.from ? [releaseStep(plan, plan.from.node, 'handover')] : []), acquireStep(plan, first), verifyStep(first), healthStep(first)];
}
