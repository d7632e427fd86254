import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionRuntime } from '../../app/action-runtime.js';
import { createBot, type Bot } from '../../bot/bot.js';
import type { OutgoingMessage } from '../../bot/messages.js';
import type { ChatPlatform, ChatEvent, MessageRef, RoomRef } from '../../bot/platforms/platform.js';
import { renderText } from '../../bot/render/text.js';
import { ACTION_BUTTONS } from '../../bot/views/action-views.js';
import { packageRoot } from '../../core/paths.js';
import { verifyAuditChain } from '../../db/audit.js';
import { createPostgresDb } from '../../db/postgres.js';
import type { App } from '../../tools/services.js';
import { getAction, stepsOfAction, type ActionStatus } from '../../workers/action-store.js';
import { createBullmqQueue, type BullmqActionQueue } from '../../workers/bullmq-queue.js';
import { createActionProcessor } from '../../workers/processor.js';
import { silentNotifier } from '../../workers/events.js';
import { createDemoApp, createTestApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPostgres, runPostgres, runRedis } from '../helpers/db.js';
import { runProcess } from '../helpers/process.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startSwitchServer, switchServiceTool, type SwitchServer } from '../helpers/switch-service.js';

/**
 * Item 6 of issue 12: approved actions against real PostgreSQL and real Redis (BullMQ), with worker
 * processes that are killed mid-action. The action is `switch_service` (test/helpers/switch-service.ts):
 * a high-risk tool whose non-idempotent "switch" step is applied by a small HTTP server that counts
 * every switch, so "never applied twice" is counted, not assumed.
 */

const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const FINAL: ActionStatus[] = ['succeeded', 'failed', 'cancelled', 'rejected', 'expired'];

let pg: Awaited<ReturnType<typeof createTestPostgres>>;
let redis: TestRedis;
let app: App;
let now = DEMO_NOW;
const home = mkdtempSync(join(tmpdir(), 'warroom-reliab-'));
/** What the tests opened, closed after them, each given at most CLOSE_MS (a hang is named, not waited on). */
const closers: Array<[string, () => Promise<unknown>]> = [];
const CLOSE_MS = 15_000;

const prefix = () => `wr-test-${randomBytes(4).toString('hex')}`;

function producer(p: string, a: App = app): BullmqActionQueue {
  const q = createBullmqQueue({ url: redis.url, logger: a.logger, prefix: p });
  closers.push(['queue ' + p, () => q.close()]);
  return q;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const finalStatus = (id: string, timeoutMs?: number) =>
  until(`${id} to finish`, async () => {
    const a = await getAction(pg.db, id);
    return a && FINAL.includes(a.status) ? a.status : undefined;
  }, timeoutMs);

const stepTable = async (id: string) => (await stepsOfAction(pg.db, id)).map((s) => [s.step, s.status]);

async function runOutcomes(id: string): Promise<string[]> {
  const rows = await pg.db.query<{ outcome: string }>("SELECT outcome FROM audit_log WHERE target = $1 AND action LIKE 'action.run:%' ORDER BY id", [id]);
  return rows.map((r) => r.outcome);
}

async function requestSwitch(bot: Bot, input: { server: string; target: string; probe?: boolean; abortable?: boolean }): Promise<string> {
  return (await bot.actions.request({ tool: 'switch_service', input, requestedBy: 'songkai', room: { platform: 'cli', id: 'ops' }, lang: 'en' })).id;
}

const cliEvent = (user: string, text: string): ChatEvent => ({ kind: 'message', platform: 'cli', userId: user, room: { platform: 'cli', id: 'ops', kind: 'dm' }, text, at: DEMO_NOW });
async function say(bot: Bot, user: string, text: string): Promise<string> {
  return (await bot.handle(cliEvent(user, text))).map((r) => renderText(r.message)).join('\n');
}

interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL: no shutdown, no lock released, mid-step. */
  kill(): Promise<void>;
  /** SIGTERM, as a service manager stops it: the exit code. */
  stop(): Promise<number | null>;
}

