/**
 * Approved-actions benchmark (issue 12, "Measured"): approval → job start latency on Redis, and jobs/s
 * through one worker.
 *
 * In one process, over the demo data: the bot's ActionService with the BullMQ queue (REDIS_URL, a key
 * prefix of its own, removed afterwards), the action processor with the bot's notifier at the configured
 * concurrency (WARROOM_WORKER_CONCURRENCY, default 4), and the outbox sweeper, as `warroom start` runs
 * them. The action is a no-op `write` tool with one step (one approver).
 *   approval → job start: N actions one at a time; from calling approve() (the approval that completes
 *                         the request) to the processor starting the tool's first step; also when
 *                         approve() returned and when the worker called the processor;
 *   throughput:           M approved actions waiting on the queue, then the worker started: time until
 *                         every one has succeeded;
 *   raw BullMQ (peer):    in the same run, M jobs with an empty processor on a queue of their own on the
 *                         same Redis, one worker at the same concurrency: the ceiling of the queue itself,
 *                         so the actions' jobs/s reads as a share of it.
 *
 *   node --import tsx bench/actions-bench.ts [--actions 200] [--throughput 500] [--concurrency N]
 *
 * Needs DATABASE_URL (a scratch database, dropped afterwards) and REDIS_URL; `npm run bench` starts
 * both. Percentiles are nearest-rank. Prints figures; exits non-zero only if the benchmark could not run.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { createApp } from '../app/create-app.js';
import { createActionNotifier } from '../bot/actions/notifier.js';
import { createBot, type Bot } from '../bot/bot.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import type { Db } from '../db/db.js';
import { loadDemo } from '../db/demo.js';
import { defineTool, stepsOf } from '../tools/tool.js';
import type { App } from '../tools/services.js';
import { createBullmqQueue, type BullmqActionQueue } from '../workers/bullmq-queue.js';
import { createActionProcessor } from '../workers/processor.js';
import { withBenchDatabase } from './bench-db.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive whole number, got ${process.argv[i + 1] ?? 'nothing'}`);
  return v;
}

const N = arg('actions', 200);
const M = arg('throughput', 500);
const WARM = 10;
const TARGET_P95_MS = 250;
/** The demo's "current" moment; the bench clock runs on from it. */
const DEMO_NOW = new Date('2026-11-23T09:40:00+08:00');

