import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, type Bot } from '../../bot/bot.js';
import { renderText } from '../../bot/render/text.js';
import type { BotReply, ChatEvent } from '../../bot/platforms/platform.js';
import { verifyAuditChain } from '../../db/audit.js';
import type { Db } from '../../db/db.js';
import { restartRuns, restartTool } from '../helpers/action-tools.js';
import type { App } from '../../tools/services.js';
import { getAction, stepsOfAction } from '../../workers/action-store.js';
import { createActionProcessor } from '../../workers/processor.js';
import { createLocalQueue } from '../../workers/local-queue.js';
import { createActionNotifier } from '../../bot/actions/notifier.js';
import { draftPostmortem } from '../../bot/incidents/postmortem.js';
import { getIncident } from '../../bot/incidents/store.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { declareForTest } from '../helpers/incident.js';

/**
 * Approved actions through the bot's own entry point (the commands people type and the buttons
 * they press), on the embedded store with the demo data, under the shipped policy. The action is
 * a small high-risk tool whose steps count how often they really ran.
 *
 * The demo's moment (Monday 09:40) is inside a trading session; restart_service is not one of
 * the kinds that need an extra approver then, so high risk means two approvers.
 */
const ran = restartRuns;

let db: Db;
let app: App;
let bot: Bot;

beforeAll(async () => {
  db = await createTestPglite();
  app = await createDemoApp(db, { now: DEMO_NOW, runbooks: false });
  app.tools.register(restartTool);
  const queue = createLocalQueue({ db, logger: app.logger });
  bot = createBot(app, [], { queue });
  await queue.startWorker(createActionProcessor({ app, notifier: createActionNotifier(bot) }));
});
afterAll(async () => db?.close());

const event = (user: string, text: string, room = 'ops'): ChatEvent => ({ kind: 'message', platform: 'cli', userId: user, room: { platform: 'cli', id: room, kind: 'dm' }, text, at: DEMO_NOW });
const say = async (user: string, text: string): Promise<{ replies: BotReply[]; text: string }> => {
  const replies = await bot.handle(event(user, text));
  return { replies, text: replies.map((r) => renderText(r.message)).join('\n') };
};
async function request(host: string, user = 'songkai'): Promise<string> {
  const action = await bot.actions.request({ tool: 'restart_service', input: { host }, requestedBy: user, room: { platform: 'cli', id: 'ops' }, lang: 'en' });
  return action.id;
}
async function until(id: string, statuses: string[]): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const a = await getAction(db, id);
    if (a && statuses.includes(a.status)) return a.status;
    await new Promise((r) => setTimeout(r, 20));
  }
  return (await getAction(db, id))!.status;
}

