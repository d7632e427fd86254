/**
 * Declaration benchmark: the issue's target is "declare → room created, members invited, card posted
 * in under 2 s at p95 with a Web API that answers in 50 ms, 20 declarations at once".
 *
 * End to end, in one process: the local Slack Web API stand-in (every answer delayed by --latency-ms),
 * Warroom started with `startWarroom` (timers off) over the demo data and the shipped runbooks, and N
 * correctly signed `/incident declare P1 <system> <title>` slash commands sent at the same moment over
 * real HTTP to /slack/events, spread over the demo systems, each from its own origin channel and its own
 * declarer. For each declaration it measures, on the stand-in's clock of arrival:
 *   declare → card pinned: from sending the slash command to the arrival of the pins.add of the card in
 *                          the new channel (the last call of room → invite → topic → card → pin);
 *   ack:                   the HTTP answer to the slash command (Slack's 3 s; our target: p99 < 100 ms);
 * and the arrival of every step, so the slowest step shows. The floor, in the same run on the same
 * server: the ack of the same endpoint for N signed slash commands at once that no listener handles
 * (they pass signature check, acknowledgement and the replay claim, and do no declaration work). A declaration missing any step (channel,
 * invitation, topic, card, pin, status announcement, reply in the origin channel) counts as failed and
 * is listed; it is not left out silently.
 *
 *   node --import tsx bench/declare-bench.ts [--concurrency 20] [--rounds 3] [--latency-ms 50] [--no-in-process]
 *
 * Stores, one after the other in the same run: PGlite in a worker thread (as `warroom start`/`demo` open
 * it), PGlite in this thread (the old way, as the peer that shows what the worker buys; skipped with
 * --no-in-process), and PostgreSQL when DATABASE_URL is set (a scratch database, dropped afterwards).
 * Percentiles are nearest-rank (p95 of 20 is the 19th fastest). Prints figures; exits non-zero only
 * if the benchmark could not run.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { type App } from '../tools/services.js';
import { createApp } from '../app/create-app.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { shippedRunbooksDir } from '../core/paths.js';
import type { Db } from '../db/db.js';
import { loadDemo } from '../db/demo.js';
import { migrate } from '../db/migrate.js';
import { createPgliteDb } from '../db/pglite.js';
import { createPgliteWorkerDb } from '../db/pglite-worker.js';
import { ingestRunbooks } from '../knowledge/ingest.js';
import { startWarroom, type RunningWarroom } from '../app/warroom.js';
import { signSlackRequest, slashCommandBody, startSlackStandin, type SlackStandin, type SlackStandinCall } from '../test/helpers/slack-standin.js';
import { withBenchDatabase } from './bench-db.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0 || (name !== 'latency-ms' && v < 1)) throw new Error(`--${name} needs a number, got ${process.argv[i + 1] ?? 'nothing'}`);
  return v;
}

const CONCURRENCY = arg('concurrency', 20);
const ROUNDS = arg('rounds', 3);
const LATENCY_MS = arg('latency-ms', 50);
const TARGET_P95_MS = 2000;
const TARGET_ACK_P99_MS = 100;
const IN_PROCESS = !process.argv.includes('--no-in-process');
/** How long a declaration may take before it is counted as failed (timed out). */
const TIMEOUT_MS = 30_000;

const SECRET = 'bench-signing-secret-0123456789abcdef';
const STATUS = 'C0STATUS01';
/** The demo's "current" moment (Monday 2026-11-23, ten minutes after the open); the bench clock runs on from it. */
const DEMO_NOW = new Date('2026-11-23T09:40:00+08:00');

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a');

interface Declaration {
  label: string;
  system: { id: string; name: string };
  declarer: { id: string; slack: string };
  origin: string;
  title: string;
  /** Date.now() just before the request was handed to fetch (the stand-in records arrivals on the same clock). */
  sentAt: number;
  ackMs: number;
  ackStatus: number;
}

interface Outcome {
  decl: Declaration;
  incident?: string;
  failures: string[];
  /** ms after sentAt, per step (arrival at the stand-in). */
  steps: Partial<Record<'create' | 'invite' | 'topic' | 'card' | 'announce' | 'pin' | 'reply', number>>;
  /** declare → card pinned (pins.add arrival). */
  pinnedMs?: number;
  apiCalls: number;
}

