import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../helpers/process.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { parsePublicHosts, sameOrigin, servedHosts } from '../../core/hosts.js';
import { packageRoot } from '../../core/paths.js';
import type { App } from '../../tools/services.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { drivers } from '../helpers/db.js';
import { openSignInLink, signIn } from '../helpers/web-session.js';

/**
 * Finding 1 of issue 11, as an attacker tries it against a running Warroom (the web chat and the
 * webhooks on one real HTTP server, over PGlite and real PostgreSQL): a page elsewhere posting
 * `no-cors` text bodies, a body claiming to be someone, one person reading another's DM, DNS
 * rebinding, a sign-in link used twice or late, and a server started on every interface.
 */

/** A raw request with any Host header (fetch does not let one set it). */
function raw(port: number, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (const driver of drivers) describe.skipIf(!driver.enabled)(`web chat and webhook authentication on ${driver.name}`, () => {
  let app: App;
  let close: () => Promise<void>;
  let warroom: RunningWarroom;
  let base: string;
  let clock = DEMO_NOW;
  const mint = () => warroom.signInLink!();
  const incidents = async () => (await app.db.query<{ n: number | string }>('SELECT count(*) AS n FROM incidents'))[0]!.n;
  const humanMessages = async () => (await app.db.query<{ n: number | string }>("SELECT count(*) AS n FROM local_messages WHERE author <> 'warroom'"))[0]!.n;

  beforeAll(async () => {
    const opened = await driver.open();
    close = opened.close;
    app = await createDemoApp(opened.db, { clock: () => clock, runbooks: false });
    warroom = await startWarroom(app, { port: 0, timers: false });
    base = warroom.baseUrl;
  });
  afterAll(async () => {
    await warroom?.close();
    await close?.();
  });

  it('refuses a cross-origin no-cors post (text/plain, foreign Origin) to the chat and to /api/alerts, and stores nothing', async () => {
    const before = { incidents: await incidents(), messages: await humanMessages() };
    const evil = 'http://127.0.0.1:8081';
    const chat = await fetch(`${base}/chat/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: evil },
      body: JSON.stringify({ user: 'xieping', room: 'general', text: '/incident declare P0 集中交易 全部委托失败' }),
    });
    expect(chat.status).toBe(403);
    const alert = await fetch(`${base}/api/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: evil },
      body: JSON.stringify({ system: 'jzjy', severity: 'critical', title: '委托失败率 > 5%' }),
    });
    expect(alert.status).toBe(403);
    expect(((await alert.json()) as { error: string }).error).toBe('forbidden_origin');
    // Without an Origin (a script, not a page): the text body is still refused, naming the type expected.
    const text = await fetch(`${base}/api/alerts`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ system: 'jzjy', severity: 'critical', title: 'x' }) });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { message: string }).message).toContain('application/json');
    // Even signed in, the chat refuses a post from another origin.
    const signedIn = await signIn(base, mint, 'xieping');
    const cross = await fetch(`${base}/chat/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: evil, cookie: signedIn.cookie },
      body: JSON.stringify({ room: 'general', text: '/incident declare P0 集中交易 全部委托失败' }),
    });
    expect(cross.status).toBe(403);
    await warroom.platforms.settled();
    expect({ incidents: await incidents(), messages: await humanMessages() }).toEqual(before);
  });

  it('refuses a body claiming `user: xieping` without a session, with a hint; the page says how to sign in', async () => {
    const before = await humanMessages();
    const r = await fetch(`${base}/chat/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ user: 'xieping', room: 'general', text: '/incident declare P0 集中交易 全部委托失败' }),
    });
    expect(r.status).toBe(401);
    const body = (await r.json()) as { error: string; hint: string };
    expect(body.error).toBe('unauthorized');
    expect(body.hint).toContain('sign-in link');
    for (const path of ['/chat/api/rooms?user=xieping', '/chat/api/messages?room=dm-xieping&user=xieping', '/chat/api/stream?user=xieping', '/chat/api/people']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(401);
    }
    const page = await fetch(`${base}/chat?as=xieping`);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('warroom start');
    await warroom.platforms.settled();
    expect(await humanMessages()).toBe(before);
  });

  it("a session acting as one person cannot read another's DM or press a button on their private message", async () => {
    const songkai = await signIn(base, mint, 'songkai');
    const xieping = await signIn(base, mint, 'xieping');
    const dm = await warroom.platforms.webChat!.platform.sendDirect('xieping', { text: 'draft for xieping only', buttons: [{ actionId: 'incident.post-update', label: 'Post', value: 'INC-1|1' }] });
    expect((await xieping.get('/chat/api/messages', { room: 'dm-xieping' })).body.messages.some((m: { id: number }) => String(m.id) === dm.id)).toBe(true);

    const peek = await songkai.get('/chat/api/messages', { room: 'dm-xieping' });
    expect(peek.status).toBe(404);
    expect(peek.text).not.toContain('draft for xieping only');
    expect((await songkai.get('/chat/api/messages', { room: 'dm-xieping', user: 'xieping' })).status).toBe(400);
    expect(((await songkai.get('/chat/api/rooms')).body.rooms as Array<{ id: string }>).map((r) => r.id)).not.toContain('dm-xieping');

    const press = await songkai.post('/chat/api/action', { room: 'dm-xieping', messageId: Number(dm.id), actionId: 'incident.post-update', value: 'INC-1|1' });
    expect(press.status).toBe(404);
    const claim = await songkai.post('/chat/api/action', { user: 'xieping', room: 'dm-xieping', messageId: Number(dm.id), actionId: 'incident.post-update', value: 'INC-1|1' });
    expect(claim.status).not.toBe(202);

    // A private message in a shared room: only its reader may press its buttons.
    const local = warroom.platforms.webChat!;
    await local.platform.post({ platform: 'local', id: 'general' }, { text: 'public' });
    const [row] = await app.db.query<{ id: string }>(
      "INSERT INTO local_messages (room_id, author, message, private_to) VALUES ('general', 'warroom', $1::jsonb, 'xieping') RETURNING id",
      [JSON.stringify({ text: 'only xieping', buttons: [{ actionId: 'x', label: 'X', value: 'v' }] })],
    );
    const other = await songkai.post('/chat/api/action', { room: 'general', messageId: Number(row!.id), actionId: 'x', value: 'v' });
    expect(other.status).toBe(404);
    expect(((await songkai.get('/chat/api/messages', { room: 'general' })).body.messages as Array<{ id: number }>).some((m) => String(m.id) === row!.id)).toBe(false);
  });

  it('refuses a request whose Host is not one it serves (DNS rebinding), and serves its own names', async () => {
    const port = warroom.port;
    const rebind = await raw(port, '/healthz', { host: 'rebind.evil.example' });
    expect(rebind.status).toBe(421);
    expect(rebind.body).toContain('rebind.evil.example');
    expect(rebind.body).toContain('WARROOM_PUBLIC_HOSTS');
    expect((await raw(port, '/chat', { host: `rebind.evil.example:${port}` })).status).toBe(421);
    const before = await incidents();
    const post = await raw(port, '/api/alerts', { host: `rebind.evil.example:${port}`, 'content-type': 'application/json' }, 'POST', JSON.stringify({ system: 'jzjy', severity: 'critical', title: 'x' }));
    expect(post.status).toBe(421);
    expect(await incidents()).toBe(before);
    expect((await raw(port, '/healthz', { host: `localhost:${port}` })).status).toBe(200);
    expect((await raw(port, '/healthz', { host: `127.0.0.1:${port}` })).status).toBe(200);
    expect((await raw(port, '/healthz', { host: `127.0.0.1:${port + 1}` })).status).toBe(421);
  });

  it('a sign-in link works once, expires, and sets an HttpOnly SameSite=Strict cookie for /chat, then leaves the address bar', async () => {
    clock = DEMO_NOW;
    const link = await warroom.signInLink!();
    expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/chat\/login\?token=[A-Za-z0-9_-]{43}$/);
    expect(link.expiresAt.getTime() - DEMO_NOW.getTime()).toBe(24 * 3600_000);
    const first = await fetch(link.url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/chat');
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^warroom_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/chat');
    const again = await fetch(link.url, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();

    // Only hashes are stored: neither the token nor the session id is in the database.
    const token = new URL(link.url).searchParams.get('token')!;
    const session = /^warroom_session=([^;]+)/.exec(cookie)![1]!;
    const stored = JSON.stringify([...(await app.db.query('SELECT * FROM web_sign_in_tokens')), ...(await app.db.query('SELECT * FROM web_sessions'))]);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(session);

    // A link opened after 24 hours does nothing.
    const late = await warroom.signInLink!();
    clock = new Date(DEMO_NOW.getTime() + 24 * 3600_000 + 1000);
    try {
      const r = await fetch(late.url, { redirect: 'manual' });
      expect(r.status).toBe(401);
      expect(await r.text()).toContain('expired');
    } finally {
      clock = DEMO_NOW;
    }
    expect((await openSignInLink(base, async () => ({ path: '/chat/login?token=not-a-token' }))).status).toBe(401);
  });

  it('without WARROOM_INGEST_TOKEN, a webhook forwarded by a reverse proxy on this machine (Host 127.0.0.1, X-Forwarded-For) is refused; this machine itself may post', async () => {
    const before = await incidents();
    const alert = JSON.stringify({ system: 'jzjy', severity: 'critical', title: '代理转发的告警' });
    const proxied: Array<Record<string, string>> = [{ 'x-forwarded-for': '203.0.113.7' }, { forwarded: 'for=203.0.113.7;proto=https' }, { 'x-real-ip': '203.0.113.7' }];
    for (const forwarded of proxied) {
      const r = await fetch(`${base}/api/alerts`, { method: 'POST', headers: { 'content-type': 'application/json', ...forwarded }, body: alert });
      expect(r.status, JSON.stringify(forwarded)).toBe(401);
      expect(((await r.json()) as { error: string }).error).toBe('ingest_token_required');
    }
    const change = await fetch(`${base}/api/changes`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' }, body: JSON.stringify({ id: 'CAB-20261120-991', title: 't', system: 'jzjy', risk: 'low' }) });
    expect(change.status).toBe(401);
    expect(await incidents()).toBe(before);
    expect(await app.db.query("SELECT id FROM changes WHERE id = 'CAB-20261120-991'")).toEqual([]);
    // The same post straight from this machine is accepted (a local exporter, the demo).
    const local = await fetch(`${base}/api/changes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'CAB-20261120-992', title: 't', system: 'jzjy', risk: 'low' }) });
    expect(local.status).toBeLessThan(300);
  });

  it('webhooks are refused beyond loopback without WARROOM_INGEST_TOKEN, even when remote listening was allowed', async () => {
    const remote = await startWarroom(app, { port: 0, host: '0.0.0.0', timers: false, allowRemote: true });
    try {
      const before = await incidents();
      const r = await fetch(`http://127.0.0.1:${remote.port}/api/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ system: 'jzjy', severity: 'critical', title: '委托失败率 > 5%' }) });
      expect(r.status).toBe(401);
      const body = (await r.json()) as { error: string; message: string };
      expect(body.error).toBe('ingest_token_required');
      expect(body.message).toContain('WARROOM_INGEST_TOKEN');
      const changes = await fetch(`http://127.0.0.1:${remote.port}/api/changes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'CAB-X', title: 't', system: 'jzjy', risk: 'low' }) });
      expect(changes.status).toBe(401);
      expect(await incidents()).toBe(before);
      expect(await app.db.query("SELECT id FROM changes WHERE id = 'CAB-X'")).toEqual([]);
    } finally {
      await remote.close();
    }
    // Without being allowed, it does not listen at all and says why.
    await expect(startWarroom(app, { port: 0, host: '0.0.0.0', timers: false })).rejects.toThrow(/Refusing to listen on 0\.0\.0\.0/);
  });
});

describe('warroom start on every interface', () => {
  it('refuses WARROOM_HOST=0.0.0.0 with the web chat and no ingest token, saying why and what to set, exit code 2', { timeout: 180_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'warroom-sec-'));
    const r = await runProcess(process.execPath, ['--import', 'tsx', join(packageRoot, 'cli', 'main.ts'), 'start'], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'warn', WARROOM_HOME: home, WARROOM_PORT: '0', WARROOM_HOST: '0.0.0.0', WARROOM_INGEST_TOKEN: '', WARROOM_ALLOW_REMOTE: '' },
    });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).not.toContain('listening');
    expect(r.stderr).toContain('Refusing to listen on 0.0.0.0');
    expect(r.stderr).toContain('web chat');
    expect(r.stderr).toContain('WARROOM_INGEST_TOKEN');
    expect(r.stderr).toContain('WARROOM_ALLOW_REMOTE=1');
  });
});

describe('served hosts and same origin (core/hosts.ts)', () => {
  it('serves loopback names on the listening port, WARROOM_PUBLIC_HOSTS entries, and nothing else', () => {
    const hosts = servedHosts({ bindHost: '127.0.0.1', port: 3000, publicHosts: parsePublicHosts('warroom.example.com, ops.example.com:8443') });
    for (const ok of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'LOCALHOST:3000', 'warroom.example.com', 'warroom.example.com:443', 'ops.example.com:8443']) expect(hosts.allows(ok), ok).toBe(true);
    for (const no of [undefined, '', 'rebind.evil.example', 'rebind.evil.example:3000', 'localhost:3001', 'localhost', 'ops.example.com', 'warroom.example.com.evil.example', '127.0.0.1:3000@evil']) expect(hosts.allows(no), String(no)).toBe(false);
    expect(hosts.beyondLoopback).toBe(true);
    expect(servedHosts({ bindHost: '127.0.0.1', port: 3000, publicHosts: [] }).beyondLoopback).toBe(false);
    expect(servedHosts({ bindHost: '0.0.0.0', port: 3000, publicHosts: [] }).beyondLoopback).toBe(true);
    expect(() => parsePublicHosts('http://x.example/')).toThrow(/not a host name/);
  });

  it('matches an Origin only to the same host and port', () => {
    expect(sameOrigin('http://127.0.0.1:3000', '127.0.0.1:3000')).toBe(true);
    expect(sameOrigin('https://warroom.example.com', 'warroom.example.com')).toBe(true);
    expect(sameOrigin('http://127.0.0.1:8081', '127.0.0.1:3000')).toBe(false);
    expect(sameOrigin('http://localhost:3000', '127.0.0.1:3000')).toBe(false);
    expect(sameOrigin('null', '127.0.0.1:3000')).toBe(false);
  });
});
