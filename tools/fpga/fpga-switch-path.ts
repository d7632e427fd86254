import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { formatZoned } from '../../core/time.js';
import { WarroomError } from '../../core/errors.js';
import { defineTool, stepsOf, type StepSpec, type ToolContext, type ToolDefinition, type ToolRef } from '../tool.js';
import { diagnoseSnapshots } from './diagnose.js';
import { readBlock, sampleFpgaStatus, sessionStartOf, unknownCard, type FpgaReader } from './fpga-status.js';
import type { ActivePath } from './model.js';
import type { FpgaPathDriver } from './path-driver.js';
import { describeFinding } from './wording.js';

const input = z.object({
  card: z.number().int().min(0).describe('the card whose consumers move (0, 1, …)'),
  to: z.enum(['software', 'fpga']).describe('software: to the software decoder (fallback); fpga: back to the card'),
  reason: z.string().trim().max(500).optional().describe('why, for the approvers and the audit log; needed to move away from a card that looks healthy'),
});

const output = z.object({
  card: z.number().int(),
  from: z.enum(['software', 'fpga']),
  to: z.enum(['software', 'fpga']),
  driver: z.enum(['script', 'block']),
  reader: z.enum(['addon', 'typescript']),
  /** When the block first showed the new path, and how long after the switch command that was. */
  verifiedAt: z.string(),
  verifyMs: z.number(),
  /** Channel freshness after the switch, as the block reports it. */
  postCheck: z.object({
    session: z.string(),
    freshnessJudged: z.boolean(),
    fresh: z.array(z.number()),
    stale: z.array(z.object({ channel: z.number(), staleSeconds: z.number().optional() })),
    problems: z.array(z.string()),
    problemsZh: z.array(z.string()),
  }),
  notes: z.array(z.string()),
});

export const fpgaSwitchPathToolRef: ToolRef<typeof input, typeof output> = { name: 'fpga_switch_path', input, output };

export interface FpgaSwitchPathDeps {
  /** Unset: no driver configured; every request is refused saying how to configure one. */
  driver: FpgaPathDriver | undefined;
  read: FpgaReader;
  defaultFile: string | undefined;
  /** The system the action touches (who is on call to approve it); default fpga-md, as the shipped runbooks name it. */
  system?: string;
  /** How long the block may take to show the new path; default 15 s. */
  verifyTimeoutMs?: number;
  pollMs?: number;
  /** Between the post-check's two reads; default 1000 ms. */
  postCheckIntervalMs?: number;
}

const pathName = (p: ActivePath) => (p === 'software' ? 'software' : 'FPGA');

export const precheckStep: StepSpec = { id: 'precheck', title: 'Pre-checks: the card exists, is not already on that path, and its state allows the move', idempotent: true };
const switchStep = (card: number, to: ActivePath): StepSpec => ({ id: `switch@card${card}-to-${to}`, title: `Move card ${card}'s consumers to the ${pathName(to)} path`, idempotent: false });
const verifyStep = (card: number, to: ActivePath): StepSpec => ({ id: `verify@card${card}-${to}`, title: `Verify in the status block that card ${card} is on the ${pathName(to)} path`, idempotent: true });
const postCheckStep = (card: number): StepSpec => ({ id: `post-check@card${card}`, title: `Post-check: channel freshness of card ${card} after the switch`, idempotent: true });

interface Precheck {
  from: ActivePath;
  notes: string[];
}

/** One switch per card at a time, across processes on PostgreSQL. */
const lockName = (card: number) => `fpga-path:${card}`;

/**
 * fpga_switch_path (high): move a card's consumers to the software decoder (rb-md-switch-software-path)
 * or back to the card, through the configured driver, then verify it in the status block and check
 * channel freshness. `plan` runs the pre-checks; `run` runs them again as its first recorded step.
 */
