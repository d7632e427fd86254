import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, type Bot } from '../../bot/bot.js';
import { createActionNotifier } from '../../bot/actions/notifier.js';
import { renderText } from '../../bot/render/text.js';
import { toolResultView } from '../../bot/views/tool-view-table.js';
import type { Db } from '../../db/db.js';
import { createFpgaSwitchPathTool, fpgaSwitchPathToolRef, type FpgaSwitchPathDeps } from '../../tools/fpga/fpga-switch-path.js';
import type { FpgaReader } from '../../tools/fpga/fpga-status.js';
import type { ActivePath } from '../../tools/fpga/model.js';
import { createBlockPathDriver, createScriptPathDriver, type FpgaPathDriver } from '../../tools/fpga/path-driver.js';
import { createToolRegistry } from '../../tools/index.js';
import { toolContext, type App } from '../../tools/services.js';
import { getAction, stepsOfAction } from '../../workers/action-store.js';
import { createLocalQueue } from '../../workers/local-queue.js';
import { createActionProcessor } from '../../workers/processor.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { blockFile, twoReads, type CardSpec } from '../helpers/fpga.js';
import { memorySteps, SimulatedCrash } from '../helpers/memory-steps.js';

/**
 * A status block in memory that a fake driver flips: the reader returns the cards as they are now,
 * the driver changes a card's active path (and counts its calls). Freshness is relative to the app's
 * clock, Monday 09:40 (trading is live).
 */
function fakeBlock(clock: () => Date, cards: CardSpec[]) {
  const state = new Map(cards.map((c) => [c.card, { ...c }]));
  const calls: Array<[number, ActivePath, string | undefined]> = [];
  let flips = true;
  const read: FpgaReader = () => twoReads(clock(), [...state.values()])[1];
  const driver: FpgaPathDriver = {
    kind: 'block',
    async switchPath(card, to, o) {
      calls.push([card, to, o?.reason]);
      if (flips) await createBlockPathDriver((c, p) => void (state.get(c)!.activePath = p)).switchPath(card, to);
    },
  };
  return {
    read,
    driver,
    calls,
    set: (card: number, spec: Partial<CardSpec>) => state.set(card, { ...state.get(card)!, ...spec }),
    path: (card: number) => state.get(card)!.activePath ?? 'fpga',
    /** The driver accepts the command but the card never moves. */
    stuck: () => void (flips = false),
  };
}

const loginRejected: Partial<CardSpec> = { login: 'rejected', rejectCode: 102, since: new Date('2026-11-23T09:14:05+08:00'), channels: [{ channel: 2011, lastAgo: 38 }] };