/** test/helpers/action-worker.ts in its own process: the action runtime over BullMQ + PostgreSQL, knowing switch_service. */
async function startWorkerProcess(queuePrefix: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', tsx, join(packageRoot, 'test', 'helpers', 'action-worker.ts')], {
    cwd: packageRoot,
    env: { ...process.env, DATABASE_URL: pg.url, REDIS_URL: redis.url, WARROOM_TEST_QUEUE_PREFIX: queuePrefix, WARROOM_HOME: home, LOG_LEVEL: 'warn', WARROOM_CLOCK: DEMO_NOW.toISOString(), WARROOM_POLICY_FILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  closers.push(['worker process', async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }]);
  await until('the worker process to start', async () => {
    if (child.exitCode !== null) throw new Error(`worker exited early (${child.exitCode}):\n${out}`);
    return out.includes('worker ready');
  }, 60_000);
  return {
    child,
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

beforeAll(async () => {
  if (!(runPostgres && runRedis)) return;
  pg = await createTestPostgres();
  redis = await startTestRedis();
  app = await createDemoApp(pg.db, { clock: () => now, runbooks: false });
  app.tools.register(switchServiceTool);
}, 120_000);

afterAll(async () => {
  const hung: string[] = [];
  for (const [name, close] of closers.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([close().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(() => resolve(void hung.push(name)), CLOSE_MS)))]);
    clearTimeout(timer);
  }
  if (hung.length) console.error(`reliability tests: closing took over ${CLOSE_MS / 1000} s: ${hung.join(', ')}`);
  await redis?.close();
  const dropping = pg?.drop();
  const slow = setTimeout(() => console.error('reliability tests: dropping the test database takes over 15 s'), 15_000);
  await dropping;
  clearTimeout(slow);
  rmSync(home, { recursive: true, force: true });
  if (hung.length) throw new Error(`closing took over ${CLOSE_MS / 1000} s: ${hung.join(', ')}`);
}, 240_000);

