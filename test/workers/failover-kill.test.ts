import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBot, type Bot } from '../../bot/bot.js';
import { renderText } from '../../bot/render/text.js';
import { packageRoot } from '../../core/paths.js';
import { verifyAuditChain } from '../../db/audit.js';
import { importJson } from '../../db/import.js';
import { shellQuote } from '../../tools/failover/shell.js';
import type { App } from '../../tools/services.js';
import { getAction, stepsOfAction, type ActionStatus } from '../../workers/action-store.js';
import { createBullmqQueue } from '../../workers/bullmq-queue.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPostgres, runPostgres, runRedis } from '../helpers/db.js';
import { getText, startNameService, type NameService } from '../helpers/name-service.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Item 6 of issue 12, literally: SIGKILL the worker in the middle of a failover; after a restart the
 * job resumes from its recorded step or fails cleanly, and the switch is never applied twice (the
 * proxy counts switches).
 *
 * Everything is real: PostgreSQL and Redis (BullMQ), worker processes (test/helpers/action-worker.ts,
 * i.e. the app's own tool registry) running the shipped `failover_switch` with the `script` driver
 * (WARROOM_FAILOVER_DRIVER=script, WARROOM_FAILOVER_SCRIPTS) against three loopback services behind
 * the test TCP proxy (the VIP). The demo pool 中登报盘 (zd-baopan, system zd-bp) is imported with
 * those services as its nodes; sunqiang requests, xieping and zhangwei approve (the shipped policy).
 *
 * The scripts pass through a "gate" (an HTTP server of the test) before and after they move the
 * proxy, so the test catches a worker inside a non-idempotent step (before or after its effect) and
 * kills it there: `kill -9` of the worker, then of the command it had started (a supervisor kills the
 * worker's whole process tree; a SIGKILLed Node process cannot take its children with it).
 */

const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const FINAL: ActionStatus[] = ['succeeded', 'failed', 'cancelled', 'rejected', 'expired'];
const names = ['zdbp-01', 'zdbp-02', 'zdbp-03'] as const;

// ——— the gate: where the failover scripts report and, when the test says so, wait ———

interface Arrival {
  /** The process group of the script's shell (runShell starts each command in its own group). */
  pgid: number;
  /** Resolves when the held request's connection closes (its caller died). */
  closed: Promise<void>;
}

interface Gate {
  url: string;
  /** Requests by key ("before-acquire@zdbp-02", "who"). */
  hits: Record<string, number>;
  /** The next request at this key is held: its answer never comes. */
  hold(key: string): void;
  /** Resolves when a held request at this key has arrived. */
  reached(key: string): Promise<Arrival>;
  /** Answer requests at this key with 503 (the script then fails). */
  refuse(key: string): void;
  reset(): void;
  close(): Promise<void>;
}

async function startGate(): Promise<Gate> {
  const holds = new Set<string>();
  const refused = new Set<string>();
  const arrived = new Map<string, Arrival>();
  const waiting = new Map<string, Array<(a: Arrival) => void>>();
  const held = new Set<ServerResponse>();
  const hits: Record<string, number> = {};
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gate');
    const key = url.searchParams.get('key') ?? '';
    hits[key] = (hits[key] ?? 0) + 1;
    if (refused.has(key)) return res.writeHead(503, { connection: 'close' }).end(`gate ${key} refused\n`);
    if (!holds.has(key)) return res.writeHead(200, { connection: 'close' }).end(); // no output: the script's own is what counts
    holds.delete(key);
    held.add(res);
    const arrival: Arrival = { pgid: Number(url.searchParams.get('pgid')), closed: new Promise((resolve) => res.once('close', () => resolve())) };
    void arrival.closed.then(() => held.delete(res));
    arrived.set(key, arrival);
    for (const f of waiting.get(key)?.splice(0) ?? []) f(arrival);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    hold(key) {
      holds.add(key);
      arrived.delete(key);
    },
    reached(key) {
      const a = arrived.get(key);
      return a ? Promise.resolve(a) : new Promise((resolve) => waiting.set(key, [...(waiting.get(key) ?? []), resolve]));
    },
    refuse: (key) => void refused.add(key),
    reset() {
      holds.clear();
      refused.clear();
      arrived.clear();
      for (const k of Object.keys(hits)) delete hits[k];
    },
    async close() {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ——— the world: PostgreSQL, Redis, three services, the VIP proxy, the scripts ———

let pg: Awaited<ReturnType<typeof createTestPostgres>>;
let redis: TestRedis;
let app: App;
let services: Record<string, NameService>;
let proxy: TcpProxy;
let gate: Gate;
let scriptsFile: string;
const home = mkdtempSync(join(tmpdir(), 'warroom-killfo-'));
const closers: Array<() => Promise<unknown>> = [];
const failoverEnv = () => ({ WARROOM_FAILOVER_DRIVER: 'script', WARROOM_FAILOVER_SCRIPTS: scriptsFile });

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const finalStatus = (id: string) =>
  until(`${id} to finish`, async () => {
    const a = await getAction(pg.db, id);
    return a && FINAL.includes(a.status) ? a.status : undefined;
  });
const stepTable = async (id: string) => (await stepsOfAction(pg.db, id)).map((s) => [s.step, s.status]);
const runOutcomes = async (id: string) =>
  (await pg.db.query<{ outcome: string }>("SELECT outcome FROM audit_log WHERE target = $1 AND action LIKE 'action.run:%' ORDER BY id", [id])).map((r) => r.outcome);
const viaVip = () => getText(proxy.port);
const poolInStore = async () =>
  (await pg.db.query<{ node: string; role: string; holds_vip: boolean }>("SELECT node, role, holds_vip FROM failover_nodes WHERE pool = 'zd-baopan' ORDER BY node")).map((r) => `${r.node} ${r.role}${r.holds_vip ? ' vip' : ''}`);

interface WorkerProcess {
  output(): string;
  /** kill -9: no shutdown, no lock released, mid-step. */
  kill(): Promise<void>;
  /** SIGTERM: the exit code. */
  stop(): Promise<number | null>;
}

/** test/helpers/action-worker.ts in its own process: `warroom worker`'s runtime, with the script driver from the environment. */
async function startWorker(queuePrefix: string): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, join(packageRoot, 'test', 'helpers', 'action-worker.ts')], {
    cwd: packageRoot,
    env: { ...process.env, DATABASE_URL: pg.url, REDIS_URL: redis.url, WARROOM_TEST_QUEUE_PREFIX: queuePrefix, WARROOM_HOME: home, LOG_LEVEL: 'warn', WARROOM_CLOCK: DEMO_NOW.toISOString(), WARROOM_POLICY_FILE: '', ...failoverEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  closers.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  await until('the worker process to start', async () => {
    if (child.exitCode !== null) throw new Error(`worker exited early (${child.exitCode}):\n${out}`);
    return out.includes('worker ready');
  });
  return {
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The script the killed worker had started: killed too (its process group), as a supervisor would. */
async function killOrphan(a: Arrival): Promise<void> {
  try {
    process.kill(-a.pgid, 'SIGKILL');
  } catch {
    // already gone
  }
  await a.closed;
}

async function requestApproved(bot: Bot): Promise<string> {
  const a = await bot.actions.request({ tool: 'failover_switch', input: { pool: 'zd-baopan', reason: 'drill: kill -9 the worker mid-switch' }, requestedBy: 'sunqiang', room: { platform: 'cli', id: 'ops' }, lang: 'en' });
  expect(a).toMatchObject({ tool: 'failover_switch', risk: 'high', system: 'zd-bp', approvalsNeeded: 2 });
  expect((await bot.actions.approve(a.id, 'xieping', 'en')).complete).toBe(false);
  expect((await bot.actions.approve(a.id, 'zhangwei', 'en')).complete).toBe(true);
  return a.id;
}

const actionStatusText = async (bot: Bot, id: string) =>
  (await bot.handle({ kind: 'message', platform: 'cli', userId: 'sunqiang', room: { platform: 'cli', id: 'ops', kind: 'dm' }, text: `/action status ${id}`, at: DEMO_NOW })).map((r) => renderText(r.message)).join('\n');

/** The bot of the test process (requests and approvals), enqueueing on the worker's queue. */
function producer(p: string): Bot {
  const queue = createBullmqQueue({ url: redis.url, logger: app.logger, prefix: p });
  closers.push(() => queue.close());
  return createBot(app, [], { queue });
}

const queuePrefix = () => `wr-killfo-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  if (!(runPostgres && runRedis)) return;
  pg = await createTestPostgres();
  redis = await startTestRedis();
  services = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await startNameService(n)] as const)));
  proxy = await startTcpProxy(Object.fromEntries(names.map((n) => [n, services[n]!.port])));
  gate = await startGate();
  const node = shellQuote(process.execPath);
  const ctl = `${node} ${shellQuote(join(packageRoot, 'test', 'helpers', 'http-ctl.mjs'))}`;
  // A gate call may be held for as long as the test needs; `$$` is the shell's pid, i.e. its process group.
  const at = (key: string) => `HTTP_CTL_TIMEOUT_MS=600000 ${ctl} POST "${gate.url}/?key=${key}&pgid=$$"`;
  const scripts = {
    timeoutSeconds: 120,
    commands: {
      releaseVip: `${at('before-release@"{node}"')} && ${ctl} POST "${proxy.controlUrl}/vip/release?node="{node} && ${at('after-release@"{node}"')}`,
      stopService: `${ctl} POST http://{host}/stop`,
      acquireVip: `${at('before-acquire@"{node}"')} && ${ctl} POST "${proxy.controlUrl}/vip/acquire?node="{node} && ${at('after-acquire@"{node}"')}`,
      startService: `${ctl} POST http://{host}/start`,
      healthCheck: { run: `${ctl} GET http://{vip}/ {node}`, timeoutSeconds: 10 },
      whoHoldsVip: { run: `${at('who')} && ${ctl} GET ${proxy.controlUrl}/vip`, timeoutSeconds: 10 },
    },
  };
  scriptsFile = join(home, 'failover-scripts.json');
  writeFileSync(scriptsFile, JSON.stringify(scripts, null, 2));
  app = await createDemoApp(pg.db, { now: DEMO_NOW, runbooks: false, env: failoverEnv() });
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await gate?.close();
  await proxy?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.close()));
  await redis?.close();
  await pg?.drop();
  rmSync(home, { recursive: true, force: true });
}, 60_000);