describe('fpga_switch_path: pre-checks, steps, verify and resume', () => {
  let db: Db;
  let app: App;
  const file = blockFile();

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db, { runbooks: false, env: { WARROOM_FPGA_STATUS_FILE: file } });
  });
  afterAll(async () => db?.close());

  const build = (block: ReturnType<typeof fakeBlock>, extra: Partial<FpgaSwitchPathDeps> = {}) =>
    createFpgaSwitchPathTool({ driver: block.driver, read: block.read, defaultFile: file, pollMs: 10, verifyTimeoutMs: 300, postCheckIntervalMs: 0, ...extra });

  it('plans the move of a failing card: the steps, the system, the caveats', async () => {
    const block = fakeBlock(app.clock, [{ card: 0, ...loginRejected }, { card: 1 }]);
    const plan = await build(block).plan!({ card: 0, to: 'software', reason: 'IMS-20261123-001 login rejected' }, toolContext(app, 'gaoyan'));
    expect(plan.summary).toBe("Move card 0's consumers FPGA → software path");
    expect(plan.system).toBe('fpga-md');
    expect(plan.steps.map((s) => s.id)).toEqual(['precheck', 'switch@card0-to-software', 'verify@card0-software', 'post-check@card0']);
    expect(plan.notes).toEqual([
      'Reason: IMS-20261123-001 login rejected',
      'Card 0: MDGW login rejected (code 102) since 09:14:05; channel 2011 stale for 38 s.',
      "The software path's own health is not in the status block: before approving, check it is receiving and fresh with its own MDGW account (`mdctl soft status`; rb-md-switch-software-path, 排查).",
      'Trading is live: consumers without a second source may see a 1–3 s gap at the switch.',
    ]);
    expect(block.calls).toEqual([]);
  });

  it('refuses at plan time: no such card, already there, a healthy card without a reason, switching back to a card not ready, no driver', async () => {
    const block = fakeBlock(app.clock, [{ card: 0 }, { card: 1, activePath: 'software', ...loginRejected }]);
    const tool = build(block);
    const ctx = toolContext(app, 'gaoyan');
    await expect(tool.plan!({ card: 5, to: 'software' }, ctx)).rejects.toThrow(`No card 5 in the FPGA status block ${file}.`);
    await expect(tool.plan!({ card: 1, to: 'software' }, ctx)).rejects.toThrow('Card 1 is already on the software path: nothing to switch.');
    await expect(tool.plan!({ card: 0, to: 'software' }, ctx)).rejects.toThrow('Card 0 looks healthy (MDGW logged in, multicast up, channels fresh): moving its consumers to the software path needs a reason.');
    const withReason = await tool.plan!({ card: 0, to: 'software', reason: 'exchange notice: card firmware recall' }, ctx);
    expect(withReason.notes).toContain('Card 0 looks healthy in the status block: switching on the reason given.');
    await expect(tool.plan!({ card: 1, to: 'fpga' }, ctx)).rejects.toThrow('Card 1 is not ready to take its consumers back: MDGW login rejected (code 102) since 09:14:05; channel 2011 stale for 38 s.');
    block.set(1, { login: 'logged-in', rejectCode: null, channels: undefined });
    const back = await tool.plan!({ card: 1, to: 'fpga' }, ctx);
    expect(back.summary).toBe("Move card 1's consumers software → FPGA path");
    expect(back.notes).toContain('Trading is live: the runbook prefers switching back after the 15:00 close, with its own approval.');
    await expect(build(block, { driver: undefined }).plan!({ card: 1, to: 'fpga' }, ctx)).rejects.toThrow(/No FPGA path driver is configured/);
    expect(block.calls).toEqual([]);
  });

  it('runs: switch once, verify in the block, post-check freshness', async () => {
    const block = fakeBlock(app.clock, [{ card: 0, ...loginRejected }]);
    const steps = memorySteps();
    const out = await build(block).run({ card: 0, to: 'software', reason: 'login rejected' }, toolContext(app, 'gaoyan', { steps: steps.run, approvedActionId: 'ACT-TEST-1' }));
    expect(block.calls).toEqual([[0, 'software', 'login rejected']]);
    expect(steps.order).toEqual(['precheck', 'switch@card0-to-software', 'verify@card0-software', 'post-check@card0']);
    expect(out.data).toMatchObject({ card: 0, from: 'fpga', to: 'software', driver: 'block', reader: 'addon', verifiedAt: '2026-11-23T09:40:00+08:00' });
    expect(out.data.postCheck).toMatchObject({ session: 'morning_session', freshnessJudged: true, fresh: [], stale: [{ channel: 2011, staleSeconds: 38 }] });
    expect(out.summary).toBe('Card 0: consumers moved FPGA → software path, verified in the status block (addon reader); post-check: channels 2011 stale.');
  });

  it('resumes after a crash: the switch that took effect is found by its probe and not run again; one that did not is run', async () => {
    // Died after the driver moved the card, before the step was recorded.
    const block = fakeBlock(app.clock, [{ card: 0, ...loginRejected }]);
    const records = new Map();
    const ctx = (crash: { crashAfter?: string; crashBefore?: string }) => toolContext(app, 'gaoyan', { steps: memorySteps(records, crash).run, approvedActionId: 'ACT-TEST-2' });
    const input = { card: 0, to: 'software' as const, reason: 'login rejected' };
    await expect(build(block).run(input, ctx({ crashAfter: 'switch@card0-to-software' }))).rejects.toBeInstanceOf(SimulatedCrash);
    expect(block.path(0)).toBe('software');
    const resumed = await build(block).run(input, ctx({}));
    expect(block.calls).toHaveLength(1);
    expect(records.get('switch@card0-to-software')).toMatchObject({ status: 'done', probed: true, runs: 1 });
    expect(records.get('verify@card0-software')).toMatchObject({ status: 'done' });
    expect(resumed.data.from).toBe('fpga'); // the recorded pre-check, not the facts the switch changed

    // Died as the switch step began, before the driver ran: the probe sees the card still on FPGA, so it runs.
    const block2 = fakeBlock(app.clock, [{ card: 0, ...loginRejected }]);
    const records2 = new Map();
    await expect(build(block2).run(input, toolContext(app, 'gaoyan', { steps: memorySteps(records2, { crashBefore: 'switch@card0-to-software' }).run }))).rejects.toBeInstanceOf(SimulatedCrash);
    expect(block2.calls).toHaveLength(0);
    await build(block2).run(input, toolContext(app, 'gaoyan', { steps: memorySteps(records2).run }));
    expect(block2.calls).toHaveLength(1);
    expect(records2.get('switch@card0-to-software')).toMatchObject({ status: 'done', runs: 2 });
    expect(block2.path(0)).toBe('software');
  });

  it('fails, naming it, when the block never shows the new path', async () => {
    const block = fakeBlock(app.clock, [{ card: 0, ...loginRejected }]);
    block.stuck();
    const steps = memorySteps();
    await expect(build(block).run({ card: 0, to: 'software', reason: 'x' }, toolContext(app, 'gaoyan', { steps: steps.run }))).rejects.toThrow(
      'Card 0 still shows the FPGA path 0.3 s after the switch: it did not take effect in the status block.',
    );
    expect(steps.records.get('verify@card0-software')?.status).toBe('running');
    expect(steps.records.get('post-check@card0')).toBeUndefined();
  });

  it('the script driver runs the configured command with shell-quoted values and says how it failed', async () => {
    const out = join(blockFile(), '..', 'switch.txt');
    const ok = createScriptPathDriver({ command: `printf '%s|%s|%s|%s' {card} {to} {reason} "$WARROOM_FPGA_PATH" > ${out}`, timeoutMs: 5000 });
    await ok.switchPath(0, 'software', { reason: "it's down; rm -rf /" });
    expect(readFileSync(out, 'utf8')).toBe("0|software|it's down; rm -rf /|software");
    const bad = createScriptPathDriver({ command: 'echo "mdctl: card 0 busy" >&2; exit 3', timeoutMs: 5000 });
    await expect(bad.switchPath(0, 'fpga')).rejects.toThrow('Switching card 0 to the fpga path failed: exit 3: mdctl: card 0 busy.');
  });
});