interface Bench {
  db: Db;
  app: App;
  standin: SlackStandin;
  warroom: RunningWarroom;
  url: string;
  systems: Array<{ id: string; name: string }>;
  people: Array<{ id: string; slack: string }>;
}

async function setUp(db: Db): Promise<Bench> {
  const standin = await startSlackStandin({ latencyMs: LATENCY_MS });
  standin.addChannel({ id: STATUS, name: 'incident-status' });
  const config = loadConfig({
    WARROOM_HOME: '/nonexistent',
    SLACK_BOT_TOKEN: standin.token,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: standin.url,
    SLACK_STATUS_CHANNEL: STATUS,
  });
  const started = Date.now();
  const app = await createApp(config, { db, logger: createLogger('silent'), clock: () => new Date(DEMO_NOW.getTime() + (Date.now() - started)) });
  await loadDemo(db, app.calendar, { shift: false });
  const ingest = await ingestRunbooks(db, shippedRunbooksDir, app.embedder);
  if (ingest.errors.length) throw new Error(`runbook ingest failed: ${ingest.errors[0]!.file}: ${ingest.errors[0]!.message}`);
  const systems = await db.query<{ id: string; name: string }>('SELECT id, name FROM systems ORDER BY id');
  // Declarers who may declare a P1 on any system (the policy: the system's on-call, an incident commander or a duty manager).
  const people = await db.query<{ id: string; slack: string }>(
    "SELECT id, slack FROM people WHERE slack IS NOT NULL AND roles && ARRAY['incident-commander', 'duty-manager']::text[] ORDER BY id",
  );
  if (!systems.length || !people.length) throw new Error('the demo data has no systems or no incident commander or duty manager with a Slack id');
  const warroom = await startWarroom(app, { port: 0, timers: false });
  return { db, app, standin, warroom, url: `http://127.0.0.1:${warroom.port}/slack/events`, systems, people };
}

async function tearDown(b: Partial<Bench>): Promise<void> {
  await b.warroom?.close();
  await b.standin?.close();
}

/** Build the declarations of one round (origin channels included), then send them all in the same tick. */
async function declareAll(b: Bench, label: string, n: number, offset: number): Promise<Declaration[]> {
  const prepared = Array.from({ length: n }, (_, i) => {
    const system = b.systems[(offset + i) % b.systems.length]!;
    const declarer = b.people[(offset + i) % b.people.length]!;
    const origin = b.standin.addChannel({ name: `ops-${label}-${i + 1}`, members: [declarer.slack] });
    const title = `开盘委托大量失败 基准${label}-${i + 1}`;
    const request = slashCommandBody({ command: '/incident', text: `declare P1 ${system.name} ${title}`, userId: declarer.slack, userName: declarer.id, channelId: origin.id, channelName: origin.name });
    const headers = { 'content-type': request.contentType, ...signSlackRequest(SECRET, request.body) };
    return { decl: { label: `${label}-${i + 1}`, system, declarer, origin: origin.id, title, sentAt: 0, ackMs: Number.NaN, ackStatus: 0 } as Declaration, request, headers };
  });
  await Promise.all(
    prepared.map(async ({ decl, request, headers }) => {
      decl.sentAt = Date.now();
      const t0 = performance.now();
      try {
        const res = await fetch(b.url, { method: 'POST', headers, body: request.body });
        await res.text();
        decl.ackStatus = res.status;
      } catch {
        decl.ackStatus = 0;
      }
      decl.ackMs = performance.now() - t0;
    }),
  );
  return prepared.map((p) => p.decl);
}

/**
 * The floor: `n` signed slash commands at once that no listener handles (`/warroom-bench-floor`), the
 * ack time of each. They take the same path up to the acknowledgement (HTTP, signature, Bolt, the
 * replay middleware, which acks first and then claims the request in the store) and then do nothing.
 */
async function floorAcks(b: Bench, n: number, label: string): Promise<number[]> {
  const origin = b.standin.addChannel({ name: `floor-${label}`, members: [b.people[0]!.slack] });
  const requests = Array.from({ length: n }, (_, i) => {
    const request = slashCommandBody({ command: '/warroom-bench-floor', text: `ping ${label}-${i}`, userId: b.people[0]!.slack, userName: b.people[0]!.id, channelId: origin.id, channelName: origin.name });
    return { request, headers: { 'content-type': request.contentType, ...signSlackRequest(SECRET, request.body) } };
  });
  return Promise.all(
    requests.map(async ({ request, headers }) => {
      const t0 = performance.now();
      const res = await fetch(b.url, { method: 'POST', headers, body: request.body });
      await res.text();
      if (res.status !== 200) throw new Error(`floor request answered HTTP ${res.status}`);
      return performance.now() - t0;
    }),
  );
}

