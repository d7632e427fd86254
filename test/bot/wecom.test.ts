import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachPlatform, createBot, type Bot } from '../../bot/bot.js';
import type { OutgoingMessage } from '../../bot/messages.js';
import type { BotReply, ChatEvent, MessageRef } from '../../bot/platforms/platform.js';
import { createWeComPlatform, parseCommand, type WeComPlatform } from '../../bot/platforms/wecom.js';
import { WeComClient } from '../../bot/platforms/wecom-client.js';
import { decodeButtonKey, encodeButtonKey, renderWeComMarkdown, renderWeComTemplateCard } from '../../bot/render/wecom.js';
import type { App } from '../../tools/services.js';
import { isWarroomError, WarroomError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { startHttpServer } from '../../server/http.js';
import { createTestApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import {
  encryptCallback,
  encryptEchostr,
  eventXml,
  startWeComStandin,
  templateCardEventXml,
  textMessageXml,
  WECOM_SAMPLE,
  type EncryptedCallback,
  type WeComStandin,
} from '../helpers/wecom-standin.js';

const { corpId, token, aesKey } = WECOM_SAMPLE;
const AGENT_ID = 1000002;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Everything the platform logs, to prove no secret or token is in it. */
const logLines: string[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});

let app: App;
let bot: Bot;
let standin: WeComStandin;
let wecom: WeComPlatform;
let server: Awaited<ReturnType<typeof startHttpServer>>;
/** Events that reached bot.handle. */
const received: ChatEvent[] = [];
/** Scripted answers for actions and commands (the real bot answers messages). */
let scripted: (event: ChatEvent) => BotReply[] | undefined = () => undefined;
let gate: Promise<void> | undefined;

beforeAll(async () => {
  app = await createTestApp(await createTestPglite());
  standin = await startWeComStandin({ corpId });
  bot = createBot(app);
  const real = bot.handle.bind(bot);
  bot.handle = async (event) => {
    received.push(event);
    if (gate) await gate;
    return scripted(event) ?? real(event);
  };
  wecom = createWeComPlatform(bot, {
    corpId,
    agentId: AGENT_ID,
    secret: standin.secret,
    token,
    aesKey,
    apiUrl: standin.url,
    statusChat: 'statuschat01',
    logger: createLogger('debug', logSink),
    clientOptions: { backoffMs: 10 },
  });
  attachPlatform(bot, wecom.platform);
  server = await startHttpServer(app, { port: 0, routes: wecom.routes });
});

afterAll(async () => {
  await wecom?.settled();
  await server?.close();
  await standin?.close();
  await app?.db.close();
});

beforeEach(() => {
  received.length = 0;
  scripted = () => undefined;
  gate = undefined;
});

function callbackUrl(query: string): string {
  return `http://127.0.0.1:${server.port}/wecom/callback?${query}`;
}

async function postCallback(cb: EncryptedCallback | { queryString: string; body: string }): Promise<{ status: number; body: string; contentType: string | null }> {
  const res = await fetch(callbackUrl(cb.queryString), { method: 'POST', headers: { 'content-type': 'text/xml' }, body: cb.body });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}

function encrypted(innerXml: string, extra: { timestamp?: number; corpId?: string } = {}): EncryptedCallback {
  return encryptCallback({ token, aesKey, corpId: extra.corpId ?? corpId, innerXml, ...(extra.timestamp !== undefined ? { timestamp: extra.timestamp } : {}) });
}

let msgSeq = 0;
function uniqueMsgId(): string {
  return `7${Date.now()}${String(++msgSeq).padStart(4, '0')}`;
}

describe('WeCom callback URL verification (GET)', () => {
  it("answers WeCom's published sample request with its plaintext", async () => {
    const q = new URLSearchParams(Object.fromEntries(Object.entries(WECOM_SAMPLE.verifyUrl).filter(([k]) => k !== 'plaintext')));
    const res = await fetch(callbackUrl(q.toString()));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(WECOM_SAMPLE.verifyUrl.plaintext);
  });

  it('answers a freshly encrypted echostr with the plaintext', async () => {
    const v = encryptEchostr({ token, aesKey, corpId, echo: 'echo-4711-随机' });
    const res = await fetch(callbackUrl(v.queryString));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('echo-4711-随机');
  });

  it('refuses a wrong signature with 401 and a plain-text reason', async () => {
    const v = encryptEchostr({ token, aesKey, corpId, echo: 'x' });
    const bad = new URLSearchParams({ ...v.query, msg_signature: v.query.msg_signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) });
    const res = await fetch(callbackUrl(bad.toString()));
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/msg_signature/);
    expect(text).not.toContain('x');
  });

  it('refuses an echostr encrypted for another corp id with 401', async () => {
    const v = encryptEchostr({ token, aesKey, corpId: 'wwAnotherCorp0001', echo: 'stolen' });
    const res = await fetch(callbackUrl(v.queryString));
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).toMatch(/corp id/);
    expect(text).not.toContain('stolen');
  });

  it('refuses missing parameters with 400', async () => {
    const v = encryptEchostr({ token, aesKey, corpId, echo: 'x' });
    const { echostr: _drop, ...rest } = v.query;
    const res = await fetch(callbackUrl(new URLSearchParams(rest).toString()));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/missing/);
  });
});