describe.runIf(runPostgres && runRedis)('a worker killed or stopped in the middle of an action (BullMQ + PostgreSQL)', { timeout: 120_000 }, () => {
  let sw: SwitchServer;
  beforeAll(async () => {
    sw = await startSwitchServer('node-a');
    closers.push(['switch server', () => sw.close()]);
  });

  it('killed after the switch took effect, before it was recorded: the next worker resumes, the probe sees it done, the switch is applied once', async () => {
    const p = prefix();
    const bot = createBot(app, [], { queue: producer(p) });
    const switches = sw.switches;
    sw.hold('switch');
    const first = await startWorkerProcess(p);
    const id = await requestSwitch(bot, { server: sw.url, target: 'node-b' });
    await bot.actions.approve(id, 'xieping', 'en');
    await bot.actions.approve(id, 'zhangwei', 'en');
    await sw.reached('switch');
    // Caught in the switch: applied on the server, recorded as running, its answer never comes.
    expect(sw.switches - switches).toBe(1);
    expect(await stepTable(id)).toEqual([
      ['check', 'done'],
      ['switch', 'running'],
    ]);
    await first.kill();
    sw.release('switch');

    const second = await startWorkerProcess(p);
    expect(await finalStatus(id)).toBe('succeeded');
    expect(sw.switches - switches).toBe(1);
    expect(sw.active).toBe('node-b');
    expect(await stepTable(id)).toEqual([
      ['check', 'done'],
      ['switch', 'done'],
      ['settle', 'done'],
      ['verify', 'done'],
    ]);
    expect(await runOutcomes(id)).toEqual(['started', 'resumed', 'succeeded']);
    const a = (await getAction(pg.db, id))!;
    expect(a.attempts).toBe(2);
    // What people see: done, every step ticked, the result.
    const status = await say(bot, 'yangguang', `/action status ${id}`);
    expect(status).toMatch(/succeeded/);
    expect(status).toMatch(/Steps \(4 of 4 done\)/);
    expect(status).toMatch(/Switched from node-a to node-b/);
    expect(await second.stop()).toBe(0);
  });

  it('killed in the idempotent step after the switch: resumes from that step; done steps are not run again', async () => {
    const p = prefix();
    const bot = createBot(app, [], { queue: producer(p) });
    const hits = { ...sw.hits };
    const switches = sw.switches;
    sw.hold('settle');
    const first = await startWorkerProcess(p);
    const id = await requestSwitch(bot, { server: sw.url, target: 'node-c' });
    await bot.actions.approve(id, 'xieping', 'en');
    await bot.actions.approve(id, 'zhangwei', 'en');
    await sw.reached('settle');
    expect(await stepTable(id)).toEqual([
      ['check', 'done'],
      ['switch', 'done'],
      ['settle', 'running'],
    ]);
    await first.kill();
    sw.release('settle');
    const second = await startWorkerProcess(p);
    expect(await finalStatus(id)).toBe('succeeded');
    const delta = (k: string) => (sw.hits[k] ?? 0) - (hits[k] ?? 0);
    expect(sw.switches - switches).toBe(1);
    expect({ check: delta('check'), switch: delta('switch'), probe: delta('probe'), settle: delta('settle'), verify: delta('verify') }).toEqual({ check: 1, switch: 1, probe: 0, settle: 2, verify: 1 });
    expect(await runOutcomes(id)).toEqual(['started', 'resumed', 'succeeded']);
    expect(await second.stop()).toBe(0);
  });

  it('killed while a switch without a probe was running: the action fails cleanly, naming the step, and nothing runs twice', async () => {
    const p = prefix();
    const bot = createBot(app, [], { queue: producer(p) });
    const hits = { ...sw.hits };
    const switches = sw.switches;
    sw.hold('switch');
    const first = await startWorkerProcess(p);
    const id = await requestSwitch(bot, { server: sw.url, target: 'node-a', probe: false });
    await bot.actions.approve(id, 'xieping', 'en');
    await bot.actions.approve(id, 'zhangwei', 'en');
    await sw.reached('switch');
    await first.kill();
    sw.release('switch');
    const second = await startWorkerProcess(p);
    expect(await finalStatus(id)).toBe('failed');
    const a = (await getAction(pg.db, id))!;
    expect(a.error).toMatch(/step "Switch to node-a" \(switch\) was interrupted by a crash and is not safe to run again; check its effect by hand/);
    expect(sw.switches - switches).toBe(1);
    const delta = (k: string) => (sw.hits[k] ?? 0) - (hits[k] ?? 0);
    expect({ check: delta('check'), switch: delta('switch'), settle: delta('settle'), verify: delta('verify') }).toEqual({ check: 1, switch: 1, settle: 0, verify: 0 });
    expect(await stepTable(id)).toEqual([
      ['check', 'done'],
      ['switch', 'failed'],
    ]);
    expect(await runOutcomes(id)).toEqual(['started', 'resumed', 'failed']);
    const status = await say(bot, 'yangguang', `/action status ${id}`);
    expect(status).toMatch(/failed/);
    expect(status).toMatch(/Switch to node-a — interrupted; not idempotent and no probe/);
    expect(await second.stop()).toBe(0);
  });

  it('SIGTERM in the middle of a step: the step finishes, the worker stops before the next one and exits; the next worker resumes', async () => {
    const p = prefix();
    const bot = createBot(app, [], { queue: producer(p) });
    const hits = { ...sw.hits };
    const switches = sw.switches;
    sw.hold('settle');
    const first = await startWorkerProcess(p);
    const id = await requestSwitch(bot, { server: sw.url, target: 'node-e' });
    await bot.actions.approve(id, 'xieping', 'en');
    await bot.actions.approve(id, 'zhangwei', 'en');
    await sw.reached('settle');
    const exit = first.stop();
    await new Promise((r) => setTimeout(r, 500));
    sw.release('settle');
    expect(await exit).toBe(0);
    expect(first.output()).toMatch(/worker stopped/);
    // Stopped at the step boundary: the step it was in is done, the next one not begun, the action left to resume.
    expect(await stepTable(id)).toEqual([
      ['check', 'done'],
      ['switch', 'done'],
      ['settle', 'done'],
    ]);
    expect((await getAction(pg.db, id))!.status).toBe('running');
    const second = await startWorkerProcess(p);
    expect(await finalStatus(id)).toBe('succeeded');
    const delta = (k: string) => (sw.hits[k] ?? 0) - (hits[k] ?? 0);
    expect(sw.switches - switches).toBe(1);
    expect({ check: delta('check'), switch: delta('switch'), probe: delta('probe'), settle: delta('settle'), verify: delta('verify') }).toEqual({ check: 1, switch: 1, probe: 0, settle: 1, verify: 1 });
    expect(await runOutcomes(id)).toEqual(['started', 'resumed', 'succeeded']);
    expect(await second.stop()).toBe(0);
  });

  it('SIGTERM during a step that stops on the signal: the step is left interrupted, not failed, and the next worker runs it again', async () => {
    const p = prefix();
    const bot = createBot(app, [], { queue: producer(p) });
    const hits = { ...sw.hits };
    const switches = sw.switches;
    sw.hold('settle');
    const first = await startWorkerProcess(p);
    const id = await requestSwitch(bot, { server: sw.url, target: 'node-f', abortable: true });
    await bot.actions.approve(id, 'xieping', 'en');
    await bot.actions.approve(id, 'zhangwei', 'en');
    await sw.reached('settle');
    expect(await first.stop()).toBe(0);
    expect(await stepTable(id)).toEqual([
      ['check', 'done'],
      ['switch', 'done'],
      ['settle', 'running'],
    ]);
    sw.release('settle');
    const second = await startWorkerProcess(p);
    expect(await finalStatus(id)).toBe('succeeded');
    const delta = (k: string) => (sw.hits[k] ?? 0) - (hits[k] ?? 0);
    expect(sw.switches - switches).toBe(1);
    expect({ check: delta('check'), switch: delta('switch'), settle: delta('settle'), verify: delta('verify') }).toEqual({ check: 1, switch: 1, settle: 2, verify: 1 });
    expect(await runOutcomes(id)).toEqual(['started', 'resumed', 'succeeded']);
    expect(await second.stop()).toBe(0);
  });

  it('a worker that lost its queue lock while still running gets no second run of the same action beside it', async () => {
    const p = prefix();
    const bot = createBot(app, [], { queue: producer(p) });
    const switches = sw.switches;
    sw.hold('switch-before');
    const worker = await startWorkerProcess(p);
    const id = await requestSwitch(bot, { server: sw.url, target: 'node-d' });
    await bot.actions.approve(id, 'xieping', 'en');
    await bot.actions.approve(id, 'zhangwei', 'en');
    await sw.reached('switch-before');
    // The worker is alive but its lock is gone (a long pause, Redis away longer than the lock):
    // BullMQ's stalled check hands the job out again, here to the same worker's next slot.
    const r = new Redis(redis.url);
    try {
      expect(await r.del(`${p}:warroom-actions:${id}:lock`)).toBe(1);
      await until('the job to be handed out again', async () => {
        const counts = await r.hget(`${p}:warroom-actions:${id}`, 'stc');
        return Number(counts ?? 0) >= 1;
      }, 15_000);
    } finally {
      r.disconnect();
    }
    await new Promise((res) => setTimeout(res, 1500));
    sw.release('switch-before');
    expect(await finalStatus(id)).toBe('succeeded');
    await new Promise((res) => setTimeout(res, 2500));
    expect(sw.switches - switches).toBe(1);
    expect((await runOutcomes(id)).filter((o) => o === 'started' || o === 'resumed')).toEqual(['started']);
    // The second job met the first run's lock, waited, and found the action ended.
    expect(worker.output()).toMatch(/another worker is running this action \(its queue lock lapsed\); waiting for that run to end/);
    expect(await worker.stop()).toBe(0);
  });
});