describe('fpga_switch_path through the approval flow (request, two approvers, worker)', () => {
  let db: Db;
  let app: App;
  let bot: Bot;
  const file = blockFile();
  let block: ReturnType<typeof fakeBlock>;

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db, { now: DEMO_NOW, runbooks: false, env: { WARROOM_FPGA_STATUS_FILE: file } });
    block = fakeBlock(app.clock, [{ card: 0, ...loginRejected }, { card: 1 }]);
    // What app/create-app.ts will pass once the readers are merged: here the fake block and driver.
    app.tools = createToolRegistry([], { config: app.config, fpgaReader: block.read, fpgaPathDriver: block.driver });
    const queue = createLocalQueue({ db, logger: app.logger });
    bot = createBot(app, [], { queue });
    await queue.startWorker(createActionProcessor({ app, notifier: createActionNotifier(bot) }));
  });
  afterAll(async () => db?.close());

  async function until(id: string, statuses: string[]): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const a = await getAction(db, id);
      if (a && statuses.includes(a.status)) return a.status;
      await new Promise((r) => setTimeout(r, 20));
    }
    return (await getAction(db, id))!.status;
  }

  it('is gated, then runs once after two approvals, with every step recorded and the result shown', async () => {
    // Never directly: the registry asks for approval.
    const direct = await app.tools.call(fpgaSwitchPathToolRef, { card: 0, to: 'software' }, toolContext(app, 'gaoyan'));
    expect(direct.status).toBe('approval_required');

    const action = await bot.actions.request({ tool: 'fpga_switch_path', input: { card: 0, to: 'software', reason: 'MDGW login rejected' }, requestedBy: 'gaoyan', room: { platform: 'cli', id: 'md-ops' }, lang: 'en' });
    expect(action).toMatchObject({ status: 'pending', approvalsNeeded: 2, system: 'fpga-md', plan: { summary: "Move card 0's consumers FPGA → software path" } });
    await bot.actions.approve(action.id, 'xieping', 'en');
    expect(block.calls).toEqual([]);
    await bot.actions.approve(action.id, 'zhangwei', 'en');
    expect(await until(action.id, ['succeeded', 'failed'])).toBe('succeeded');
    expect(block.calls).toEqual([[0, 'software', 'MDGW login rejected']]);
    expect(block.path(0)).toBe('software');
    expect((await stepsOfAction(db, action.id)).map((s) => [s.step, s.status])).toEqual([
      ['precheck', 'done'],
      ['switch@card0-to-software', 'done'],
      ['verify@card0-software', 'done'],
      ['post-check@card0', 'done'],
    ]);

    // Asking again: it is there already.
    await expect(bot.actions.request({ tool: 'fpga_switch_path', input: { card: 0, to: 'software', reason: 'again' }, requestedBy: 'gaoyan', lang: 'en' })).rejects.toThrow('Card 0 is already on the software path');
  });

  it('is requested in chat with `fpga switch <card> [--to …] [reason]`; plain `fpga` stays the status', async () => {
    const say = async (text: string) => (await bot.handle({ kind: 'message', platform: 'cli', userId: 'gaoyan', room: { platform: 'cli', id: 'md-ops', kind: 'dm' }, text, at: DEMO_NOW })).map((r) => renderText(r.message)).join('\n');
    block.set(0, { activePath: 'fpga' });
    const card = await say('fpga switch 0 MDGW login rejected since 09:14');
    expect(card).toContain("Move card 0's consumers FPGA → software path");
    expect(card).toContain('Reason: MDGW login rejected since 09:14');
    const id = /ACT-\d{8}-\d{3}/.exec(card)![0];
    expect(await getAction(db, id)).toMatchObject({ tool: 'fpga_switch_path', input: { card: 0, to: 'software', reason: 'MDGW login rejected since 09:14' }, status: 'pending' });
    await bot.actions.reject(id, 'gaoyan', 'en');
    expect(await say('行情卡切换 1 --to fpga')).toContain('Card 1 is already on the FPGA path: nothing to switch.');
    expect(await say('fpga switch')).toMatch(/fpga switch <card>/);
  });

  it('shows a finished switch in chat', async () => {
    const r = await app.tools.call(fpgaSwitchPathToolRef, { card: 1, to: 'software', reason: 'card 1 firmware recall' }, toolContext(app, 'gaoyan', { approvedActionId: 'ACT-TEST-1' }));
    expect(r.status).toBe('success');
    const zh = renderText(toolResultView(r, 'zh', 'Asia/Shanghai'));
    expect(zh).toContain('■ 卡 1 已切换：FPGA 路径 → 软件路径');
    expect(zh).toContain('状态块已确认（09:40:00');
    expect(zh).toContain('4 个通道行情新鲜');
    const en = renderText(toolResultView(r, 'en', 'Asia/Shanghai'));
    expect(en).toContain('■ card 1 switched: the FPGA path → the software path');
    expect(en).toContain('Driver: block · read by the C++ addon');
  });
});
