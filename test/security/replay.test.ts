import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { loadDemo } from '../../db/demo.js';
import { migrate } from '../../db/migrate.js';
import { createPgliteDb } from '../../db/pglite.js';
import { createPostgresDb } from '../../db/postgres.js';
import { createApp } from '../../app/create-app.js';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { createTestApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPostgres, runPostgres } from '../helpers/db.js';
import { closeOpenIncidents } from '../helpers/incident.js';
import {
  appMentionEvent,
  eventCallbackBody,
  imMessageEvent,
  signSlackRequest,
  slashCommandBody,
  startSlackStandin,
  type SlackStandin,
} from '../helpers/slack-standin.js';
import { encryptCallback, startWeComStandin, textMessageXml, WECOM_SAMPLE, type EncryptedCallback, type WeComStandin } from '../helpers/wecom-standin.js';

/**
 * Finding 2 of issue 11: whatever arrives twice runs once. A signed Slack request sent again (the
 * same bytes), Slack's retries of an event already accepted, and a WeCom callback replayed after a
 * restart are acknowledged with 200 and dropped; the claims live in the database, so they survive
 * a restart and are shared by several Warroom processes on one PostgreSQL.
 *
 * Each store is reopened for a "restart": PGlite from its directory on disk, PostgreSQL through a
 * new connection pool; a new app, bot and platform instance each time.
 */

const SECRET = 'replay-signing-secret-0123456789abcdef';
const STATUS = 'C0STATUS01';
const WECOM_STATUS = 'wrstatuschat01';

interface Store {
  name: 'pglite' | 'postgres';
  enabled: boolean;
  /** Opens the store (migrated, demo data loaded the first time); call again after closing to "restart". */
  open(): Promise<Db>;
  dispose(): Promise<void>;
}