describe.runIf(runPostgres && runRedis)('more actions at once than the database pool has connections', { timeout: 120_000 }, () => {
  it('each run holds its action lock on a connection of its own: the runs do not starve their own queries', async () => {
    const sw = await startSwitchServer('node-a');
    closers.push(['switch server', () => sw.close()]);
    // A pool of 2 connections and a worker taking 6 jobs at a time.
    const small = createPostgresDb(pg.url, { max: 2 });
    const smallApp = await createTestApp(small, { clock: () => now });
    smallApp.tools.register(switchServiceTool);
    const p = prefix();
    const queue = createBullmqQueue({ url: redis.url, logger: smallApp.logger, prefix: p });
    closers.push(['small-pool database', () => small.close()]);
    closers.push(['queue ' + p, () => queue.close()]);
    const bot = createBot(smallApp, [], { queue });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      // The same target for all: they run side by side, and each verifies what it switched to.
      const id = await requestSwitch(bot, { server: sw.url, target: 'node-b' });
      await bot.actions.approve(id, 'xieping', 'en');
      await bot.actions.approve(id, 'zhangwei', 'en');
      ids.push(id);
    }
    await queue.startWorker(createActionProcessor({ app: smallApp, notifier: silentNotifier }), { concurrency: 6 });
    for (const id of ids) expect([await finalStatus(id, 20_000), (await getAction(pg.db, id))!.error]).toEqual(['succeeded', null]);
    expect(sw.switches).toBe(6);
  });
});

