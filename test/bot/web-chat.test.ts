import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachPlatform, createBot, type Bot } from '../../bot/bot.js';
import { createLocalChatPlatform, type LocalChat, type LocalMessage } from '../../bot/platforms/local/index.js';
import type { BotReply, ChatEvent, RoomRef } from '../../bot/platforms/platform.js';
import type { App } from '../../tools/services.js';
import { startHttpServer } from '../../server/http.js';
import { createDemoApp } from '../helpers/app.js';
import { drivers } from '../helpers/db.js';
import { signIn, type WebClient } from '../helpers/web-session.js';

type Server = Awaited<ReturnType<typeof startHttpServer>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * One web chat over one app: its HTTP server, and every event the bot was handed. `get`/`post` send
 * no session; `getAs`/`postAs` go through a browser-like client signed in (by a sign-in link) and
 * acting as that person, one session per person.
 */
interface Harness {
  chat: LocalChat;
  server: Server;
  as(person: string): Promise<WebClient>;
  get(path: string, params?: Record<string, string>): Promise<{ status: number; body: Json; headers: Headers; text: string }>;
  post(path: string, body: unknown): Promise<{ status: number; body: Json }>;
  getAs(person: string, path: string, params?: Record<string, string>): Promise<{ status: number; body: Json; headers: Headers; text: string }>;
  postAs(person: string, path: string, body: unknown): Promise<{ status: number; body: Json }>;
  close(): Promise<void>;
}

async function startChat(bot: Bot, options: Parameters<typeof createLocalChatPlatform>[1] = {}): Promise<Harness> {
  const chat = createLocalChatPlatform(bot, { heartbeatMs: 200, ...options });
  attachPlatform(bot, chat.platform);
  const server = await startHttpServer(bot.app, { port: 0, routes: chat.routes });
  const base = `http://127.0.0.1:${server.port}`;
  const clients = new Map<string, Promise<WebClient>>();
  const as = (person: string): Promise<WebClient> => {
    let c = clients.get(person);
    if (!c) clients.set(person, (c = signIn(base, () => chat.signInLink(), person)));
    return c;
  };
  return {
    chat,
    server,
    as,
    getAs: async (person, path, params) => (await as(person)).get(path, params),
    postAs: async (person, path, body) => (await as(person)).post(path, body),
    async get(path, params = {}) {
      const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
      const text = await res.text();
      let body: Json = {};
      try {
        body = JSON.parse(text) as Json;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body, headers: res.headers, text };
    },
    async post(path, body) {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Json };
    },
    async close() {
      await chat.stop();
      await server.close();
    },
  };
}

/** Reads a Server-Sent Events stream: `until` waits for an event matching a predicate. */
async function openStream(port: number, client: WebClient) {
  const abort = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/chat/api/stream`, { signal: abort.signal, headers: { cookie: client.cookie } });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  const events: Json[] = [];
  let ended = false;
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        raw += decoder.decode(value, { stream: true });
        for (let i = raw.indexOf('\n\n'); i >= 0; i = raw.indexOf('\n\n')) {
          const block = raw.slice(0, i);
          raw = raw.slice(i + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1];
          events.push({ event: name, comment: block.startsWith(':') ? block : undefined, ...(data ? JSON.parse(data) : {}) });
        }
      }
    } catch {
      /* aborted */
    }
    ended = true;
  })();
  return {
    res,
    events,
    get ended() {
      return ended;
    },
    async until(pred: (e: Json) => boolean, timeoutMs = 5000): Promise<Json> {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const hit = events.find(pred);
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no matching stream event; got ${JSON.stringify(events)}`);
    },
    async close() {
      abort.abort();
      await pump;
    },
    pump,
  };
}