describe('WeCom callbacks (POST) refused before the bot', () => {
  it('refuses a message encrypted for another corp id, and nothing reaches the bot', async () => {
    const before = standin.callsOf('message/send').length;
    const r = await postCallback(encrypted(textMessageXml({ fromUser: 'zhangsan', content: 'help', msgId: uniqueMsgId() }), { corpId: 'wwAnotherCorp0001' }));
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/another corp id/);
    await wecom.settled();
    expect(received).toEqual([]);
    expect(standin.callsOf('message/send').length).toBe(before);
  });

  it('refuses a correctly signed callback whose timestamp is six minutes old (replay)', async () => {
    const r = await postCallback(encrypted(textMessageXml({ fromUser: 'zhangsan', content: 'help', msgId: uniqueMsgId() }), { timestamp: Math.floor(Date.now() / 1000) - 360 }));
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/timestamp/);
    await wecom.settled();
    expect(received).toEqual([]);
  });

  it('refuses a timestamp from the future too', async () => {
    const r = await postCallback(encrypted(textMessageXml({ fromUser: 'zhangsan', content: 'help', msgId: uniqueMsgId() }), { timestamp: Math.floor(Date.now() / 1000) + 600 }));
    expect(r.status).toBe(401);
    expect(received).toEqual([]);
  });

  it('refuses a wrong signature over the Encrypt value', async () => {
    const cb = encrypted(textMessageXml({ fromUser: 'zhangsan', content: 'help', msgId: uniqueMsgId() }));
    const tampered = { queryString: new URLSearchParams({ ...cb.query, nonce: `${cb.query.nonce}1` }).toString(), body: cb.body };
    const r = await postCallback(tampered);
    expect(r.status).toBe(401);
    await wecom.settled();
    expect(received).toEqual([]);
  });

  it('answers malformed XML with 400', async () => {
    const cb = encrypted(textMessageXml({ fromUser: 'zhangsan', content: 'help', msgId: uniqueMsgId() }));
    for (const body of ['<xml><Encrypt><![CDATA[abc', 'not xml', '<xml><ToUserName>x</ToUserName></xml>', '']) {
      const r = await postCallback({ queryString: cb.queryString, body });
      expect(r.status, body).toBe(400);
    }
    await wecom.settled();
    expect(received).toEqual([]);
  });

  it('answers a signed payload that decrypts to something other than a WeCom message with 400', async () => {
    for (const inner of ['this is <<< not xml', '<xml><MsgType>text</MsgType><Content>hi</Content></xml>', '<xml><FromUserName>a</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>']) {
      const r = await postCallback(encrypted(inner));
      expect(r.status, inner).toBe(400);
    }
    await wecom.settled();
    expect(received).toEqual([]);
  });

  it('answers missing query parameters with 400', async () => {
    const cb = encrypted(textMessageXml({ fromUser: 'zhangsan', content: 'help', msgId: uniqueMsgId() }));
    const r = await postCallback({ queryString: `timestamp=${cb.query.timestamp}&nonce=${cb.query.nonce}`, body: cb.body });
    expect(r.status).toBe(400);
  });
});