describe('approved actions: request, two-person review, run once', () => {
  it('a high-risk action needs two approvers other than the requester, then runs once and leaves its trail', async () => {
    const id = await request('trd-app-01');
    expect(id).toMatch(/^ACT-20261123-\d{3}$/);
    const a = (await getAction(db, id))!;
    expect(a).toMatchObject({ status: 'pending', approvalsNeeded: 2, requestedBy: 'songkai', plan: { summary: 'Restart the service on trd-app-01' } });

    // The requester never counts.
    expect((await say('songkai', `/action approve ${id}`)).text).toMatch(/requester never approves their own request/);
    // One approver is not enough for high risk.
    expect((await say('xieping', `/action approve ${id}`)).text).toMatch(/recorded \(1\/2\); it needs 1 more/);
    // The same approver twice still counts once.
    expect((await say('xieping', `/action approve ${id}`)).text).toMatch(/already approved/);
    expect((await getAction(db, id))!.status).toBe('pending');
    expect(ran['stop:trd-app-01']).toBeUndefined();
    // A second, different approver: approved, on its way, and it runs.
    expect((await say('zhangwei', `/action approve ${id}`)).text).toMatch(/Approved .* \(2\/2\)/);
    expect(await until(id, ['succeeded', 'failed'])).toBe('succeeded');
    expect(ran).toMatchObject({ 'stop:trd-app-01': 1, 'start:trd-app-01': 1 });
    expect((await stepsOfAction(db, id)).map((s) => [s.step, s.status])).toEqual([
      ['stop', 'done'],
      ['start', 'done'],
    ]);
    const status = (await say('yangguang', `/action status ${id}`)).text;
    expect(status).toMatch(/succeeded/);
    expect(status).toMatch(/Restarted the service on trd-app-01/);

    const trail = await db.query<{ actor: string; action: string; outcome: string }>("SELECT actor, action, outcome FROM audit_log WHERE target = $1 OR (detail->>'actionId') = $1 ORDER BY id", [id]);
    expect(trail.map((r) => `${r.actor} ${r.action} ${r.outcome}`)).toEqual([
      'songkai action.request:restart_service pending',
      'songkai action.approve:restart_service denied',
      'xieping action.approve:restart_service approval-recorded',
      'xieping action.approve:restart_service denied',
      'zhangwei action.approve:restart_service approved',
      'worker action.run:restart_service started',
      'songkai tool:restart_service started',
      'songkai tool:restart_service success',
      'worker action.run:restart_service succeeded',
    ]);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('refuses people the policy does not list and people Warroom does not know, saying why', async () => {
    const id = await request('trd-app-02');
    // chenjing is a communications lead: not among who may approve (approvals.approve.default).
    expect((await say('chenjing', `/action approve ${id}`)).text).toMatch(/You cannot approve ACT-.*: under approvals\.approve\.default only incident:incident-commander, on-call:incident-commander, role:duty-manager may/);
    expect((await say('mallory', `/action approve ${id}`)).text).toMatch(/not known to Warroom/);
    expect((await getAction(db, id))!.approvals).toEqual([]);
    const denied = await db.query<{ actor: string }>("SELECT actor FROM audit_log WHERE target = $1 AND outcome = 'denied' ORDER BY id", [id]);
    expect(denied.map((r) => r.actor)).toEqual(['chenjing', 'cli:mallory']);
  });

  it('an expired request is refused and never runs', async () => {
    const id = await request('trd-app-03');
    const later = new Date(DEMO_NOW.getTime() + 31 * 60_000);
    const clock = app.clock;
    app.clock = () => later;
    try {
      expect((await say('xieping', `/action approve ${id}`)).text).toMatch(/expired at .* and did not run/);
    } finally {
      app.clock = clock;
    }
    expect((await getAction(db, id))!.status).toBe('expired');
    expect(ran['stop:trd-app-03']).toBeUndefined();
  });

  it('two approvals pressed at the same moment yield one job', async () => {
    const id = await request('trd-app-04');
    await bot.actions.approve(id, 'xieping', 'en');
    const results = await Promise.allSettled([bot.actions.approve(id, 'zhangwei', 'en'), bot.actions.approve(id, 'liuyang', 'en')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(/no longer takes decisions/);
    expect(await until(id, ['succeeded'])).toBe('succeeded');
    expect(ran['start:trd-app-04']).toBe(1);
    expect((await getAction(db, id))!.approvals.map((x) => x.by)).toHaveLength(2);
  });

  it('kinds the policy lists need one more approver while trading is live, and not after the close', async () => {
    const policy = app.policy;
    app.policy = { ...policy, approvals: { ...policy.approvals, extra_approver_in_trading_sessions: ['restart_service'] } };
    const clock = app.clock;
    try {
      // Monday 09:40: continuous trading.
      expect((await getAction(db, await request('trd-app-10')))).toMatchObject({ approvalsNeeded: 3, approvalsRule: 'high: 2 + 1 (trading session)' });
      // The same Monday at 16:00, after the close; and Saturday morning.
      app.clock = () => new Date('2026-11-23T16:00:00+08:00');
      expect((await getAction(db, await request('trd-app-11')))).toMatchObject({ approvalsNeeded: 2, approvalsRule: 'high: 2' });
      app.clock = () => new Date('2026-11-28T10:00:00+08:00');
      expect((await getAction(db, await request('trd-app-12')))!.approvalsNeeded).toBe(2);
    } finally {
      app.policy = policy;
      app.clock = clock;
    }
  });

  it('a pre-check that refuses stops the request, with its reason', async () => {
    await expect(request('nowhere')).rejects.toThrow(/host nowhere does not exist/);
    expect((await db.query("SELECT count(*)::int AS n FROM action_requests WHERE input->>'host' = 'nowhere'"))[0]).toEqual({ n: 0 });
    expect((await db.query("SELECT outcome FROM audit_log WHERE action = 'action.request:restart_service' AND outcome = 'refused'")).length).toBe(1);
  });

  it('a failing step fails the action with its error; rejecting and withdrawing stop it before it runs', async () => {
    const failing = await bot.actions.request({ tool: 'restart_service', input: { host: 'trd-app-05', fail: true }, requestedBy: 'songkai', lang: 'en' });
    await bot.actions.approve(failing.id, 'xieping', 'en');
    await bot.actions.approve(failing.id, 'zhangwei', 'en');
    expect(await until(failing.id, ['succeeded', 'failed'])).toBe('failed');
    expect((await getAction(db, failing.id))!.error).toMatch(/service on trd-app-05 did not come up/);

    const rejected = await request('trd-app-06');
    expect((await say('xieping', `/action reject ${rejected} not during the session`)).text).toMatch(/Rejected/);
    expect((await getAction(db, rejected))).toMatchObject({ status: 'rejected', decidedBy: 'xieping', decisionNote: 'not during the session' });
    const withdrawn = await request('trd-app-07');
    expect((await say('songkai', `/action reject ${withdrawn}`)).text).toMatch(/Withdrew/);
    expect((await say('zhangwei', `/action approve ${withdrawn}`)).text).toMatch(/is rejected: it no longer takes decisions/);
    expect(ran['stop:trd-app-06']).toBeUndefined();
    expect(ran['stop:trd-app-07']).toBeUndefined();
  });

  it('an incident action lands on the timeline and in the postmortem with its approvers', async () => {
    const { id: incidentId } = await declareForTest(bot, { actor: 'xieping', title: 'orders failing', lang: 'en' });
    const a = await bot.actions.request({ tool: 'restart_service', input: { host: 'trd-app-08' }, requestedBy: 'songkai', incidentId, lang: 'en' });
    await bot.actions.approve(a.id, 'xieping', 'en');
    await bot.actions.approve(a.id, 'zhangwei', 'en');
    expect(await until(a.id, ['succeeded'])).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 50));
    const timeline = await db.query<{ text: string }>("SELECT text FROM incident_timeline WHERE incident_id = $1 AND kind = 'action' ORDER BY id", [incidentId]);
    expect(timeline.map((r) => r.text).join('\n')).toMatch(/requested by .*songkai[\s\S]*approved by .*xieping.*\(1\/2\)[\s\S]*approved by .*zhangwei.*\(2\/2\)[\s\S]*started[\s\S]*succeeded/);
    const pm = await draftPostmortem(db, (await getIncident(db, incidentId))!, '集中交易', 'en', 'Asia/Shanghai');
    expect(pm).toMatch(/`restart_service` requested by songkai; approved by xieping, zhangwei; outcome succeeded/);
  });
});