function pgliteOnDisk(): Store {
  let dir: string | undefined;
  let loaded = false;
  return {
    name: 'pglite',
    enabled: true,
    async open() {
      dir ??= mkdtempSync(join(tmpdir(), 'warroom-replay-'));
      const db = await createPgliteDb(dir);
      await migrate(db);
      if (!loaded) {
        await loadDemo(db, (await createTestApp(db)).calendar, { shift: false });
        loaded = true;
      }
      return db;
    },
    async dispose() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgres(): Store {
  let pg: Awaited<ReturnType<typeof createTestPostgres>> | undefined;
  return {
    name: 'postgres',
    enabled: runPostgres,
    async open() {
      if (!pg) {
        pg = await createTestPostgres();
        await loadDemo(pg.db, (await createTestApp(pg.db)).calendar, { shift: false });
      }
      const db = createPostgresDb(pg.url, { max: 4 });
      await migrate(db);
      return db;
    },
    async dispose() {
      await pg?.drop();
    },
  };
}

/** One running Warroom process: its own store connection, app, bot, platforms and HTTP server. */
interface Instance {
  db: Db;
  app: App;
  warroom: RunningWarroom;
  /** Everything it logged (debug and up). */
  logs: string[];
  url(path: string): string;
  /** Stop it: the HTTP server, the platforms (after what they accepted has been handled), the store connection. */
  stop(): Promise<void>;
}

async function startInstance(store: Store, env: NodeJS.ProcessEnv): Promise<Instance> {
  const db = await store.open();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await createApp(loadConfig({ WARROOM_HOME: '/nonexistent', ...env }), { db, logger: createLogger('debug', sink), clock: () => DEMO_NOW });
  const warroom = await startWarroom(app, { port: 0, timers: false });
  return {
    db,
    app,
    warroom,
    logs,
    url: (path) => `http://127.0.0.1:${warroom.port}${path}`,
    async stop() {
      await warroom.close();
      await app.close();
      await db.close();
    },
  };
}

const slackEnv = (standin: SlackStandin): NodeJS.ProcessEnv => ({
  SLACK_BOT_TOKEN: standin.token,
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_API_URL: standin.url,
  SLACK_STATUS_CHANNEL: STATUS,
});

const wecomEnv = (standin: WeComStandin): NodeJS.ProcessEnv => ({
  WECOM_CORP_ID: WECOM_SAMPLE.corpId,
  WECOM_AGENT_ID: '1000002',
  WECOM_SECRET: standin.secret,
  WECOM_TOKEN: WECOM_SAMPLE.token,
  WECOM_AES_KEY: WECOM_SAMPLE.aesKey,
  WECOM_API_URL: standin.url,
  WECOM_STATUS_CHAT: WECOM_STATUS,
});

/** Exactly these bytes and headers, as an attacker who captured a request would send them again. */
interface CapturedSlackRequest {
  body: string;
  headers: Record<string, string>;
}

function signed(request: { body: string; contentType: string }, extra: Record<string, string> = {}, timestamp?: number): CapturedSlackRequest {
  return { body: request.body, headers: { 'content-type': request.contentType, ...signSlackRequest(SECRET, request.body, timestamp), ...extra } };
}

async function send(url: string, r: CapturedSlackRequest): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', headers: r.headers, body: r.body });
  return { status: res.status, body: await res.text() };
}

async function sendWeCom(url: string, cb: EncryptedCallback): Promise<number> {
  const res = await fetch(`${url}?${cb.queryString}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: cb.body });
  await res.text();
  return res.status;
}

const incidentsTitled = async (db: Db, title: string) => (await db.query<{ id: string }>('SELECT id FROM incidents WHERE title = $1', [title])).map((r) => r.id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds or fails naming what it waited for. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const storeCases: Store[] = [pgliteOnDisk(), postgres()];

for (const store of storeCases) describe.skipIf(!store.enabled)(`replays and retries run once (${store.name})`, () => {
  let slack: SlackStandin;
  let wecom: WeComStandin;
  let slackOf: Map<string, string>;
  let wecomOf: Map<string, string>;
  let running: Instance | undefined;

  const slackChannelsCreated = () => slack.callsOf('conversations.create');
  const slackPostsTo = (channel: string) => slack.callsOf('chat.postMessage').filter((c) => c.body.channel === channel);
  /** Every person invited to `channel`, once per invitation (a second set of invitations shows as duplicates). */
  const invitedTo = (channel: string) =>
    slack
      .callsOf('conversations.invite')
      .filter((c) => c.body.channel === channel)
      .flatMap((c) => String(c.body.users).split(','));

  beforeAll(async () => {
    slack = await startSlackStandin({ latencyMs: 2 });
    slack.addChannel({ id: 'C0GENERAL', name: 'general' });
    slack.addChannel({ id: STATUS, name: 'incident-status' });
    wecom = await startWeComStandin({ latencyMs: 2 });
    wecom.chats.set(WECOM_STATUS, { name: '故障通报', owner: 'yangguang', userlist: ['yangguang', 'qianyu', 'zhangwei'] });
    const db = await store.open();
    slackOf = new Map((await db.query<{ id: string; slack: string }>('SELECT id, slack FROM people WHERE slack IS NOT NULL')).map((p) => [p.id, p.slack]));
    wecomOf = new Map((await db.query<{ id: string; wecom: string }>('SELECT id, wecom FROM people WHERE wecom IS NOT NULL')).map((p) => [p.id, p.wecom]));
    await db.close();
  });
  afterAll(async () => {
    await running?.stop().catch(() => {});
    await slack?.close();
    await wecom?.close();
    await store.dispose();
  });

  /** Start a Slack-connected instance for one test; it is stopped (and its incidents closed) at the end. */
  async function withInstance<T>(env: NodeJS.ProcessEnv, fn: (i: Instance) => Promise<T>): Promise<T> {
    const i = await startInstance(store, env);
    running = i;
    try {
      return await fn(i);
    } finally {
      await closeOpenIncidents(i.db).catch(() => {});
      running = undefined;
      await i.stop();
    }
  }

  it('the same signed /incident declare sent three times makes one incident, one channel, one set of invitations', async () => {
    const title = '重放一 开盘委托大量失败';
    const request = signed(slashCommandBody({ command: '/incident', text: `declare P1 集中交易 ${title}`, userId: slackOf.get('songkai')!, userName: 'songkai' }));
    await withInstance(slackEnv(slack), async (i) => {
      const created = slackChannelsCreated().length;
      const replies = slackPostsTo('C0GENERAL').length;
      const answers = [];
      for (let n = 0; n < 3; n++) answers.push(await send(i.url('/slack/events'), request));
      // Acknowledged every time, so Slack (or whoever sent it) has no reason to send it yet again.
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      await waitFor(async () => (await incidentsTitled(i.db, title)).length > 0, 'the incident');
      await waitFor(() => slackPostsTo('C0GENERAL').length > replies, 'the declaration reply');
      await i.warroom.platforms.settled();
      await sleep(300);
      await i.warroom.platforms.settled();

      expect(await incidentsTitled(i.db, title)).toHaveLength(1);
      const channels = slackChannelsCreated().slice(created);
      expect(channels).toHaveLength(1);
      const room = slack.channelByName(String(channels[0]!.body.name))!;
      const invited = invitedTo(room.id);
      expect(invited.length).toBeGreaterThan(3);
      expect(invited.length).toBe(new Set(invited).size);
      expect(slackPostsTo('C0GENERAL').length - replies).toBe(1);

      // Each drop is logged, and neither the signing secret nor the signature is in the log.
      expect(i.logs.filter((l) => l.includes('slack request replayed'))).toHaveLength(2);
      const signature = request.headers['x-slack-signature']!.replace(/^v0=/, '');
      for (const line of i.logs) {
        expect(line).not.toContain(SECRET);
        expect(line).not.toContain(signature);
      }
    });
  });

  it('a signed slash command replayed after a restart is still dropped', async () => {
    const title = '重放二 重启之后';
    const request = signed(slashCommandBody({ command: '/incident', text: `declare P2 集中交易 ${title}`, userId: slackOf.get('songkai')!, userName: 'songkai' }));
    await withInstance(slackEnv(slack), async (i) => {
      expect((await send(i.url('/slack/events'), request)).status).toBe(200);
      await waitFor(async () => (await incidentsTitled(i.db, title)).length > 0, 'the incident');
      await i.warroom.platforms.settled();
    });
    const created = slackChannelsCreated().length;
    await withInstance(slackEnv(slack), async (i) => {
      expect((await send(i.url('/slack/events'), request)).status).toBe(200);
      await sleep(300);
      await i.warroom.platforms.settled();
      expect(await incidentsTitled(i.db, title)).toHaveLength(1);
      expect(slackChannelsCreated().length).toBe(created);
    });
  });

  it("an Events API delivery retried by Slack (x-slack-retry-num, new signature, same event_id) is handled once", async () => {
    const title = '重放三 事件重试';
    const event = eventCallbackBody(appMentionEvent({ text: `<@${slack.botUserId}> incident declare P2 集中交易 ${title}`, user: slackOf.get('songkai')!, channel: 'C0GENERAL' }), { botUserId: slack.botUserId });
    const now = Math.floor(Date.now() / 1000);
    await withInstance(slackEnv(slack), async (i) => {
      const created = slackChannelsCreated().length;
      expect((await send(i.url('/slack/events'), signed(event, {}, now - 2))).status).toBe(200);
      for (const n of [1, 2]) {
        const retry = signed(event, { 'x-slack-retry-num': String(n), 'x-slack-retry-reason': 'http_timeout' }, now - 2 + n);
        expect((await send(i.url('/slack/events'), retry)).status).toBe(200);
      }
      await waitFor(async () => (await incidentsTitled(i.db, title)).length > 0, 'the incident');
      await i.warroom.platforms.settled();
      await sleep(300);
      await i.warroom.platforms.settled();
      expect(await incidentsTitled(i.db, title)).toHaveLength(1);
      expect(slackChannelsCreated().length - created).toBe(1);
    });
  });

  it('a retry of an event that never got through is handled (only work already accepted is dropped)', async () => {
    slack.addChannel({ id: 'D0SONGKAI', name: 'U0SONGKAI', members: [slackOf.get('songkai')!], isIm: true });
    const event = eventCallbackBody(imMessageEvent({ text: 'help', user: slackOf.get('songkai')!, channel: 'D0SONGKAI' }));
    await withInstance(slackEnv(slack), async (i) => {
      const before = slackPostsTo('D0SONGKAI').length;
      expect((await send(i.url('/slack/events'), signed(event, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_error' }))).status).toBe(200);
      await waitFor(() => slackPostsTo('D0SONGKAI').length > before, 'the answer');
      await i.warroom.platforms.settled();
      expect(slackPostsTo('D0SONGKAI').length - before).toBe(1);
    });
  });

  it('a forged request cannot poison the claims: the genuine request with the same timestamp and signature still runs', async () => {
    const title = '重放四 伪造在先';
    const genuine = signed(slashCommandBody({ command: '/incident', text: `declare P2 集中交易 ${title}`, userId: slackOf.get('songkai')!, userName: 'songkai' }));
    // Someone who saw the headers (not the secret) sends other bytes under them first.
    const forged: CapturedSlackRequest = { body: slashCommandBody({ command: '/incident', text: 'declare P0 集中交易 伪造', userId: slackOf.get('songkai')! }).body, headers: genuine.headers };
    await withInstance(slackEnv(slack), async (i) => {
      expect((await send(i.url('/slack/events'), forged)).status).toBe(401);
      expect((await send(i.url('/slack/events'), genuine)).status).toBe(200);
      await waitFor(async () => (await incidentsTitled(i.db, title)).length > 0, 'the genuine incident');
      await i.warroom.platforms.settled();
      expect(await incidentsTitled(i.db, '伪造')).toHaveLength(0);
      expect(await incidentsTitled(i.db, title)).toHaveLength(1);
    });
  });

  it('a request signed more than 5 minutes ahead is refused (a claim must outlive the whole replay window)', async () => {
    const request = signed(slashCommandBody({ command: '/incident', text: 'declare P2 集中交易 未来', userId: slackOf.get('songkai')! }), {}, Math.floor(Date.now() / 1000) + 6 * 60);
    await withInstance(slackEnv(slack), async (i) => {
      const r = await send(i.url('/slack/events'), request);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'slack_timestamp_ahead' });
      await sleep(200);
      expect(await incidentsTitled(i.db, '未来')).toHaveLength(0);
    });
  });

  it('a busy store does not make Slack time out a command: it is acknowledged within 3 s and runs once when the claim lands', async () => {
    const title = '重放七 存储繁忙';
    const command = signed(slashCommandBody({ command: '/incident', text: `declare P2 集中交易 ${title}`, userId: slackOf.get('songkai')!, userName: 'songkai' }));
    await withInstance(slackEnv(slack), async (i) => {
      // Another transaction holds the claims table (PGlite: anything long in its one connection).
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const holder = i.db.transaction(async (tx) => {
        await tx.query('LOCK TABLE request_claims IN EXCLUSIVE MODE');
        locked();
        await held;
      });
      await isLocked;
      const t0 = Date.now();
      let r: { status: number; body: string };
      try {
        // Slack gives up after 3 s; a request still unanswered after 5 s has failed.
        const res = await fetch(i.url('/slack/events'), { method: 'POST', headers: command.headers, body: command.body, signal: AbortSignal.timeout(5000) });
        r = { status: res.status, body: await res.text() };
      } finally {
        release();
        await holder;
      }
      expect(r.status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(3000);
      await waitFor(async () => (await incidentsTitled(i.db, title)).length > 0, 'the incident once the claim landed');
      // The same bytes again: still a replay, dropped.
      expect((await send(i.url('/slack/events'), command)).status).toBe(200);
      await sleep(300);
      await i.warroom.platforms.settled();
      expect(await incidentsTitled(i.db, title)).toHaveLength(1);
    });
  });

  it('when the claims cannot be recorded, nothing runs: a slash command is told so, a WeCom callback gets 503 so WeCom retries', async () => {
    const title = '重放六 存储不可用';
    const command = signed(slashCommandBody({ command: '/incident', text: `declare P2 集中交易 ${title}`, userId: slackOf.get('songkai')!, userName: 'songkai' }));
    const cb = encryptCallback({
      token: WECOM_SAMPLE.token,
      aesKey: WECOM_SAMPLE.aesKey,
      corpId: WECOM_SAMPLE.corpId,
      innerXml: textMessageXml({ fromUser: wecomOf.get('songkai')!, content: `/incident declare P2 集中交易 ${title}` }),
    });
    await withInstance({ ...slackEnv(slack), ...wecomEnv(wecom) }, async (i) => {
      await i.db.exec('ALTER TABLE request_claims RENAME TO request_claims_away');
      try {
        const told = () => slack.callsOf('chat.postEphemeral').filter((c) => c.body.channel === 'C0GENERAL' && /could not record this request|无法记录/.test(String(c.body.text)));
        const toldBefore = told().length;
        const r = await send(i.url('/slack/events'), command);
        expect(r.status).toBe(200);
        // Acknowledged at once; the person is told privately in the channel once the claim has failed.
        await waitFor(() => told().length > toldBefore, 'the ephemeral "could not record" message');
        expect(told().at(-1)!.body.user).toBe(slackOf.get('songkai'));
        expect(await sendWeCom(i.url('/wecom/callback'), cb)).toBe(503);
        await sleep(300);
        await i.warroom.platforms.settled();
        expect(await incidentsTitled(i.db, title)).toHaveLength(0);
      } finally {
        await i.db.exec('ALTER TABLE request_claims_away RENAME TO request_claims');
      }
      // Once the store is back, WeCom's retry of the same callback goes through, once.
      expect(await sendWeCom(i.url('/wecom/callback'), cb)).toBe(200);
      await waitFor(async () => (await incidentsTitled(i.db, title)).length > 0, 'the incident after the retry');
      await i.warroom.platforms.settled();
      expect(await incidentsTitled(i.db, title)).toHaveLength(1);
    });
  });

  it('a WeCom callback replayed after a restart (a new instance over the same database) makes no second incident or group chat', async () => {
    const title = '重放五 企业微信';
    const cb = encryptCallback({
      token: WECOM_SAMPLE.token,
      aesKey: WECOM_SAMPLE.aesKey,
      corpId: WECOM_SAMPLE.corpId,
      innerXml: textMessageXml({ fromUser: wecomOf.get('songkai')!, content: `/incident declare P1 集中交易 ${title}` }),
    });
    const chatsBefore = wecom.bodiesOf('appchat/create').length;
    await withInstance(wecomEnv(wecom), async (i) => {
      expect(await sendWeCom(i.url('/wecom/callback'), cb)).toBe(200);
      await waitFor(() => wecom.bodiesOf('appchat/create').length > chatsBefore, 'the group chat');
      await i.warroom.platforms.settled();
    });
    expect(wecom.bodiesOf('appchat/create').length - chatsBefore).toBe(1);
    await withInstance(wecomEnv(wecom), async (i) => {
      expect(await sendWeCom(i.url('/wecom/callback'), cb)).toBe(200);
      await sleep(300);
      await i.warroom.platforms.settled();
      expect(await incidentsTitled(i.db, title)).toHaveLength(1);
    });
    expect(wecom.bodiesOf('appchat/create').length - chatsBefore).toBe(1);
  });
});

describe.skipIf(!runPostgres)('two Warroom processes on one PostgreSQL share the claims', () => {
  const store = postgres();
  let slack: SlackStandin;
  let wecom: WeComStandin;
  let a: Instance | undefined;
  let b: Instance | undefined;

  beforeAll(async () => {
    slack = await startSlackStandin({ latencyMs: 2 });
    slack.addChannel({ id: 'C0GENERAL', name: 'general' });
    slack.addChannel({ id: STATUS, name: 'incident-status' });
    wecom = await startWeComStandin({ latencyMs: 2 });
    wecom.chats.set(WECOM_STATUS, { name: '故障通报', owner: 'yangguang', userlist: ['yangguang', 'qianyu', 'zhangwei'] });
  });
  afterAll(async () => {
    await a?.stop().catch(() => {});
    await b?.stop().catch(() => {});
    await slack?.close();
    await wecom?.close();
    await store.dispose();
  });

  it('the same signed slash command sent to both at once: one incident, one channel', async () => {
    a = await startInstance(store, slackEnv(slack));
    b = await startInstance(store, slackEnv(slack));
    const [songkai] = await a.db.query<{ slack: string }>("SELECT slack FROM people WHERE id = 'songkai'");
    const title = '共享一 两个进程';
    const request = signed(slashCommandBody({ command: '/incident', text: `declare P1 集中交易 ${title}`, userId: songkai!.slack, userName: 'songkai' }));
    const created = slack.callsOf('conversations.create').length;
    const answers = await Promise.all([send(a.url('/slack/events'), request), send(b.url('/slack/events'), request), send(a.url('/slack/events'), request), send(b.url('/slack/events'), request)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await waitFor(async () => (await incidentsTitled(a!.db, title)).length > 0, 'the incident');
    await Promise.all([a.warroom.platforms.settled(), b.warroom.platforms.settled()]);
    await sleep(300);
    await Promise.all([a.warroom.platforms.settled(), b.warroom.platforms.settled()]);
    expect(await incidentsTitled(b.db, title)).toHaveLength(1);
    expect(slack.callsOf('conversations.create').length - created).toBe(1);
    await closeOpenIncidents(a.db);
    await a.stop();
    await b.stop();
    a = b = undefined;
  });

  it('a WeCom callback delivered to one process and replayed to the other: one group chat', async () => {
    a = await startInstance(store, wecomEnv(wecom));
    b = await startInstance(store, wecomEnv(wecom));
    const [songkai] = await a.db.query<{ wecom: string }>("SELECT wecom FROM people WHERE id = 'songkai'");
    const title = '共享二 企业微信';
    const cb = encryptCallback({
      token: WECOM_SAMPLE.token,
      aesKey: WECOM_SAMPLE.aesKey,
      corpId: WECOM_SAMPLE.corpId,
      innerXml: textMessageXml({ fromUser: songkai!.wecom, content: `/incident declare P1 集中交易 ${title}` }),
    });
    const chatsBefore = wecom.bodiesOf('appchat/create').length;
    const statuses = await Promise.all([sendWeCom(a.url('/wecom/callback'), cb), sendWeCom(b.url('/wecom/callback'), cb)]);
    expect(statuses).toEqual([200, 200]);
    await waitFor(() => wecom.bodiesOf('appchat/create').length > chatsBefore, 'the group chat');
    await Promise.all([a.warroom.platforms.settled(), b.warroom.platforms.settled()]);
    expect(await sendWeCom(b.url('/wecom/callback'), cb)).toBe(200);
    await sleep(300);
    await Promise.all([a.warroom.platforms.settled(), b.warroom.platforms.settled()]);
    expect(await incidentsTitled(a.db, title)).toHaveLength(1);
    expect(wecom.bodiesOf('appchat/create').length - chatsBefore).toBe(1);
    await closeOpenIncidents(a.db);
    await a.stop();
    await b.stop();
    a = b = undefined;
  });
});
