import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachPlatform, createBot, type Bot } from '../../bot/bot.js';
import type { OutgoingMessage } from '../../bot/messages.js';
import type { BotReply, ChatEvent, RoomRef } from '../../bot/platforms/platform.js';
import { createSlackPlatform, slackChannelName, type SlackPlatform } from '../../bot/platforms/slack.js';
import { blockKitLimits, escapeMrkdwn, parseActionId, renderBlockKit } from '../../bot/render/block-kit.js';
import type { App } from '../../tools/services.js';
import { isWarroomError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { startHttpServer } from '../../server/http.js';
import { createTestApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import {
  appMentionEvent,
  blockActionsBody,
  eventCallbackBody,
  imMessageEvent,
  jsonContentType,
  postSigned,
  reactionAddedEvent,
  signSlackRequest,
  slashCommandBody,
  startSlackStandin,
  urlVerificationBody,
  type SlackStandin,
} from '../helpers/slack-standin.js';

const signingSecret = 'warroom-test-signing-secret-3f9a1c';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Block = { type: string; text?: { text: string }; elements?: Array<{ type: string; action_id?: string; value?: string; style?: string; text?: { text: string } }>; fields?: Array<{ text: string }> };
const blocksOf = (body: Record<string, unknown>) => (body.blocks ?? []) as Block[];
const headerOf = (body: Record<string, unknown>) => blocksOf(body).find((b) => b.type === 'header')?.text?.text;

describe('Slack adapter over signed HTTP requests, against the stand-in Web API', () => {
  let app: App;
  let standin: SlackStandin;
  let slack: SlackPlatform;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let bot: Bot;
  let url: string;
  const handled: ChatEvent[] = [];
  /** When set, the bot answers with these replies (after `delayMs`) instead of its own, or throws. */
  let scripted: { replies?: BotReply[]; delayMs?: number; error?: Error } | undefined;
  const logLines: string[] = [];

  beforeAll(async () => {
    standin = await startSlackStandin();
    standin.addChannel({ id: 'C0GENERAL', name: 'general', members: ['U0SONGKAI', 'U0LIWEI'] });
    standin.addChannel({ id: 'D0SONGKAI', name: 'U0SONGKAI', members: ['U0SONGKAI'], isIm: true });
    app = await createTestApp(await createTestPglite());
    bot = createBot(app);
    const realHandle = bot.handle;
    bot.handle = async (event) => {
      handled.push(event);
      if (!scripted) return realHandle(event);
      if (scripted.delayMs) await sleep(scripted.delayMs);
      if (scripted.error) throw scripted.error;
      return scripted.replies ?? [];
    };
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    slack = createSlackPlatform(bot, { botToken: standin.token, signingSecret, apiUrl: standin.url.replace(/\/$/, ''), statusChannel: 'C0STATUS', logger: createLogger('debug', sink) });
    attachPlatform(bot, slack.platform);
    await slack.start();
    server = await startHttpServer(app, { port: 0, routes: slack.routes });
    url = `http://127.0.0.1:${server.port}/slack/events`;
  });

  afterAll(async () => {
    await slack?.stop();
    await server?.close();
    await standin?.close();
    await app?.db.close();
  });

  beforeEach(() => {
    scripted = undefined;
  });

  it('checks the token once at start (auth.test) and mounts POST /slack/events', () => {
    expect(standin.callsOf('auth.test')).toHaveLength(1);
    expect(slack.routes.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /slack/events']);
    expect(bot.platforms.get('slack')).toBe(slack.platform);
  });

  it('answers the url_verification challenge', async () => {
    const r = await postSigned(url, signingSecret, urlVerificationBody('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it('acks a signed /warroom help within 3 s, before the work, then posts the help to the channel', async () => {
    const before = handled.length;
    const posted = standin.callsOf('chat.postMessage').length;
    const r = await postSigned(url, signingSecret, slashCommandBody({ command: '/warroom', text: 'help', channelId: 'C0GENERAL', channelName: 'general' }));
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    expect(r.body).toBe('');
    await standin.waitFor(() => standin.callsOf('chat.postMessage').length > posted, 'the help reply');
    const reply = standin.callsOf('chat.postMessage').at(-1)!;
    expect(reply.body.channel).toBe('C0GENERAL');
    expect(reply.status).toBe(200);
    expect(headerOf(reply.body)).toBe('Warroom commands');
    expect(String(reply.body.text)).toContain('Warroom commands');
    expect(standin.channels.get('C0GENERAL')!.messages.at(-1)!.text).toContain('Warroom commands');
    expect(handled.slice(before)).toEqual([
      expect.objectContaining({ kind: 'command', command: 'warroom', platform: 'slack', userId: 'U0SONGKAI', userName: 'songkai', text: 'help', room: { platform: 'slack', id: 'C0GENERAL', kind: 'channel' } }),
    ]);
  });

  it('acks a slow /incident command at once; the reply follows when the bot is done', async () => {
    scripted = { delayMs: 3500, replies: [{ message: { text: 'Declared INC-1' } }] };
    const posted = standin.callsOf('chat.postMessage').length;
    const r = await postSigned(url, signingSecret, slashCommandBody({ command: '/incident', text: 'declare P1 MDGW down', channelId: 'D0SONGKAI', channelName: 'directmessage' }));
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    expect(standin.callsOf('chat.postMessage').length).toBe(posted); // not yet: the bot is still working
    expect(handled.at(-1)).toMatchObject({ kind: 'command', command: 'incident', text: 'declare P1 MDGW down', room: { id: 'D0SONGKAI', kind: 'dm' } });
    await standin.waitFor(() => standin.callsOf('chat.postMessage').length > posted, 'the delayed reply', 8000);
    expect(standin.callsOf('chat.postMessage').at(-1)!.body).toMatchObject({ channel: 'D0SONGKAI', text: 'Declared INC-1' });
  });

  describe('requests Slack did not sign are refused with no side effect', () => {
    const command = slashCommandBody({ command: '/warroom', text: 'help' });
    async function expectNothingHappens(send: () => Promise<{ status: number }>, status: number): Promise<void> {
      const calls = standin.calls.length;
      const seen = handled.length;
      const r = await send();
      expect(r.status).toBe(status);
      await sleep(400); // a listener would have run by now
      expect(standin.calls.slice(calls)).toEqual([]);
      expect(handled.length).toBe(seen);
    }

    it('a bad signature → 401', async () => {
      await expectNothingHappens(() => postSigned(url, signingSecret, command, signSlackRequest('not-the-secret', command.body)), 401);
    });

    it('a valid signature over a different body → 401', async () => {
      const tampered = slashCommandBody({ command: '/warroom', text: 'failover 中登报盘' });
      await expectNothingHappens(() => postSigned(url, signingSecret, tampered, signSlackRequest(signingSecret, command.body)), 401);
    });

    it('a correctly signed request 6 minutes old → 401', async () => {
      const old = Math.floor(Date.now() / 1000) - 6 * 60;
      await expectNothingHappens(() => postSigned(url, signingSecret, command, signSlackRequest(signingSecret, command.body, old)), 401);
    });

    it('no signature headers at all → 401', async () => {
      await expectNothingHappens(async () => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': command.contentType }, body: command.body });
        return { status: res.status };
      }, 401);
    });

    it('a signed but malformed body → 400', async () => {
      await expectNothingHappens(() => postSigned(url, signingSecret, { body: '{"type":"event_callback",', contentType: jsonContentType }), 400);
    });
  });

  it('an app_mention reaches the bot with the mention stripped, and the answer is posted in the channel', async () => {
    const posted = standin.callsOf('chat.postMessage').length;
    const r = await postSigned(url, signingSecret, eventCallbackBody(appMentionEvent({ text: '<@U0WARBOT> help', channel: 'C0GENERAL', user: 'U0LIWEI' })));
    expect(r.status).toBe(200);
    await standin.waitFor(() => standin.callsOf('chat.postMessage').length > posted, 'the mention reply');
    expect(handled.at(-1)).toMatchObject({ kind: 'message', platform: 'slack', userId: 'U0LIWEI', text: 'help', room: { id: 'C0GENERAL', kind: 'channel' } });
    const reply = standin.callsOf('chat.postMessage').at(-1)!;
    expect(reply.body.channel).toBe('C0GENERAL');
    expect(reply.body.thread_ts).toBeUndefined();
    expect(headerOf(reply.body)).toBe('Warroom commands');
  });

  it('a mention inside a thread is answered in that thread', async () => {
    const parent = standin.addMessage('C0GENERAL', { text: 'MDGW login keeps failing', user: 'U0LIWEI' });
    scripted = { replies: [{ message: { text: 'Looking at it' } }] };
    const posted = standin.callsOf('chat.postMessage').length;
    await postSigned(url, signingSecret, eventCallbackBody(appMentionEvent({ text: 'what changed? <@U0WARBOT>', channel: 'C0GENERAL', threadTs: parent.ts })));
    await standin.waitFor(() => standin.callsOf('chat.postMessage').length > posted, 'the thread reply');
    expect(handled.at(-1)).toMatchObject({ kind: 'message', text: 'what changed?' });
    expect(standin.callsOf('chat.postMessage').at(-1)!.body).toMatchObject({ channel: 'C0GENERAL', thread_ts: parent.ts, text: 'Looking at it' });
  });

  it('a direct message reaches the bot; bot messages and edits in the DM do not', async () => {
    scripted = { replies: [{ message: { text: 'Nothing is open right now.' } }] };
    const seen = handled.length;
    const posted = standin.callsOf('chat.postMessage').length;
    await postSigned(url, signingSecret, eventCallbackBody(imMessageEvent({ text: 'what is open right now', channel: 'D0SONGKAI' })));
    await postSigned(url, signingSecret, eventCallbackBody(imMessageEvent({ text: 'Nothing is open right now.', channel: 'D0SONGKAI', user: 'U0WARBOT', botId: 'B0WARBOT' })));
    await postSigned(url, signingSecret, eventCallbackBody(imMessageEvent({ text: 'edited', channel: 'D0SONGKAI', subtype: 'message_changed' })));
    await standin.waitFor(() => standin.callsOf('chat.postMessage').length > posted, 'the DM reply');
    await sleep(300);
    expect(handled.slice(seen)).toEqual([expect.objectContaining({ kind: 'message', text: 'what is open right now', userId: 'U0SONGKAI', room: { platform: 'slack', id: 'D0SONGKAI', kind: 'dm' } })]);
    expect(standin.callsOf('chat.postMessage').slice(posted).map((c) => [c.body.channel, c.body.text])).toEqual([['D0SONGKAI', 'Nothing is open right now.']]);
  });

  it('a button press reaches the bot as an action (suffix stripped, value, message ref); replies update the message, then go privately, in order', async () => {
    const card = await slack.platform.post({ platform: 'slack', id: 'C0GENERAL' }, { text: 'Approve failover of 中登报盘?', buttons: [{ actionId: 'reject', label: 'Reject', value: 'act-42', style: 'danger' }, { actionId: 'approve', label: 'Approve', value: 'act-42', style: 'primary' }] });
    scripted = { replies: [{ message: { text: 'Approved by songkai' }, replaceOriginal: true }, { message: { text: 'You approved act-42' }, private: true }] };
    const from = standin.calls.length;
    const r = await postSigned(url, signingSecret, blockActionsBody({ actionId: 'approve#1', value: 'act-42', channelId: 'C0GENERAL', messageTs: card.id }));
    expect(r.status).toBe(200);
    await standin.waitFor(() => standin.calls.slice(from).some((c) => c.method === 'chat.postEphemeral'), 'the private reply');
    expect(handled.at(-1)).toMatchObject({ kind: 'action', platform: 'slack', actionId: 'approve', value: 'act-42', userId: 'U0SONGKAI', message: { platform: 'slack', roomId: 'C0GENERAL', id: card.id }, room: { id: 'C0GENERAL', kind: 'channel' } });
    expect(standin.calls.slice(from).map((c) => c.method)).toEqual(['chat.update', 'chat.postEphemeral']);
    const updated = standin.channels.get('C0GENERAL')!.messages.find((m) => m.ts === card.id)!;
    expect(updated.text).toBe('Approved by songkai');
    expect(updated.edited).toBeDefined();
    expect(standin.channels.get('C0GENERAL')!.ephemerals.at(-1)).toMatchObject({ user: 'U0SONGKAI', text: 'You approved act-42' });
  });

  it('a :pushpin: reaction hands the flagged message text to the bot; other reactions do nothing', async () => {
    const flagged = standin.addMessage('C0GENERAL', { text: 'MDGW login rejected at 09:31, errno 1042', user: 'U0LIWEI' });
    standin.addMessage('C0GENERAL', { text: 'a later message', user: 'U0LIWEI' });
    scripted = { replies: [] };
    const seen = handled.length;
    const history = standin.callsOf('conversations.history').length;
    await postSigned(url, signingSecret, eventCallbackBody(reactionAddedEvent({ reaction: 'thumbsup', channel: 'C0GENERAL', ts: flagged.ts })));
    await postSigned(url, signingSecret, eventCallbackBody(reactionAddedEvent({ reaction: 'pushpin', channel: 'C0GENERAL', ts: flagged.ts })));
    await standin.waitFor(() => handled.length > seen, 'the flag');
    await sleep(200);
    expect(handled.slice(seen)).toEqual([
      expect.objectContaining({ kind: 'flag', platform: 'slack', userId: 'U0SONGKAI', text: 'MDGW login rejected at 09:31, errno 1042', message: { platform: 'slack', roomId: 'C0GENERAL', id: flagged.ts } }),
    ]);
    const calls = standin.callsOf('conversations.history').slice(history);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({ channel: 'C0GENERAL', latest: flagged.ts, inclusive: 'true', limit: '1' });
  });

  it('a failure while handling gives the user a short private error, never the stack', async () => {
    scripted = { error: new Error('connection to db lost at Object.<anonymous> (/srv/warroom/db.ts:12:3)') };
    const from = standin.calls.length;
    await postSigned(url, signingSecret, slashCommandBody({ command: '/warroom', text: 'status', channelId: 'C0GENERAL' }));
    await standin.waitFor(() => standin.calls.slice(from).some((c) => c.method === 'chat.postEphemeral'), 'the error notice');
    const notice = standin.calls.slice(from).find((c) => c.method === 'chat.postEphemeral')!;
    expect(notice.body).toMatchObject({ channel: 'C0GENERAL', user: 'U0SONGKAI' });
    expect(String(notice.body.text)).toMatch(/Something went wrong/);
    expect(String(notice.body.text)).not.toMatch(/db\.ts|anonymous|connection/);
    expect(standin.calls.slice(from).some((c) => c.method === 'chat.postMessage')).toBe(false);
  });

  describe('ChatPlatform methods', () => {
    it('createRoom turns a Chinese+ASCII name into a valid Slack name, invites the members and sets the topic', async () => {
      const room = await slack.platform.createRoom({ name: 'P1 集中交易 下单超时 INC-20261123-001', topic: 'P1 · 集中交易下单超时 · IC songkai', memberIds: ['U0SONGKAI', 'U0LIWEI', 'U0WARBOT'] });
      expect(room).toMatchObject({ platform: 'slack', name: 'p1-inc-20261123-001' });
      expect(room.id).toMatch(/^C/);
      const channel = standin.channels.get(room.id)!;
      expect(channel.name).toBe('p1-inc-20261123-001');
      expect([...channel.members].sort()).toEqual(['U0LIWEI', 'U0SONGKAI', 'U0WARBOT']);
      expect(channel.topic).toBe('P1 · 集中交易下单超时 · IC songkai');
      const invite = standin.callsOf('conversations.invite').at(-1)!;
      expect(invite.body).toMatchObject({ channel: room.id, users: 'U0SONGKAI,U0LIWEI' }); // never the bot itself
    });

    it('createRoom retries a taken name with -2, -3', async () => {
      const second = await slack.platform.createRoom({ name: 'P1 集中交易 下单超时 INC-20261123-001', topic: 't', memberIds: [] });
      const third = await slack.platform.createRoom({ name: 'P1 集中交易 下单超时 INC-20261123-001', topic: 't', memberIds: [] });
      expect([second.name, third.name]).toEqual(['p1-inc-20261123-001-2', 'p1-inc-20261123-001-3']);
      const creates = standin.callsOf('conversations.create').slice(-5);
      expect(creates.map((c) => [c.body.name, c.error ?? 'ok'])).toEqual([
        ['p1-inc-20261123-001', 'name_taken'],
        ['p1-inc-20261123-001-2', 'ok'],
        ['p1-inc-20261123-001', 'name_taken'],
        ['p1-inc-20261123-001-2', 'name_taken'],
        ['p1-inc-20261123-001-3', 'ok'],
      ]);
    });

    it('createRoom with no members makes no invite call, and a long name stays within 80 characters', async () => {
      const invites = standin.callsOf('conversations.invite').length;
      const room = await slack.platform.createRoom({ name: `P2 ${'very-long-incident-name-'.repeat(6)} 行情`, topic: 'x', memberIds: [] });
      expect(room.name!.length).toBeLessThanOrEqual(80);
      expect(room.name).toMatch(/^[a-z0-9_-]+$/);
      expect(room.name).not.toMatch(/[-_]$/);
      expect(standin.callsOf('conversations.invite').length).toBe(invites);
    });

    it('invite tolerates members already in the room and still adds the new ones', async () => {
      const room: RoomRef = { platform: 'slack', id: 'C0GENERAL' };
      await slack.platform.invite(room, ['U0SONGKAI', 'U0ZHAOLEI']);
      expect(standin.channels.get('C0GENERAL')!.members.has('U0ZHAOLEI')).toBe(true);
    });

    it('post renders Block Kit with buttons; update, pin and setTopic change what the room shows', async () => {
      const room: RoomRef = { platform: 'slack', id: 'C0GENERAL' };
      const message: OutgoingMessage = {
        title: 'Approve: failover 中登报盘 to standby',
        text: 'Requested by songkai <ops> & approved by nobody yet',
        fields: [{ label: 'Risk', value: 'high' }],
        buttons: [
          { actionId: 'approve', label: 'Approve', value: 'act-7', style: 'primary' },
          { actionId: 'reject', label: 'Reject', value: 'act-7', style: 'danger' },
        ],
      };
      const ref = await slack.platform.post(room, message);
      expect(ref).toMatchObject({ platform: 'slack', roomId: 'C0GENERAL' });
      expect(ref.id).toMatch(/^\d{10}\.\d{6}$/);
      const call = standin.callsOf('chat.postMessage').at(-1)!;
      const actions = blocksOf(call.body).find((b) => b.type === 'actions')!;
      expect(actions.elements!.map((e) => [e.action_id, e.value, e.style, e.text?.text])).toEqual([
        ['approve#0', 'act-7', 'primary', 'Approve'],
        ['reject#1', 'act-7', 'danger', 'Reject'],
      ]);
      expect(blocksOf(call.body).some((b) => b.text?.text === 'Requested by songkai &lt;ops&gt; &amp; approved by nobody yet')).toBe(true);

      await slack.platform.update(ref, { text: 'Approved by liwei; failover queued' });
      const shown = standin.channels.get('C0GENERAL')!.messages.find((m) => m.ts === ref.id)!;
      expect(shown.text).toBe('Approved by liwei; failover queued');
      expect(JSON.stringify(shown.blocks)).not.toContain('approve#0');

      expect(await slack.platform.pin(ref)).toBe(true);
      expect(await slack.platform.pin(ref)).toBe(true); // already pinned is fine
      expect(standin.channels.get('C0GENERAL')!.pins).toEqual([ref.id]);

      expect(await slack.platform.setTopic(room, 'P1 · recovering')).toBe(true);
      expect(standin.channels.get('C0GENERAL')!.topic).toBe('P1 · recovering');
    });

    it('sendDirect posts to the user id and returns the DM channel, so the message can be updated', async () => {
      const ref = await slack.platform.sendDirect('U0ZHAOLEI', { text: 'Draft status update for INC-3: please review' });
      expect(ref.roomId).toMatch(/^D/);
      expect(standin.callsOf('chat.postMessage').at(-1)!.body.channel).toBe('U0ZHAOLEI');
      const dm = standin.channels.get(ref.roomId)!;
      expect(dm.isIm).toBe(true);
      expect(dm.members.has('U0ZHAOLEI')).toBe(true);
      await slack.platform.update(ref, { text: 'Sent.' });
      expect(dm.messages.find((m) => m.ts === ref.id)!.text).toBe('Sent.');
    });

    it('userIdOf and statusRoom', () => {
      expect(slack.platform.userIdOf({ id: 'songkai', slack: 'U0SONGKAI', wecom: 'songkai' })).toBe('U0SONGKAI');
      expect(slack.platform.userIdOf({ id: 'x', slack: null, wecom: 'x' })).toBeUndefined();
      expect(slack.platform.statusRoom()).toEqual({ platform: 'slack', id: 'C0STATUS' });
    });

    it('a Slack error names the call and what to do', async () => {
      const err = await slack.platform.post({ platform: 'slack', id: 'C0MISSING' }, { text: 'hello' }).catch((e: unknown) => e);
      expect(isWarroomError(err)).toBe(true);
      expect(String((err as Error).message)).toBe('Slack chat.postMessage failed: channel_not_found');
    });
  });

  it('a 429 with Retry-After: 1 on chat.postMessage is waited out and retried', async () => {
    standin.rateLimitNext('chat.postMessage', 1);
    const from = standin.callsOf('chat.postMessage').length;
    const ref = await slack.platform.post({ platform: 'slack', id: 'C0GENERAL' }, { text: 'status: recovering' });
    const calls = standin.callsOf('chat.postMessage').slice(from);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(standin.channels.get('C0GENERAL')!.messages.find((m) => m.ts === ref.id)!.text).toBe('status: recovering');
  });

  it('logs neither the token, the signing secret nor what people wrote', () => {
    const logs = logLines.join('');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(standin.token);
    expect(logs).not.toContain(signingSecret);
    expect(logs).not.toContain('MDGW login rejected');
    expect(logs).not.toContain('Draft status update');
  });
});

describe('Slack adapter failure modes', () => {
  it('a dead Web API fails in seconds, not minutes', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const app = await createTestApp(await createTestPglite());
    try {
      const slack = createSlackPlatform(createBot(app), { botToken: 'xoxb-dead', signingSecret, apiUrl: `http://127.0.0.1:${port}/api/`, logger: app.logger });
      const started = Date.now();
      const err = await slack.platform.post({ platform: 'slack', id: 'C0GENERAL' }, { text: 'x' }).catch((e: unknown) => e);
      expect(isWarroomError(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(8_000);
      await expect(slack.start()).rejects.toThrow(/auth\.test/);
    } finally {
      await app.db.close();
    }
  }, 40_000);

  it('20 concurrent room declarations against a slow API (50 ms per call) all get their own room', async () => {
    const standin = await startSlackStandin({ latencyMs: 50 });
    const app = await createTestApp(await createTestPglite());
    try {
      const slack = createSlackPlatform(createBot(app), { botToken: standin.token, signingSecret, apiUrl: standin.url, logger: app.logger });
      const started = Date.now();
      const rooms = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          slack.platform.createRoom({ name: i % 2 ? 'P1 集中交易 下单超时' : `P2 行情 INC-${i}`, topic: `incident ${i}`, memberIds: ['U0SONGKAI', `U0ONCALL${i}`] }).then(async (room) => {
            const ref = await slack.platform.post(room, { text: `Incident ${i} declared`, buttons: [{ actionId: 'ack', label: 'Ack', value: String(i) }] });
            await slack.platform.pin(ref);
            return room;
          }),
        ),
      );
      expect(new Set(rooms.map((r) => r.id)).size).toBe(20);
      expect(new Set(rooms.map((r) => r.name)).size).toBe(20);
      for (const [i, room] of rooms.entries()) {
        const channel = standin.channels.get(room.id)!;
        expect(channel.topic).toBe(`incident ${i}`);
        expect(channel.members.has(`U0ONCALL${i}`)).toBe(true);
        expect(channel.pins).toHaveLength(1);
        expect(channel.messages[0]!.text).toBe(`Incident ${i} declared`);
      }
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await standin.close();
      await app.db.close();
    }
  });

  it('a wrong bot token is reported as invalid_auth with a hint', async () => {
    const standin = await startSlackStandin();
    const app = await createTestApp(await createTestPglite());
    try {
      const slack = createSlackPlatform(createBot(app), { botToken: 'xoxb-wrong', signingSecret, apiUrl: standin.url, logger: app.logger });
      const err = await slack.start().catch((e: unknown) => e);
      expect(isWarroomError(err) && err.message).toBe('Slack auth.test failed: invalid_auth');
      expect(isWarroomError(err) && err.hint).toMatch(/SLACK_BOT_TOKEN/);
    } finally {
      await standin.close();
      await app.db.close();
    }
  });

  it('Socket Mode mounts no HTTP route', async () => {
    const app = await createTestApp(await createTestPglite());
    try {
      const slack = createSlackPlatform(createBot(app), { botToken: 'xoxb-x', signingSecret, appToken: 'xapp-1-x', apiUrl: 'http://127.0.0.1:9/api/', logger: app.logger });
      expect(slack.routes).toEqual([]);
      expect(slack.platform.name).toBe('slack');
    } finally {
      await app.db.close();
    }
  });
});

describe('Block Kit rendering', () => {
  it('header, text, fields, sections, context and buttons', () => {
    const { text, blocks } = renderBlockKit({
      title: 'INC-7 集中交易',
      text: 'a < b & c > d',
      fields: [{ label: 'Severity', value: 'P1' }],
      sections: [{ title: 'Changes', lines: ['CAB-20261121-004 <config>'] }],
      context: ['source: cmdb'],
      buttons: [{ actionId: 'ack', label: 'Ack', value: 'INC-7' }],
    });
    expect(text).toBe('INC-7 集中交易\na &lt; b &amp; c &gt; d');
    expect(blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'INC-7 集中交易', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: 'a &lt; b &amp; c &gt; d' } },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*Severity*\nP1' }] },
      { type: 'section', text: { type: 'mrkdwn', text: '*Changes*\n• CAB-20261121-004 &lt;config&gt;' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'source: cmdb' }] },
      { type: 'actions', elements: [{ type: 'button', action_id: 'ack#0', text: { type: 'plain_text', text: 'Ack', emoji: true }, value: 'INC-7' }] },
    ]);
  });

  it('keeps within Slack limits by splitting, and keeps action ids unique', () => {
    const blocks = renderBlockKit({
      title: 'T'.repeat(400),
      text: 'x',
      fields: Array.from({ length: 23 }, (_, i) => ({ label: `f${i}`, value: 'v' })),
      sections: [{ lines: Array.from({ length: 200 }, (_, i) => `line ${i} ${'y'.repeat(40)}`) }],
      context: Array.from({ length: 12 }, (_, i) => `c${i}`),
      buttons: Array.from({ length: 30 }, (_, i) => ({ actionId: 'pick', label: `B${i}`, value: String(i) })),
    }).blocks as unknown as Block[];
    expect(blocks[0]!.text!.text.length).toBeLessThanOrEqual(blockKitLimits.headerChars);
    expect(blocks.filter((b) => b.fields).map((b) => b.fields!.length)).toEqual([10, 10, 3]);
    const texts = blocks.filter((b) => b.type === 'section' && b.text).map((b) => b.text!.text);
    expect(Math.max(...texts.map((t) => t.length))).toBeLessThanOrEqual(blockKitLimits.sectionTextChars);
    expect(texts.join('\n')).toContain('line 199');
    expect(blocks.filter((b) => b.type === 'context').map((b) => b.elements!.length)).toEqual([10, 2]);
    const actions = blocks.filter((b) => b.type === 'actions');
    expect(actions.map((b) => b.elements!.length)).toEqual([25, 5]);
    const ids = actions.flatMap((b) => b.elements!.map((e) => e.action_id!));
    expect(new Set(ids).size).toBe(30);
    expect(new Set(ids.map(parseActionId))).toEqual(new Set(['pick']));
    expect(blocks.length).toBeLessThanOrEqual(blockKitLimits.blocksPerMessage);
  });

  it('a very long message keeps its buttons and says blocks were omitted', () => {
    const blocks = renderBlockKit({
      text: 'x',
      sections: Array.from({ length: 80 }, (_, i) => ({ title: `s${i}`, lines: ['l'] })),
      buttons: [{ actionId: 'approve', label: 'Approve', value: 'a' }],
    }).blocks as unknown as Block[];
    expect(blocks).toHaveLength(50);
    expect(blocks.at(-1)!.type).toBe('actions');
    expect(JSON.stringify(blocks.at(-2))).toMatch(/omitted/);
  });

  it('refuses a button value Slack would reject instead of cutting it', () => {
    expect(() => renderBlockKit({ text: 'x', buttons: [{ actionId: 'a', label: 'A', value: 'v'.repeat(2001) }] })).toThrow(/2000/);
  });

  it('escapes mrkdwn control characters and strips action id suffixes', () => {
    expect(escapeMrkdwn('<@U1> & <!channel>')).toBe('&lt;@U1&gt; &amp; &lt;!channel&gt;');
    expect(parseActionId('approve#12')).toBe('approve');
    expect(parseActionId('incident:declare')).toBe('incident:declare');
  });

  it('Slack channel names', () => {
    expect(slackChannelName('P0 中登报盘 故障')).toBe('p0');
    expect(slackChannelName('INC-20261123-001 集中交易 MDGW Down')).toBe('inc-20261123-001-mdgw-down');
    expect(slackChannelName('集中交易')).toBe('incident');
    expect(slackChannelName('ＦＰＧＡ　decoder')).toBe('fpga-decoder');
  });
});
