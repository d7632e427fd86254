import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { decodeButtonKey } from '../../bot/render/wecom.js';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';
import { encryptCallback, startWeComStandin, templateCardEventXml, textMessageXml, WECOM_SAMPLE, type WeComStandin } from '../helpers/wecom-standin.js';

const STATUS_CHAT = 'wrstatuschat01';

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The incident flow through real encrypted WeCom callbacks against a stand-in WeCom API. One
 * database and stand-in for the file; each test declares its own incident and whatever it leaves
 * open is closed after it.
 */
describe('incident flow on WeCom (encrypted callbacks, stand-in API)', () => {
  let db: Db;
  let app: App;
  let standin: WeComStandin;
  let warroom: RunningWarroom;
  let url: string;
  const wecomOf = new Map<string, string>();

  const send = async (person: string, content: string, corpId: string = WECOM_SAMPLE.corpId) => {
    const cb = encryptCallback({ token: WECOM_SAMPLE.token, aesKey: WECOM_SAMPLE.aesKey, corpId, innerXml: textMessageXml({ fromUser: wecomOf.get(person)!, content, corpId }) });
    const res = await fetch(`${url}?${cb.queryString}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: cb.body });
    return res.status;
  };
  const sentTo = (person: string) => standin.bodiesOf('message/send').filter((b) => b.touser === wecomOf.get(person));
  const contentOf = (b: Record<string, unknown>) => JSON.stringify(b);
  /** This test's own incident (09:40, songkai, P1 集中交易) with its group chat. */
  const declared = async () => (await declareForTest(warroom.bot, { platform: 'wecom' })).id;

  beforeAll(async () => {
    standin = await startWeComStandin({ latencyMs: 5 });
    // The status group chat exists before Warroom starts (made once by an admin).
    standin.chats.set(STATUS_CHAT, { name: '故障通报', owner: 'yangguang', userlist: ['yangguang', 'qianyu', 'zhangwei'] });
    db = await createTestPglite();
    app = await createDemoApp(db, {
      runbooks: false,
      env: {
        WECOM_CORP_ID: WECOM_SAMPLE.corpId,
        WECOM_AGENT_ID: '1000002',
        WECOM_SECRET: standin.secret,
        WECOM_TOKEN: WECOM_SAMPLE.token,
        WECOM_AES_KEY: WECOM_SAMPLE.aesKey,
        WECOM_API_URL: standin.url,
        WECOM_STATUS_CHAT: STATUS_CHAT,
      },
    });
    for (const p of await db.query<{ id: string; wecom: string }>('SELECT id, wecom FROM people WHERE wecom IS NOT NULL')) wecomOf.set(p.id, p.wecom);
    warroom = await startWarroom(app, { port: 0, timers: false });
    url = `http://127.0.0.1:${warroom.port}/wecom/callback`;
  });
  afterAll(async () => {
    await warroom?.close();
    await standin?.close();
    await db?.close();
  });
  afterEach(async () => closeOpenIncidents(db));

  it('declares from a message: group chat with the on-call people, the card in the group, announcement, buttons to the commander', async () => {
    const [repliesBefore, createdBefore] = [sentTo('songkai').length, standin.bodiesOf('appchat/create').length];
    expect(await send('songkai', '/incident declare P1 集中交易 开盘委托大量失败')).toBe(200);
    const replies = () => sentTo('songkai').slice(repliesBefore);
    await waitFor(() => replies().some((b) => /INC-20261123-\d{3}/.test(contentOf(b))), 'the declaration reply');
    const incidentId = /INC-20261123-\d{3}/.exec(contentOf(replies().find((b) => /INC-20261123-\d{3}/.test(contentOf(b)))!))![0];

    const created = standin.bodiesOf('appchat/create').slice(createdBefore);
    expect(created).toHaveLength(1);
    const chat = created[0] as { name: string; owner: string; userlist: string[]; chatid: string };
    expect(chat.owner).toBe(wecomOf.get('xieping')); // the commander owns the group
    expect(chat.name).toContain(incidentId);
    for (const person of ['xieping', 'wangfang', 'lihua', 'songkai', 'sunqiang', 'liuyang']) expect(chat.userlist, person).toContain(wecomOf.get(person));

    const inRoom = standin.bodiesOf('appchat/send').filter((b) => b.chatid === chat.chatid).map(contentOf).join('\n');
    expect(inRoom).toContain(`${incidentId} · P1 · 集中交易 — 开盘委托大量失败`);
    expect(inRoom).toMatch(/CAB-\d{8}-\d{3}/); // the card's changes, in as many messages as it takes
    expect(inRoom).not.toContain('已截断');
    const announced = standin.bodiesOf('appchat/send').filter((b) => b.chatid === STATUS_CHAT).map(contentOf);
    expect(announced.some((c) => c.includes(incidentId))).toBe(true);
    // The group cannot carry buttons: the commander has the card with them.
    const card = sentTo('xieping').find((b) => b.msgtype === 'template_card' && contentOf(b).includes(incidentId));
    expect(card).toBeDefined();
    expect(contentOf(card!)).toContain(incidentId);
  });

  it('refuses a card from another corp id, and nothing happens', async () => {
    const incidents = async () => (await db.query('SELECT id FROM incidents WHERE id LIKE $1', ['INC-20261123-%'])).length;
    const before = standin.calls.length;
    const incidentsBefore = await incidents();
    expect(await send('songkai', '/incident declare P1 集中交易 另一个', 'wx0000000000000000')).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(standin.calls.length).toBe(before);
    expect(await incidents()).toBe(incidentsBefore);
  });

  it("answers a manager's 现在什么情况 with the open incident", async () => {
    const incidentId = await declared();
    expect(await send('yangguang', '现在什么情况')).toBe(200);
    await waitFor(() => sentTo('yangguang').some((b) => contentOf(b).includes(incidentId)), 'the status answer');
    const answer = contentOf(sentTo('yangguang').find((b) => contentOf(b).includes(incidentId))!);
    expect(answer).toContain('P1');
    expect(answer).toContain('调查中');
  });

  it("the commander's button press moves the status; someone else's is refused", async () => {
    const incidentId = await declared();
    const card = sentTo('xieping').find((b) => b.msgtype === 'template_card' && contentOf(b).includes(incidentId)) as { template_card: { task_id: string; button_list: Array<{ key: string; text: string }> } };
    const button = card.template_card.button_list.find((b) => decodeButtonKey(b.key)?.value === `${incidentId}|identified`)!;
    expect(button).toBeDefined();
    const press = async (person: string) => {
      const cb = encryptCallback({
        token: WECOM_SAMPLE.token,
        aesKey: WECOM_SAMPLE.aesKey,
        corpId: WECOM_SAMPLE.corpId,
        innerXml: templateCardEventXml({ fromUser: wecomOf.get(person)!, eventKey: button.key, taskId: card.template_card.task_id, responseCode: standin.issueResponseCode(card.template_card.task_id) }),
      });
      return (await fetch(`${url}?${cb.queryString}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: cb.body })).status;
    };
    const toLinfengBefore = sentTo('linfeng').length;
    expect(await press('linfeng')).toBe(200);
    await waitFor(() => sentTo('linfeng').slice(toLinfengBefore).some((b) => /只有|Only/.test(contentOf(b))), 'the refusal');
    expect((await db.query<{ status: string }>('SELECT status FROM incidents WHERE id = $1', [incidentId]))[0]!.status).toBe('investigating');

    expect(await press('xieping')).toBe(200);
    await waitFor(() => standin.bodiesOf('appchat/send').some((b) => contentOf(b).includes('调查中 → 已定位') && contentOf(b).includes(incidentId)), 'the status change in the group');
    expect((await db.query<{ status: string }>('SELECT status FROM incidents WHERE id = $1', [incidentId]))[0]!.status).toBe('identified');
  });
});