beforeEach(async () => {
  if (!(runPostgres && runRedis)) return;
  for (const s of Object.values(services)) s.running = true;
  proxy.reset('zdbp-01');
  gate.reset();
  // The demo's 中登报盘 pool, its nodes now the three loopback services, switched by the script driver.
  await importJson(pg.db, {
    pools: [
      {
        id: 'zd-baopan',
        name: '中登报盘',
        system: 'zd-bp',
        vip: `127.0.0.1:${proxy.port}`,
        driver: 'script',
        nodes: names.map((n, i) => ({ id: n, host: `127.0.0.1:${services[n]!.port}`, role: i === 0 ? 'primary' : 'standby', priority: 100 - i * 10, holdsVip: i === 0 })),
      },
    ],
  });
  expect(await viaVip()).toBe('zdbp-01');
});

describe.runIf(runPostgres && runRedis)('kill -9 the worker in the middle of a failover (failover_switch, script driver, BullMQ + PostgreSQL)', { timeout: 180_000 }, () => {
  it('killed inside acquire-vip before the VIP moved: the next worker resumes there, its probe says not done, the VIP moves once', async () => {
    const p = queuePrefix();
    const bot = producer(p);
    gate.hold('before-acquire@zdbp-02');
    const first = await startWorker(p);
    const id = await requestApproved(bot);

    const caught = await gate.reached('before-acquire@zdbp-02');
    expect(await stepTable(id)).toEqual([
      ['precheck', 'done'],
      ['release-vip@zdbp-01', 'done'],
      ['acquire-vip@zdbp-02', 'running'],
    ]);
    // Mid-switch: the old primary let the VIP go, nobody holds it yet.
    expect(proxy.events).toEqual(['release zdbp-01']);
    expect(await viaVip()).toMatch(/^error: /);
    await first.kill();
    await killOrphan(caught);

    const second = await startWorker(p);
    expect([await finalStatus(id), (await getAction(pg.db, id))!.error, second.output()]).toEqual(['succeeded', null, expect.any(String)]);
    expect(proxy.calls).toEqual(['release zdbp-01', 'acquire zdbp-02']);
    expect(proxy.switches()).toBe(1);
    expect(await viaVip()).toBe('zdbp-02');
    // The acquire script ran a second time (the probe said the VIP had not moved); the release did not.
    expect({ beforeRelease: gate.hits['before-release@zdbp-01'], beforeAcquire: gate.hits['before-acquire@zdbp-02'], afterAcquire: gate.hits['after-acquire@zdbp-02'] }).toEqual({ beforeRelease: 1, beforeAcquire: 2, afterAcquire: 1 });
    expect(await stepTable(id)).toEqual([
      ['precheck', 'done'],
      ['release-vip@zdbp-01', 'done'],
      ['acquire-vip@zdbp-02', 'done'],
      ['verify-primary@zdbp-02', 'done'],
      ['health-check@zdbp-02', 'done'],
    ]);
    const steps = await stepsOfAction(pg.db, id);
    expect(steps.find((s) => s.step === 'acquire-vip@zdbp-02')!.result).toMatchObject({ ok: true, detail: 'service started, VIP on zdbp-02' });
    expect(await runOutcomes(id)).toEqual(['started', 'resumed', 'succeeded']);
    const a = (await getAction(pg.db, id))!;
    expect(a).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    expect(await poolInStore()).toEqual(['zdbp-01 standby', 'zdbp-02 primary vip', 'zdbp-03 standby']);
    expect(services['zdbp-01']!.running).toBe(false);
    const status = await actionStatusText(bot, id);
    expect(status).toMatch(/succeeded/);
    expect(status).toMatch(/Steps \(5 of 5 done\)/);
    expect((await verifyAuditChain(pg.db)).ok).toBe(true);
    expect(await second.stop()).toBe(0);
  });

  it('killed inside acquire-vip after the VIP moved, before the step was recorded: the probe finds it done, it is not run again', async () => {
    const p = queuePrefix();
    const bot = producer(p);
    gate.hold('after-acquire@zdbp-02');
    const first = await startWorker(p);
    const id = await requestApproved(bot);

    const caught = await gate.reached('after-acquire@zdbp-02');
    // The effect happened (traffic already reaches zdbp-02); the worker dies before it hears so.
    expect(proxy.events).toEqual(['release zdbp-01', 'acquire zdbp-02']);
    expect(await viaVip()).toBe('zdbp-02');
    expect(await stepTable(id)).toEqual([
      ['precheck', 'done'],
      ['release-vip@zdbp-01', 'done'],
      ['acquire-vip@zdbp-02', 'running'],
    ]);
    await first.kill();
    await killOrphan(caught);

    const second = await startWorker(p);
    expect([await finalStatus(id), (await getAction(pg.db, id))!.error, second.output()]).toEqual(['succeeded', null, expect.any(String)]);
    expect(proxy.calls).toEqual(['release zdbp-01', 'acquire zdbp-02']);
    expect(proxy.switches()).toBe(1);
    expect(await viaVip()).toBe('zdbp-02');
    expect({ beforeAcquire: gate.hits['before-acquire@zdbp-02'], afterAcquire: gate.hits['after-acquire@zdbp-02'] }).toEqual({ beforeAcquire: 1, afterAcquire: 1 });
    expect(await stepTable(id)).toEqual([
      ['precheck', 'done'],
      ['release-vip@zdbp-01', 'done'],
      ['acquire-vip@zdbp-02', 'done'],
      ['verify-primary@zdbp-02', 'done'],
      ['health-check@zdbp-02', 'done'],
    ]);
    const steps = await stepsOfAction(pg.db, id);
    expect(steps.find((s) => s.step === 'acquire-vip@zdbp-02')!.result).toMatchObject({ ok: true, probed: true, detail: 'found on resume: zdbp-02 holds the VIP' });
    expect(await runOutcomes(id)).toEqual(['started', 'resumed', 'succeeded']);
    expect((await getAction(pg.db, id))!).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    expect(await poolInStore()).toEqual(['zdbp-01 standby', 'zdbp-02 primary vip', 'zdbp-03 standby']);
    expect(await second.stop()).toBe(0);
  });

  it('killed inside release-vip, and on restart nobody can tell who holds the VIP: it fails cleanly, naming the step, and touches nothing', async () => {
    const p = queuePrefix();
    const bot = producer(p);
    gate.hold('before-release@zdbp-01');
    const first = await startWorker(p);
    const id = await requestApproved(bot);

    const caught = await gate.reached('before-release@zdbp-01');
    expect(await stepTable(id)).toEqual([
      ['precheck', 'done'],
      ['release-vip@zdbp-01', 'running'],
    ]);
    await first.kill();
    await killOrphan(caught);
    // The VIP's control answers no more (whoHoldsVip fails): the probe cannot say whether the release happened.
    gate.refuse('who');

    const second = await startWorker(p);
    expect(await finalStatus(id)).toBe('failed');
    const a = (await getAction(pg.db, id))!;
    expect(a.error).toMatch(/^step "Release the VIP 127\.0\.0\.1:\d+ on zdbp-01 and stop its service" \(release-vip@zdbp-01\) was interrupted by a crash and is not safe to run again, and its probe could not tell whether it took effect \(Cannot tell who holds the VIP .* whoHoldsVip exit 1: .*HTTP 503.*\); check its effect by hand/s);
    expect((await stepsOfAction(pg.db, id)).find((s) => s.step === 'release-vip@zdbp-01')!.error).toMatch(/^interrupted; its probe failed: Cannot tell who holds the VIP/);
    expect(await stepTable(id)).toEqual([
      ['precheck', 'done'],
      ['release-vip@zdbp-01', 'failed'],
    ]);
    expect(await runOutcomes(id)).toEqual(['started', 'resumed', 'failed']);
    // Nothing was applied, nothing twice: zdbp-01 still holds the VIP and serves.
    expect(proxy.calls).toEqual([]);
    expect(gate.hits['before-release@zdbp-01']).toBe(1);
    expect(gate.hits['before-acquire@zdbp-02']).toBeUndefined();
    expect(await viaVip()).toBe('zdbp-01');
    expect(await poolInStore()).toEqual(['zdbp-01 primary vip', 'zdbp-02 standby', 'zdbp-03 standby']);
    const status = await actionStatusText(bot, id);
    expect(status).toMatch(/failed/);
    expect(status).toMatch(/interrupted/);
    expect(await second.stop()).toBe(0);
  });
});
