import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';
import { blockActionsBody, postSigned, slashCommandBody, startSlackStandin, type SlackStandin } from '../helpers/slack-standin.js';

const SECRET = 'roles-signing-secret-0123456789abcdef';
const STATUS = 'C0STATUS01';
/** A member of the Slack workspace who is not in Warroom's `people`. */
const OUTSIDER = 'U0OUTSIDER9';

/**
 * Finding 3 of issue 11, "anyone in the workspace can take over an incident", replayed through
 * the real Slack path: signed slash commands and button presses into real Bolt, the Web API
 * answered by the local stand-in. The incident is the demo's P1 on 集中交易, with the on-call
 * commander (xieping), communications lead (wangfang) and operations lead (lihua) in their roles
 * and the scribe role vacant.
 */
describe('security: roles mean something (Slack)', () => {
  let db: Db;
  let app: App;
  let standin: SlackStandin;
  let warroom: RunningWarroom;
  let url: string;
  const slackOf = new Map<string, string>();

  const command = (text: string, userId: string, userName: string, channelId: string) =>
    postSigned(url, SECRET, slashCommandBody({ command: '/incident', text, userId, userName, channelId, channelName: standin.channels.get(channelId)?.name ?? 'general' }));
  const messagesIn = (channel: string) => standin.channels.get(channel)?.messages ?? [];
  const ephemeralsTo = (userId: string) => [...standin.channels.values()].flatMap((c) => c.ephemerals).filter((e) => e.user === userId);
  const textOf = (m: { text: string; blocks?: unknown[] }) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;

  /** Send one command and wait for a private answer to it that matches `expected` (answers come after the ack, in any order). */
  const attempt = async (text: string, userId: string, userName: string, channelId: string, expected: RegExp): Promise<string> => {
    const before = new Set(ephemeralsTo(userId));
    const fresh = () => ephemeralsTo(userId).filter((e) => !before.has(e));
    const r = await command(text, userId, userName, channelId);
    expect(r.status).toBe(200);
    const answer = () => fresh().map(textOf).find((m) => expected.test(m));
    await standin.waitFor(() => answer() !== undefined, `an answer to "${text}" matching ${expected}`).catch((err: Error) => {
      throw new Error(`${err.message}; got: ${JSON.stringify(fresh().map(textOf))}`);
    });
    return answer()!;
  };

  const stateOf = async (id: string) => ({
    incident: (await db.query('SELECT severity, status, resolved_at, postmortem FROM incidents WHERE id = $1', [id]))[0],
    roles: await db.query('SELECT role, person FROM incident_roles WHERE incident_id = $1 ORDER BY role', [id]),
    updates: (await db.query('SELECT 1 FROM incident_updates WHERE incident_id = $1', [id])).length,
  });

  beforeAll(async () => {
    standin = await startSlackStandin({ latencyMs: 2 });
    standin.addChannel({ id: 'C0GENERAL', name: 'general' });
    standin.addChannel({ id: STATUS, name: 'incident-status' });
    db = await createTestPglite();
    app = await createDemoApp(db, {
      env: { SLACK_BOT_TOKEN: standin.token, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: standin.url, SLACK_STATUS_CHANNEL: STATUS },
      now: DEMO_NOW,
      runbooks: false,
    });
    for (const p of await db.query<{ id: string; slack: string }>('SELECT id, slack FROM people WHERE slack IS NOT NULL')) slackOf.set(p.id, p.slack);
    expect([...slackOf.values()]).not.toContain(OUTSIDER);
    warroom = await startWarroom(app, { port: 0, timers: false });
    url = `http://127.0.0.1:${warroom.port}/slack/events`;
  });
  afterAll(async () => {
    await warroom?.close();
    await standin?.close();
    await db?.close();
  });
  afterEach(async () => closeOpenIncidents(db));

  it('a workspace member unknown to Warroom cannot take the scribe role, the command, lower the severity or resolve', async () => {
    const { id, roomId } = await declareForTest(warroom.bot, { platform: 'slack' });
    const before = await stateOf(id);
    expect(before.roles).toEqual([
      { role: 'communications-lead', person: 'wangfang' },
      { role: 'incident-commander', person: 'xieping' },
      { role: 'operations-lead', person: 'lihua' },
    ]);
    const roomMessagesBefore = messagesIn(roomId).length;
    const statusMessagesBefore = messagesIn(STATUS).length;

    // The attack as reported: take the vacant scribe role, use it to take the command, lower P1 to P3, resolve.
    const scribe = await attempt('role scribe me', OUTSIDER, 'outsider', roomId, /不能担任记录员/);
    expect(scribe).toMatch(/slack:U0OUTSIDER9.*不在 Warroom 的人员名单中，不能担任记录员/);
    expect(scribe).toMatch(/请管理员把你加入人员名单/);
    await attempt('role ic me', OUTSIDER, 'outsider', roomId, /不在 Warroom 的人员名单中，不能担任故障指挥/);
    await attempt(`role ic <@${OUTSIDER}|outsider>`, OUTSIDER, 'outsider', roomId, /不在 Warroom 的人员名单中|不认识/);
    await attempt('severity P3', OUTSIDER, 'outsider', roomId, /不在 Warroom 的人员名单中，不能修改级别/);
    await attempt('resolve 已恢复', OUTSIDER, 'outsider', roomId, /不在 Warroom 的人员名单中，不能解决故障/);
    await attempt('update 已恢复，无影响', OUTSIDER, 'outsider', roomId, /不在 Warroom 的人员名单中，不能发布通报/);

    // The card's buttons refuse the same person.
    const card = messagesIn(roomId)[0]!;
    for (const [actionId, value] of [
      ['incident.role#1', `${id}|incident-commander`],
      ['incident.resolve#1', id],
      ['incident.status#1', `${id}|mitigated`],
    ] as const) {
      const seen = new Set(ephemeralsTo(OUTSIDER));
      const r = await postSigned(url, SECRET, blockActionsBody({ actionId, value, userId: OUTSIDER, userName: 'outsider', channelId: roomId, messageTs: card.ts }));
      expect(r.status).toBe(200);
      await standin.waitFor(() => ephemeralsTo(OUTSIDER).some((e) => !seen.has(e) && /不在 Warroom 的人员名单中/.test(textOf(e))), `the refusal of ${actionId}`);
    }

    // Reading still works for them.
    await attempt('help', OUTSIDER, 'outsider', roomId, /\/incident declare/);

    // Nothing changed: same severity, status and roles; no postmortem, no resolution announced, nobody told of a change.
    expect(await stateOf(id)).toEqual(before);
    expect(messagesIn(roomId).length).toBe(roomMessagesBefore);
    expect(messagesIn(roomId).some((m) => textOf(m).includes('复盘草稿'))).toBe(false);
    expect(messagesIn(STATUS).length).toBe(statusMessagesBefore);
    expect(messagesIn(STATUS).some((m) => textOf(m).includes(id) && /已解决|resolved/.test(textOf(m)))).toBe(false);
    // Each attempt is in the audit log as denied, under the Slack identity.
    const denied = await db.query<{ action: string }>("SELECT action FROM audit_log WHERE actor = $1 AND outcome = 'denied' AND target = $2 ORDER BY id", [`slack:${OUTSIDER}`, id]);
    expect(denied.map((d) => d.action)).toEqual(expect.arrayContaining(['incident.role', 'incident.severity', 'incident.resolve', 'incident.update', 'incident.status']));
    expect(denied.length).toBeGreaterThanOrEqual(7);
  });

  it('an unknown member cannot declare, and a known colleague holding the scribe role records but does not command', async () => {
    const declaredBefore = (await db.query('SELECT 1 FROM incidents')).length;

    const channelsBefore = standin.callsOf('conversations.create').length;
    await attempt('declare P1 集中交易 开盘委托大量失败', OUTSIDER, 'outsider', 'C0GENERAL', /不在 Warroom 的人员名单中，不能申报 P1 故障/);
    await attempt('declare P3 集中交易 报表慢', OUTSIDER, 'outsider', 'C0GENERAL', /不在 Warroom 的人员名单中/);
    expect((await db.query('SELECT 1 FROM incidents')).length).toBe(declaredBefore);
    expect(standin.callsOf('conversations.create').length).toBe(channelsBefore);

    const { id, roomId } = await declareForTest(warroom.bot, { platform: 'slack' });
    // yangguang, a manager known to Warroom and on no rota, takes the vacant scribe role: allowed, and records.
    const yangguang = slackOf.get('yangguang')!;
    await command('role scribe me', yangguang, 'yangguang', roomId);
    await standin.waitFor(() => messagesIn(roomId).some((m) => /记录员：(杨光|yangguang)/.test(m.text)), 'the scribe taking the role');
    await command('note 手机通道委托失败率 3%', yangguang, 'yangguang', roomId);
    await standin.waitFor(() => messagesIn(roomId).some((m) => /已记入时间线/.test(m.text)), 'the note');
    expect((await db.query("SELECT actor FROM incident_timeline WHERE incident_id = $1 AND kind = 'note'", [id]))).toEqual([{ actor: 'yangguang' }]);
    const before = await stateOf(id);
    // …but the scribe's seat does not command.
    await attempt('role ic me', yangguang, 'yangguang', roomId, /故障指挥由谢平（xieping）担任，只有故障指挥可以改派/);
    await attempt('role ops zhaolei', yangguang, 'yangguang', roomId, /只有故障指挥可以指派他人角色/);
    await attempt('severity P3', yangguang, 'yangguang', roomId, /只有故障指挥可以修改级别/);
    const resolve = await attempt('resolve', yangguang, 'yangguang', roomId, /只有故障指挥可以解决故障/);
    expect(resolve).toMatch(/只有故障指挥可以解决故障/);
    // The refusal says how to get there.
    expect(resolve).toMatch(/故障指挥谢平（xieping）可以用/);
    expect(await stateOf(id)).toEqual(before);
    expect(messagesIn(roomId).some((m) => textOf(m).includes('复盘草稿'))).toBe(false);
  });
});
