import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../app/create-app.js';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { loadDemo } from '../../db/demo.js';
import type { App } from '../../tools/services.js';
import { DEMO_NOW } from '../helpers/app.js';
import { drivers } from '../helpers/db.js';
import { postSigned, signSlackRequest, slashCommandBody, startSlackStandin, type SlackStandin } from '../helpers/slack-standin.js';
import { encryptCallback, startWeComStandin, textMessageXml, WECOM_SAMPLE, type WeComStandin } from '../helpers/wecom-standin.js';

/**
 * The attacks that already failed when Warroom was attacked as an outsider, tried again on every run
 * against a whole Warroom (Slack and WeCom connected, webhooks on): forged and stale signatures,
 * oversized bodies, SQL text in commands and webhooks, path tricks. Each asserts the refusal AND that
 * nothing was stored or run: no incident, no room, no message sent, tables intact, no secret in the log.
 */

const SLACK_SECRET = 'holds-slack-signing-secret-5b1e0c9d';
const INGEST_TOKEN = 'holds-ingest-token-8f2a6c4e1d0b';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(drivers.filter((d) => d.enabled))('attacks that must keep failing ($name)', (driver) => {
  let close: () => Promise<void>;
  let app: App;
  let slack: SlackStandin;
  let wecom: WeComStandin;
  let warroom: RunningWarroom;
  let base: string;
  const logLines: string[] = [];
  let slackOfSongkai = '';
  let wecomOfSongkai = '';

  const count = async (table: string): Promise<number> => Number((await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n);
  /** What an attack could have left behind. */
  const footprint = async () => ({
    incidents: await count('incidents'),
    alerts: await count('alerts'),
    changes: await count('changes'),
    slackCalls: slack.calls.length,
    wecomCalls: wecom.calls.length,
  });
  /** Run an attack; it must get `status`, and leave nothing behind once a listener would have run. */
  async function refused(attack: () => Promise<{ status: number; text?: string }>, status: number): Promise<string> {
    const before = await footprint();
    const r = await attack();
    expect(r.status).toBe(status);
    await sleep(300);
    expect(await footprint()).toEqual(before);
    return r.text ?? '';
  }

  beforeAll(async () => {
    const opened = await driver.open();
    close = opened.close;
    slack = await startSlackStandin({ latencyMs: 1 });
    slack.addChannel({ id: 'C0GENERAL', name: 'general' });
    wecom = await startWeComStandin({ latencyMs: 1 });
    const config = loadConfig({
      WARROOM_HOME: '/nonexistent',
      LOG_LEVEL: 'debug',
      WARROOM_INGEST_TOKEN: INGEST_TOKEN,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_API_URL: slack.url,
      WECOM_CORP_ID: WECOM_SAMPLE.corpId,
      WECOM_AGENT_ID: '1000002',
      WECOM_SECRET: wecom.secret,
      WECOM_TOKEN: WECOM_SAMPLE.token,
      WECOM_AES_KEY: WECOM_SAMPLE.aesKey,
      WECOM_API_URL: wecom.url,
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    app = await createApp(config, { db: opened.db, logger: createLogger('debug', sink), clock: () => DEMO_NOW });
    await loadDemo(app.db, app.calendar, { shift: false });
    slackOfSongkai = (await app.db.query<{ slack: string }>("SELECT slack FROM people WHERE id = 'songkai'"))[0]!.slack;
    wecomOfSongkai = (await app.db.query<{ wecom: string }>("SELECT wecom FROM people WHERE id = 'songkai'"))[0]!.wecom;
    warroom = await startWarroom(app, { port: 0, timers: false });
    base = `http://127.0.0.1:${warroom.port}`;
  });
  afterAll(async () => {
    await warroom?.close();
    await slack?.close();
    await wecom?.close();
    await close?.();
  });

  const declare = (text = 'declare P1 集中交易 开盘委托大量失败') =>
    slashCommandBody({ command: '/incident', text, userId: slackOfSongkai, userName: 'songkai', channelId: 'C0GENERAL', channelName: 'general' });

  describe('Slack: only requests Slack signed, recently, over these exact bytes', () => {
    it('a declaration signed with another secret is refused, nothing declared', async () => {
      const cmd = declare();
      await refused(() => postSigned(`${base}/slack/events`, SLACK_SECRET, cmd, signSlackRequest('guessed-secret', cmd.body)), 401);
    });
    it('a correctly signed declaration 6 minutes old is refused', async () => {
      const cmd = declare();
      await refused(() => postSigned(`${base}/slack/events`, SLACK_SECRET, cmd, signSlackRequest(SLACK_SECRET, cmd.body, Math.floor(Date.now() / 1000) - 360)), 401);
    });
    it('a signature over a harmless command does not carry a declaration', async () => {
      const harmless = slashCommandBody({ command: '/warroom', text: 'help', userId: slackOfSongkai, channelId: 'C0GENERAL' });
      await refused(() => postSigned(`${base}/slack/events`, SLACK_SECRET, declare(), signSlackRequest(SLACK_SECRET, harmless.body)), 401);
    });
    it('a body far over the limit is refused with 413 before anything reads it', async () => {
      const huge = { body: `token=x&text=${'a'.repeat(6 * 1024 * 1024)}`, contentType: 'application/x-www-form-urlencoded' };
      await refused(() => postSigned(`${base}/slack/events`, SLACK_SECRET, huge), 413);
    });
  });

  describe('WeCom: only callbacks WeCom signed and encrypted, recently', () => {
    const callback = (timestamp?: number) =>
      encryptCallback({
        token: WECOM_SAMPLE.token,
        aesKey: WECOM_SAMPLE.aesKey,
        corpId: WECOM_SAMPLE.corpId,
        innerXml: textMessageXml({ fromUser: wecomOfSongkai, content: '/incident declare P1 集中交易 开盘委托大量失败' }),
        ...(timestamp !== undefined ? { timestamp } : {}),
      });
    const post = async (queryString: string, body: string) => {
      const res = await fetch(`${base}/wecom/callback?${queryString}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      return { status: res.status, text: await res.text() };
    };

    it('a forged msg_signature is refused, nothing declared', async () => {
      const cb = callback();
      const q = new URLSearchParams(cb.queryString);
      const sig = q.get('msg_signature')!;
      q.set('msg_signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
      await refused(() => post(q.toString(), cb.body), 401);
    });
    it('a correctly signed callback 10 minutes old is refused', async () => {
      const cb = callback(Math.floor(Date.now() / 1000) - 600);
      await refused(() => post(cb.queryString, cb.body), 401);
    });
    it('an encrypted payload from another corp id is not obeyed', async () => {
      const cb = encryptCallback({
        token: WECOM_SAMPLE.token,
        aesKey: WECOM_SAMPLE.aesKey,
        corpId: 'wwotherCorp0000000',
        innerXml: textMessageXml({ fromUser: wecomOfSongkai, content: '/incident declare P1 集中交易 x', corpId: 'wwotherCorp0000000' }),
      });
      const before = await footprint();
      const r = await post(cb.queryString, cb.body);
      expect(r.status).toBeGreaterThanOrEqual(400);
      await sleep(300);
      expect((await footprint()).incidents).toBe(before.incidents);
    });
  });

  describe('webhooks: the token, and SQL text as data', () => {
    const change = (id: string, title: string) => ({
      id,
      system: 'jzjy',
      title,
      risk: 'low',
      status: 'completed',
      executor: 'songkai',
      plannedStart: '2026-11-20T18:00:00+08:00',
      plannedEnd: '2026-11-20T19:00:00+08:00',
    });
    const postChange = async (body: unknown, token: string | undefined) => {
      const res = await fetch(`${base}/api/changes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };

    it('without the token or with a wrong one: 401, nothing stored', async () => {
      await refused(() => postChange(change('CAB-20261120-901', 'x'), undefined), 401);
      await refused(() => postChange(change('CAB-20261120-902', 'x'), `${INGEST_TOKEN}x`), 401);
    });

    it('SQL in a change title is stored as text; every table is still there', async () => {
      const title = "x'); DROP TABLE changes; -- ' OR 1=1";
      const before = await count('changes');
      const r = await postChange(change('CAB-20261120-903', title), INGEST_TOKEN);
      expect(r.status).toBeLessThan(300);
      expect(await count('changes')).toBe(before + 1);
      const stored = await app.db.query<{ title: string }>("SELECT title FROM changes WHERE id = 'CAB-20261120-903'");
      expect(stored[0]?.title).toBe(title);
      // The statement in the title did not run: the table it names still answers.
      expect(await count('changes')).toBe(before + 1);
    });

    it('SQL in a signed Slack command is a title, not a statement', async () => {
      const incidents = await count('incidents');
      const title = "'; DROP TABLE incidents; --";
      const r = await postSigned(`${base}/slack/events`, SLACK_SECRET, declare(`declare P2 集中交易 ${title}`));
      expect(r.status).toBe(200);
      await slack.waitFor(() => slack.channels.get('C0GENERAL')!.messages.some((m) => /INC-\d{8}-\d{3}/.test(m.text)), 'the declaration reply', 15_000);
      expect(await count('incidents')).toBe(incidents + 1);
      const row = await app.db.query<{ title: string }>('SELECT title FROM incidents ORDER BY opened_at DESC, id DESC LIMIT 1');
      expect(row[0]!.title).toBe(title);
    });
  });

  describe('paths and methods', () => {
    it('path tricks reach no file', async () => {
      for (const path of ['/chat/../package.json', '/chat/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/etc/passwd', '/chat/app.js/../../.env']) {
        const res = await fetch(`${base}${path}`);
        expect(res.status, path).toBe(404);
        const text = await res.text();
        expect(text).not.toContain('"dependencies"');
        expect(text).not.toContain('root:');
      }
    });
    it('an unknown method on a webhook is a 405 naming the allowed one', async () => {
      const res = await fetch(`${base}/api/changes`, { method: 'DELETE', headers: { authorization: `Bearer ${INGEST_TOKEN}` } });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    });
  });

  it('no secret reached the log, whatever was tried above', () => {
    const log = logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    for (const secret of [SLACK_SECRET, INGEST_TOKEN, slack.token, wecom.secret, WECOM_SAMPLE.aesKey]) expect(log).not.toContain(secret);
  });
});
