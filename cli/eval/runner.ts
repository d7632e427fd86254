import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../../app/create-app.js';
import { createBot, type Bot } from '../../bot/bot.js';
import { renderText } from '../../bot/render/text.js';
import type { ChatEvent } from '../../bot/platforms/platform.js';
import { loadConfig } from '../../core/config.js';
import { errorMessage } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { shippedRunbooksDir } from '../../core/paths.js';
import type { Db } from '../../db/db.js';
import { loadDemo } from '../../db/demo.js';
import { importJson } from '../../db/import.js';
import { migrate } from '../../db/migrate.js';
import { createPgliteDb } from '../../db/pglite.js';
import { ingestRunbooks } from '../../knowledge/ingest.js';
import { parseSnapshotDocument } from '../../tools/change-intel/snapshot.js';
import { storeSnapshots } from '../../tools/change-intel/snapshots-store.js';
import { startFpgaSimulator, type FpgaSimulator } from '../../tools/fpga/simulator.js';
import type { App } from '../../tools/services.js';
import type { EvalCase } from './cases.js';
import { createMemoryPlatform, type MemoryPlatform } from './memory-platform.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';
import { SCRIPTED_MODEL_NAME, startScriptedModel, type ModelRequest, type ScriptedModel } from './scripted-model.js';

/**
 * The evaluation harness: each case's question is asked through the bot, exactly as a chat message
 * (so what is checked is what a person sees), on an embedded database with the demo data, the
 * shipped runbooks and the case's own data, at the case's moment. Then its expectations are
 * checked: facts in the answer, tools called and not called, and no action nobody asked for.
 */

export type PlannerName = 'offline' | 'llm';

/** How the LLM planner runs: against the scripted stand-in (CI), or a real OpenAI-compatible endpoint. */
export type RunMode = 'offline' | 'scripted' | 'real';

export interface ToolCallSeen {
  name: string;
  status: string;
  input: unknown;
  /** Called by another tool (the localization card calls change_lookup…), not by the planner. */
  nested: boolean;
  risk: string;
}

export interface CaseResult {
  id: string;
  split: 'dev' | 'heldout';
  file: string;
  planner: PlannerName;
  mode: RunMode;
  model?: string;
  passed: boolean;
  /** Why it failed, one line each. */
  failures: string[];
  /** The answer as the asker sees it (every reply and message the bot gave them for the question). */
  answer: string;
  toolCalls: ToolCallSeen[];
  /** Action requests made while the case ran (must be 0 unless the case asks for an action). */
  actionRequests: number;
  /** Calls to the stand-in or real model for the question (LLM runs). */
  modelCalls?: number;
  /** The model was configured but the answer came from the offline planner (the bot said so). */
  durationMs: number;
}

export interface Rate {
  passed: number;
  total: number;
}

export interface PlannerRun {
  planner: PlannerName;
  mode: RunMode;
  model?: string;
  results: CaseResult[];
  rates: { all: Rate; dev: Rate; heldout: Rate };
  /** Cases not run in this mode (LLM scripted: cases without a script). */
  notRun: number;
}

export interface EvalReport {
  cases: number;
  runs: PlannerRun[];
}

export interface EvalOptions {
  planners: PlannerName[];
  split?: 'dev' | 'heldout';
  /**
   * The environment a real model is read from (OPENAI_API_KEY, OPENAI_BASE_URL, WARROOM_LLM_MODEL
   * and any other WARROOM_LLM_*). Without WARROOM_LLM_MODEL the LLM planner runs scripted.
   */
  env?: NodeJS.ProcessEnv;
  /** Real models to compare (default: WARROOM_LLM_MODEL, comma-separated allowed). */
  models?: string[];
  /** Only cases whose id contains one of these. */
  only?: string[];
  /** Per case, after it ran. */
  onCase?: (result: CaseResult) => void;
  /** Give up on one case after this long (default 120 s; the case fails). */
  caseTimeoutMs?: number;
}

/** True when the environment names a real model endpoint the LLM planner should be evaluated on. */
export function realModelConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.WARROOM_LLM_MODEL && (env.OPENAI_BASE_URL || env.OPENAI_API_KEY));
}

const LLM_ENV = /^(OPENAI_API_KEY|OPENAI_BASE_URL|WARROOM_LLM_[A-Z0-9_]+)$/;