// The embedded database always; real PostgreSQL too when configured (`npm run test:all`).
for (const driver of drivers) describe.skipIf(!driver.enabled)(`local web chat over HTTP on ${driver.name} (demo people)`, () => {
  let app: App;
  let closeDb: (() => Promise<void>) | undefined;
  let bot: Bot;
  let h: Harness;
  const events: ChatEvent[] = [];
  /** Replaces the bot's answer for the events it matches (undefined: the real bot answers). */
  let script: ((e: ChatEvent) => BotReply[] | undefined) | undefined;

  beforeAll(async () => {
    const opened = await driver.open();
    closeDb = opened.close;
    app = await createDemoApp(opened.db);
    bot = createBot(app);
    const real = bot.handle.bind(bot);
    bot.handle = async (e) => {
      events.push(e);
      return script?.(e) ?? real(e);
    };
    h = await startChat(bot);
  });
  afterAll(async () => {
    await h?.close();
    await closeDb?.();
  });

  const messages = async (room: string, user: string, after?: number): Promise<LocalMessage[]> => {
    const r = await h.getAs(user, '/chat/api/messages', { room, ...(after === undefined ? {} : { after: String(after) }) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.messages as LocalMessage[];
  };
  const send = async (user: string, room: string, text: string) => {
    const r = await h.postAs(user, '/chat/api/send', { room, text });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    await h.chat.settled();
    return r.body;
  };

  it('serves the page, its script and style, with a policy that loads nothing from elsewhere', async () => {
    // Without a session: a plain page saying how to sign in, with no script.
    const anonymous = await h.get('/chat');
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).toContain('sign-in link');
    expect(anonymous.text).not.toContain('app.js');
    const page = await h.getAs('songkai', '/chat');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('local chat — signed in');
    expect(page.text).toContain('data-testid="composer-input"');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.text).not.toMatch(/https?:\/\//);
    const js = await h.get('/chat/app.js');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(js.text).toContain('EventSource');
    expect(js.text).not.toContain('innerHTML');
    expect((await h.get('/chat/app.css')).headers.get('content-type')).toContain('text/css');
  });

  it('shows the app\'s clock in exchange time, and marks the demo\'s story clock as such', async () => {
    const real = await h.getAs('songkai', '/chat/api/clock');
    expect(real.body).toMatchObject({ now: '2026-11-23T09:40:00+08:00', demo: false, label: '11-23 (周一) 09:40 (Asia/Shanghai)' });
    app.demoMoment = app.clock();
    try {
      const demo = await h.getAs('songkai', '/chat/api/clock');
      expect(demo.body).toMatchObject({ demo: true, label: 'Demo clock · 演示时钟 11-23 (周一) 09:40' });
      expect(demo.body.title).toMatch(/--real-time/);
    } finally {
      delete app.demoMoment;
    }
    expect((await h.getAs('songkai', '/chat')).text).toContain('data-testid="clock"');
  });

  it('lists the people to act as, with names and roles', async () => {
    expect((await h.get('/chat/api/people')).status).toBe(401);
    const r = await h.getAs('songkai', '/chat/api/people');
    expect(r.body.people).toContainEqual({ id: 'songkai', name: '宋凯', roles: ['operations-lead', 'ops'] });
    expect(r.body.people).toContainEqual(expect.objectContaining({ id: 'zhangwei', roles: expect.arrayContaining(['incident-commander']) }));
  });

  it('creates general, status and a DM per person on first use; a DM is only visible to its person', async () => {
    const r = await h.getAs('songkai', '/chat/api/rooms');
    expect(r.status).toBe(200);
    const rooms = r.body.rooms as Json[];
    expect(rooms.map((x) => x.id)).toEqual(expect.arrayContaining(['general', 'status', 'dm-songkai']));
    expect(rooms.find((x) => x.id === 'dm-songkai')).toMatchObject({ kind: 'dm', joined: true });
    expect(rooms.find((x) => x.id === 'general')).toMatchObject({ kind: 'channel' });
    expect(h.chat.platform.statusRoom()).toEqual({ platform: 'local', id: 'status', name: 'status' });
    const other = await h.getAs('zhangwei', '/chat/api/rooms');
    expect((other.body.rooms as Json[]).map((x) => x.id)).not.toContain('dm-songkai');
    const peek = await h.getAs('zhangwei', '/chat/api/messages', { room: 'dm-songkai' });
    expect(peek.status).toBe(404);
  });

  it('answers `help` sent in the DM with the help card in that room, as a dm message event', async () => {
    const sent = await send('songkai', 'dm-songkai', 'help');
    const msgs = await messages('dm-songkai', 'songkai');
    const mine = msgs.find((m) => m.id === sent.id);
    expect(mine).toMatchObject({ author: 'songkai', authorName: '宋凯', message: { text: 'help' }, privateTo: null });
    const reply = msgs.find((m) => m.id > sent.id && m.author === 'warroom');
    expect(reply?.message.title).toBe('Warroom commands');
    expect(reply?.message.sections?.[0]?.lines.join('\n')).toContain('changes <system>');
    expect(events.at(-1)).toMatchObject({ platform: 'local', kind: 'message', text: 'help', userId: 'songkai', userName: '宋凯', room: { id: 'dm-songkai', kind: 'dm' } });
    // `after` gives only what is newer.
    expect((await messages('dm-songkai', 'songkai', sent.id)).map((m) => m.id)).toEqual([reply!.id]);
  });

  it('turns /incident and /warroom into commands and everything else into channel messages', async () => {
    script = (e) => (e.kind === 'command' ? [{ message: { text: `command ${e.command}: ${e.text}` } }] : undefined);
    try {
      await send('zhangwei', 'general', '/incident declare P1 集中交易 开盘委托大量失败');
      expect(events.at(-1)).toMatchObject({ kind: 'command', command: 'incident', text: 'declare P1 集中交易 开盘委托大量失败', room: { id: 'general', kind: 'channel' } });
      await send('zhangwei', 'general', '/warroom help');
      expect(events.at(-1)).toMatchObject({ kind: 'command', command: 'warroom', text: 'help' });
      const last = (await messages('general', 'zhangwei')).at(-1);
      expect(last).toMatchObject({ author: 'warroom', message: { text: 'command warroom: help' } });
      await send('zhangwei', 'general', '/incidents are fun');
      expect(events.at(-1)).toMatchObject({ kind: 'message', text: '/incidents are fun' });
    } finally {
      script = undefined;
    }
  });

  it('shows a private reply only to the person it is for', async () => {
    script = (e) =>
      e.kind === 'message' && e.text === 'whisper'
        ? [{ message: { text: 'just for you' }, private: true }, { message: { text: 'for everyone' } }]
        : undefined;
    try {
      await send('songkai', 'general', 'whisper');
    } finally {
      script = undefined;
    }
    const asked = await messages('general', 'songkai');
    expect(asked.find((m) => m.message.text === 'just for you')).toMatchObject({ privateTo: 'songkai', author: 'warroom' });
    const others = await messages('general', 'zhangwei');
    expect(others.some((m) => m.message.text === 'for everyone')).toBe(true);
    expect(others.some((m) => m.message.text === 'just for you')).toBe(false);
    const rooms = (await h.getAs('zhangwei', '/chat/api/rooms')).body.rooms as Json[];
    const privateId = asked.find((m) => m.message.text === 'just for you')!.id;
    expect(rooms.find((r) => r.id === 'general')!.lastMessageId).toBeLessThan(privateId + 2);
  });

  it('rejects bad requests with 400 naming the field', async () => {
    // The session says who acts; a body naming a user is refused, not half-believed.
    const claims = await h.postAs('songkai', '/chat/api/send', { user: 'xieping', room: 'general', text: 'hi' });
    expect(claims.status).toBe(400);
    expect(claims.body).toMatchObject({ error: 'invalid_request', fields: ['user'] });
    expect(claims.body.message).toContain('POST /chat/api/session');
    const noRoom = await h.postAs('songkai', '/chat/api/send', { text: 'hi' });
    expect(noRoom.body).toMatchObject({ error: 'invalid_request', fields: ['room'] });
    expect(noRoom.body.message).toContain('"room" is required');
    const empty = await h.postAs('songkai', '/chat/api/send', { room: 'general', text: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.body.fields).toEqual(['text']);
    const wrongType = await h.postAs('songkai', '/chat/api/send', { room: 7, text: 'x' });
    expect(wrongType.body.message).toContain('"room" must be a string');
    const notObject = await h.postAs('songkai', '/chat/api/send', [1, 2]);
    expect(notObject.status).toBe(400);
    expect(notObject.body.message).toContain('must be a JSON object');
    const badJson = await h.postAs('songkai', '/chat/api/send', '{"room":');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toBe('invalid_json');
    const action = await h.postAs('songkai', '/chat/api/action', { room: 'general', messageId: 'abc', value: 'v' });
    expect(action.status).toBe(400);
    expect(action.body.fields).toEqual(expect.arrayContaining(['messageId', 'actionId']));
    const rooms = await h.getAs('songkai', '/chat/api/rooms', { user: 'xieping' });
    expect(rooms.status).toBe(400);
    expect(rooms.body.fields).toEqual(['user']);
    const after = await h.getAs('songkai', '/chat/api/messages', { room: 'general', after: 'abc' });
    expect(after.status).toBe(400);
    expect(after.body.fields).toEqual(['after']);
  });

  it('answers 404 with a clear message for an unknown room, person or message', async () => {
    const room = await h.postAs('songkai', '/chat/api/send', { room: 'nope', text: 'hi' });
    expect(room.status).toBe(404);
    expect(room.body).toMatchObject({ error: 'not_found' });
    expect(room.body.message).toContain('"nope"');
    const person = await (await h.as('songkai')).post('/chat/api/session', { person: 'nobody' });
    expect(person.status).toBe(404);
    expect(person.body.message).toContain('No person "nobody"');
    expect((await h.getAs('songkai', '/chat/api/messages', { room: 'nope' })).status).toBe(404);
    const msg = await h.postAs('songkai', '/chat/api/action', { room: 'general', messageId: '999999', actionId: 'a', value: '' });
    expect(msg.status).toBe(404);
    expect(msg.body.message).toContain('999999');
  });

  it('implements the ChatPlatform room operations: create, invite, post, update, pin, topic, direct message', async () => {
    const p = h.chat.platform;
    expect(p.name).toBe('local');
    expect(p.userIdOf({ id: 'songkai', slack: 'U1', wecom: 'w' })).toBe('songkai');

    const room = await p.createRoom({ name: 'INC-20261123-001 集中交易 开盘委托失败', topic: 'P1 集中交易', memberIds: ['zhangwei', 'songkai'] });
    expect(room).toEqual({ platform: 'local', id: 'inc-20261123-001', name: 'INC-20261123-001 集中交易 开盘委托失败' });
    const again = await p.createRoom({ name: 'INC-20261123-001 集中交易 开盘委托失败', topic: '', memberIds: [] });
    expect(again.id).toBe('inc-20261123-001-2');

    const roomsOf = async (user: string) => (await h.getAs(user, '/chat/api/rooms')).body.rooms as Json[];
    expect((await roomsOf('zhangwei')).find((r) => r.id === room.id)).toMatchObject({ kind: 'incident', joined: true, topic: 'P1 集中交易', memberCount: 2 });
    expect((await roomsOf('lihua')).find((r) => r.id === room.id)).toMatchObject({ joined: false }); // listed, to look in
    await p.invite(room, ['lihua']);
    expect((await roomsOf('lihua')).find((r) => r.id === room.id)).toMatchObject({ joined: true, memberCount: 3 });

    const ref = await p.post(room, { title: 'P1 declared', text: 'line one\nline two', fields: [{ label: 'System', value: '集中交易' }] });
    expect(ref).toMatchObject({ platform: 'local', roomId: room.id });
    expect(ref.id).toMatch(/^\d+$/);
    await p.update(ref, { title: 'P1 declared', text: 'edited' });
    expect(await p.pin(ref)).toBe(true);
    expect(await p.setTopic(room, 'P1 集中交易 · commander 张伟')).toBe(true);
    const got = await h.getAs('lihua', '/chat/api/messages', { room: room.id });
    expect(got.body.room).toMatchObject({ topic: 'P1 集中交易 · commander 张伟', joined: true });
    expect(got.body.room.members.map((m: Json) => m.id)).toEqual(expect.arrayContaining(['zhangwei', 'songkai', 'lihua']));
    expect(got.body.messages.find((m: Json) => String(m.id) === ref.id)).toMatchObject({ pinned: true, message: { text: 'edited' } });

    const dm = await p.sendDirect('zhangwei', { text: 'please draft the status update' });
    expect(dm.roomId).toBe('dm-zhangwei');
    expect((await messages('dm-zhangwei', 'zhangwei')).at(-1)?.message.text).toBe('please draft the status update');

    const status = await p.post(p.statusRoom()!, { text: 'P1 declared on 集中交易' });
    expect(status.roomId).toBe('status');

    await expect(p.post({ platform: 'local', id: 'no-such-room' }, { text: 'x' })).rejects.toThrow(/no-such-room/);
    await expect(p.update({ platform: 'local', roomId: room.id, id: '987654' }, { text: 'x' })).rejects.toThrow(/987654/);
    await expect(p.sendDirect('nobody', { text: 'x' })).rejects.toThrow(/nobody/);
  });

  it('writing in an incident room joins it', async () => {
    const room = await h.chat.platform.createRoom({ name: 'inc-join', topic: '', memberIds: ['zhangwei'] });
    await send('wangfang', room.id, 'looking');
    const rooms = (await h.getAs('wangfang', '/chat/api/rooms')).body.rooms as Json[];
    expect(rooms.find((r) => r.id === room.id)).toMatchObject({ joined: true });
  });

  it('hands a button press to the bot with the action id, value and message, and delivers the reply', async () => {
    const general: RoomRef = { platform: 'local', id: 'general' };
    const ref = await h.chat.platform.post(general, {
      text: 'Acknowledge?',
      buttons: [{ actionId: 'ack', label: 'Acknowledge', value: 'INC-1', style: 'primary' }],
    });
    script = (e) => (e.kind === 'action' ? [{ message: { text: `pressed ${e.actionId} ${e.value}` } }] : undefined);
    try {
      const r = await h.postAs('zhangwei', '/chat/api/action', { room: 'general', messageId: Number(ref.id), actionId: 'ack', value: 'INC-1' });
      expect(r.status).toBe(202);
      await h.chat.settled();
    } finally {
      script = undefined;
    }
    expect(events.at(-1)).toMatchObject({
      kind: 'action',
      actionId: 'ack',
      value: 'INC-1',
      userId: 'zhangwei',
      room: { id: 'general', kind: 'channel' },
      message: { platform: 'local', roomId: 'general', id: ref.id },
    });
    expect((await messages('general', 'songkai')).at(-1)).toMatchObject({ author: 'warroom', message: { text: 'pressed ack INC-1' } });

    // replaceOriginal edits the message the button was on.
    script = (e) => (e.kind === 'action' ? [{ message: { text: 'Acknowledged by 张伟' }, replaceOriginal: true }] : undefined);
    try {
      await h.postAs('zhangwei', '/chat/api/action', { room: 'general', messageId: ref.id, actionId: 'ack', value: 'INC-1' });
      await h.chat.settled();
    } finally {
      script = undefined;
    }
    const edited = (await messages('general', 'songkai')).find((m) => String(m.id) === ref.id);
    expect(edited?.message).toEqual({ text: 'Acknowledged by 张伟' });

    // A private reply that replaces the original: done in place on the asker's own DM draft, but never
    // by rewriting a message everyone sees (there it becomes a new private message).
    const draft = await h.chat.platform.sendDirect('chenjing', { text: 'Draft update', buttons: [{ actionId: 'post', label: 'Post', value: 'INC-1|3' }] });
    script = (e) => (e.kind === 'action' ? [{ message: { text: `posted ${e.value}` }, private: true, replaceOriginal: true }] : undefined);
    try {
      await h.postAs('chenjing', '/chat/api/action', { room: draft.roomId, messageId: draft.id, actionId: 'post', value: 'INC-1|3' });
      await h.postAs('songkai', '/chat/api/action', { room: 'general', messageId: ref.id, actionId: 'ack', value: 'INC-1' });
      await h.chat.settled();
    } finally {
      script = undefined;
    }
    expect((await messages(draft.roomId, 'chenjing')).find((m) => String(m.id) === draft.id)?.message).toEqual({ text: 'posted INC-1|3' });
    const inGeneral = await messages('general', 'songkai');
    expect(inGeneral.find((m) => String(m.id) === ref.id)?.message).toEqual({ text: 'Acknowledged by 张伟' });
    expect(inGeneral.at(-1)).toMatchObject({ privateTo: 'songkai', message: { text: 'posted INC-1' } });
  });

  it('turns a failure in the bot into an error message in the room, without a stack trace', async () => {
    script = (e) => {
      if (e.kind === 'message' && e.text === 'explode') throw new Error('boom: the tool crashed\n    at secret (/src/x.ts:1:1)');
      return undefined;
    };
    try {
      const r = await h.postAs('songkai', '/chat/api/send', { room: 'general', text: 'explode' });
      expect(r.status).toBe(202); // accepted before the bot runs
      await h.chat.settled();
    } finally {
      script = undefined;
    }
    const err = (await messages('general', 'songkai')).at(-1)!;
    expect(err).toMatchObject({ author: 'warroom', privateTo: 'songkai' });
    const shown = JSON.stringify(err.message);
    expect(shown).toContain('Warroom failed to handle that');
    expect(shown).toContain('boom: the tool crashed');
    expect(shown).not.toContain('/src/x.ts');
  });

  it('streams small change events over SSE: hello, messages, heartbeats, no private messages of others', async () => {
    const zw = await openStream(h.server.port, await h.as('zhangwei'));
    try {
      expect(zw.res.headers.get('content-type')).toContain('text/event-stream');
      await zw.until((e) => e.event === 'hello' && e.user === 'zhangwei');
      script = (e) => (e.kind === 'message' && e.text === 'psst' ? [{ message: { text: 'secret' }, private: true }] : undefined);
      try {
        await send('songkai', 'general', 'psst');
      } finally {
        script = undefined;
      }
      const secretId = (await messages('general', 'songkai')).at(-1)!.id;
      const ref = await h.chat.platform.post({ platform: 'local', id: 'general' }, { text: 'public' });
      await zw.until((e) => e.type === 'message' && e.op === 'created' && e.room === 'general' && String(e.id) === ref.id);
      await h.chat.platform.pin(ref);
      await zw.until((e) => e.type === 'message' && e.op === 'updated' && String(e.id) === ref.id);
      await zw.until((e) => e.comment?.startsWith(': heartbeat'));
      expect(zw.events.some((e) => e.type === 'message' && e.id === secretId)).toBe(false);
      await h.chat.platform.sendDirect('songkai', { text: 'for songkai' });
      await h.chat.platform.sendDirect('zhangwei', { text: 'for zhangwei' });
      await zw.until((e) => e.type === 'message' && e.room === 'dm-zhangwei');
      expect(zw.events.some((e) => e.room === 'dm-songkai')).toBe(false);
    } finally {
      await zw.close();
    }
  });

  it('keeps rooms and messages across a restart of the platform, and stop() ends the streams', async () => {
    const before = await messages('general', 'songkai');
    const stream = await openStream(h.server.port, await h.as('songkai'));
    await stream.until((e) => e.event === 'hello');
    await h.close();
    await stream.pump;
    expect(stream.ended).toBe(true);

    h = await startChat(bot, { statusRoomId: 'ops-status' });
    const after = await messages('general', 'songkai');
    expect(after).toEqual(before);
    const rooms = ((await h.getAs('zhangwei', '/chat/api/rooms')).body.rooms as Json[]).map((r) => r.id);
    expect(rooms).toEqual(expect.arrayContaining(['general', 'status', 'ops-status', 'dm-zhangwei', 'inc-20261123-001']));
    expect(h.chat.platform.statusRoom()?.id).toBe('ops-status');
    await send('songkai', 'dm-songkai', 'help');
    expect((await messages('dm-songkai', 'songkai')).filter((m) => m.message.title === 'Warroom commands')).toHaveLength(2);
  });
});
