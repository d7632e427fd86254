import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runProcess, type ProcessResult } from '../helpers/process.js';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';

/**
 * Finding 7: `warroom ask`, `postmortem` or `export` run beside `warroom start` on the same
 * WARROOM_HOME opened the PGlite files a second time: stale answers, `RuntimeError: Aborted()`
 * inside PGlite, and `audit write failed … audit_log_pkey` in the server's log. Now the server owns
 * the store: those commands are forwarded to it (authenticated by the token of server.json),
 * commands that need the store to themselves are refused saying how, and after a SIGKILL the lock
 * it left is taken over. Real processes, started as a user starts them (through tsx).
 */

const cli = join(packageRoot, 'cli', 'main.ts');
// By file URL, so a command started in another directory finds it too.
const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const baseEnv = (home: string): NodeJS.ProcessEnv => ({ ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: '', WARROOM_INGEST_TOKEN: '', WARROOM_HOME: home });

function warroom(home: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = packageRoot): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', tsx, cli, ...args], { cwd, env: { ...baseEnv(home), ...env } });
}

interface Server {
  child: ChildProcessWithoutNullStreams;
  port: number;
  out(): string;
  log(): string;
}

async function startServer(home: string, env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', tsx, cli, 'start'], {
    cwd: packageRoot,
    env: { ...baseEnv(home), WARROOM_PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}\n${log}`)), 120_000);
    const check = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}\n${log}`)));
  });
  return { child, port, out: () => out, log: () => log };
}

const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const at = ['--at', '2026-11-23T09:40:00+08:00'];
const slow = { timeout: 600_000 };