function baseEnv(home: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // Only what decides the answers: a fixed zone and the offline embedder (the same retrieval for
  // both planners, and no embedding endpoint needed), never the caller's whole environment.
  return {
    WARROOM_HOME: home,
    WARROOM_EMBEDDER: env.WARROOM_EVAL_EMBEDDER ?? 'offline',
    WARROOM_TIMEZONE: 'Asia/Shanghai',
    WARROOM_WEB_CHAT: 'off',
    LOG_LEVEL: 'silent',
  };
}

/** The environment of one planner run: no model (offline), the stand-in (scripted), or the real one. */
function plannerEnv(home: string, rc: RunContext, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = baseEnv(home, env);
  if (rc.mode === 'scripted' && rc.stub) {
    Object.assign(out, { OPENAI_BASE_URL: rc.stub.url, OPENAI_API_KEY: 'sk-warroom-scripted', WARROOM_LLM_MODEL: SCRIPTED_MODEL_NAME });
  } else if (rc.mode === 'real') {
    for (const [k, v] of Object.entries(env)) if (LLM_ENV.test(k) && v !== undefined) out[k] = v;
    if (rc.model) out.WARROOM_LLM_MODEL = rc.model;
    // Through the recording pass-through: the harness sees whether the model was asked and what it was sent.
    if (rc.proxy) out.OPENAI_BASE_URL = rc.proxy.url;
  }
  return out;
}

/** A built app for cases: its store, bot, chat platform, the tool calls it sees, and its clock. */
interface EvalWorld {
  app: App;
  bot: Bot;
  platform: MemoryPlatform;
  db: Db;
  calls: ToolCallSeen[];
  setNow(at: Date): void;
  close(): Promise<void>;
}

const nesting = new AsyncLocalStorage<number>();

/** Record every tool call the app makes (also tools called by tools, marked nested). */
function spyOnTools(app: App, calls: ToolCallSeen[]): void {
  const registry = app.tools;
  const invoke = registry.invoke.bind(registry);
  registry.invoke = (async (name: string, rawInput: unknown, ctx: Parameters<typeof invoke>[2]) => {
    const depth = nesting.getStore() ?? 0;
    const seen: ToolCallSeen = { name, status: 'running', input: rawInput, nested: depth > 0, risk: registry.get(name)?.risk ?? 'unknown' };
    calls.push(seen);
    const result = await nesting.run(depth + 1, () => invoke(name, rawInput, ctx));
    seen.status = result.status;
    seen.input = result.input ?? rawInput;
    return result;
  }) as typeof registry.invoke;
}

/**
 * The store every world starts from: migrated, the demo data as written (week of 2026-11-23) and
 * the shipped runbooks, built once per planner run and copied for each world (PGlite's data
 * directory), because ingesting the runbooks for every case would dominate the run.
 */
async function buildTemplate(env: NodeJS.ProcessEnv): Promise<Blob> {
  const db = await createPgliteDb();
  try {
    await migrate(db);
    const app = await createApp(loadConfig(env), { db, logger: createLogger('silent'), clock: () => new Date('2026-11-23T09:40:00+08:00') });
    await loadDemo(db, app.calendar, { shift: false });
    await ingestRunbooks(db, shippedRunbooksDir, app.embedder);
    return await db.dump();
  } finally {
    await db.close();
  }
}

async function buildWorld(env: NodeJS.ProcessEnv, c: EvalCase | undefined, home: string, template: Blob): Promise<EvalWorld> {
  let now = new Date('2026-11-23T09:40:00+08:00');
  const data = c?.data;
  const fpgaFile = join(home, 'fpga-status.bin');
  const config = loadConfig({ ...env, ...(data?.fpga ? { WARROOM_FPGA_STATUS_FILE: fpgaFile } : {}) });
  // A case without the demo data starts from an empty, migrated store.
  const db = data?.demo === false ? await createPgliteDb() : await createPgliteDb(undefined, { loadDataDir: template });
  let fpga: FpgaSimulator | undefined;
  try {
    await migrate(db);
    const app = await createApp(config, { db, logger: createLogger('silent'), clock: () => now });
    if (data?.import) await importJson(db, data.import, `case ${c?.id ?? ''} data.import`);
    if (data?.demo === false) await ingestRunbooks(db, shippedRunbooksDir, app.embedder);
    if (data?.runbooks.length) {
      const dir = join(home, 'runbooks');
      for (const rb of data.runbooks) {
        const path = join(dir, rb.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, rb.content);
      }
      const report = await ingestRunbooks(db, dir, app.embedder);
      if (report.errors.length) throw new Error(`case ${c?.id}: extra runbooks refused: ${report.errors.map((e) => JSON.stringify(e)).join('; ')}`);
    }
    if (data?.snapshots.length) {
      const { snapshots } = parseSnapshotDocument({ snapshots: data.snapshots }, `case ${c?.id} data.snapshots`);
      await db.transaction((tx) => storeSnapshots(tx, snapshots));
    }
    if (data?.fpga) fpga = startFpgaSimulator({ file: fpgaFile, faults: data.fpga.faults, ...(data.fpga.cards ? { cards: data.fpga.cards } : {}), keepAlive: false, rate: 20 });
    const platform = createMemoryPlatform();
    const bot = createBot(app, [platform]);
    const calls: ToolCallSeen[] = [];
    spyOnTools(app, calls);
    return {
      app,
      bot,
      platform,
      db,
      calls,
      setNow(at) {
        now = at;
      },
      async close() {
        await fpga?.stop();
        await app.close();
        await db.close();
      },
    };
  } catch (err) {
    await fpga?.stop();
    await db.close().catch(() => undefined);
    throw err;
  }
}

