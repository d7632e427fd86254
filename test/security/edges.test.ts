import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import type { ChatEvent } from '../../bot/platforms/platform.js';
import { changeSeverity } from '../../bot/incidents/flows.js';
import { createBot } from '../../bot/bot.js';
import type { Db } from '../../db/db.js';
import { ToolRegistry } from '../../tools/registry.js';
import { toolContext, type App } from '../../tools/services.js';
import { defineTool } from '../../tools/tool.js';
import { createDemoApp, say } from '../helpers/app.js';
import { createTestPglite, drivers } from '../helpers/db.js';
import { signIn } from '../helpers/web-session.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';
import { postSigned, slashCommandBody, startSlackStandin, type SlackStandin } from '../helpers/slack-standin.js';
import { encryptCallback, startWeComStandin, WECOM_SAMPLE, type WeComStandin } from '../helpers/wecom-standin.js';

/**
 * Finding 6 of issue 11, "input that breaks things": NUL characters and lone surrogates, a 100 KB
 * title, markup injected into WeCom markdown and Slack mrkdwn, an internal XML entity inside an
 * encrypted WeCom callback, and a broken audit store. Each is tried the way an outsider or a
 * careless colleague would, and the test asserts what they would observe and that nothing was
 * stored or run.
 */

type Json = Record<string, unknown> & { error?: string; message?: string; field?: string };
const SLACK_SECRET = 'edges-signing-secret-0123456789abcdef';
const SLACK_STATUS = 'C0STATUS01';
const WECOM_STATUS = 'wrstatuschat01';
const ZWSP = /\u200b/g;

const count = async (db: Db, table: string, where = 'TRUE', params: unknown[] = []) =>
  (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params))[0]!.n;

for (const driver of drivers) describe.skipIf(!driver.enabled)(`JSON entry points refuse NUL and lone surrogates (${driver.name})`, () => {
  let db: Db;
  let close: () => Promise<void>;
  let warroom: RunningWarroom;
  let base: string;
  /** The web chat session of songkai (signed in through the link, as a browser is). */
  let cookie = '';
  /** Raw JSON text, so escapes such as \u0000 and \ud800 reach the server exactly as an attacker writes them. */
  const post = async (path: string, rawJson: string): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, ...(path.startsWith('/chat/') ? { cookie } : {}) }, body: rawJson });
    const text = await res.text();
    let body: Json = {};
    try {
      body = JSON.parse(text) as Json;
    } catch {
      body = { raw: text };
    }
    return { status: res.status, body };
  };

  beforeAll(async () => {
    ({ db, close } = await driver.open());
    const app = await createDemoApp(db, { runbooks: false, env: { WARROOM_WEB_CHAT: 'on' } });
    warroom = await startWarroom(app, { port: 0, timers: false });
    base = `http://127.0.0.1:${warroom.port}`;
    cookie = (await signIn(base, () => warroom.signInLink!('songkai'))).cookie;
  });
  afterAll(async () => {
    await warroom?.close();
    await close?.();
  });

  it('web chat send: NUL in the text is a 400 naming "text", and no message is stored', async () => {
    const [before, incidents] = [await count(db, 'local_messages'), await count(db, 'incidents')];
    const r = await post('/chat/api/send', '{"room":"dm-songkai","text":"/incident declare P1 jzjy a\\u0000b"}');
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_characters');
    expect(r.body.field).toBe('text');
    expect(r.body.message).toMatch(/"text" contains a NUL character \(U\+0000\)/);
    await warroom.platforms.settled();
    expect(await count(db, 'local_messages')).toBe(before);
    expect(await count(db, 'incidents')).toBe(incidents);
  });

  it('web chat send: a lone surrogate is a 400 naming "text", and no message is stored', async () => {
    const before = await count(db, 'local_messages');
    const r = await post('/chat/api/send', '{"room":"dm-songkai","text":"who is on call for jzjy \\ud800?"}');
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('text');
    expect(r.body.message).toMatch(/lone surrogate \(U\+D800\)/);
    await warroom.platforms.settled();
    expect(await count(db, 'local_messages')).toBe(before);
  });

  it('/api/changes: NUL and a lone surrogate are 400s naming the field; nothing from the body is stored', async () => {
    const change = (id: string, title: string) => `{"id":"${id}","title":"${title}","system":"jzjy","risk":"high","plannedStart":"2026-11-20T16:30:00+08:00"}`;
    const before = await count(db, 'changes');
    const nul = await post('/api/changes', `[${change('CAB-EDGE-1', 'ok')},${change('CAB-EDGE-2', 'bad\\u0000title')}]`);
    expect(nul.status).toBe(400);
    expect(nul.body.field).toBe('[1].title');
    expect(nul.body.message).toContain('"[1].title" contains a NUL character');
    const lone = await post('/api/changes', `{"changes":[${change('CAB-EDGE-3', 'half \\udc00 pair')}]}`);
    expect(lone.status).toBe(400);
    expect(lone.body.field).toBe('changes[0].title');
    expect(lone.body.message).toMatch(/lone surrogate/);
    // A key can carry one too (it would end up in a jsonb column).
    const key = await post('/api/changes', `[{"id":"CAB-EDGE-4","title":"t","system":"jzjy","x\\u0000":1}]`);
    expect(key.status).toBe(400);
    expect(key.body.message).toMatch(/a key of "\[0\]" contains a NUL/i);
    expect(await count(db, 'changes')).toBe(before);
    expect(await count(db, 'changes', "id LIKE 'CAB-EDGE-%'")).toBe(0);
  });

  it('/api/alerts: NUL in a label and a lone surrogate in a title are 400s naming the field; no alert, no incident', async () => {
    const [before, incidents] = [await count(db, 'alerts'), await count(db, 'incidents')];
    const nul = await post('/api/alerts', '[{"system":"jzjy","severity":"critical","title":"orders failing","labels":{"host":"trd\\u0000-01"}}]');
    expect(nul.status).toBe(400);
    expect(nul.body.field).toBe('[0].labels.host');
    const lone = await post('/api/alerts', '{"system":"jzjy","severity":"critical","title":"orders \\ud83d failing"}');
    expect(lone.status).toBe(400);
    expect(lone.body.field).toBe('title');
    expect(lone.body.message).toMatch(/"title" contains a lone surrogate \(U\+D83D\)/);
    expect(await count(db, 'alerts')).toBe(before);
    expect(await count(db, 'incidents')).toBe(incidents);
  });

  it('other control characters (ESC, DEL, C1) are refused the same way; tabs and line breaks are not', async () => {
    for (const ch of ['\\u001b', '\\u007f', '\\u0085']) {
      const r = await post('/api/alerts', `{"system":"jzjy","severity":"info","title":"x${ch}y"}`);
      expect(r.status, ch).toBe(400);
      expect(r.body.message, ch).toMatch(/control character/);
    }
    const ok = await post('/api/alerts', '{"system":"jzjy","severity":"info","title":"line one\\tand\\r\\nline two 😀"}');
    expect(ok.status).toBe(202);
  });
});

