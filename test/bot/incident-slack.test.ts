import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';
import { appMentionEvent, reactionAddedEvent, blockActionsBody, eventCallbackBody, postSigned, slashCommandBody, startSlackStandin, type SlackStandin } from '../helpers/slack-standin.js';

const SECRET = 'e2e-signing-secret-0123456789abcdef';
const STATUS = 'C0STATUS01';

/**
 * Everything a user sees in Slack for an incident, from declaration to postmortem, through signed
 * requests. One database and stand-in for the file; each test declares its own incident (09:40,
 * songkai, P1 集中交易) and whatever it leaves open is closed after it.
 */
describe('incident flow on Slack (real Bolt, stand-in Web API)', () => {
  let db: Db;
  let app: App;
  let standin: SlackStandin;
  let warroom: RunningWarroom;
  let url: string;
  let clock = DEMO_NOW;
  const slackOf = new Map<string, string>();

  const cmd = (text: string, person: string, channelId = 'C0GENERAL', command = '/incident') =>
    postSigned(url, SECRET, slashCommandBody({ command, text, userId: slackOf.get(person)!, userName: person, channelId, channelName: standin.channels.get(channelId)?.name ?? 'general' }));
  /** This test's own incident and its Slack channel. */
  const declared = async () => {
    const { id, roomId } = await declareForTest(warroom.bot, { platform: 'slack' });
    expect(standin.channels.get(roomId)?.name).toBe(`${id.toLowerCase()}-jzjy`);
    return { incidentId: id, roomId };
  };
  const messagesIn = (channel: string) => standin.channels.get(channel)?.messages ?? [];
  const ephemeralsTo = (person: string) => [...standin.channels.values()].flatMap((c) => c.ephemerals).filter((e) => e.user === slackOf.get(person));
  const textOf = (m: { text: string; blocks?: unknown[] }) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;

  beforeAll(async () => {
    standin = await startSlackStandin({ latencyMs: 5 });
    standin.addChannel({ id: 'C0GENERAL', name: 'general' });
    standin.addChannel({ id: 'C0MANAGERS', name: 'managers' });
    standin.addChannel({ id: STATUS, name: 'incident-status' });
    db = await createTestPglite();
    app = await createDemoApp(db, {
      env: {
        SLACK_BOT_TOKEN: standin.token,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: standin.url,
        SLACK_STATUS_CHANNEL: STATUS,
      },
      clock: () => clock,
    });
    for (const p of await db.query<{ id: string; slack: string }>('SELECT id, slack FROM people WHERE slack IS NOT NULL')) slackOf.set(p.id, p.slack);
    warroom = await startWarroom(app, { port: 0, timers: false });
    url = `http://127.0.0.1:${warroom.port}/slack/events`;
  });
  afterAll(async () => {
    await warroom?.close();
    await standin?.close();
    await db?.close();
  });
  beforeEach(() => {
    clock = DEMO_NOW;
  });
  afterEach(async () => closeOpenIncidents(db));

  it('declares from a signed slash command: channel, on-call people by role, pinned card, status announcement', async () => {
    const createdBefore = standin.callsOf('conversations.create').length;
    const r = await cmd('declare P1 集中交易 开盘委托大量失败', 'songkai');
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    await standin.waitFor(() => messagesIn('C0GENERAL').some((m) => /INC-20261123-\d{3}/.test(m.text)), 'the declaration reply in #general');
    const reply = messagesIn('C0GENERAL').find((m) => /INC-20261123-\d{3}/.test(m.text))!;
    const incidentId = /INC-20261123-\d{3}/.exec(reply.text)![0];

    const created = standin.callsOf('conversations.create').slice(createdBefore);
    expect(created).toHaveLength(1);
    expect(created[0]!.body.name).toBe(`${incidentId.toLowerCase()}-jzjy`);
    const roomId = standin.channelByName(`${incidentId.toLowerCase()}-jzjy`)!.id;
    const members = standin.channels.get(roomId)!.members;
    // jzjy's commander, communications and operations leads on call, the on-call people of what it depends on, and the declarer.
    for (const person of ['xieping', 'wangfang', 'lihua', 'songkai', 'sunqiang', 'liuyang', 'linfeng']) expect(members.has(slackOf.get(person)!), person).toBe(true);
    expect(members.has(slackOf.get('yangguang')!)).toBe(false);

    const card = messagesIn(roomId)[0]!;
    expect(card.text).toContain(incidentId);
    const cardText = textOf(card);
    expect(cardText).toContain('开盘委托大量失败');
    expect(cardText).toMatch(/CAB-\d{8}-\d{3}/); // changes of the last 3 trading days
    expect(cardText).toContain('故障指挥');
    expect(cardText).toContain('incident.resolve#'); // working buttons
    expect(standin.channels.get(roomId)!.pins).toContain(card.ts);
    expect(standin.channels.get(roomId)!.topic).toContain('集中交易');
    expect(messagesIn(STATUS).some((m) => m.text.includes(incidentId))).toBe(true);
  });

  it("answers a manager's status in another channel from stored facts", async () => {
    const { incidentId, roomId } = await declared();
    const r = await cmd('status', 'yangguang', 'C0MANAGERS', '/warroom');
    expect(r.status).toBe(200);
    await standin.waitFor(() => messagesIn('C0MANAGERS').some((m) => m.text.includes(incidentId) || textOf(m).includes(incidentId)), 'the status answer');
    const answer = textOf(messagesIn('C0MANAGERS').at(-1)!);
    expect(answer).toContain('P1');
    expect(answer).toContain('开盘委托大量失败');

    const mention = await postSigned(url, SECRET, eventCallbackBody(appMentionEvent({ text: `<@${standin.botUserId}> 现在什么情况？`, user: slackOf.get('qianyu')!, channel: 'C0MANAGERS' }), { botUserId: standin.botUserId }));
    expect(mention.status).toBe(200);
    await standin.waitFor(() => messagesIn('C0MANAGERS').filter((m) => textOf(m).includes(incidentId)).length >= 2, 'the mention answer');
    expect(textOf(messagesIn('C0MANAGERS').at(-1)!)).toMatch(/调查中|响应/);
  });

  it('refuses a severity change from someone who is not the commander, and allows the commander', async () => {
    const { incidentId, roomId } = await declared();
    const before = ephemeralsTo('lihua').length;
    await cmd('severity P0', 'lihua', roomId);
    await standin.waitFor(() => ephemeralsTo('lihua').length > before, 'the refusal');
    expect(ephemeralsTo('lihua').at(-1)!.text).toMatch(/只有|Only/);
    const [row] = await db.query<{ severity: string }>('SELECT severity FROM incidents WHERE id = $1', [incidentId]);
    expect(row!.severity).toBe('P1');

    await cmd('severity P0', 'xieping', roomId);
    await standin.waitFor(() => messagesIn(roomId).some((m) => m.text.includes('P1 → P0')), 'the severity change');
    const card = standin.callsOf('chat.update').filter((c) => c.body.channel === roomId).at(-1)!;
    expect(String(card.body.text)).toContain('P0');
  });

  it('moves the status with a card button, records the stage, and refreshes the card', async () => {
    const { incidentId, roomId } = await declared();
    const card = messagesIn(roomId)[0]!;
    clock = new Date(DEMO_NOW.getTime() + 12 * 60000);
    const r = await postSigned(url, SECRET, blockActionsBody({ actionId: 'incident.status#1', value: `${incidentId}|identified`, userId: slackOf.get('xieping')!, userName: 'xieping', channelId: roomId, messageTs: card.ts }));
    expect(r.status).toBe(200);
    await standin.waitFor(() => messagesIn(roomId).some((m) => /调查中 → 已定位/.test(m.text)), 'the status change');
    const [row] = await db.query<{ status: string; stages: Record<string, string> }>('SELECT status, stages FROM incidents WHERE id = $1', [incidentId]);
    expect(row!.status).toBe('identified');
    expect(Object.keys(row!.stages).sort()).toEqual(['discover', 'localize', 'respond']);
  });

  it('puts a message flagged with :pushpin: on the timeline, with who flagged it', async () => {
    const { incidentId, roomId } = await declared();
    const said = standin.addMessage(roomId, { text: '手机通道委托失败集中在 335002 功能号', user: slackOf.get('lihua')! });
    const r = await postSigned(url, SECRET, eventCallbackBody(reactionAddedEvent({ reaction: 'pushpin', channel: roomId, ts: said.ts, user: slackOf.get('wangfang')!, itemUser: slackOf.get('lihua')! }), { botUserId: standin.botUserId }));
    expect(r.status).toBe(200);
    const before = ephemeralsTo('wangfang').length;
    // The reaction is handled after the ack; wait until it has landed before asking for the timeline.
    for (let i = 0; i < 100 && !(await db.query("SELECT 1 FROM incident_timeline WHERE incident_id = $1 AND data->>'flagged' = 'true'", [incidentId])).length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await cmd('timeline', 'wangfang', roomId);
    await standin.waitFor(() => ephemeralsTo('wangfang').length > before, 'the timeline');
    expect(JSON.stringify(ephemeralsTo('wangfang').at(-1)!.blocks)).toMatch(/wangfang · 📌 手机通道委托失败集中在 335002 功能号/);
  });

  it('resolves on the commander\'s command and posts the postmortem draft in the room', async () => {
    const { incidentId, roomId } = await declared();
    clock = new Date(DEMO_NOW.getTime() + 40 * 60000);
    await cmd('cause 风控参数表变更后委托价格笼子校验错误', 'lihua', roomId);
    await cmd('resolve 回退参数表', 'xieping', roomId);
    const isPostmortem = (m: { text: string }) => m.text.startsWith(`${incidentId} 复盘草稿`);
    await standin.waitFor(() => messagesIn(roomId).some(isPostmortem), 'the postmortem');
    const pm = textOf(messagesIn(roomId).find(isPostmortem)!);
    expect(pm).toContain('# 故障复盘');
    expect(pm).toContain('风控参数表变更后委托价格笼子校验错误');
    // Declared at 09:40, resolved at 10:20; stage times count from the onset, the first jzjy alert at 09:24:50.
    expect(pm).toMatch(/\| 起始 → 申报 \| 2026-11-23 09:24:50 \| 15 分钟 \|/);
    expect(pm).toMatch(/\| 恢复 \| 2026-11-23 10:20:00 \| 55 分钟 \|/);
    expect(messagesIn(STATUS).some((m) => m.text.includes(incidentId) && /已解决|resolved/.test(textOf(m)))).toBe(true);
  });
});