describe('WeCom messages reach the bot and replies reach the user', () => {
  it('a text message "help" is handled and the help reply arrives as message/send to that user', async () => {
    const createTime = Math.floor(Date.now() / 1000) - 2;
    const before = standin.callsOf('message/send').length;
    const r = await postCallback(encrypted(textMessageXml({ fromUser: 'zhangsan', content: 'help', msgId: uniqueMsgId(), createTime })));
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    await wecom.settled();

    expect(received).toEqual([
      { kind: 'message', platform: 'wecom', userId: 'zhangsan', room: { platform: 'wecom', id: 'zhangsan', kind: 'dm' }, text: 'help', at: new Date(createTime * 1000) },
    ]);
    const sends = standin.callsOf('message/send').slice(before);
    expect(sends).toHaveLength(1);
    const body = sends[0]?.body as { touser: string; agentid: number; msgtype: string; markdown: { content: string } };
    expect(sends[0]?.errcode).toBe(0);
    expect(body).toMatchObject({ touser: 'zhangsan', agentid: AGENT_ID, msgtype: 'markdown' });
    expect(body.markdown.content).toMatch(/^\*\*Warroom commands\*\*\n/);
    expect(body.markdown.content).toContain('help — list every command');
    expect(bytes(body.markdown.content)).toBeLessThanOrEqual(2048);
  });

  it('handles a delivery WeCom retries (same callback three times) once', async () => {
    const cb = encrypted(textMessageXml({ fromUser: 'lisi', content: 'help', msgId: uniqueMsgId() }));
    const before = standin.callsOf('message/send').length;
    const answers = await Promise.all([postCallback(cb), postCallback(cb)]);
    answers.push(await postCallback(cb));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await wecom.settled();
    expect(received.filter((e) => e.userId === 'lisi')).toHaveLength(1);
    expect(standin.callsOf('message/send').slice(before)).toHaveLength(1);
  });

  it('keeps ids as strings: a numeric-looking userid and 20-digit MsgIds that differ only past 2^53', async () => {
    scripted = () => [];
    await postCallback(encrypted(textMessageXml({ fromUser: '007', content: 'first', msgId: '12345678901234567890' })));
    await postCallback(encrypted(textMessageXml({ fromUser: '007', content: 'second', msgId: '12345678901234567891' })));
    await wecom.settled();
    expect(received.map((e) => [e.userId, e.kind === 'message' ? e.text : ''])).toEqual([
      ['007', 'first'],
      ['007', 'second'],
    ]);
  });

  it('answers 200 before the bot has finished, so WeCom never waits on the work', async () => {
    let release!: () => void;
    gate = new Promise<void>((r) => (release = r));
    scripted = () => [];
    const r = await postCallback(encrypted(textMessageXml({ fromUser: 'wangwu', content: 'slow question', msgId: uniqueMsgId() })));
    expect(r.status).toBe(200);
    expect(received).toHaveLength(1); // reached the bot, still held at the gate
    let done = false;
    const settled = wecom.settled().then(() => (done = true));
    await new Promise((res) => setTimeout(res, 50));
    expect(done).toBe(false);
    release();
    await settled;
    expect(done).toBe(true);
  });

  it('turns "/incident declare …", "incident …" and "/warroom …" into commands', async () => {
    scripted = () => [];
    for (const content of ['/incident declare P1 集中交易 委托超时', 'incident status', '/warroom help', 'incidents']) {
      await postCallback(encrypted(textMessageXml({ fromUser: 'zhangsan', content, msgId: uniqueMsgId() })));
    }
    await wecom.settled();
    expect(received.map((e) => (e.kind === 'command' ? [e.command, e.text] : [e.kind, e.kind === 'message' ? e.text : '']))).toEqual([
      ['incident', 'declare P1 集中交易 委托超时'],
      ['incident', 'status'],
      ['warroom', 'help'],
      ['message', 'incidents'],
    ]);
    expect(parseCommand('/incident')).toEqual({ command: 'incident', text: '' });
    expect(parseCommand('incident')).toBeUndefined();
  });

  it('ignores other events (enter_agent) without bothering the bot', async () => {
    const r = await postCallback(encrypted(eventXml({ fromUser: 'zhangsan', event: 'enter_agent' })));
    expect(r.status).toBe(200);
    await wecom.settled();
    expect(received).toEqual([]);
  });

  it('handles 20 users at once: 20 replies, each to its own user', async () => {
    const before = standin.callsOf('message/send').length;
    const users = Array.from({ length: 20 }, (_, i) => `user${i}`);
    scripted = (e) => [{ message: { text: `hello ${e.userId}` } }];
    const answers = await Promise.all(users.map((u) => postCallback(encrypted(textMessageXml({ fromUser: u, content: 'hi', msgId: uniqueMsgId() })))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await wecom.settled();
    const sends = standin.callsOf('message/send').slice(before).map((c) => c.body as { touser: string; markdown: { content: string } });
    expect(sends).toHaveLength(20);
    expect(new Set(sends.map((s) => `${s.touser}:${s.markdown.content}`))).toEqual(new Set(users.map((u) => `${u}:hello ${u}`)));
  });
});

describe('WeCom template cards and button clicks', () => {
  const approval: OutgoingMessage = {
    lang: 'zh',
    title: '审批：切换中登报盘到备机',
    text: '申请人 songkai，需要两位审批人。',
    fields: [
      { label: '动作', value: 'failover' },
      { label: '系统', value: '中登报盘' },
    ],
    buttons: [
      { actionId: 'approve', label: '批准', value: 'ACT-42|high', style: 'primary' },
      { actionId: 'reject', label: '拒绝', value: 'ACT-42', style: 'danger' },
    ],
  };

  async function sendCard(userId: string): Promise<{ ref: MessageRef; body: Record<string, any>; responseCode: string }> {
    const before = standin.callsOf('message/send').length;
    const ref = await wecom.platform.sendDirect(userId, approval);
    const call = standin.callsOf('message/send').slice(before)[0];
    return { ref, body: call?.body as Record<string, any>, responseCode: String(call?.response?.response_code) };
  }

  it('sendDirect with buttons sends a button_interaction card whose task_id is the ref id', async () => {
    const { ref, body } = await sendCard('zhangsan');
    expect(body).toMatchObject({ touser: 'zhangsan', agentid: AGENT_ID, msgtype: 'template_card' });
    const card = body.template_card;
    expect(card.card_type).toBe('button_interaction');
    expect(card.main_title.title).toBe('审批：切换中登报盘到备机');
    expect(card.sub_title_text).toBe('申请人 songkai，需要两位审批人。');
    expect(card.horizontal_content_list).toEqual([
      { keyname: '动作', value: 'failover' },
      { keyname: '系统', value: '中登报盘' },
    ]);
    expect(card.button_list).toEqual([
      { type: 0, text: '批准', style: 1, key: 'approve|ACT-42|high' },
      { type: 0, text: '拒绝', style: 3, key: 'reject|ACT-42' },
    ]);
    expect(ref).toEqual({ platform: 'wecom', roomId: 'zhangsan', id: card.task_id });
    expect(card.task_id).toMatch(/^[A-Za-z0-9_@-]{1,128}$/);
  });

  it('a click reaches the bot as an action with the decoded action id, value and ResponseCode, and replaceOriginal replaces the card', async () => {
    const { body } = await sendCard('zhangsan');
    const taskId = body.template_card.task_id as string;
    const responseCode = standin.issueResponseCode(taskId);
    scripted = (e) =>
      e.kind === 'action'
        ? [{ replaceOriginal: true, message: { title: '已批准 1/2', text: '还需要一位审批人。', buttons: [{ actionId: 'reject', label: '撤回', value: 'ACT-42' }] } }]
        : undefined;
    const before = standin.callsOf('message/update_template_card').length;
    const r = await postCallback(encrypted(templateCardEventXml({ fromUser: 'zhangsan', eventKey: 'approve|ACT-42|high', taskId, responseCode })));
    expect(r.status).toBe(200);
    await wecom.settled();

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      kind: 'action',
      platform: 'wecom',
      userId: 'zhangsan',
      actionId: 'approve',
      value: 'ACT-42|high',
      message: { platform: 'wecom', roomId: 'zhangsan', id: responseCode },
      room: { platform: 'wecom', id: 'zhangsan', kind: 'dm' },
    });
    const updates = standin.callsOf('message/update_template_card').slice(before);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.errcode).toBe(0);
    expect(updates[0]?.body).toMatchObject({
      userids: ['zhangsan'],
      agentid: AGENT_ID,
      response_code: responseCode,
      template_card: { card_type: 'button_interaction', main_title: { title: '已批准 1/2' }, button_list: [{ text: '撤回', key: 'reject|ACT-42' }] },
    });
  });

  it('a reply without buttons turns the clicked button into its label (replace_name)', async () => {
    const { body } = await sendCard('lisi');
    const taskId = body.template_card.task_id as string;
    const responseCode = standin.issueResponseCode(taskId);
    scripted = (e) => (e.kind === 'action' ? [{ replaceOriginal: true, message: { text: '已拒绝' } }] : undefined);
    const sendsBefore = standin.callsOf('message/send').length;
    const before = standin.callsOf('message/update_template_card').length;
    await postCallback(encrypted(templateCardEventXml({ fromUser: 'lisi', eventKey: 'reject|ACT-42', taskId, responseCode })));
    await wecom.settled();
    const updates = standin.callsOf('message/update_template_card').slice(before);
    expect(updates.map((u) => u.body)).toEqual([{ userids: ['lisi'], agentid: AGENT_ID, response_code: responseCode, button: { replace_name: '已拒绝' } }]);
    expect(updates[0]?.errcode).toBe(0);
    expect(standin.callsOf('message/send').length).toBe(sendsBefore); // nothing more to say than the label
  });

  it('update(ref) of a sent card uses its response_code once, then sends the new content marked as updated', async () => {
    const { ref, responseCode } = await sendCard('wangwu');
    const before = standin.callsOf('message/update_template_card').length;
    await wecom.platform.update(ref, { ...approval, title: '已批准', buttons: [{ actionId: 'undo', label: '撤销', value: 'ACT-42' }] });
    const updates = standin.callsOf('message/update_template_card').slice(before);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ errcode: 0, body: { response_code: responseCode, userids: ['wangwu'], template_card: { main_title: { title: '已批准' } } } });

    const sendsBefore = standin.callsOf('message/send').length;
    await wecom.platform.update(ref, { lang: 'zh', title: '已执行', text: '切换完成。', buttons: [{ actionId: 'undo', label: '撤销', value: 'ACT-42' }] });
    expect(standin.callsOf('message/update_template_card').length).toBe(before + 1);
    const resend = standin.callsOf('message/send').slice(sendsBefore);
    expect(resend).toHaveLength(1);
    expect(resend[0]?.body).toMatchObject({ touser: 'wangwu', msgtype: 'template_card', template_card: { main_title: { title: '（已更新）已执行' } } });
  });
});

