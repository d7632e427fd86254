import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import { defineTool, stepsOf, type ToolContext, type ToolDefinition, type ToolRef } from '../tool.js';
import type { FailoverDrivers } from './drivers.js';
import { loadPool, resolvePool, type Pool } from './pool-store.js';
import { planSwitch } from './switch-plan.js';
import { executeSwitch } from './switch-run.js';
import { plannedSteps, precheckStep } from './switch-steps.js';

const input = z.object({
  pool: z.string().trim().min(1).describe('the pool: id, name or alias, e.g. zd-baopan or 中登报盘'),
  to: z.string().trim().min(1).optional().describe('the standby to take over; default: the healthy standbys in priority order'),
  reason: z.string().trim().max(500).optional().describe('why, for the approvers and the timeline'),
});

const output = z.object({
  pool: z.string(),
  poolName: z.string(),
  system: z.string(),
  driver: z.enum(['simulated', 'script']),
  from: z.string().nullable(),
  primary: z.string().nullable(),
  attempts: z.array(z.object({ node: z.string(), ok: z.boolean(), failedStep: z.string().optional(), error: z.string().optional(), output: z.string().optional() })),
  rolledBack: z.boolean(),
  notes: z.array(z.string()),
});

export const failoverSwitchToolRef: ToolRef<typeof input, typeof output> = { name: 'failover_switch', input, output };

/** One switch per pool at a time, across processes on PostgreSQL. */
const lockName = (pool: string) => `failover:${pool}`;

function busy(pool: Pool): WarroomError {
  return new WarroomError('failover_busy', `A switch of ${pool.name} (${pool.id}) is running: one switch per pool at a time.`, { status: 409, hint: 'Wait for it to finish (its progress is in the room), then check the pool with failover_status.' });
}

/**
 * failover_switch (high): move a pool's primary role and VIP to a standby. `plan` runs the
 * pre-checks and shows the steps; `run` takes the pool's lock, checks again (the `precheck` step) and
 * runs the steps through the configured driver.
 */
export function createFailoverSwitchTool(drivers: FailoverDrivers): ToolDefinition<typeof input, typeof output> {
  const precheck = async (pool: Pool, to: string | undefined) => planSwitch(pool, { to }, drivers.kindFor(pool));
  return defineTool({
    name: failoverSwitchToolRef.name,
    description:
      'Switch a failover pool (多对多池化) to a standby: release the VIP on the primary, take over on the first healthy standby by priority (or the one named), verify one primary, health-check; on failure the next standby, then roll back. High risk: needs two approvers.',
    risk: 'high',
    input,
    output,
    async plan(args, ctx) {
      const pool = await resolvePool(ctx.db, args.pool);
      const plan = await precheck(pool, args.to);
      const unlock = await ctx.db.tryLock(lockName(pool.id));
      if (!unlock) throw busy(pool);
      await unlock();
      return {
        steps: plannedSteps(plan).map(({ id, title }) => ({ id, title })),
        system: plan.system,
        summary: `Switch ${plan.poolName} (${plan.pool}) primary ${plan.from?.node ?? '(none)'} → ${plan.targets[0]!.node}`,
        notes: [...(args.reason ? [`Reason: ${args.reason}`] : []), ...plan.notes],
      };
    },
    async run(args, ctx: ToolContext) {
      const pool = await resolvePool(ctx.db, args.pool);
      const unlock = await ctx.db.tryLock(lockName(pool.id));
      if (!unlock) throw busy(pool);
      try {
        const steps = stepsOf(ctx);
        // Recorded: a resumed run follows the plan it started with, not the facts its own steps changed.
        const plan = await steps(precheckStep, async () => precheck(await loadPool(ctx.db, pool.id), args.to));
        const result = await executeSwitch(plan, { db: ctx.db, driver: drivers.driver(plan.driver, ctx.db), steps, signal: ctx.signal });
        const failedFirst = result.attempts.filter((a) => !a.ok).map((a) => `${a.node} failed its ${a.failedStep}: ${a.error}`);
        return {
          data: result,
          summary: `${plan.poolName} (${plan.pool}): primary ${result.from ?? '(none)'} → ${result.primary}${failedFirst.length ? ` (${failedFirst.join('; ')})` : ''}.`,
        };
      } finally {
        await unlock();
      }
    },
  });
}