const replyOf = (b: Bench, d: Declaration): SlackStandinCall | undefined =>
  b.standin.calls.find((c) => (c.method === 'chat.postMessage' || c.method === 'chat.postEphemeral') && c.body.channel === d.origin);

/** Wait until every declaration has answered in its origin channel (the flow's very end), or the timeout. */
async function awaitFlows(b: Bench, decls: Declaration[]): Promise<void> {
  const until = Date.now() + TIMEOUT_MS;
  while (Date.now() < until && decls.some((d) => !replyOf(b, d))) await new Promise((r) => setTimeout(r, 10));
  // Let the answers to the last calls land, and anything still in flight finish.
  await b.warroom.platforms.settled();
}

async function outcomeOf(b: Bench, d: Declaration): Promise<Outcome> {
  const out: Outcome = { decl: d, failures: [], steps: {}, apiCalls: 0 };
  const after = (c: SlackStandinCall | undefined) => (c ? c.at - d.sentAt : undefined);
  // A step is done by its first successful call (a 429 answered by a retry is slow, not failed).
  const okCall = (cs: Array<SlackStandinCall | undefined>, step: string): SlackStandinCall | undefined => {
    const tried = cs.filter((c): c is SlackStandinCall => c !== undefined);
    const ok = tried.find((c) => !c.error && c.status === 200);
    if (!tried.length) out.failures.push(`no ${step}`);
    else if (!ok) out.failures.push(`${step}: ${tried.at(-1)!.error ?? tried.at(-1)!.status}`);
    return ok;
  };
  if (d.ackStatus !== 200) out.failures.push(`ack: HTTP ${d.ackStatus || 'error'}`);

  const [row] = await b.db.query<{ id: string }>('SELECT id FROM incidents WHERE title = $1', [d.title]);
  const inOrigin = b.standin.calls.filter((c) => c.body.channel === d.origin);
  for (const e of inOrigin.filter((c) => c.method === 'chat.postEphemeral')) out.failures.push(`error reply: ${String(e.body.text).slice(0, 120)}`);
  if (!row) {
    if (!out.failures.length) out.failures.push(inOrigin.length ? 'no incident recorded' : 'no incident recorded, no reply');
    return out;
  }
  out.incident = row.id;
  const replies = inOrigin.filter((c) => c.method === 'chat.postMessage' && String(c.body.text ?? '').includes(row.id));
  const reply = okCall(replies, 'reply in the origin channel');
  out.steps.reply = after(reply);
  const replyText = reply ? String(reply.body.text ?? '') : '';
  if (replyText.includes('⚠️')) out.failures.push(`warnings: ${replyText.split('\n').filter((l) => l.includes('⚠️')).join(' | ').slice(0, 160)}`);

  const prefix = `${row.id.toLowerCase()}-`;
  const creates = b.standin.callsOf('conversations.create').filter((c) => String(c.body.name).startsWith(prefix));
  // name_taken answers are part of the flow (it tries the next name), so the step is the successful create.
  const created = okCall(creates, 'conversations.create');
  out.steps.create = after(created);
  const room = created ? b.standin.channelByName(String(created.body.name)) : undefined;
  const announces = b.standin.calls.filter((c) => c.method === 'chat.postMessage' && c.body.channel === STATUS && String(c.body.text ?? '').includes(row.id));
  out.steps.announce = after(okCall(announces, 'status announcement'));
  out.apiCalls = creates.length + announces.length + b.standin.calls.filter((c) => c.body.channel === d.origin).length;
  if (!room) {
    if (created) out.failures.push('channel missing');
    return out;
  }
  const inRoom = b.standin.calls.filter((c) => c.body.channel === room.id);
  out.apiCalls += inRoom.length;
  const invites = inRoom.filter((c) => c.method === 'conversations.invite');
  out.steps.invite = after(okCall(invites, 'conversations.invite'));
  if (room.members.size < 2) out.failures.push('nobody invited');
  out.steps.topic = after(okCall(inRoom.filter((c) => c.method === 'conversations.setTopic'), 'conversations.setTopic'));
  out.steps.card = after(okCall(inRoom.filter((c) => c.method === 'chat.postMessage'), 'card (chat.postMessage)'));
  const pin = okCall(inRoom.filter((c) => c.method === 'pins.add'), 'pins.add');
  const card = room.messages[0];
  if (pin && !(card && room.pins.includes(card.ts))) out.failures.push('card not pinned');
  if (!out.failures.length && pin) out.pinnedMs = pin.at - d.sentAt;
  out.steps.pin = after(pin);
  return out;
}