/** A case needs a world of its own when it brings data or changes shared state (declares an incident). */
function needsOwnWorld(c: EvalCase): boolean {
  const d = c.data;
  return !d.demo || Boolean(d.import) || d.runbooks.length > 0 || d.snapshots.length > 0 || Boolean(d.fpga) || c.context.setup.length > 0;
}

/** Lower-case, no spaces, half-width: facts match however the renderer spaces or cases them. */
export function normaliseForMatch(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[*_`]/g, '')
    .replace(/\s+/g, '');
}

function factText(f: string | string[]): string {
  return Array.isArray(f) ? f.map((x) => `"${x}"`).join(' or ') : `"${f}"`;
}

function hasFact(answer: string, f: string | string[]): boolean {
  const a = normaliseForMatch(answer);
  return (Array.isArray(f) ? f : [f]).some((x) => a.includes(normaliseForMatch(x)));
}

async function countActionRequests(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM action_requests');
  return row?.n ?? 0;
}

/** The text of the tool messages sent to the model (what tools and guards told it). */
function toolMessagesOf(requests: ModelRequest[]): string {
  const out: string[] = [];
  for (const r of requests) {
    const messages = (r.body as { messages?: Array<{ role?: string; content?: unknown }> }).messages ?? [];
    for (const m of messages) if (m.role === 'tool') out.push(typeof m.content === 'string' ? m.content : JSON.stringify(m.content));
  }
  return out.join('\n');
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
      timer.unref();
    }),
  ]);
}

interface RunContext {
  planner: PlannerName;
  mode: RunMode;
  model?: string;
  stub?: ScriptedModel;
  /** Real model runs: the pass-through that records what the model was sent. */
  proxy?: RecordingProxy;
  timeoutMs: number;
}

/** Ask one case's setup, history and question through the bot and check what came back. */
async function runCase(world: EvalWorld, c: EvalCase, rc: RunContext): Promise<CaseResult> {
  const started = performance.now();
  const failures: string[] = [];
  const { bot, platform, db } = world;
  const asker = c.context.asker;
  const at = new Date(c.context.at);
  world.setNow(at);
  const roomIds = { dm: (who: string) => `eval-${c.id}-dm-${who}`, channel: `eval-${c.id}-channel` };
  let incidentRoom: string | undefined;
  const knownIncidents = new Set((await db.query<{ id: string }>('SELECT id FROM incidents')).map((r) => r.id));
  const actionsBefore = await countActionRequests(db);
  const roomFor = (kind: 'dm' | 'channel' | 'incident' | undefined, who: string): { id: string; kind: 'dm' | 'channel' } => {
    const k = kind ?? (incidentRoom ? 'incident' : 'dm');
    if (k === 'incident') {
      if (!incidentRoom) throw new Error('a line is said in the incident room, but no incident room was declared before it');
      return { id: incidentRoom, kind: 'channel' };
    }
    return k === 'channel' ? { id: roomIds.channel, kind: 'channel' } : { id: roomIds.dm(who), kind: 'dm' };
  };
  const say = async (who: string, text: string, room: { id: string; kind: 'dm' | 'channel' }): Promise<string> => {
    const from = platform.posted.length;
    const event: ChatEvent = { kind: 'message', platform: 'local', userId: who, room: { platform: 'local', id: room.id, kind: room.kind }, text, at: bot.app.clock() };
    const replies = await bot.handle(event);
    // What the asker sees: the replies, and whatever the bot posted in that room meanwhile
    // (a "working on it" message later updated with the answer).
    const posted = platform.posted.slice(from).filter((p) => p.roomId === room.id || p.roomId === `dm:${who}`);
    return [...replies.map((r) => renderText(r.message)), ...posted.map((p) => renderText(p.message))].join('\n\n');
  };

  let answer = '';
  let modelCalls: number | undefined;
  const callsFrom = world.calls.length;
  let questionCallsFrom = callsFrom;
  try {
    await withTimeout(
      (async () => {
        for (const [i, line] of c.context.setup.entries()) {
          world.setNow(line.at ? new Date(line.at) : at);
          const reply = await say(line.as, line.text, roomFor(line.room, line.as));
          const fresh = await db.query<{ id: string; room_id: string | null }>("SELECT id, room->>'id' AS room_id FROM incidents ORDER BY opened_at DESC");
          const declared = fresh.find((r) => !knownIncidents.has(r.id));
          if (declared) {
            knownIncidents.add(declared.id);
            if (!declared.room_id) throw new Error(`setup line ${i + 1} declared ${declared.id} but it has no room: ${reply.slice(0, 200)}`);
            incidentRoom = declared.room_id;
          }
        }
        world.setNow(at);
        const room = roomFor(c.context.room, asker);
        for (const q of c.context.history) await say(asker, q, room);
        questionCallsFrom = world.calls.length;
        if (rc.mode === 'scripted' && c.script) rc.stub?.arm(c.script);
        else if (rc.mode === 'scripted') rc.stub?.disarm();
        rc.proxy?.reset();
        answer = await say(asker, c.question, room);
        if (rc.mode === 'scripted') modelCalls = rc.stub?.requests.length ?? 0;
        if (rc.mode === 'real') modelCalls = rc.proxy?.requests.length ?? 0;
      })(),
      rc.timeoutMs,
      `case ${c.id}`,
    );
  } catch (err) {
    failures.push(`harness: ${errorMessage(err)}`);
  }

  const calls = world.calls.slice(questionCallsFrom);
  const allCaseCalls = world.calls.slice(callsFrom);
  const e = c.expect;
  if (!answer.trim() && !failures.length) failures.push('no answer: the bot replied with nothing');
  for (const f of e.facts) if (!hasFact(answer, f)) failures.push(`fact missing: ${factText(f)}`);
  for (const s of e.absent) if (hasFact(answer, s)) failures.push(`must not say: "${s}"`);
  const called = new Set(calls.map((x) => x.name));
  for (const t of e.tools.must) if (!called.has(t)) failures.push(`tool not called: ${t}`);
  for (const t of e.tools.mustNot) if (called.has(t)) failures.push(`tool called but must not be: ${t}`);
  for (const [t, n] of Object.entries(e.maxToolCalls)) {
    const times = calls.filter((x) => x.name === t && !x.nested).length;
    if (times > n) failures.push(`${t} called ${times} times (at most ${n})`);
  }
  const actionRequests = (await countActionRequests(db).catch(() => actionsBefore)) - actionsBefore;
  if (e.noActions) {
    if (actionRequests > 0) failures.push(`unasked action: ${actionRequests} action request(s) made`);
    const acting = allCaseCalls.filter((x) => x.risk === 'write' || x.risk === 'high');
    for (const x of acting) failures.push(`unasked action: ${x.name} (${x.risk}) called, ${x.status}`);
  }
  const modelRequests: ModelRequest[] | undefined = rc.mode === 'scripted' && c.script ? rc.stub?.requests : rc.mode === 'real' ? rc.proxy?.requests : undefined;
  if (modelRequests) {
    const m = e.model;
    if (!modelCalls) failures.push('the model was never called: the LLM agent did not answer (not configured or not wired into chat, or it fell back to the offline planner before asking)');
    // Call counts and what tools told the model follow the script; with a real model only secrets are checked.
    if (rc.mode === 'scripted') {
      if (m?.maxCalls !== undefined && (modelCalls ?? 0) > m.maxCalls) failures.push(`the agent called the model ${modelCalls} times (at most ${m.maxCalls} expected: step limit or repeat guard)`);
      if (m?.minCalls !== undefined && (modelCalls ?? 0) < m.minCalls) failures.push(`the agent called the model ${modelCalls ?? 0} times (at least ${m.minCalls} expected)`);
      const toolText = toolMessagesOf(modelRequests);
      for (const f of m?.toolMessagesContain ?? []) if (!hasFact(toolText, f)) failures.push(`the model was never told ${factText(f)} in a tool message`);
    }
    const sent = JSON.stringify(modelRequests.map((r) => r.body));
    for (const s of m?.neverSent ?? []) if (sent.includes(s)) failures.push(`sent to the model: "${s}" (must be redacted)`);
  }
  if (rc.mode === 'scripted') rc.stub?.disarm();
  return {
    id: c.id,
    split: c.split,
    file: c.file,
    planner: rc.planner,
    mode: rc.mode,
    ...(rc.model ? { model: rc.model } : {}),
    passed: failures.length === 0,
    failures,
    answer,
    toolCalls: calls,
    actionRequests,
    ...(modelCalls !== undefined ? { modelCalls } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

function rateOf(results: CaseResult[], split?: 'dev' | 'heldout'): Rate {
  const rs = split ? results.filter((r) => r.split === split) : results;
  return { passed: rs.filter((r) => r.passed).length, total: rs.length };
}

/** One planner (and model) over the cases: a shared world for plain cases, a world of its own for the rest. */
async function runPlanner(cases: EvalCase[], rc: RunContext, env: NodeJS.ProcessEnv, onCase?: (r: CaseResult) => void): Promise<PlannerRun> {
  const home = mkdtempSync(join(tmpdir(), 'warroom-eval-'));
  const results: CaseResult[] = [];
  const wanted = rc.mode === 'scripted' ? cases.filter((c) => c.script) : cases;
  let shared: EvalWorld | undefined;
  let template: Blob | undefined;
  try {
    for (const c of wanted) {
      template ??= await buildTemplate(plannerEnv(home, rc, env));
      let result: CaseResult;
      try {
        if (needsOwnWorld(c)) {
          const caseHome = mkdtempSync(join(home, `${c.id}-`));
          const world = await buildWorld(plannerEnv(caseHome, rc, env), c, caseHome, template);
          try {
            result = await runCase(world, c, rc);
          } finally {
            await world.close();
          }
        } else {
          shared ??= await buildWorld(plannerEnv(home, rc, env), undefined, home, template);
          result = await runCase(shared, c, rc);
        }
      } catch (err) {
        result = { id: c.id, split: c.split, file: c.file, planner: rc.planner, mode: rc.mode, ...(rc.model ? { model: rc.model } : {}), passed: false, failures: [`harness: ${errorMessage(err)}`], answer: '', toolCalls: [], actionRequests: 0, durationMs: 0 };
      }
      results.push(result);
      onCase?.(result);
    }
  } finally {
    await shared?.close();
    rmSync(home, { recursive: true, force: true });
  }
  return {
    planner: rc.planner,
    mode: rc.mode,
    ...(rc.model ? { model: rc.model } : {}),
    results,
    rates: { all: rateOf(results), dev: rateOf(results, 'dev'), heldout: rateOf(results, 'heldout') },
    notRun: cases.length - wanted.length,
  };
}

/**
 * Run the cases under each planner asked for. The offline planner answers every case. The LLM
 * planner answers every case against each real model when one is configured (WARROOM_LLM_MODEL with
 * OPENAI_BASE_URL or OPENAI_API_KEY), else only the cases with a script, against the stand-in.
 */
export async function runEvaluation(all: EvalCase[], options: EvalOptions): Promise<EvalReport> {
  const env = options.env ?? process.env;
  const cases = all.filter((c) => (!options.split || c.split === options.split) && (!options.only?.length || options.only.some((o) => c.id.includes(o))));
  const timeoutMs = options.caseTimeoutMs ?? 120_000;
  const runs: PlannerRun[] = [];
  for (const planner of options.planners) {
    if (planner === 'offline') {
      runs.push(await runPlanner(cases, { planner, mode: 'offline', timeoutMs }, env, options.onCase));
      continue;
    }
    if (realModelConfigured(env)) {
      const models = options.models?.length ? options.models : String(env.WARROOM_LLM_MODEL).split(',').map((m) => m.trim()).filter(Boolean);
      const proxy = await startRecordingProxy(env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1');
      try {
        for (const model of models) runs.push(await runPlanner(cases, { planner, mode: 'real', model, proxy, timeoutMs }, env, options.onCase));
      } finally {
        await proxy.close();
      }
      continue;
    }
    const stub = await startScriptedModel();
    try {
      runs.push(await runPlanner(cases, { planner, mode: 'scripted', model: SCRIPTED_MODEL_NAME, stub, timeoutMs }, env, options.onCase));
    } finally {
      await stub.close();
    }
  }
  return { cases: cases.length, runs };
}
