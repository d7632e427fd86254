import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import { loadConfig } from '../../core/config.js';
import type { Db } from '../../db/db.js';
import { runIncidentTimers } from '../../bot/incidents/timers.js';
import { parseStageLimits, parseUpdateIntervals } from '../../bot/incidents/policy.js';
import { incidentPolicy } from '../../bot/incidents/facts.js';
import { matchStatusQuestion } from '../../bot/incidents/status.js';
import type { OutgoingMessage } from '../../bot/messages.js';
import { renderText } from '../../bot/render/text.js';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';
import { webClients } from '../helpers/web-session.js';

interface Seen {
  id: number;
  author: string;
  privateTo: string | null;
  pinned: boolean;
  message: OutgoingMessage;
}

const minutes = (n: number) => new Date(DEMO_NOW.getTime() + n * 60000);

/**
 * The incident process in the local web chat, as people see it: roles gated on the server, the
 * timeline, stage nudges, drafted updates for the communications lead, alerts, status for
 * managers, resolve and the postmortem. One database for the file; each test declares its own
 * incident (at 09:40, the onset being the first jzjy alert at 09:24:50) and brings it as far as the
 * story needs, with the same clock values, and whatever it leaves open is closed after it.
 */
describe('incident process (local web chat)', () => {
  let db: Db;
  let app: App;
  let warroom: RunningWarroom;
  let base: string;
  let clock = DEMO_NOW;

  // One signed-in session per person, as one browser each.
  const as = webClients(() => base, () => warroom.signInLink!());
  const send = async (user: string, roomId: string, text: string) => {
    const res = await (await as(user)).post('/chat/api/send', { room: roomId, text });
    expect(res.status).toBe(202);
    await warroom.platforms.settled();
  };
  const press = async (user: string, roomId: string, messageId: number, actionId: string, value: string) => {
    const res = await (await as(user)).post('/chat/api/action', { room: roomId, messageId, actionId, value });
    expect(res.status).toBe(202);
    await warroom.platforms.settled();
  };
  const seen = async (user: string, roomId: string): Promise<Seen[]> => {
    const res = await (await as(user)).get('/chat/api/messages', { room: roomId });
    expect(res.status).toBe(200);
    return (res.body as { messages: Seen[] }).messages;
  };
  const lastText = async (user: string, roomId: string) => renderText((await seen(user, roomId)).at(-1)!.message);
  const alert = async (body: unknown) => {
    const res = await fetch(`${base}/api/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await warroom.platforms.settled();
    return { status: res.status, body: (await res.json()) as { results?: Array<{ action: string; incident?: string; count?: number; alert: string }>; message?: string } };
  };

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db, { env: { WARROOM_ALERT_MIN_SEVERITY: 'critical' }, clock: () => clock });
    warroom = await startWarroom(app, { port: 0, timers: false });
    base = `http://127.0.0.1:${warroom.port}`;
    expect(warroom.platforms.names).toEqual(['local']);
  });
  afterAll(async () => {
    await warroom?.close();
    await db?.close();
  });
  beforeEach(() => {
    clock = DEMO_NOW;
  });
  afterEach(async () => closeOpenIncidents(db));

  // The story, step by step; each test runs the steps it builds on.
  /** songkai declares P1 集中交易 at 09:40: xieping commands, wangfang communicates, lihua operates. */
  const declared = async () => {
    const { id, roomId } = await declareForTest(warroom.bot, { platform: 'local' });
    expect(roomId).toBe(`${id.toLowerCase()}-jzjy`);
    return { incidentId: id, room: roomId };
  };
  /** 09:40: songkai takes the vacant scribe role (the first response). */
  const scribeTaken = async (room: string) => send('songkai', room, '/incident role scribe me');
  /** 09:40: the commander hands operations from lihua to sunqiang. */
  const operationsToSunqiang = async (room: string) => send('xieping', room, '/incident role ops sunqiang');
  /** 09:44: lihua records the impact and a note. */
  const impactNoted = async (room: string) => {
    clock = minutes(4);
    await send('lihua', room, '/incident impact 约 3% 委托失败，集中在手机通道');
    await send('lihua', room, '/incident note 连接池等待超时与开盘峰值同时出现');
  };
  /** The timer passes at 09:49 and at 10:11 (the localize nudge, and the update due at 10:10 drafted). */
  const timersTo1011 = async () => {
    clock = minutes(9);
    await runIncidentTimers(warroom.bot);
    clock = minutes(31);
    await runIncidentTimers(warroom.bot);
    await warroom.platforms.settled();
  };
  const draftOf = async (incidentId: string) => (await seen('wangfang', 'dm-wangfang')).find((m) => m.message.title === `${incidentId} 通报草稿`)!;
  /** 10:11: wangfang posts the drafted update with its button. */
  const draftPosted = async (incidentId: string) => {
    const draft = await draftOf(incidentId);
    const post = draft.message.buttons!.find((b) => b.actionId === 'incident.post_update')!;
    await press('wangfang', 'dm-wangfang', draft.id, post.actionId, post.value);
  };

  it('reads stage limits and update intervals, and refuses bad ones with a hint', () => {
    expect(parseStageLimits('P0=5/15/30,P1=10/30/60,P2=30/120/240,P3=60/480/1440').P1).toEqual({ respond: 10, localize: 30, recover: 60 });
    expect(() => parseStageLimits('P0=5/15/30')).toThrow(/P1, P2, P3/);
    expect(() => parseStageLimits('P0=30/15/5,P1=1/2/3,P2=1/2/3,P3=1/2/3')).toThrow(/must not decrease/);
    expect(parseUpdateIntervals('P0=15,P1=30,P2=60,P3=0').P3).toBe(0);
    // Checked when the server starts, before anything listens.
    expect(() => incidentPolicy(loadConfig({ WARROOM_STAGE_LIMITS: 'soon' }))).toThrow(/WARROOM_STAGE_LIMITS: cannot read "soon"/);
    expect(matchStatusQuestion('现在什么情况？')).toEqual({ kind: 'open' });
    expect(matchStatusQuestion('status INC-20261123-002')).toEqual({ kind: 'one', id: 'INC-20261123-002' });
    expect(matchStatusQuestion('今天有哪些故障，影响多大?')).toEqual({ kind: 'today' });
    expect(matchStatusQuestion('集中交易最近3个交易日有哪些变更')).toBeUndefined();
  });

  it('declares from general: the declarer and the on-call people see the room with its pinned card', async () => {
    await send('songkai', 'general', '/incident declare P1 集中交易 开盘委托大量失败');
    const reply = await lastText('songkai', 'general');
    const incidentId = /INC-20261123-\d{3}/.exec(reply)![0];
    const room = `${incidentId.toLowerCase()}-jzjy`;
    const inRoom = await seen('xieping', room);
    const card = inRoom.find((m) => m.pinned)!;
    expect(card.message.title).toBe(`${incidentId} · P1 · 集中交易 — 开盘委托大量失败`);
    expect(renderText(card.message)).toMatch(/故障指挥\s+谢平 \(xieping\)/);
    expect(renderText(card.message)).toMatch(/沟通负责人\s+王芳 \(wangfang\)/);
    expect(card.message.buttons!.map((b) => b.actionId)).toContain('incident.resolve');
    expect(renderText((await seen('yangguang', 'status')).at(-1)!.message)).toContain(incidentId);
  });

  it('lets anyone known take the vacant scribe role, but only the commander hands out a held one', async () => {
    const { room } = await declared();
    await send('songkai', room, '/incident role scribe me');
    expect(await lastText('songkai', room)).toMatch(/记录员：songkai/);
    await send('lihua', room, '/incident role comms lihua');
    const refusal = (await seen('lihua', room)).at(-1)!;
    expect(refusal.privateTo).toBe('lihua');
    expect(renderText(refusal.message)).toMatch(/沟通负责人由王芳（wangfang）担任，只有故障指挥可以改派/);
    expect(renderText(refusal.message)).toMatch(/故障指挥谢平（xieping）可以用 `\/incident role comms <人>` 把角色交给你/);
    // Nobody else saw the refusal.
    expect((await seen('wangfang', room)).some((m) => m.id === refusal.id)).toBe(false);
    await send('xieping', room, '/incident role comms @wangfang');
    expect(await lastText('xieping', room)).toMatch(/王芳 已经是沟通负责人|already/);
    await send('xieping', room, '/incident role ops sunqiang');
    expect(await lastText('xieping', room)).toMatch(/处置负责人：孙强（接替 李华）/);
  });

  it('keeps notes, impact and refuses resolve from the wrong person, on the timeline with who and when', async () => {
    const { room } = await declared();
    clock = minutes(4);
    await send('lihua', room, '/incident impact 约 3% 委托失败，集中在手机通道');
    await send('lihua', room, '/incident note 连接池等待超时与开盘峰值同时出现');
    await send('lihua', room, '/incident resolve');
    expect(await lastText('lihua', room)).toMatch(/只有故障指挥可以解决故障/);
    await send('xieping', room, '/incident timeline');
    const timeline = await lastText('xieping', room);
    expect(timeline).toMatch(/09:40 songkai · 申报 P1 故障：集中交易 — 开盘委托大量失败/);
    expect(timeline).toMatch(/09:44 lihua · 影响：约 3% 委托失败，集中在手机通道/);
    expect(timeline).toMatch(/09:44 lihua · 连接池等待超时与开盘峰值同时出现/);
    expect(timeline).not.toMatch(/resolve|已解决/);
  });

  it('nudges the room and the commander once when a stage overruns', async () => {
    const { incidentId, room } = await declared();
    await scribeTaken(room);
    clock = minutes(9);
    expect((await runIncidentTimers(warroom.bot)).nudged).toEqual([]);
    // Responded already (the scribe acted at 09:40); for P1 localize is due 30 min after the onset,
    // the first jzjy alert at 09:24:50 (09:49 is 24 min after it: not yet).
    clock = minutes(31);
    const run = await runIncidentTimers(warroom.bot);
    await warroom.platforms.settled();
    expect(run.nudged).toEqual([{ incident: incidentId, stage: 'localize' }]);
    const nudge = (await seen('songkai', room)).find((m) => m.message.title?.includes('定位阶段超时'));
    expect(renderText(nudge!.message)).toMatch(/P1 故障已持续 46 分钟，定位时限为 30 分钟。请 谢平 \(xieping\) 确认进展/);
    expect((await seen('xieping', 'dm-xieping')).some((m) => m.message.title?.includes(`${incidentId} 定位阶段超时`))).toBe(true);
    expect((await runIncidentTimers(warroom.bot)).nudged).toEqual([]);
  });

  it('drafts a status update for the communications lead when one is due, posted once by a button', async () => {
    const { incidentId, room } = await declared();
    await scribeTaken(room);
    await impactNoted(room);
    // P1 updates every 30 minutes: the one due at 10:10 is drafted by the pass at 10:11.
    await timersTo1011();
    const draft = await draftOf(incidentId);
    expect(draft.message.text).toMatch(/【故障通报】.*开盘委托大量失败/);
    expect(draft.message.text).toContain('影响：约 3% 委托失败，集中在手机通道');
    expect(draft.message.text).toMatch(/下次通报：/);
    const post = draft.message.buttons!.find((b) => b.actionId === 'incident.post_update')!;
    await press('wangfang', 'dm-wangfang', draft.id, post.actionId, post.value);
    const status = await seen('yangguang', 'status');
    expect(status.filter((m) => m.message.title === `${incidentId} 通报`)).toHaveLength(1);
    await press('wangfang', 'dm-wangfang', draft.id, post.actionId, post.value);
    expect((await seen('yangguang', 'status')).filter((m) => m.message.title === `${incidentId} 通报`)).toHaveLength(1);
    expect(renderText((await seen('wangfang', 'dm-wangfang')).at(-1)!.message)).toMatch(/已发布或已作废/);
  });

  it('answers managers from stored facts, in their language', async () => {
    const { incidentId, room } = await declared();
    await scribeTaken(room);
    await impactNoted(room);
    await timersTo1011();
    await draftPosted(incidentId);
    await send('yangguang', 'dm-yangguang', '现在什么情况');
    const zh = await lastText('yangguang', 'dm-yangguang');
    expect(zh).toContain(`${incidentId} · P1 · 集中交易 — 开盘委托大量失败`);
    expect(zh).toMatch(/影响：约 3% 委托失败/);
    expect(zh).toMatch(/已持续 46 分钟/);
    expect(zh).toMatch(/最近通报 11-23 \(周一\) 10:11/);
    expect(zh).toMatch(/下次通报：11-23 \(周一\) 10:41/);
    await send('qianyu', 'dm-qianyu', "what's going on?");
    const en = await lastText('qianyu', 'dm-qianyu');
    expect(en).toMatch(/Open incidents right now/);
    expect(en).toMatch(/Status：investigating · stage：localize \(overdue by 16 min\)/);
  });

  it('takes alerts: a critical one opens a room, its repeats only count, a minor one is offered with a Declare button', async () => {
    clock = minutes(35);
    const first = await alert({ system: 'fpga-md', severity: 'critical', title: 'MDGW TCP 会话断开', labels: { host: 'md-fpga-01' } });
    expect(first.status).toBe(202);
    expect(first.body.results![0]).toMatchObject({ action: 'declared' });
    const fpgaIncident = first.body.results![0]!.incident!;
    const again = await alert({ system: 'fpga-md', severity: 'critical', title: 'MDGW TCP 会话断开', labels: { host: 'md-fpga-01' } });
    expect(again.body.results![0]).toMatchObject({ action: 'repeat', count: 2, incident: fpgaIncident });
    expect((await db.query('SELECT id FROM incidents WHERE system = $1 AND status <> $2', ['fpga-md', 'resolved'])).length).toBe(1);
    // Another critical alert on the same system joins the open incident instead of opening a second room.
    const related = await alert({ alerts: [{ status: 'firing', labels: { alertname: 'MulticastSilent', system: 'fpga-md', severity: 'critical' }, annotations: { summary: '组播通道 3 超过 10 秒无数据' }, startsAt: minutes(35).toISOString() }] });
    expect(related.body.results![0]).toMatchObject({ action: 'attached', incident: fpgaIncident });

    const minor = await alert({ system: 'redis-cloud', severity: 'minor', title: 'Redis 主从复制延迟 > 5s' });
    expect(minor.body.results![0]).toMatchObject({ action: 'offered' });
    const offered = (await seen('zhangwei', 'status')).at(-1)!;
    const declare = offered.message.buttons!.find((b) => b.actionId === 'incident.declare_alert')!;
    await press('zhangwei', 'status', offered.id, declare.actionId, declare.value);
    expect(await lastText('zhangwei', 'status')).toMatch(/zhangwei 根据告警申报了 INC-20261123-\d{3}/);
    const [row] = await db.query<{ severity: string; system: string }>("SELECT severity, system FROM incidents WHERE extra->>'alert' = $1", [minor.body.results![0]!.alert]);
    expect(row).toEqual({ severity: 'P3', system: 'redis-cloud' });

    const bad = await alert({ system: 'fpga-md', title: 'no severity' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/severity/);
  });

  it('resolves on the commander\'s word: times recorded, postmortem in the room and from the CLI helper', async () => {
    const { incidentId, room } = await declared();
    await scribeTaken(room);
    await operationsToSunqiang(room);
    await impactNoted(room);
    clock = minutes(38);
    await send('xieping', room, '/incident status identified');
    await send('sunqiang', room, '/incident cause CAB-20261120-003 将连接池 maxActive 下调，开盘并发超出');
    await send('sunqiang', room, '/incident followup 盘后变更验证增加开盘并发压测');
    clock = minutes(52);
    await send('xieping', room, '/incident resolve 回退 CAB-20261120-003 连接池参数');
    const [row] = await db.query<{ status: string; stages: Record<string, string>; postmortem: string }>('SELECT status, stages, postmortem FROM incidents WHERE id = $1', [incidentId]);
    expect(row!.status).toBe('resolved');
    expect(Object.keys(row!.stages).sort()).toEqual(['discover', 'localize', 'recover', 'respond']);
    const pm = row!.postmortem;
    expect(pm).toContain(`# 故障复盘: ${incidentId} P1 集中交易 — 开盘委托大量失败`);
    expect(pm).toMatch(/\| 定位 \| 2026-11-23 10:18:00 \| 53 分钟 \|/);
    expect(pm).toMatch(/\| 恢复 \| 2026-11-23 10:32:00 \| 67 分钟 \|/);
    expect(pm).toContain('CAB-20261120-003 将连接池 maxActive 下调，开盘并发超出');
    expect(pm).toContain('- [ ] 盘后变更验证增加开盘并发压测 (sunqiang)');
    expect(pm).toContain('约 3% 委托失败，集中在手机通道');
    const posted = (await seen('lihua', room)).find((m) => m.message.title === `${incidentId} 复盘草稿`);
    expect(posted?.message.text).toBe(pm);
    await send('yangguang', 'dm-yangguang', '今天有哪些故障');
    const today = await lastText('yangguang', 'dm-yangguang');
    expect(today).toContain(incidentId);
    expect(today).toMatch(/已解决/);
  });
});