describe('one process owns the embedded store (PGlite)', slow, () => {
  it('forwards ask/postmortem/export/import/audit verify to the running server, refuses migrate and a second start, and takes over after a SIGKILL', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warroom-single-'));
    const server = await startServer(home, { WARROOM_CLOCK: '2026-11-23T09:40:00+08:00' });
    children.push(server.child);
    const base = `http://127.0.0.1:${server.port}`;

    // The demo data (dates as written) imported beside the server: forwarded, stored by it.
    const demoData = await warroom(home, ['import', 'demo/warroom-demo.json']);
    expect(demoData.code, demoData.stderr).toBe(0);
    expect(demoData.stdout).toMatch(/changes\s+\d+ new/);

    // A change arrives through the server's webhook…
    const change = { id: 'CAB-20261120-777', title: '集中交易柜台参数热更新', system: 'jzjy', risk: 'medium', status: 'completed', plannedStart: '2026-11-20T20:00:00+08:00', plannedEnd: '2026-11-20T21:00:00+08:00' };
    const posted = await fetch(`${base}/api/changes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(change) });
    expect(posted.status, await posted.text()).toBeLessThan(300);

    // …and an import and a declaration through the CLI beside it (forwarded, so written by the server).
    const dir = mkdtempSync(join(tmpdir(), 'warroom-single-imp-'));
    writeFileSync(join(dir, 'systems.json'), JSON.stringify({ systems: [{ id: 'single-sys', name: '单进程测试系统', tier: 'C' }] }));
    // A relative path means the caller's directory, wherever the server runs.
    const imported = await warroom(home, ['import', 'systems.json'], {}, dir);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/systems\s+1 new/);
    const declared = await warroom(home, ['ask', ...at, '--as', 'xieping', '/incident declare P2 集中交易 开盘委托大量失败 --since 09:20']);
    expect(declared.code, declared.stderr).toBe(0);
    const id = /INC-20261123-\d{3}/.exec(declared.stdout)?.[0];
    expect(id, declared.stdout).toBeDefined();

    // Second processes, at the same time: fresh data, a clean exit, nothing aborted.
    const [ask, postmortem, exported, localize] = await Promise.all([
      warroom(home, ['ask', ...at, 'changes jzjy']),
      warroom(home, ['postmortem', id!]),
      warroom(home, ['export']),
      warroom(home, ['localize', '--system', 'jzjy', ...at, '--json']),
    ]);
    for (const r of [ask, postmortem, exported, localize]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/Aborted|RuntimeError/);
    }
    expect(ask.stdout).toContain('CAB-20261120-777');
    expect(postmortem.stdout).toContain(`# 故障复盘: ${id} P2 集中交易 — 开盘委托大量失败`);
    const doc = JSON.parse(exported.stdout) as { changes: Array<{ id: string }>; systems: Array<{ id: string }>; incidents: Array<{ id: string }> };
    expect(doc.changes.map((c) => c.id)).toContain('CAB-20261120-777');
    expect(doc.systems.map((s) => s.id)).toContain('single-sys');
    expect(doc.incidents.map((i) => i.id)).toContain(id);
    expect(JSON.parse(localize.stdout).changes.length).toBeGreaterThan(0);

    const verified = await warroom(home, ['audit', 'verify']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/Audit log intact: [1-9]\d* rows/);

    // A lost sign-in link: a new one from the running server, for its own address; it signs a browser in as asked.
    const link = await warroom(home, ['chat-link', '--as', 'xieping']);
    expect(link.code, link.stderr).toBe(0);
    const url = new RegExp(`${base}/chat/login\\?token=[A-Za-z0-9_-]{43}&as=xieping`).exec(link.stdout)?.[0];
    expect(url, link.stdout).toBeDefined();
    const signedIn = await fetch(url!, { redirect: 'manual' });
    expect(signedIn.status).toBe(303);
    const cookie = /^(warroom_session=[^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[1];
    expect(cookie).toBeDefined();
    const session = await fetch(`${base}/chat/api/rooms`, { headers: { cookie: cookie! } });
    expect(session.status).toBe(200);
    expect(((await session.json()) as { user: { id: string } }).user.id).toBe('xieping');
    expect((await fetch(url!, { redirect: 'manual' })).status).not.toBe(303); // once only
    const nobody = await warroom(home, ['chat-link', '--as', 'nobody-here']);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain('No person "nobody-here"');

    // The server file says where the owner is; only its user can read it; the token is never printed.
    const serverFile = join(home, 'server.json');
    expect(existsSync(serverFile)).toBe(true);
    expect(statSync(serverFile).mode & 0o777).toBe(0o600);
    const info = JSON.parse(readFileSync(serverFile, 'utf8')) as { pid: number; port: number; token: string };
    expect(info).toMatchObject({ pid: server.child.pid, port: server.port });
    expect(info.token.length).toBeGreaterThanOrEqual(32);
    expect(existsSync(join(home, 'store.lock'))).toBe(true);

    // Without the token (or with a wrong one) nothing runs.
    const body = JSON.stringify({ argv: ['export'], cwd: packageRoot, user: 'mallory' });
    for (const authorization of [undefined, 'Bearer wrong-token', `Bearer ${info.token}x`, `Basic ${info.token}`]) {
      const res = await fetch(`${base}/internal/cli`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body });
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain('"stdout"');
      expect(text).not.toContain(info.token);
    }
    // A CLI holding a wrong token is refused too, and says so.
    writeFileSync(serverFile, JSON.stringify({ ...info, token: 'not-the-token' }), { mode: 0o600 });
    const forged = await warroom(home, ['export']);
    writeFileSync(serverFile, JSON.stringify(info), { mode: 0o600 });
    expect(forged.code).toBe(2);
    expect(forged.stderr).toMatch(/refused the command: 401/);
    expect(forged.stdout).toBe('');
    // The right token over the route runs a command that may run there, and nothing else.
    const good = await fetch(`${base}/internal/cli`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${info.token}` }, body: JSON.stringify({ argv: ['migrate'], cwd: packageRoot, user: 'x' }) });
    expect(await good.json()).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('does not run inside the server') });

    // Commands that need the store to themselves are refused with what to do.
    const migrate = await warroom(home, ['migrate']);
    expect(migrate.code).toBe(2);
    expect(migrate.stderr).toContain(`owned by \`warroom start\` (pid ${server.child.pid}, serving http://127.0.0.1:${server.port})`);
    expect(migrate.stderr).toMatch(/Stop that process.*DATABASE_URL/s);
    const second = await warroom(home, ['start'], { WARROOM_PORT: '0' });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('owned by `warroom start`');
    const demo = await warroom(home, ['demo', '--no-shift']);
    expect(demo.code).toBe(2);

    // The server's log: the forwarded commands ran there, nothing failed, no token.
    const log = server.log();
    expect(log).toContain('forwarded CLI command');
    expect(log).not.toMatch(/audit write failed|Aborted|audit_log_pkey|request failed/);
    expect(log).not.toContain(info.token);
    expect(server.out()).not.toContain(info.token);

    // Killed without a chance to clean up: the next command takes the stale lock over and runs here.
    await new Promise<void>((resolve) => {
      server.child.on('exit', () => resolve());
      server.child.kill('SIGKILL');
    });
    expect(existsSync(join(home, 'store.lock'))).toBe(true);
    const after = await warroom(home, ['export']);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as typeof doc).incidents.map((i) => i.id)).toContain(id);
    const verifiedAfter = await warroom(home, ['audit', 'verify']);
    expect(verifiedAfter.code, verifiedAfter.stderr).toBe(0);
    expect(existsSync(join(home, 'store.lock'))).toBe(false); // released by the command that took it over
  });

  it('a one-off command waits for another one-off command instead of opening the store beside it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warroom-single-'));
    const results = await Promise.all([warroom(home, ['kb', 'ingest']), warroom(home, ['export']), warroom(home, ['audit', 'verify'])]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/Aborted|RuntimeError/);
    }
    expect(existsSync(join(home, 'store.lock'))).toBe(false);
  });
});