const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${ms(percentile(s, 50))}, p95 ${ms(percentile(s, 95))}, max ${ms(s.at(-1) ?? Number.NaN)}`;
};

/** When each action's processor was called, its first step started, and it ended. */
const marks = new Map<string, { called?: number; step?: number; ended?: number }>();
const mark = (id: string, k: 'called' | 'step' | 'ended') => {
  const m = marks.get(id) ?? {};
  m[k] ??= performance.now();
  marks.set(id, m);
};
const waiters = new Map<string, () => void>();

const noopTool = defineTool({
  name: 'bench_noop',
  description: 'does nothing (actions benchmark)',
  risk: 'write',
  input: z.object({ n: z.number().int() }),
  output: z.object({ n: z.number().int() }),
  async plan(input) {
    return { summary: `No-op ${input.n}`, steps: [{ id: 'noop', title: 'Nothing' }] };
  },
  async run(input, ctx) {
    await stepsOf(ctx)({ id: 'noop', title: 'Nothing', idempotent: true }, async () => {
      if (ctx.approvedActionId) mark(ctx.approvedActionId, 'step');
    });
    return { data: { n: input.n }, summary: `No-op ${input.n} done` };
  },
});

interface Rig {
  app: App;
  bot: Bot;
  queue: BullmqActionQueue;
  stop(): Promise<void>;
}

async function rig(app: App, url: string, prefix: string, concurrency: number, startWorker: boolean): Promise<Rig & { start(): Promise<void> }> {
  const queue = createBullmqQueue({ url, logger: app.logger, prefix });
  const bot = createBot(app, [], { queue });
  // What createActionRuntime's startWorker runs, with the processor's call and end marked.
  const processor = createActionProcessor({ app, notifier: createActionNotifier(bot) });
  const start = () =>
    queue.startWorker(
      async (job, token, signal) => {
        mark(job.data.actionId, 'called');
        const r = await processor(job, token, signal);
        mark(job.data.actionId, 'ended');
        waiters.get(job.data.actionId)?.();
        return r;
      },
      { concurrency },
    );
  if (startWorker) await start();
  // The outbox sweeper of `warroom start` (every 2 s): here it finds nothing, as the approval enqueues at once.
  const sweeper = setInterval(() => void bot.actions.sweepOutbox().catch(() => undefined), 2000);
  return {
    app,
    bot,
    queue,
    start,
    async stop() {
      clearInterval(sweeper);
      await queue.queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}

const ended = (id: string) =>
  new Promise<void>((resolve, reject) => {
    if (marks.get(id)?.ended !== undefined) return resolve();
    const timer = setTimeout(() => reject(new Error(`${id} did not finish within 30 s`)), 30_000);
    waiters.set(id, () => {
      clearTimeout(timer);
      waiters.delete(id);
      resolve();
    });
  });

async function request(bot: Bot, n: number): Promise<string> {
  return (await bot.actions.request({ tool: 'bench_noop', input: { n }, requestedBy: 'songkai', lang: 'en' })).id;
}

async function run(db: Db, kind: string, redisUrl: string): Promise<void> {
  const started = Date.now();
  const clock = () => new Date(DEMO_NOW.getTime() + (Date.now() - started));
  const config = loadConfig({ WARROOM_HOME: '/nonexistent' });
  const app = await createApp(config, { db, logger: createLogger('silent'), clock });
  await loadDemo(db, app.calendar, { shift: false });
  app.tools.register(noopTool);
  const concurrency = arg('concurrency', config.WARROOM_WORKER_CONCURRENCY);
  const prefix = `warroom-bench-${randomBytes(4).toString('hex')}`;
  console.log(`actions bench: ${kind}; Redis ${new URL(redisUrl).host} (prefix ${prefix}, removed afterwards); worker in this process, concurrency ${concurrency}; no-op write action, 1 step, 1 approver`);

  // 1. Approval → job start, one action at a time.
  const latency = await rig(app, redisUrl, `${prefix}-a`, concurrency, true);
  try {
    const total: number[] = [];
    const approveCall: number[] = [];
    const pickup: number[] = [];
    const stepToEnd: number[] = [];
    for (let i = 0; i < WARM + N; i++) {
      const id = await request(latency.bot, i);
      const done = ended(id);
      const t0 = performance.now();
      const { complete } = await latency.bot.actions.approve(id, 'xieping', 'en');
      const returned = performance.now();
      if (!complete) throw new Error(`${id}: one approval did not complete it`);
      await done;
      const m = marks.get(id)!;
      if (m.step === undefined || m.called === undefined || m.ended === undefined) throw new Error(`${id}: the tool's step never started`);
      if (i < WARM) continue;
      total.push(m.step - t0);
      approveCall.push(returned - t0);
      pickup.push(m.called - t0);
      stepToEnd.push(m.ended - m.step);
    }
    const statuses = await db.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM action_requests WHERE tool = 'bench_noop' GROUP BY status");
    console.log(`approval → first step, ${N} actions one at a time (+${WARM} warm-up): ${spread(total)}`);
    console.log(`  approve() returned after ${spread(approveCall)} (decision, outbox, enqueue, queued)`);
    console.log(`  worker called the processor after ${spread(pickup)}`);
    console.log(`  first step → action ended: ${spread(stepToEnd)}`);
    console.log(`  actions by status: ${statuses.map((s) => `${s.status} ${s.n}`).join(', ')}`);
    const p95 = percentile([...total].sort((a, b) => a - b), 95);
    console.log(`target (p95 approval → job start < ${TARGET_P95_MS} ms): ${p95 < TARGET_P95_MS ? 'MET' : 'NOT MET'} — p95 ${ms(p95)}`);
  } finally {
    await latency.stop();
  }

  // 2. Throughput: M approved actions on the queue, then one worker.
  const through = await rig(app, redisUrl, `${prefix}-t`, concurrency, false);
  try {
    const ids: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < M; i++) {
      const id = await request(through.bot, 100_000 + i);
      await through.bot.actions.approve(id, 'xieping', 'en');
      ids.push(id);
    }
    const queuedMs = performance.now() - t0;
    const waiting = await through.queue.queue.getWaitingCount();
    const all = Promise.all(ids.map(ended));
    const t1 = performance.now();
    await through.start();
    await all;
    const runMs = performance.now() - t1;
    const ok = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM action_requests WHERE id = ANY($1) AND status = 'succeeded'", [ids]))[0]!.n;
    const perAction = ids.map((id) => marks.get(id)!).map((m) => m.ended! - m.called!);
    console.log(`throughput: ${M} approved no-op actions (${waiting} waiting on the queue; requested and approved in ${(queuedMs / 1000).toFixed(1)} s, ${Math.round(M / (queuedMs / 1000))}/s)`);
    console.log(`  one worker, concurrency ${concurrency}: all ended in ${(runMs / 1000).toFixed(2)} s = ${(M / (runMs / 1000)).toFixed(0)} jobs/s; succeeded ${ok} of ${M}; per job (processor call → end) ${spread(perAction)}`);
    const raw = await rawBullmq(redisUrl, `${prefix}-raw`, concurrency, M);
    const actionsRate = M / (runMs / 1000);
    console.log(`  peer: raw BullMQ, ${M} jobs with an empty processor, one worker, concurrency ${concurrency}: ${raw.toFixed(0)} jobs/s — the actions reach ${Math.round((actionsRate / raw) * 100)} % of it`);
  } finally {
    await through.stop();
  }
}

/** Jobs/s of BullMQ alone on the same Redis: M jobs added in bulk, then a worker with an empty processor. */
async function rawBullmq(redisUrl: string, prefix: string, concurrency: number, m: number): Promise<number> {
  const producer = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const consumer = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-raw', { connection: producer, prefix });
  try {
    await queue.addBulk(Array.from({ length: m }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true } })));
    let done = 0;
    let finish!: () => void;
    const all = new Promise<void>((resolve) => (finish = resolve));
    const t0 = performance.now();
    const worker = new Worker('bench-raw', async () => undefined, { connection: consumer, prefix, concurrency });
    worker.on('completed', () => {
      if (++done === m) finish();
    });
    await all;
    const seconds = (performance.now() - t0) / 1000;
    await worker.close();
    return m / seconds;
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    producer.disconnect();
    consumer.disconnect();
  }
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!url || !redisUrl) {
    console.log('actions bench: skipped — it needs DATABASE_URL and REDIS_URL (`npm run bench` starts both)');
    return;
  }
  await withBenchDatabase(url, (db) => run(db, `PostgreSQL (scratch database on ${new URL(url).host}, dropped afterwards)`, redisUrl));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