describe('WeCom rooms: createRoom, invite, post, update, topic', () => {
  it('createRoom creates an appchat owned by the first member and posts the topic first', async () => {
    const createsBefore = standin.callsOf('appchat/create').length;
    const sendsBefore = standin.callsOf('appchat/send').length;
    const longName = 'INC-20261123-001 集中交易委托超时 P1 影响全部营业部 沪深两市 请所有值班人员立即加入处理并在群内同步进展情况';
    const room = await wecom.platform.createRoom({ name: longName, topic: '集中交易委托超时，影响全部营业部', memberIds: ['zhangsan', 'lisi', 'zhangsan'] });

    const create = standin.callsOf('appchat/create').slice(createsBefore);
    expect(create).toHaveLength(1);
    const body = create[0]?.body as { name: string; owner: string; userlist: string[]; chatid: string };
    expect(create[0]?.errcode).toBe(0);
    expect(body.owner).toBe('zhangsan');
    expect(body.userlist).toEqual(['zhangsan', 'lisi']);
    expect([...body.name].length).toBeLessThanOrEqual(50);
    expect(body.name.startsWith('INC-20261123-001 集中交易委托超时 P1')).toBe(true);
    expect(room).toEqual({ platform: 'wecom', id: body.chatid, name: body.name });
    expect(standin.chats.get(room.id)?.userlist).toEqual(['zhangsan', 'lisi']);

    const sends = standin.callsOf('appchat/send').slice(sendsBefore);
    expect(sends.map((s) => s.body)).toEqual([{ chatid: room.id, msgtype: 'markdown', markdown: { content: '【话题】集中交易委托超时，影响全部营业部' } }]);
  });

  it('createRoom with fewer than two members is a clear error and creates nothing', async () => {
    const before = standin.callsOf('appchat/create').length;
    const err = await wecom.platform.createRoom({ name: 'INC-2', topic: 't', memberIds: ['zhangsan', 'zhangsan', ''] }).catch((e: unknown) => e);
    expect(isWarroomError(err)).toBe(true);
    expect((err as WarroomError).code).toBe('wecom_room_too_small');
    expect((err as WarroomError).message).toMatch(/at least 2 members.*has 1 \(zhangsan\)/);
    expect(standin.callsOf('appchat/create').length).toBe(before);
  });

  it('createRoom with a key makes the chat once: creating again (a resumed declaration) finds it and adds who is missing', async () => {
    const key = '0123456789abcdef0123456789';
    const before = standin.chats.size;
    const a = await wecom.platform.createRoom({ name: 'INC-K', topic: '', memberIds: ['zhangsan', 'lisi'], key });
    const b = await wecom.platform.createRoom({ name: 'INC-K', topic: '', memberIds: ['zhangsan', 'lisi', 'wangwu'], key });
    expect(a.id).toBe(`wrchat${key}`);
    expect(b.id).toBe(a.id);
    expect(standin.chats.size).toBe(before + 1);
    expect(standin.chats.get(a.id)?.userlist).toEqual(['zhangsan', 'lisi', 'wangwu']);
  });

  it('invite adds members with appchat/update', async () => {
    const room = await wecom.platform.createRoom({ name: 'INC-3', topic: '', memberIds: ['zhangsan', 'lisi'] });
    await wecom.platform.invite(room, ['wangwu', 'lisi']);
    expect(standin.bodiesOf('appchat/update').at(-1)).toEqual({ chatid: room.id, add_user_list: ['wangwu', 'lisi'] });
    expect(standin.chats.get(room.id)?.userlist).toEqual(['zhangsan', 'lisi', 'wangwu']);
  });

  it('post to a room sends markdown; buttons become commands to type or a note, never a card', async () => {
    const room = await wecom.platform.createRoom({ name: 'INC-4', topic: '', memberIds: ['zhangsan', 'lisi'] });
    const cardsBefore = standin.callsOf('message/send').length;
    const ref = await wecom.platform.post(room, {
      lang: 'zh',
      title: '故障 INC-4 已宣告',
      text: '集中交易委托超时',
      fields: [
        { label: '级别', value: 'P1' },
        { label: '指挥', value: 'zhangsan' },
      ],
      context: ['来源：告警 ALM-7'],
      buttons: [
        { actionId: 'ack', label: '确认', value: '/incident ack INC-4' },
        { actionId: 'approve', label: '批准', value: 'ACT-9' },
      ],
    });
    const content = (standin.bodiesOf('appchat/send').at(-1) as { chatid: string; markdown: { content: string } });
    expect(content.chatid).toBe(room.id);
    expect(content.markdown.content).toBe(
      [
        '**故障 INC-4 已宣告**',
        '集中交易委托超时',
        '级别：P1',
        '指挥：zhangsan',
        '可回复命令：`/incident ack INC-4`（确认）',
        '<font color="comment">按钮「批准」请在与 Warroom 的私聊卡片中操作。</font>',
        '<font color="comment">来源：告警 ALM-7</font>',
      ].join('\n'),
    );
    expect(standin.callsOf('message/send').length).toBe(cardsBefore);
    expect(ref).toMatchObject({ platform: 'wecom', roomId: room.id });
    expect(ref.id).toMatch(/^wr-msg-/);

    // WeCom cannot edit group messages: update posts the new content again, marked as updated.
    await wecom.platform.update(ref, { lang: 'zh', title: '故障 INC-4 已恢复', text: '委托恢复正常' });
    expect((standin.bodiesOf('appchat/send').at(-1) as { markdown: { content: string } }).markdown.content).toBe(
      '<font color="warning">（已更新）</font>\n**故障 INC-4 已恢复**\n委托恢复正常',
    );
  });

  it('post to a userid (no appchat) sends a direct message', async () => {
    const ref = await wecom.platform.post({ platform: 'wecom', id: 'zhaoliu' }, { lang: 'en', text: 'You are the commander of INC-5.' });
    expect(standin.bodiesOf('message/send').at(-1)).toEqual({ touser: 'zhaoliu', agentid: AGENT_ID, msgtype: 'markdown', markdown: { content: 'You are the commander of INC-5.' } });
    expect(ref.roomId).toBe('zhaoliu');
  });

  it('statusRoom is the configured chat; post there uses appchat/send', async () => {
    expect(wecom.platform.statusRoom()).toEqual({ platform: 'wecom', id: 'statuschat01' });
    // The stand-in only knows chats created through it: the call reaches appchat/send and is refused there.
    const err = await wecom.platform.post(wecom.platform.statusRoom()!, { text: 'status' }).catch((e: unknown) => e);
    expect(standin.callsOf('appchat/send').at(-1)?.body).toMatchObject({ chatid: 'statuschat01' });
    expect((err as WarroomError).message).toBe('WeCom appchat/send failed: errcode 86003 (chat not exist).');
  });

  it('pin is not available; setTopic posts 【话题】 and says the platform has no topic', async () => {
    const room = await wecom.platform.createRoom({ name: 'INC-6', topic: '', memberIds: ['zhangsan', 'lisi'] });
    expect(await wecom.platform.pin({ platform: 'wecom', roomId: room.id, id: 'wr-msg-x' })).toBe(false);
    expect(await wecom.platform.setTopic(room, '已定位：CAB-20261121-004 回滚中')).toBe(false);
    expect(standin.bodiesOf('appchat/send').at(-1)).toEqual({ chatid: room.id, msgtype: 'markdown', markdown: { content: '【话题】已定位：CAB-20261121-004 回滚中' } });
  });

  it('userIdOf is the person’s WeCom id', () => {
    expect(wecom.platform.userIdOf({ id: 'p1', slack: 'U1', wecom: 'zhangsan' })).toBe('zhangsan');
    expect(wecom.platform.userIdOf({ id: 'p2', slack: 'U2', wecom: null })).toBeUndefined();
  });
});