describe.runIf(runPostgres && runRedis)('Redis away between approval and enqueue', { timeout: 120_000 }, () => {
  it('the approval stands, the outbox keeps it, and once Redis is back the sweepers put it on the queue: it runs once', async () => {
    const sw = await startSwitchServer('node-a');
    closers.push(['switch server', () => sw.close()]);
    const p = prefix();
    const queue = createBullmqQueue({ url: redis.url, logger: app.logger, prefix: p, lockDurationMs: 2000, stalledIntervalMs: 1000 });
    closers.push(['queue ' + p, () => queue.close()]);
    const bot = createBot(app, [], { queue });
    const runtime = createActionRuntime(bot, queue);
    await runtime.startWorker();
    // A second process on the same database and queue (a `warroom worker` beside `warroom start`), sweeping too.
    const db2 = createPostgresDb(pg.url, { max: 4 });
    const app2 = await createTestApp(db2, { clock: () => now });
    app2.tools.register(switchServiceTool);
    const queue2 = createBullmqQueue({ url: redis.url, logger: app2.logger, prefix: p });
    const bot2 = createBot(app2, [], { queue: queue2 });
    const runtime2 = createActionRuntime(bot2, queue2);
    closers.push(['second runtime', async () => {
      await runtime2.stop();
      await db2.close();
    }]);

    const one = await requestSwitch(bot, { server: sw.url, target: 'node-b' });
    const two = await requestSwitch(bot2, { server: sw.url, target: 'node-b' });
    await bot.actions.approve(one, 'xieping', 'en');
    await bot2.actions.approve(two, 'xieping', 'en');

    await redis.stop();
    const t0 = Date.now();
    // The approval that completes each request is recorded even though the queue is away.
    expect(await say(bot, 'zhangwei', `/action approve ${one}`)).toMatch(/Approved .* \(2\/2\); it runs next/);
    expect((await bot2.actions.approve(two, 'zhangwei', 'en')).complete).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000);
    for (const id of [one, two]) expect((await getAction(pg.db, id))!.status).toBe('approved');
    const outbox = await pg.db.query<{ action_id: string; attempts: number; last_error: string | null }>('SELECT action_id, attempts, last_error FROM action_outbox ORDER BY action_id');
    expect(outbox.map((r) => r.action_id)).toEqual([one, two].sort());
    for (const row of outbox) {
      expect(row.attempts).toBeGreaterThanOrEqual(1);
      expect(row.last_error).toBeTruthy();
    }
    // Both processes sweep while Redis is away: nothing is lost, nothing runs.
    runtime.startSweeper(200);
    runtime2.startSweeper(200);
    await new Promise((r) => setTimeout(r, 800));
    expect(sw.switches).toBe(0);
    expect((await pg.db.query('SELECT action_id FROM action_outbox')).length).toBe(2);

    await redis.start();
    expect(await finalStatus(one)).toBe('succeeded');
    expect(await finalStatus(two)).toBe('succeeded');
    expect((await pg.db.query('SELECT action_id FROM action_outbox')).length).toBe(0);

    // Swept again, enqueued again by hand, by both processes: the job id is the action id, so nothing runs again.
    await Promise.all([bot.actions.sweepOutbox(), bot2.actions.sweepOutbox(), queue.enqueue(one), queue2.enqueue(one), queue.enqueue(two), bot2.actions.enqueueApproved(two)]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(sw.switches).toBe(2);
    expect(sw.hits['switch']).toBe(2);
    for (const id of [one, two]) {
      expect(await runOutcomes(id)).toEqual(['started', 'succeeded']);
      const job = await queue.queue.getJob(id);
      expect(job?.id).toBe(id);
      expect(await job?.getState()).toBe('completed');
    }
    expect(await queue.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 2, failed: 0 });
    await runtime.stop();
  });
});