export function createFpgaSwitchPathTool(deps: FpgaSwitchPathDeps): ToolDefinition<typeof input, typeof output> {
  const system = deps.system ?? 'fpga-md';
  const verifyTimeoutMs = deps.verifyTimeoutMs ?? 15_000;
  const pollMs = deps.pollMs ?? 250;

  const requireDriver = (): FpgaPathDriver => {
    if (deps.driver) return deps.driver;
    throw new WarroomError('fpga_no_driver', 'No FPGA path driver is configured: Warroom cannot move consumers between the card and the software path here.', {
      hint: 'Set WARROOM_FPGA_SWITCH_COMMAND (e.g. `mdctl path switch --card {card} --to {to} --reason {reason}`), or switch by hand per rb-md-switch-software-path.',
    });
  };

  async function precheck(args: z.output<typeof input>, ctx: ToolContext): Promise<Precheck> {
    requireDriver();
    const file = deps.defaultFile;
    const snap = await readBlock(deps.read, file);
    const card = snap.cards.find((c) => c.card === args.card);
    if (!card) throw unknownCard(args.card, snap, file!);
    if (card.activePath === args.to) {
      throw new WarroomError('fpga_already_on_path', `Card ${args.card} is already on the ${pathName(args.to)} path: nothing to switch.`, { hint: 'See fpga_status for the card.', status: 409 });
    }
    // One snapshot: states and freshness (rates need two reads and do not decide a switch).
    const session = ctx.calendar.sessionAt(ctx.now);
    const sessionStart = sessionStartOf(ctx.calendar, ctx.now);
    const diagnosed = diagnoseSnapshots(snap, snap, { session, ...(sessionStart ? { sessionStart } : {}) }).find((c) => c.card === args.card);
    const findings = diagnosed?.findings.filter((f) => f.kind !== 'software-path') ?? [];
    const said = findings.map((f) => describeFinding(f, 'en', { timeZone: ctx.timeZone, reference: snap.takenAt }));
    const notes: string[] = [];
    if (args.reason) notes.push(`Reason: ${args.reason}`);
    const live = ctx.calendar.isTradingHours(ctx.now);
    if (args.to === 'software') {
      if (!findings.length) {
        if (!args.reason) {
          throw new WarroomError('fpga_card_healthy', `Card ${args.card} looks healthy (MDGW logged in, multicast up, channels fresh): moving its consumers to the software path needs a reason.`, {
            hint: 'Give a reason (what you see that the block does not), or check the card with fpga_status first.',
          });
        }
        notes.push(`Card ${args.card} looks healthy in the status block: switching on the reason given.`);
      } else notes.push(`Card ${args.card}: ${said.join('; ')}.`);
      notes.push("The software path's own health is not in the status block: before approving, check it is receiving and fresh with its own MDGW account (`mdctl soft status`; rb-md-switch-software-path, 排查).");
      if (live) notes.push('Trading is live: consumers without a second source may see a 1–3 s gap at the switch.');
    } else {
      const blocking = findings.filter((f) => f.kind !== 'card-not-updating' && f.kind !== 'toe-near-limit');
      if (blocking.length) {
        throw new WarroomError('fpga_card_not_ready', `Card ${args.card} is not ready to take its consumers back: ${said.join('; ')}.`, {
          hint: 'Switch back only when the card is logged in, its multicast is up and every channel is fresh (rb-md-switch-software-path, 回退).',
          status: 409,
        });
      }
      if (said.length) notes.push(`Card ${args.card}: ${said.join('; ')}.`);
      if (live) notes.push('Trading is live: the runbook prefers switching back after the 15:00 close, with its own approval.');
    }
    return { from: card.activePath, notes };
  }

  /** Poll the block until the card shows `to`; bounded by verifyTimeoutMs. */
  async function verify(args: z.output<typeof input>, ctx: ToolContext, progress: (detail: string) => void): Promise<{ verifiedAt: string; waitedMs: number; reader: 'addon' | 'typescript' }> {
    const started = Date.now();
    let seen: ActivePath | undefined;
    for (;;) {
      const snap = await readBlock(deps.read, deps.defaultFile);
      const card = snap.cards.find((c) => c.card === args.card);
      seen = card?.activePath;
      if (seen === args.to) return { verifiedAt: formatZoned(snap.takenAt, ctx.timeZone), waitedMs: Date.now() - started, reader: snap.reader };
      const waited = Date.now() - started;
      if (waited >= verifyTimeoutMs) break;
      progress(`card ${args.card} still shows the ${seen ? pathName(seen) : 'unknown'} path (${(waited / 1000).toFixed(1)} s)`);
      await sleep(pollMs, undefined, ctx.signal ? { signal: ctx.signal } : {});
    }
    throw new WarroomError('fpga_switch_unverified', `Card ${args.card} still shows the ${seen ? pathName(seen) : 'unknown'} path ${(verifyTimeoutMs / 1000).toFixed(verifyTimeoutMs < 10_000 ? 1 : 0)} s after the switch: it did not take effect in the status block.`, {
      hint: 'Check the path by hand (`mdctl path show`) before anything else; consumers may be split between the two paths.',
    });
  }

  return defineTool({
    name: fpgaSwitchPathToolRef.name,
    description:
      "Move an FPGA card's market-data consumers to the software decoder path (fallback) or back to the card (行情切换到软件路径 / 切回 FPGA), then verify in the status block and check channel freshness. High risk: needs two approvers.",
    risk: 'high',
    input,
    output,
    async plan(args, ctx) {
      const pre = await precheck(args, ctx);
      const unlock = await ctx.db.tryLock(lockName(args.card));
      if (!unlock) throw busy(args.card);
      await unlock();
      return {
        steps: [precheckStep, switchStep(args.card, args.to), verifyStep(args.card, args.to), postCheckStep(args.card)].map(({ id, title }) => ({ id, title })),
        system,
        summary: `Move card ${args.card}'s consumers ${pathName(pre.from)} → ${pathName(args.to)} path`,
        notes: pre.notes,
      };
    },
    async run(args, ctx) {
      const unlock = await ctx.db.tryLock(lockName(args.card));
      if (!unlock) throw busy(args.card);
      try {
        const steps = stepsOf(ctx);
        const driver = requireDriver();
        // Recorded: a resumed run follows the facts it started from, not those its own switch changed.
        const pre = await steps(precheckStep, () => precheck(args, ctx));
        await steps(
          switchStep(args.card, args.to),
          async () => {
            await driver.switchPath(args.card, args.to, { reason: args.reason, signal: ctx.signal });
            return { requested: true };
          },
          {
            // Interrupted mid-switch: it took effect when the block already shows the new path.
            probe: async () => ((await readBlock(deps.read, deps.defaultFile)).cards.find((c) => c.card === args.card)?.activePath === args.to ? { requested: true } : undefined),
          },
        );
        const verified = await steps(verifyStep(args.card, args.to), (progress) => verify(args, ctx, progress));
        const post = await steps(postCheckStep(args.card), async () => {
          const { status } = await sampleFpgaStatus(deps.read, deps.defaultFile, ctx, { card: args.card, intervalMs: deps.postCheckIntervalMs ?? 1000, staleAfterSeconds: 15 });
          const card = status.cards[0]!;
          return {
            session: status.session,
            freshnessJudged: status.freshnessJudged,
            fresh: card.channels.filter((c) => !c.stale).map((c) => c.channel),
            stale: card.channels.filter((c) => c.stale).map((c) => ({ channel: c.channel, ...(c.staleSeconds !== undefined ? { staleSeconds: c.staleSeconds } : {}) })),
            problems: card.problems,
            problemsZh: card.problemsZh,
          };
        });
        const notes = [...pre.notes];
        if (post.stale.length && args.to === 'fpga') notes.push(`After switching back, channels ${post.stale.map((s) => s.channel).join(', ')} are stale: consider moving the consumers to the software path again.`);
        const data = { card: args.card, from: pre.from, to: args.to, driver: driver.kind, reader: verified.reader, verifiedAt: verified.verifiedAt, verifyMs: verified.waitedMs, postCheck: post, notes };
        const freshness = !post.freshnessJudged ? 'freshness not judged outside a session' : post.stale.length ? `channels ${post.stale.map((s) => s.channel).join(', ')} stale` : `${post.fresh.length} channel(s) fresh`;
        return { data, summary: `Card ${args.card}: consumers moved ${pathName(pre.from)} → ${pathName(args.to)} path, verified in the status block (${verified.reader} reader); post-check: ${freshness}.` };
      } finally {
        await unlock();
      }
    },
  });
}

function busy(card: number): WarroomError {
  return new WarroomError('fpga_switch_busy', `A path switch of card ${card} is running: one switch per card at a time.`, { status: 409, hint: 'Wait for it to finish (its progress is in the room), then check the card with fpga_status.' });
}