describe('WeComClient: token, retries, errors', () => {
  const clientFor = (s: WeComStandin, extra: Partial<ConstructorParameters<typeof WeComClient>[0]> = {}) =>
    new WeComClient({ corpId, secret: s.secret, agentId: AGENT_ID, apiUrl: s.url, backoffMs: 10, ...extra });
  const text = (n: number) => ({ touser: 'zhangsan', msgtype: 'text' as const, text: { content: `m${n}` } });

  it('fetches the token once for many concurrent calls, and refreshes it once after 42001', async () => {
    const s = await startWeComStandin({ corpId, latencyMs: 20 });
    try {
      const client = clientFor(s);
      await Promise.all(Array.from({ length: 20 }, (_, i) => client.sendMessage(text(i))));
      expect(s.callsOf('gettoken')).toHaveLength(1);
      expect(s.callsOf('message/send').every((c) => c.errcode === 0)).toBe(true);

      s.expireToken();
      await Promise.all(Array.from({ length: 5 }, (_, i) => client.sendMessage(text(100 + i))));
      expect(s.callsOf('gettoken')).toHaveLength(2);
      const after = s.callsOf('message/send').slice(20);
      expect(after.filter((c) => c.errcode === 42001)).toHaveLength(5);
      expect(after.filter((c) => c.errcode === 0)).toHaveLength(5);
    } finally {
      await s.close();
    }
  });

  it('retries exactly once after a token error: a refresh that does not help is an error', async () => {
    const s = await startWeComStandin({ corpId });
    try {
      s.tokensExpireImmediately(true);
      const err = await clientFor(s).sendMessage(text(1)).catch((e: unknown) => e);
      expect((err as WarroomError).message).toBe('WeCom message/send failed: errcode 42001 (access_token expired).');
      expect(s.callsOf('message/send').map((c) => c.errcode)).toEqual([42001, 42001]);
      expect(s.callsOf('gettoken')).toHaveLength(2);
    } finally {
      await s.close();
    }
  });

  it('waits Retry-After after HTTP 429 and retries', async () => {
    const s = await startWeComStandin({ corpId });
    try {
      const client = clientFor(s);
      await client.accessToken();
      s.rateLimitNext('message/send', 1);
      const t0 = Date.now();
      await client.sendMessage(text(1));
      const calls = s.callsOf('message/send');
      expect(calls.map((c) => c.status)).toEqual([429, 200]);
      expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    } finally {
      await s.close();
    }
  });

  it('gives up after a bounded number of 429s, naming the method', async () => {
    const s = await startWeComStandin({ corpId });
    try {
      for (let i = 0; i < 5; i++) s.rateLimitNext('appchat/send', 0);
      const err = await clientFor(s, { maxRetries: 2 }).sendToChat({ chatid: 'c1', msgtype: 'text', text: { content: 'x' } }).catch((e: unknown) => e);
      expect((err as WarroomError).code).toBe('wecom_http_error');
      expect((err as WarroomError).message).toMatch(/appchat\/send answered HTTP 429/);
      expect(s.callsOf('appchat/send')).toHaveLength(3);
    } finally {
      await s.close();
    }
  });

  it('backs off and retries after errcode 45009 (frequency limit)', async () => {
    const s = await startWeComStandin({ corpId });
    try {
      s.frequencyLimitNext('message/send', 2);
      const r = await clientFor(s).sendMessage(text(1));
      expect(r.msgid).toMatch(/^msg/);
      expect(s.callsOf('message/send').map((c) => c.errcode)).toEqual([45009, 45009, 0]);
    } finally {
      await s.close();
    }
  });

  it('createChat with one member is refused before calling WeCom', async () => {
    const s = await startWeComStandin({ corpId });
    try {
      const err = await clientFor(s).createChat({ name: 'x', owner: 'a', userlist: ['a', 'a'] }).catch((e: unknown) => e);
      expect((err as WarroomError).code).toBe('wecom_chat_too_small');
      expect(s.callsOf('appchat/create')).toHaveLength(0);
    } finally {
      await s.close();
    }
  });

  it('never puts the secret or an access token in errors or logs', async () => {
    const s = await startWeComStandin({ corpId });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    try {
      const wrong = new WeComClient({ corpId, secret: 'wrong-secret-Zq81', agentId: AGENT_ID, apiUrl: s.url, logger: createLogger('debug', sink) });
      const e1 = (await wrong.sendMessage(text(1)).catch((e: unknown) => e)) as WarroomError;
      expect(e1.message).toBe('WeCom gettoken failed: errcode 40001 (invalid credential, hint: [standin]).');
      expect(e1.hint).toMatch(/WECOM_SECRET/);

      const client = new WeComClient({ corpId, secret: s.secret, agentId: AGENT_ID, apiUrl: s.url, logger: createLogger('debug', sink) });
      const e2 = (await client.sendToChat({ chatid: 'nochat', msgtype: 'text', text: { content: 'x' } }).catch((e: unknown) => e)) as WarroomError;
      expect(e2.message).toBe('WeCom appchat/send failed: errcode 86003 (chat not exist).');

      const unreachable = new WeComClient({ corpId, secret: s.secret, agentId: AGENT_ID, apiUrl: 'http://127.0.0.1:1/cgi-bin', logger: createLogger('debug', sink) });
      const e3 = (await unreachable.sendMessage(text(1)).catch((e: unknown) => e)) as WarroomError;
      expect(e3.code).toBe('wecom_unreachable');
      expect(e3.message).toContain('corpsecret=***');

      // A proxy (or WeCom) that echoes the request URL and the token in errmsg: both are scrubbed.
      const echoing = new WeComClient({
        corpId,
        secret: s.secret,
        agentId: AGENT_ID,
        apiUrl: s.url,
        logger: createLogger('debug', sink),
        fetch: async (input, init) => {
          const url = String(input);
          if (url.includes('/gettoken')) return fetch(input, init);
          const tokenValue = new URL(url).searchParams.get('access_token');
          return new Response(JSON.stringify({ errcode: 40003, errmsg: `invalid userid; request ${url}; token ${tokenValue}; secret ${s.secret}` }));
        },
      });
      const e4 = (await echoing.sendMessage(text(1)).catch((e: unknown) => e)) as WarroomError;
      expect(e4.message).toMatch(/^WeCom message\/send failed: errcode 40003 \(invalid userid; request http:\/\/127\.0\.0\.1:\d+\/cgi-bin\/message\/send\?access_token=\*\*\*; token \[access_token\]; secret \[secret\]\)\.$/);

      const tokens = s.callsOf('gettoken').map((c) => String(c.response?.access_token)).filter((t) => t !== 'undefined');
      expect(tokens.length).toBeGreaterThan(0);
      const everything = [e1.message, e1.hint ?? '', e2.message, e3.message, e4.message, ...lines].join('\n');
      expect(lines.some((l) => l.includes('access_token=***'))).toBe(true);
      for (const secret of [s.secret, 'wrong-secret-Zq81', ...tokens]) expect(everything).not.toContain(secret);
    } finally {
      await s.close();
    }
  });

  it('the platform logs hold neither the secret nor any access token the stand-in issued', async () => {
    await wecom.settled();
    const tokens = standin.callsOf('gettoken').map((c) => String(c.response?.access_token));
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [standin.secret, aesKey, ...tokens]) expect(all).not.toContain(secret);
  });
});