function summary(outcomes: Outcome[]): string {
  const pinned = outcomes.flatMap((o) => (o.pinnedMs === undefined ? [] : [o.pinnedMs])).sort((a, b) => a - b);
  const acks = outcomes.map((o) => o.decl.ackMs).filter(Number.isFinite).sort((a, b) => a - b);
  const failed = outcomes.filter((o) => o.failures.length).length;
  return (
    `declare→card pinned p50 ${ms(percentile(pinned, 50))}, p95 ${ms(percentile(pinned, 95))}, max ${ms(pinned.at(-1) ?? Number.NaN)}` +
    `;  ack p50 ${ms(percentile(acks, 50))}, p95 ${ms(percentile(acks, 95))}, p99 ${ms(percentile(acks, 99))};  failed ${failed} of ${outcomes.length}`
  );
}

/** One store's figures, for the closing table. */
interface StoreResult {
  store: string;
  ack: { p50: number; p95: number; p99: number };
  floorP99: number;
  pinnedP95: number;
  failed: number;
  total: number;
  loopP99: number;
}

async function run(db: Db, kind: string, store: string): Promise<StoreResult> {
  const b: Partial<Bench> = {};
  try {
    Object.assign(b, await setUp(db));
    const bench = b as Bench;
    console.log(
      `declare bench: ${kind}; Web API stand-in latency ${LATENCY_MS} ms per call; ${CONCURRENCY} declarations at once × ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}` +
        ` (+1 warm-up); ${bench.systems.length} demo systems, ${bench.people.length} declarers`,
    );

    // Warm-up: one declaration, not counted.
    const warm = await declareAll(bench, 'w', 1, 0);
    await awaitFlows(bench, warm);
    const warmOut = await outcomeOf(bench, warm[0]!);
    console.log(
      `warm-up     declare→card pinned ${ms(warmOut.pinnedMs ?? Number.NaN)}, ack ${ms(warm[0]!.ackMs)}${warmOut.failures.length ? `; FAILED: ${warmOut.failures.join('; ')}` : ''}`,
    );

    // The floor, before the declarations (the store idle apart from the claims themselves).
    await floorAcks(bench, CONCURRENCY, 'warm');
    const floor: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) floor.push(...(await floorAcks(bench, CONCURRENCY, `r${r}`)));
    floor.sort((a, c) => a - c);
    console.log(
      `floor       ack of ${CONCURRENCY} unhandled slash commands at once × ${ROUNDS}: p50 ${ms(percentile(floor, 50))}, p95 ${ms(percentile(floor, 95))}, p99 ${ms(percentile(floor, 99))}`,
    );

    const all: Outcome[] = [];
    const loop = monitorEventLoopDelay({ resolution: 10 });
    for (let r = 1; r <= ROUNDS; r++) {
      const callsBefore = bench.standin.calls.length;
      loop.enable();
      const decls = await declareAll(bench, `r${r}`, CONCURRENCY, (r - 1) * 7 + 1);
      await awaitFlows(bench, decls);
      loop.disable();
      const outcomes: Outcome[] = [];
      for (const d of decls) outcomes.push(await outcomeOf(bench, d));
      all.push(...outcomes);
      const roundCalls = bench.standin.calls.length - callsBefore;
      console.log(`round ${r}     ${summary(outcomes)};  ${roundCalls} Web API calls (${(roundCalls / CONCURRENCY).toFixed(1)} per declaration)`);
    }
    console.log(`overall     ${summary(all)}`);

    // Where the time goes: each step's arrival after the slash command was sent, p50 / p95 over every declaration.
    const stepNames = ['create', 'invite', 'topic', 'card', 'announce', 'pin', 'reply'] as const;
    const stepLine = stepNames
      .map((s) => {
        const xs = all.flatMap((o) => (o.steps[s] === undefined ? [] : [o.steps[s]!])).sort((a, c) => a - c);
        return `${s} ${ms(percentile(xs, 50))}/${ms(percentile(xs, 95))}`;
      })
      .join(', ');
    console.log(`step arrival after send, p50/p95: ${stepLine}`);
    const counts = all.map((o) => o.apiCalls).sort((a, c) => a - c);
    console.log(
      `Web API calls per declaration (its own: create, invite, topic, card, pin, announcement, reply): min ${counts[0] ?? 'n/a'}, median ${percentile(counts, 50)}, max ${counts.at(-1) ?? 'n/a'};` +
        ` sequential critical path room→invite→topic→card→pin is 5 calls = ${5 * LATENCY_MS} ms of stand-in latency at the least`,
    );
    console.log(`event loop delay while declaring (bench, stand-in and Warroom share one process): p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`);

    const failed = all.filter((o) => o.failures.length);
    for (const o of failed.slice(0, 20)) console.log(`  FAILED ${o.decl.label} ${o.decl.system.id}${o.incident ? ` ${o.incident}` : ''}: ${o.failures.join('; ')}`);
    if (failed.length > 20) console.log(`  … and ${failed.length - 20} more failed declarations`);
    const p95 = percentile(all.flatMap((o) => (o.pinnedMs === undefined ? [] : [o.pinnedMs])).sort((a, c) => a - c), 95);
    const acks = all.map((o) => o.decl.ackMs).filter(Number.isFinite).sort((a, c) => a - c);
    const ackP99 = percentile(acks, 99);
    const met = failed.length === 0 && p95 < TARGET_P95_MS;
    console.log(
      `target (p95 declare→card pinned < ${TARGET_P95_MS} ms, ${CONCURRENCY} at once, ${LATENCY_MS} ms API): ${met ? 'MET' : 'NOT MET'} — p95 ${ms(p95)}, ${failed.length} of ${all.length} declarations failed`,
    );
    console.log(
      `target (Slack ack p99 < ${TARGET_ACK_P99_MS} ms with ${CONCURRENCY} declarations at once): ${ackP99 < TARGET_ACK_P99_MS ? 'MET' : 'NOT MET'} — p99 ${ms(ackP99)} (floor p99 ${ms(percentile(floor, 99))})`,
    );
    return {
      store,
      ack: { p50: percentile(acks, 50), p95: percentile(acks, 95), p99: ackP99 },
      floorP99: percentile(floor, 99),
      pinnedP95: p95,
      failed: failed.length,
      total: all.length,
      loopP99: loop.percentile(99) / 1e6,
    };
  } finally {
    await tearDown(b);
  }
}