describe.runIf(runPostgres && runRedis)('closing the queue around a Redis outage', { timeout: 120_000 }, () => {
  it('a worker closed just as Redis comes back (its connection still reconnecting) still closes', async () => {
    const queue = createBullmqQueue({ url: redis.url, logger: app.logger, prefix: prefix() });
    await queue.startWorker(createActionProcessor({ app, notifier: silentNotifier }));
    await redis.stop();
    try {
      // Long enough for the connections' retries to back off to their longest wait.
      await new Promise((r) => setTimeout(r, 7000));
    } finally {
      await redis.start();
    }
    const t0 = Date.now();
    const closed = await Promise.race([queue.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still closing after 20 s'), 20_000))]);
    expect(closed).toBe('closed');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

/** A chat platform that keeps what the bot posts, with rooms whose messages carry buttons. */
function recordingPlatform(): ChatPlatform & { posts: Array<{ room: string; message: OutgoingMessage }> } {
  const posts: Array<{ room: string; message: OutgoingMessage }> = [];
  let n = 0;
  return {
    name: 'local',
    posts,
    userIdOf: (p) => p.id,
    async createRoom(spec) {
      return { platform: 'local', id: spec.name };
    },
    async invite() {},
    async post(room: RoomRef, message: OutgoingMessage): Promise<MessageRef> {
      posts.push({ room: room.id, message });
      return { platform: 'local', roomId: room.id, id: `m${++n}` };
    },
    async update() {},
    async pin() {
      return false;
    },
    async setTopic() {
      return false;
    },
    async sendDirect(userId: string, message: OutgoingMessage) {
      posts.push({ room: `dm:${userId}`, message });
      return { platform: 'local', roomId: `dm:${userId}`, id: `m${++n}` };
    },
    statusRoom: () => undefined,
  };
}

describe.runIf(runPostgres && runRedis)('decisions on real PostgreSQL, from two processes', { timeout: 120_000 }, () => {
  let bot1: Bot;
  let bot2: Bot;
  let sw: SwitchServer;
  let runs: string[];
  let queue1: BullmqActionQueue;
  beforeAll(async () => {
    sw = await startSwitchServer('node-a');
    closers.push(['switch server', () => sw.close()]);
    const p = prefix();
    queue1 = createBullmqQueue({ url: redis.url, logger: app.logger, prefix: p });
    closers.push(['queue ' + p, () => queue1.close()]);
    const platform = recordingPlatform();
    bot1 = createBot(app, [platform], { queue: queue1 });
    const db2 = createPostgresDb(pg.url, { max: 4 });
    const app2 = await createTestApp(db2, { clock: () => now });
    app2.tools.register(switchServiceTool);
    bot2 = createBot(app2, [platform], { queue: producer(p, app2) });
    closers.push(['second database pool', () => db2.close()]);
    // One worker; every job it is handed is counted.
    runs = [];
    const processor = createActionProcessor({ app, notifier: silentNotifier });
    await queue1.startWorker(async (job, token, signal) => {
      runs.push(job.data.actionId);
      return processor(job, token, signal);
    });
  });

  it('two approvals pressed at the same moment in two processes yield one job and one run', async () => {
    for (let i = 0; i < 5; i++) {
      const id = await requestSwitch(bot1, { server: sw.url, target: `node-${i}` });
      expect(await say(bot1, 'xieping', `/action approve ${id}`)).toMatch(/recorded \(1\/2\); it needs 1 more/);
      const answers = await Promise.all([say(bot1, 'zhangwei', `/action approve ${id}`), say(bot2, 'liuyang', `/action approve ${id}`)]);
      expect(answers.filter((a) => /Approved .* \(2\/2\); it runs next/.test(a))).toHaveLength(1);
      expect(answers.filter((a) => /is (approved|queued|running|succeeded): it no longer takes decisions/.test(a))).toHaveLength(1);
      expect(await finalStatus(id)).toBe('succeeded');
      expect((await getAction(pg.db, id))!.approvals).toHaveLength(2);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(new Set(runs).size).toBe(5);
    expect(runs).toHaveLength(5);
    expect(sw.switches).toBe(5);
  });

  it('refuses self-approval, an approver the policy does not list, a stranger, the same approver twice and an expired request', async () => {
    const id = await requestSwitch(bot1, { server: sw.url, target: 'node-x' });
    expect(await say(bot1, 'songkai', `/action approve ${id}`)).toMatch(/requester never approves their own request/);
    expect(await say(bot2, 'chenjing', `/action approve ${id}`)).toMatch(/You cannot approve ACT-.*: under approvals\.approve\.default only/);
    expect(await say(bot1, 'mallory', `/action approve ${id}`)).toMatch(/not known to Warroom/);
    expect(await say(bot1, 'xieping', `/action approve ${id}`)).toMatch(/recorded \(1\/2\)/);
    expect(await say(bot2, 'xieping', `/action approve ${id}`)).toMatch(/already approved/);
    expect((await getAction(pg.db, id))!).toMatchObject({ status: 'pending', approvals: [{ by: 'xieping' }] });
    const denied = await pg.db.query<{ actor: string }>("SELECT actor FROM audit_log WHERE target = $1 AND outcome = 'denied' ORDER BY id", [id]);
    expect(denied.map((r) => r.actor)).toEqual(['songkai', 'chenjing', 'cli:mallory', 'xieping']);

    const late = await requestSwitch(bot1, { server: sw.url, target: 'node-y' });
    now = new Date(DEMO_NOW.getTime() + 31 * 60_000);
    try {
      expect(await say(bot2, 'xieping', `/action approve ${late}`)).toMatch(/expired at .* and did not run/);
      expect(await say(bot1, 'zhangwei', `/action approve ${late}`)).toMatch(/is expired: it no longer takes decisions/);
    } finally {
      now = DEMO_NOW;
    }
    expect((await getAction(pg.db, late))!.status).toBe('expired');
    expect((await verifyAuditChain(pg.db)).ok).toBe(true);
  });

  it('a button payload naming another room’s request is refused and audited; the same button in its own room counts', async () => {
    const a = await bot1.actions.request({ tool: 'switch_service', input: { server: sw.url, target: 'node-z' }, requestedBy: 'songkai', room: { platform: 'local', id: 'room-a' }, lang: 'en' });
    const press = (room: string, user = 'xieping'): ChatEvent => ({ kind: 'action', platform: 'local', userId: user, room: { platform: 'local', id: room, kind: 'channel' }, actionId: ACTION_BUTTONS.approve, value: a.id, at: DEMO_NOW });
    const text = async (bot: Bot, e: ChatEvent) => (await bot.handle(e)).map((r) => renderText(r.message)).join('\n');
    expect(await text(bot2, press('room-b'))).toMatch(/That button does not belong to a request of this room \(ACT-.*\); refused/);
    expect((await getAction(pg.db, a.id))!.approvals).toEqual([]);
    const audit = await pg.db.query<{ actor: string; outcome: string; detail: { reason: string; room: string } }>("SELECT actor, outcome, detail FROM audit_log WHERE target = $1 AND action LIKE 'action.button:%'", [a.id]);
    expect(audit).toEqual([{ actor: 'xieping', outcome: 'denied', detail: expect.objectContaining({ reason: 'other-room', room: 'room-b' }) }]);
    expect(await text(bot1, press('room-a'))).toMatch(/Your approval of ACT-.* is recorded \(1\/2\)/);
    expect((await getAction(pg.db, a.id))!.approvals.map((x) => x.by)).toEqual(['xieping']);
  });
});

describe.runIf(runPostgres && runRedis)('`warroom worker` as a process', { timeout: 120_000 }, () => {
  const cli = (env: NodeJS.ProcessEnv) => runProcess(process.execPath, ['--import', tsx, join(packageRoot, 'cli', 'main.ts'), 'worker'], { cwd: packageRoot, env: { ...process.env, WARROOM_HOME: home, LOG_LEVEL: '', ...env }, timeoutMs: 60_000 });

  /** `warroom worker` (cli/main.ts) on the test database and Redis, once it says it runs. */
  async function startWarroomWorker(): Promise<{ child: ChildProcess; output(): string; exited: Promise<number | null> }> {
    const child = spawn(process.execPath, ['--import', tsx, join(packageRoot, 'cli', 'main.ts'), 'worker'], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: pg.url, REDIS_URL: redis.url, WARROOM_HOME: home, LOG_LEVEL: 'info', WARROOM_CLOCK: DEMO_NOW.toISOString() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    closers.push(['warroom worker process', async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }]);
    await until('the worker to report', async () => {
      if (child.exitCode !== null) throw new Error(`warroom worker exited early (${child.exitCode}):\n${out}`);
      return out.includes('Warroom worker running');
    }, 60_000);
    return { child, output: () => out, exited };
  }

  it('refuses to start without REDIS_URL or without DATABASE_URL, saying what to set', async () => {
    const noRedis = await cli({ REDIS_URL: '', DATABASE_URL: pg.url });
    expect(noRedis.code).not.toBe(0);
    expect(noRedis.stderr).toMatch(/warroom worker needs REDIS_URL/);
    expect(noRedis.stderr).toMatch(/Set REDIS_URL/);
    const noPg = await cli({ REDIS_URL: redis.url, DATABASE_URL: '' });
    expect(noPg.code).not.toBe(0);
    expect(noPg.stderr).toMatch(/warroom worker needs DATABASE_URL/);
  });

  it('picks up an approved action from the queue, runs it through its processor, and stops on SIGTERM', async () => {
    // No shipped high-risk tool yet on this branch and no way to give the process the test's tool:
    // the worker takes the job, runs the processor, and ends the action failed with the reason.
    const bot = createBot(app, [], { queue: producer('warroom') });
    const sw = await startSwitchServer('node-a');
    closers.push(['switch server', () => sw.close()]);
    const { child, output, exited } = await startWarroomWorker();
    expect(output()).toMatch(new RegExp(`Warroom worker running \\(4 at a time\\) on the queue at ${redis.url.replace('redis://', '')}`));

    const id = await requestSwitch(bot, { server: sw.url, target: 'node-b' });
    await bot.actions.approve(id, 'xieping', 'en');
    await bot.actions.approve(id, 'zhangwei', 'en');
    expect(await finalStatus(id)).toBe('failed');
    expect((await getAction(pg.db, id))!.error).toMatch(/unknown tool; known tools: /);
    expect(await runOutcomes(id)).toEqual(['started', 'failed']);
    expect(sw.hits).toEqual({});

    const t0 = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(output()).toMatch(/worker shutting down/);
  });

  it('stops on SIGTERM while Redis is away, instead of waiting for it for ever', async () => {
    const { child, output, exited } = await startWarroomWorker();
    await redis.stop();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const t0 = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(20_000);
      // Either BullMQ's own close gives up on the lost connection, or the queue stops waiting for it
      // (then it says so); what matters is that the worker stops, cleanly and soon.
      expect(output()).toMatch(/worker shutting down/);
    } finally {
      await redis.start();
    }
  });
});