describe('WeCom rendering limits', () => {
  it('markdown: bold title, text, label：value fields, sections, grey context', () => {
    expect(
      renderWeComMarkdown({
        title: 'Open incidents',
        text: 'Two are open.',
        fields: [{ label: 'P1', value: '1' }],
        sections: [{ title: 'INC-1', lines: ['since 09:31'] }],
        context: ['source: incidents table'],
        lang: 'en',
      }),
    ).toBe('**Open incidents**\nTwo are open.\nP1：1\n**INC-1**\n- since 09:31\n<font color="comment">source: incidents table</font>');
  });

  it('markdown longer than 2048 bytes is cut on a character boundary with a note', () => {
    const content = renderWeComMarkdown({ lang: 'zh', title: '变更列表', text: '', sections: [{ lines: Array.from({ length: 200 }, (_, i) => `CAB-${i} 集中交易 报盘参数调整`) }] });
    expect(bytes(content)).toBeLessThanOrEqual(2048);
    expect(bytes(content)).toBeGreaterThan(1900);
    expect(Buffer.from(content, 'utf8').toString('utf8')).toBe(content);
    expect(content.endsWith('<font color="comment">…（内容过长，已截断）</font>')).toBe(true);
    expect(content.startsWith('**变更列表**\n- CAB-0 集中交易')).toBe(true);
  });

  it('cards: at most 6 fields and 6 buttons; the rest of the fields go to the sub-title; unique task ids', () => {
    const msg: OutgoingMessage = {
      title: 'A very long localization card title that goes on and on past the limit',
      text: 'Suspicion ranking',
      fields: Array.from({ length: 8 }, (_, i) => ({ label: `Field label number ${i}`, value: `v${i}` })),
      buttons: Array.from({ length: 8 }, (_, i) => ({ actionId: `a${i}`, label: `Button ${i}`, value: `${i}` })),
      lang: 'en',
    };
    const a = renderWeComTemplateCard(msg);
    const b = renderWeComTemplateCard(msg);
    expect(a.horizontal_content_list).toHaveLength(6);
    expect(a.horizontal_content_list?.[0]?.keyname).toBe('Field label num…');
    expect(a.button_list).toHaveLength(6);
    expect([...(a.main_title?.title ?? '')].length).toBeLessThanOrEqual(36);
    expect(a.sub_title_text).toBe('Suspicion ranking\nField label number 6：v6\nField label number 7：v7\nNot shown (a WeCom card holds 6 buttons): 「Button 6」「Button 7」');
    expect(a.task_id).not.toBe(b.task_id);
    expect(a.task_id).toMatch(/^[A-Za-z0-9_@-]{1,128}$/);
  });

  it('button keys round-trip with "|" in the value; an over-long key is refused', () => {
    const key = encodeButtonKey('approve', 'ACT-1|high|两人');
    expect(key).toBe('approve|ACT-1|high|两人');
    expect(decodeButtonKey(key)).toEqual({ actionId: 'approve', value: 'ACT-1|high|两人' });
    expect(() => encodeButtonKey('a|b', 'x')).toThrow(/without "\|"/);
    expect(() => encodeButtonKey('approve', '审'.repeat(400))).toThrow(/1208 bytes; WeCom allows 1024/);
  });
});