async function onPglite(open: () => Promise<Db>, kind: string, store: string): Promise<StoreResult> {
  const db = await open();
  try {
    await migrate(db);
    return await run(db, kind, store);
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const results: StoreResult[] = [];
  results.push(await onPglite(() => createPgliteWorkerDb(), 'PGlite in a worker thread (in memory), as warroom start/demo open it', 'PGlite, worker thread'));
  if (IN_PROCESS) {
    console.log('');
    results.push(await onPglite(() => createPgliteDb(), 'PGlite in this thread (in memory): the peer, how the store ran before', 'PGlite, same thread'));
  }
  const url = process.env.DATABASE_URL;
  if (url) {
    console.log('');
    // A scratch database on that server, migrated, dropped afterwards: the benchmark touches nothing else.
    results.push(await withBenchDatabase(url, (db) => run(db, `PostgreSQL (scratch database on ${new URL(url).host}, dropped afterwards)`, 'PostgreSQL')));
  } else console.log('\n(PostgreSQL skipped: DATABASE_URL is not set; `npm run bench` sets it)');

  console.log(`\nsummary: ${CONCURRENCY} declarations at once × ${ROUNDS}, Web API ${LATENCY_MS} ms per call; ack target p99 < ${TARGET_ACK_P99_MS} ms, card pinned target p95 < ${TARGET_P95_MS} ms`);
  const rows = [
    ['store', 'ack p50', 'ack p95', 'ack p99', 'floor ack p99', 'declare→pinned p95', 'failed', 'event loop p99'],
    ...results.map((r) => [r.store, ms(r.ack.p50), ms(r.ack.p95), ms(r.ack.p99), ms(r.floorP99), ms(r.pinnedP95), `${r.failed}/${r.total}`, `${Math.round(r.loopP99)} ms`]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) console.log(`  ${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}`);
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