describe('chat platforms: invalid characters, length caps, markup injection, XML entities', () => {
  let db: Db;
  let app: App;
  let slack: SlackStandin;
  let wecom: WeComStandin;
  let warroom: RunningWarroom;
  let base: string;
  const slackOf = new Map<string, string>();
  const wecomOf = new Map<string, string>();
  /** Every event the platforms handed to the bot. */
  const received: ChatEvent[] = [];

  const slashCommand = (text: string, person = 'songkai') =>
    postSigned(`${base}/slack/events`, SLACK_SECRET, slashCommandBody({ command: '/incident', text, userId: slackOf.get(person)!, userName: person, channelId: 'C0GENERAL', channelName: 'general' }));
  const wecomCallback = async (innerXml: string) => {
    const cb = encryptCallback({ token: WECOM_SAMPLE.token, aesKey: WECOM_SAMPLE.aesKey, corpId: WECOM_SAMPLE.corpId, innerXml });
    const res = await fetch(`${base}/wecom/callback?${cb.queryString}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: cb.body });
    return { status: res.status, text: await res.text() };
  };
  const cdata = (s: string) => `<![CDATA[${s}]]>`;
  const wecomText = (from: string, content: string, raw = false) =>
    `<xml><ToUserName>${cdata(WECOM_SAMPLE.corpId)}</ToUserName><FromUserName>${cdata(from)}</FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType>${cdata('text')}</MsgType><Content>${raw ? content : cdata(content)}</Content><MsgId>${Date.now()}${Math.floor(Math.random() * 1e6)}</MsgId><AgentID>1000002</AgentID></xml>`;
  const ephemeralsTo = (person: string) => [...slack.channels.values()].flatMap((c) => c.ephemerals).filter((e) => e.user === slackOf.get(person));
  const wecomTo = (person: string) => wecom.bodiesOf('message/send').filter((b) => b.touser === wecomOf.get(person));

  beforeAll(async () => {
    slack = await startSlackStandin({ latencyMs: 2 });
    slack.addChannel({ id: 'C0GENERAL', name: 'general' });
    slack.addChannel({ id: SLACK_STATUS, name: 'incident-status' });
    wecom = await startWeComStandin({ latencyMs: 2 });
    wecom.chats.set(WECOM_STATUS, { name: '故障通报', owner: 'yangguang', userlist: ['yangguang', 'qianyu', 'zhangwei'] });
    db = await createTestPglite();
    app = await createDemoApp(db, {
      runbooks: false,
      env: {
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: SLACK_SECRET,
        SLACK_API_URL: slack.url,
        SLACK_STATUS_CHANNEL: SLACK_STATUS,
        WECOM_CORP_ID: WECOM_SAMPLE.corpId,
        WECOM_AGENT_ID: '1000002',
        WECOM_SECRET: wecom.secret,
        WECOM_TOKEN: WECOM_SAMPLE.token,
        WECOM_AES_KEY: WECOM_SAMPLE.aesKey,
        WECOM_API_URL: wecom.url,
        WECOM_STATUS_CHAT: WECOM_STATUS,
      },
    });
    for (const p of await db.query<{ id: string; slack: string | null; wecom: string | null }>('SELECT id, slack, wecom FROM people')) {
      if (p.slack) slackOf.set(p.id, p.slack);
      if (p.wecom) wecomOf.set(p.id, p.wecom);
    }
    warroom = await startWarroom(app, { port: 0, timers: false });
    base = `http://127.0.0.1:${warroom.port}`;
    const real = warroom.bot.handle.bind(warroom.bot);
    warroom.bot.handle = async (event) => {
      received.push(event);
      return real(event);
    };
  });
  afterAll(async () => {
    await warroom?.close();
    await slack?.close();
    await wecom?.close();
    await db?.close();
  });
  afterEach(async () => closeOpenIncidents(db));

  it('a signed Slack declaration with a NUL gets a clear reply; no incident, no channel, no audit row', async () => {
    const [incidents, created, audits, ephemerals] = [await count(db, 'incidents'), slack.callsOf('conversations.create').length, await count(db, 'audit_log'), ephemeralsTo('songkai').length];
    const r = await slashCommand('declare P1 集中交易 开盘委托\u0000大量失败');
    expect(r.status).toBe(200);
    await slack.waitFor(() => ephemeralsTo('songkai').length > ephemerals, 'the reply to the declaration');
    await warroom.platforms.settled();
    const reply = ephemeralsTo('songkai').slice(ephemerals).map((e) => e.text).join('\n');
    expect(reply).toContain('NUL');
    expect(reply).toContain('U+0000');
    expect(await count(db, 'incidents')).toBe(incidents);
    expect(slack.callsOf('conversations.create').length).toBe(created);
    expect(await count(db, 'audit_log')).toBe(audits);
  });

  it('a 100 KB incident title is refused with the cap in the reply, and not stored', async () => {
    const incidents = await count(db, 'incidents');
    const ephemerals = ephemeralsTo('songkai').length;
    const r = await slashCommand(`declare P1 集中交易 ${'开盘委托大量失败'.repeat(12_800)}`); // 102 400 characters
    expect(r.status).toBe(200);
    await slack.waitFor(() => ephemeralsTo('songkai').length > ephemerals, 'the refusal');
    await warroom.platforms.settled();
    const reply = ephemeralsTo('songkai').slice(ephemerals).map((e) => e.text).join('\n');
    expect(reply).toContain('故障标题太长');
    expect(reply).toContain('上限 200');
    expect(await count(db, 'incidents')).toBe(incidents);
    expect(await count(db, 'incidents', 'length(title) > 200')).toBe(0);
    // A long note is refused the same way, with its own cap.
    const { id } = await declareForTest(warroom.bot, { platform: 'slack' });
    const timeline = await count(db, 'incident_timeline', 'incident_id = $1', [id]);
    const before = ephemeralsTo('songkai').length;
    await slashCommand(`note ${id} ${'x'.repeat(2001)}`);
    await slack.waitFor(() => ephemeralsTo('songkai').length > before, 'the note refusal');
    expect(ephemeralsTo('songkai').slice(before).map((e) => e.text).join('\n')).toContain('2001 characters; the limit is 2000');
    expect(await count(db, 'incident_timeline', 'incident_id = $1', [id])).toBe(timeline);
  });

  it('Slack: <!channel>, <!here> and a disguised link in a title are shown literally, not as mentions or links', async () => {
    const calls = slack.calls.length;
    // Slack delivers a typed "<" as "&lt;", and an @channel the user typed as "<!channel>".
    const r = await slashCommand('declare P1 集中交易 <!channel> &lt;!here&gt; <http://evil.example|点这里> 失败');
    expect(r.status).toBe(200);
    await slack.waitFor(() => slack.calls.slice(calls).some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.body).includes('点这里') && String(c.body.channel) !== 'C0GENERAL'), 'the card');
    await warroom.platforms.settled();
    const posted = slack.calls.slice(calls).filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update');
    expect(posted.length).toBeGreaterThan(1);
    // What Slack parses as mrkdwn: the notification text and every mrkdwn text object (plain_text, e.g. a header, is never parsed).
    const mrkdwn: string[] = [];
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (o.type === 'mrkdwn' && typeof o.text === 'string') mrkdwn.push(o.text);
        Object.values(o).forEach(collect);
      }
    };
    for (const c of posted) {
      mrkdwn.push(String(c.body.text ?? ''));
      collect(c.body.blocks);
    }
    const rendered = mrkdwn.join('\n');
    expect(rendered).not.toContain('<!channel>');
    expect(rendered).not.toContain('<!here>');
    expect(rendered).not.toContain('<http://evil.example');
    // Shown as typed: escaped once (what Slack displays as "<!here>"), never twice ("&amp;lt;").
    expect(rendered).toContain('&lt;!channel&gt;');
    expect(rendered).toContain('&lt;!here&gt;');
    expect(rendered).toContain('&lt;http://evil.example|点这里&gt;');
    expect(rendered).not.toContain('&amp;lt;');
    const title = (await db.query<{ title: string }>("SELECT title FROM incidents WHERE title LIKE '%evil.example%'"))[0]!.title;
    expect(title).toBe('<!channel> <!here> <http://evil.example|点这里> 失败');
  });

  it('WeCom: <@all>, a [link](url) and <font> tags in a title reach the group as text, not markup', async () => {
    const before = { chat: wecom.bodiesOf('appchat/send').length, direct: wecom.bodiesOf('message/send').length };
    const title = '<@all> [点击查看](http://evil.example) <font color="warning">紧急</font> # 标题';
    expect((await wecomCallback(wecomText(wecomOf.get('songkai')!, `/incident declare P1 集中交易 ${title}`))).status).toBe(200);
    const sent = () => [...wecom.bodiesOf('appchat/send').slice(before.chat), ...wecom.bodiesOf('message/send').slice(before.direct)];
    const until = Date.now() + 10_000;
    while (!sent().some((b) => JSON.stringify(b).includes('点击查看') && b.chatid !== undefined && b.chatid !== WECOM_STATUS) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await warroom.platforms.settled();
    const markdown = sent()
      .filter((b) => b.msgtype === 'markdown')
      .map((b) => (b.markdown as { content: string }).content);
    const withTitle = markdown.filter((c) => c.includes('点击查看'));
    expect(withTitle.length).toBeGreaterThanOrEqual(2); // the card in the group, the announcement, the reply
    for (const content of withTitle) {
      expect(content).not.toContain('<@all>');
      expect(content).not.toContain('[点击查看](http://evil.example)');
      expect(content).not.toContain('<font color="warning">紧急');
      expect(content).not.toMatch(/^#/m);
      // What people read is what was typed.
      expect(content.replace(ZWSP, '')).toContain(title);
    }
    // Warroom's own markup still works around it.
    expect(withTitle.join('\n')).toMatch(/^\*\*INC-\d{8}-\d{3} · P1 · 集中交易 — <\u200b@all>/m);
  });

  it('WeCom: a DOCTYPE with an internal entity in an encrypted callback is refused, nothing is expanded or handled', async () => {
    const from = wecomOf.get('songkai')!;
    const handled = received.length;
    const replies = wecomTo('songkai').length;
    const incidents = await count(db, 'incidents');
    const xml = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY boom "/incident declare P0 集中交易 ENTITY-EXPANDED">]>${wecomText(from, '&boom;', true)}`;
    const r = await wecomCallback(xml);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/DOCTYPE/);
    await new Promise((res) => setTimeout(res, 200));
    await warroom.platforms.settled();
    expect(received.slice(handled)).toEqual([]);
    expect(JSON.stringify(wecomTo('songkai').slice(replies))).not.toContain('ENTITY-EXPANDED');
    expect(await count(db, 'incidents')).toBe(incidents);
    expect(await count(db, 'incidents', "title LIKE '%ENTITY-EXPANDED%'")).toBe(0);
  });

  it('WeCom: XML escapes outside CDATA are decoded, an undeclared entity stays as written', async () => {
    const handled = received.length;
    expect((await wecomCallback(wecomText(wecomOf.get('songkai')!, 'who is on call &amp; &lt;jzjy&gt; &boom;', true))).status).toBe(200);
    await warroom.platforms.settled();
    const got = received.slice(handled).map((e) => ('text' in e ? e.text : ''));
    expect(got).toEqual(['who is on call & <jzjy> &boom;']);
  });

  it('WeCom: a NUL from a character reference gets a clear reply and is not handled further', async () => {
    const replies = wecomTo('songkai').length;
    const incidents = await count(db, 'incidents');
    expect((await wecomCallback(wecomText(wecomOf.get('songkai')!, '/incident declare P1 集中交易 a&#0;b', true))).status).toBe(200);
    await warroom.platforms.settled();
    const reply = JSON.stringify(wecomTo('songkai').slice(replies));
    expect(reply).toContain('NUL');
    expect(await count(db, 'incidents')).toBe(incidents);
  });
});

describe('a broken audit store', () => {
  let db: Db;
  let app: App;
  let runs = 0;
  const registry = new ToolRegistry();
  registry.register(
    defineTool({
      name: 'restart_service',
      description: 'restart a service',
      risk: 'write',
      input: z.object({ host: z.string() }),
      output: z.object({ ok: z.boolean() }),
      async run() {
        runs++;
        return { data: { ok: true }, summary: 'restarted' };
      },
    }),
  );

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db, { runbooks: false });
    // The database itself refuses audit rows (as a full disk, a lock or a revoked grant would).
    await db.query(`CREATE FUNCTION edges_audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit store unavailable'; END $$`);
  });
  afterAll(async () => db?.close());
  const breakAudit = () => db.query('CREATE TRIGGER edges_audit_down BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION edges_audit_down()');
  const mendAudit = () => db.query('DROP TRIGGER IF EXISTS edges_audit_down ON audit_log');
  afterEach(mendAudit);

  it('an approved write tool call does not run, and the caller is told why', async () => {
    await breakAudit();
    runs = 0;
    const r = await registry.invoke('restart_service', { host: 'trd-app-01' }, toolContext(app, 'xieping', { approvedActionId: 'ACT-EDGE-1' }));
    expect(runs).toBe(0);
    expect(r.status).toBe('error');
    expect(r.error).toBe('audit_unavailable');
    expect(r.summary).toMatch(/was not run: the audit log could not be written/);
    await mendAudit();
    const ok = await registry.invoke('restart_service', { host: 'trd-app-01' }, toolContext(app, 'xieping', { approvedActionId: 'ACT-EDGE-2' }));
    expect(ok.status).toBe('success');
    expect(runs).toBe(1);
    expect(ok.notRecorded).toBeUndefined();
  });

  it('a read answers, and says it was not recorded', async () => {
    await breakAudit();
    const zh = await say(app, '值班 集中交易', 'songkai');
    expect(zh.text).toContain('谢平'); // the answer is there
    expect(zh.text).toContain('未记录');
    const en = await say(app, 'systems', 'songkai');
    expect(en.text).toContain('jzjy');
    expect(en.text).toContain('Not recorded');
    await mendAudit();
    expect((await say(app, 'systems', 'songkai')).text).not.toContain('Not recorded');
  });

  it('a declaration whose audit row cannot be written leaves no incident behind', async () => {
    const bot = createBot(app);
    const incidents = await count(db, 'incidents');
    await breakAudit();
    await expect(declareForTest(bot, { actor: 'xieping', title: '审计失败时的申报' })).rejects.toThrow(/audit store unavailable/);
    expect(await count(db, 'incidents')).toBe(incidents);
    expect(await count(db, 'incident_timeline', "text LIKE '%审计失败时的申报%'")).toBe(0);
  });

  it('a severity change does not happen when its audit row cannot be written', async () => {
    const bot = createBot(app);
    const { id } = await declareForTest(bot, { actor: 'xieping' });
    await breakAudit();
    await expect(changeSeverity(bot, id, { id: 'xieping', lang: 'en' }, 'P3')).rejects.toThrow(/audit store unavailable/);
    expect((await db.query<{ severity: string }>('SELECT severity FROM incidents WHERE id = $1', [id]))[0]!.severity).toBe('P1');
  });
});
