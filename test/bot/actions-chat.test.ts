import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { decodeButtonKey } from '../../bot/render/wecom.js';
import type { Db } from '../../db/db.js';
import type { App } from '../../tools/services.js';
import { getAction } from '../../workers/action-store.js';
import { restartRuns, restartTool } from '../helpers/action-tools.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { declareForTest } from '../helpers/incident.js';
import { blockActionsBody, postSigned, startSlackStandin, type SlackStandin } from '../helpers/slack-standin.js';
import { encryptCallback, startWeComStandin, templateCardEventXml, WECOM_SAMPLE, type WeComStandin } from '../helpers/wecom-standin.js';
import { signIn } from '../helpers/web-session.js';

const SECRET = 'actions-signing-secret-0123456789abcdef';

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The request card and its buttons on every platform, through each platform's real request path:
 * signed Slack block actions (real Bolt), encrypted WeCom template-card events, and the web chat's
 * signed-in API. The action is a two-step high-risk restart (two approvers, not the requester).
 */
describe('approval buttons on Slack, WeCom and the web chat', () => {
  let db: Db;
  let app: App;
  let slack: SlackStandin;
  let wecom: WeComStandin;
  let warroom: RunningWarroom;
  const slackOf = new Map<string, string>();
  const wecomOf = new Map<string, string>();

  beforeAll(async () => {
    slack = await startSlackStandin({ latencyMs: 2 });
    slack.addChannel({ id: 'C0OPS', name: 'ops' });
    slack.addChannel({ id: 'C0OTHER', name: 'other' });
    wecom = await startWeComStandin({ latencyMs: 2 });
    db = await createTestPglite();
    app = await createDemoApp(db, {
      runbooks: false,
      env: {
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: slack.url,
        WECOM_CORP_ID: WECOM_SAMPLE.corpId,
        WECOM_AGENT_ID: '1000002',
        WECOM_SECRET: wecom.secret,
        WECOM_TOKEN: WECOM_SAMPLE.token,
        WECOM_AES_KEY: WECOM_SAMPLE.aesKey,
        WECOM_API_URL: wecom.url,
        WARROOM_WEB_CHAT: 'on',
      },
    });
    app.tools.register(restartTool);
    for (const p of await db.query<{ id: string; slack: string | null; wecom: string | null }>('SELECT id, slack, wecom FROM people')) {
      if (p.slack) slackOf.set(p.id, p.slack);
      if (p.wecom) wecomOf.set(p.id, p.wecom);
    }
    warroom = await startWarroom(app, { port: 0, timers: false });
  });
  afterAll(async () => {
    await warroom?.close();
    await slack?.close();
    await wecom?.close();
    await db?.close();
  });

  const request = (host: string, room: { platform: string; id: string }) =>
    warroom.bot.actions.request({ tool: 'restart_service', input: { host }, requestedBy: 'songkai', room, lang: 'en' });
  const status = async (id: string) => (await getAction(db, id))!.status;

  it('Slack: the card in the channel with Approve/Reject; presses are checked and answered privately; the card follows the job', async () => {
    const a = await request('slk-01', { platform: 'slack', id: 'C0OPS' });
    await waitFor(() => slack.channels.get('C0OPS')!.messages.some((m) => JSON.stringify(m).includes(a.id)), 'the request card');
    const card = slack.channels.get('C0OPS')!.messages.find((m) => JSON.stringify(m).includes(a.id))!;
    const blocks = JSON.stringify(card.blocks);
    expect(blocks).toContain('action.approve');
    expect(blocks).toContain('action.reject');
    expect(blocks).toContain('Restart the service on slk-01');
    const url = `http://127.0.0.1:${warroom.port}/slack/events`;
    const press = (person: string, actionId: string, channelId = 'C0OPS', value = a.id) =>
      postSigned(url, SECRET, blockActionsBody({ actionId, value, userId: slackOf.get(person)!, userName: person, channelId, channelName: channelId === 'C0OPS' ? 'ops' : 'other', messageTs: card.ts }));
    const ephemerals = (person: string) => [...slack.channels.values()].flatMap((c) => c.ephemerals).filter((e) => e.user === slackOf.get(person));

    expect((await press('songkai', 'action.approve')).status).toBe(200);
    await slack.waitFor(() => ephemerals('songkai').some((e) => /never approves their own request/.test(e.text)), 'the refusal of self-approval');
    expect((await press('xieping', 'action.approve')).status).toBe(200);
    await slack.waitFor(() => ephemerals('xieping').some((e) => /recorded \(1\/2\)/.test(e.text)), 'the first approval');
    // A press naming this request from a room where its card is not: refused, and nothing counted.
    expect((await press('zhangwei', 'action.approve', 'C0OTHER')).status).toBe(200);
    await slack.waitFor(() => ephemerals('zhangwei').some((e) => /does not belong to a request of this room/.test(e.text)), 'the refusal of the other room');
    expect((await getAction(db, a.id))!.approvals).toHaveLength(1);

    expect((await press('zhangwei', 'action.approve')).status).toBe(200);
    await waitFor(async () => (await status(a.id)) === 'succeeded', 'the action to run');
    expect(restartRuns['start:slk-01']).toBe(1);
    await waitFor(() => slack.callsOf('chat.update').some((c) => c.body.ts === card.ts && JSON.stringify(c.body).includes('succeeded')), 'the card to show the result');
    const last = slack.callsOf('chat.update').filter((c) => c.body.ts === card.ts).at(-1)!;
    expect(JSON.stringify(last.body)).not.toContain('action.approve'); // no buttons left on a finished action
  });

  it('WeCom: the group gets the card, the approvers get it with buttons directly; a press is checked and the card updated', async () => {
    // In an incident's group chat (WeCom app messages reach groups the app made, not others).
    const { id: incidentId, roomId } = await declareForTest(warroom.bot, { platform: 'wecom' });
    const a = await warroom.bot.actions.request({ tool: 'restart_service', input: { host: 'wx-01' }, requestedBy: 'songkai', incidentId, lang: 'en' });
    await waitFor(() => wecom.bodiesOf('appchat/send').some((b) => b.chatid === roomId && JSON.stringify(b).includes(a.id)), 'the card in the group');
    const directCard = (person: string) =>
      wecom.bodiesOf('message/send').find((b) => b.touser === wecomOf.get(person) && b.msgtype === 'template_card' && JSON.stringify(b).includes(a.id)) as
        | { template_card: { task_id: string; button_list: Array<{ key: string }> } }
        | undefined;
    await waitFor(() => directCard('xieping') !== undefined, 'the card with buttons sent to an approver');
    expect(directCard('songkai')).toBeUndefined(); // the requester cannot approve: not sent to them
    const url = `http://127.0.0.1:${warroom.port}/wecom/callback`;
    const press = async (person: string) => {
      const card = directCard(person)!;
      const key = card.template_card.button_list.find((b) => decodeButtonKey(b.key).actionId === 'action.approve')!.key;
      const cb = encryptCallback({ token: WECOM_SAMPLE.token, aesKey: WECOM_SAMPLE.aesKey, corpId: WECOM_SAMPLE.corpId, innerXml: templateCardEventXml({ fromUser: wecomOf.get(person)!, eventKey: key, taskId: card.template_card.task_id, responseCode: wecom.issueResponseCode(card.template_card.task_id) }) });
      return (await fetch(`${url}?${cb.queryString}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: cb.body })).status;
    };
    expect(await press('xieping')).toBe(200);
    await waitFor(async () => (await getAction(db, a.id))!.approvals.length === 1, 'the first approval');
    await waitFor(() => wecom.bodiesOf('message/update_template_card').length > 0, 'the card updated after the decision');
    expect(await press('zhangwei')).toBe(200);
    await waitFor(async () => (await status(a.id)) === 'succeeded', 'the action to run');
    expect(restartRuns['start:wx-01']).toBe(1);
  });

  it('web chat: the card in the room; approvals pressed as two signed-in people run it; the requester is refused', async () => {
    const base = `http://127.0.0.1:${warroom.port}`;
    const link = () => warroom.signInLink!().then((l) => ({ path: new URL(l.url).pathname + new URL(l.url).search, expiresAt: l.expiresAt }));
    const as = async (person: string) => signIn(base, link, person);
    const songkai = await as('songkai');
    const rooms = (await songkai.get('/chat/api/rooms')).body as { rooms: Array<{ id: string }> };
    const room = rooms.rooms[0]!.id;
    const a = await request('web-01', { platform: 'local', id: room });
    const cardOf = async () => {
      const msgs = ((await songkai.get('/chat/api/messages', { room })).body as { messages: Array<{ id: number | string; message: { buttons?: Array<{ actionId: string; value: string }> } }> }).messages;
      return msgs.find((m) => JSON.stringify(m).includes(a.id));
    };
    await waitFor(async () => (await cardOf()) !== undefined, 'the card in the web chat room');
    const card = (await cardOf())!;
    expect(card.message.buttons?.map((b) => b.actionId)).toEqual(['action.approve', 'action.reject']);
    const press = async (who: Awaited<ReturnType<typeof as>>) => who.post('/chat/api/action', { room, messageId: String(card.id), actionId: 'action.approve', value: a.id });
    expect((await press(songkai)).status).toBeLessThan(300);
    // Only the requester sees why their own press does not count.
    await waitFor(async () => JSON.stringify((await songkai.get('/chat/api/messages', { room })).body).includes('never approves their own request'), 'the private refusal');
    expect(JSON.stringify((await (await as('zhangwei')).get('/chat/api/messages', { room })).body)).not.toContain('never approves their own request');
    expect((await press(await as('xieping'))).status).toBeLessThan(300);
    expect((await press(await as('zhangwei'))).status).toBeLessThan(300);
    await waitFor(async () => (await status(a.id)) === 'succeeded', 'the action to run');
    const after = (await getAction(db, a.id))!;
    expect(after.approvals.map((x) => x.by)).toEqual(['xieping', 'zhangwei']);
    await waitFor(async () => /succeeded/.test(JSON.stringify(await cardOf())), 'the card to show the result');
  });
});
void DEMO_NOW;
