import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../../app/create-app.js';
import { loadConfig } from '../../core/config.js';
import { errorMessage } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { demoDataFile, shippedRunbooksDir } from '../../core/paths.js';
import { importJson } from '../../db/import.js';
import { migrate } from '../../db/migrate.js';
import { createPgliteDb } from '../../db/pglite.js';
import { ingestRunbooks } from '../../knowledge/ingest.js';
import { changeLookupTool } from '../../tools/change-intel/change-lookup.js';
import { localizeToolRef } from '../../tools/change-intel/localize.js';
import { toolContext } from '../../tools/services.js';
import type { LocalizeScenario, Split } from './localize-scenarios.js';

/**
 * The localization evaluation: for each scenario, a fresh embedded store (the demo's systems and
 * people, copied from one prepared store) with the scenario's own data, the clock pinned at the
 * scenario's moment, the `localize` tool called through the registry, and the culprit's rank read
 * off the card. In the same run, naive rankers order the same candidates (every change and event of
 * the system and its neighbours in the window the card used, set-aside ones included), so the card's
 * figures always come with the baselines beside them.
 */

export const RANKERS = ['warroom', 'nearest', 'risk-nearest', 'same-system'] as const;
export type RankerName = (typeof RANKERS)[number];

export const RANKER_LABELS: Record<RankerName, string> = {
  warroom: 'Warroom card',
  nearest: 'naive: nearest first',
  'risk-nearest': 'naive: risk, then nearest',
  'same-system': 'naive: same system first, then nearest',
};

/** One ranked suspect: a change ticket, or an operation event (ticketless, or listed apart by the card). */
export interface Suspect {
  id: string;
  kind: 'change' | 'event';
  title: string;
  system: string;
  /** The ticket of an event, when it has one. */
  changeId: string | null;
}

export interface RankOutcome {
  /** 1-based rank of the culprit (its ticket, an event of its ticket, or an event of the same ticketless operation); null when absent. */
  rank: number | null;
  top: Suspect | null;
  /** Decoys ranked above the culprit (all of them when it is absent), with their kind. */
  decoysAbove: Array<{ id: string; kind: string }>;
}

export interface ScenarioResult {
  id: string;
  split: Split;
  file: string;
  culprit: string;
  /** The harness could not run the scenario (it counts as a miss for every ranker). */
  error?: string;
  /** How many candidates the naive rankers ordered, and whether the culprit is among them. */
  candidates: number;
  culpritInCandidates: boolean;
  /** Decoys that are not among the candidates (outside the card's window: the trap is never set). */
  decoysOutside: string[];
  /** Items the card set aside (not suspects), by id. */
  setAside: string[];
  outcomes: Record<RankerName, RankOutcome>;
  durationMs: number;
}

export interface Rate {
  top1: number;
  top3: number;
  total: number;
}

export interface LocalizeEvalReport {
  scenarios: number;
  results: ScenarioResult[];
  /** Per ranker: all, tune, heldout. */
  rates: Record<RankerName, Record<'all' | Split, Rate>>;
}

export interface LocalizeEvalOptions {
  split?: Split;
  only?: string[];
  onScenario?: (r: ScenarioResult) => void;
}

const RISK_ORDER: Record<string, number> = { high: 3, medium: 2, low: 1 };

function baseEnv(home: string): NodeJS.ProcessEnv {
  return { WARROOM_HOME: home, WARROOM_EMBEDDER: 'offline', WARROOM_TIMEZONE: 'Asia/Shanghai', WARROOM_WEB_CHAT: 'off', LOG_LEVEL: 'silent' };
}

/** The demo's systems, people and on-call: the world every scenario happens in (no changes, alerts or incidents). */
export function demoSystemsDocument(): Record<string, unknown> {
  const demo = JSON.parse(readFileSync(demoDataFile, 'utf8')) as Record<string, unknown>;
  return { systems: demo.systems, people: demo.people, oncall: demo.oncall };
}

/** One prepared store (migrated, demo systems and people, shipped runbooks), copied for each scenario. */
async function buildTemplate(home: string, base: 'demo-systems' | 'empty'): Promise<Blob> {
  const db = await createPgliteDb();
  try {
    await migrate(db);
    const app = await createApp(loadConfig(baseEnv(home)), { db, logger: createLogger('silent'), clock: () => new Date('2026-11-23T09:40:00+08:00') });
    if (base === 'demo-systems') await importJson(db, demoSystemsDocument(), 'demo systems and people');
    await ingestRunbooks(db, shippedRunbooksDir, app.embedder);
    return await db.dump();
  } finally {
    await db.close();
  }
}

const matches = (s: Suspect, target: string) => s.id === target || (s.kind === 'event' && s.changeId === target);

const isCulprit = (s: Suspect, scenario: LocalizeScenario) => [scenario.culprit, ...scenario.culpritAlso].some((c) => matches(s, c));

function outcomeOf(ranked: Suspect[], scenario: LocalizeScenario): RankOutcome {
  const index = ranked.findIndex((s) => isCulprit(s, scenario));
  const before = index < 0 ? ranked : ranked.slice(0, index);
  const decoysAbove = scenario.decoys.filter((d) => before.some((s) => matches(s, d.id))).map((d) => ({ id: d.id, kind: d.kind }));
  return { rank: index < 0 ? null : index + 1, top: ranked[0] ?? null, decoysAbove };
}

interface Candidate extends Suspect {
  risk: string | null;
  /** When it happened, as a naive reader sees it: the latest of its events up to the reference, else its planned start. */
  time: number | null;
}

/** Nearest first: what happened latest up to the reference (onset, else the time asked), then what came after it, soonest first. */
function nearness(c: Candidate, reference: number): number {
  if (c.time === null) return Number.MAX_SAFE_INTEGER;
  return c.time <= reference ? reference - c.time : 1e13 + (c.time - reference);
}

export function naiveRankings(candidates: Candidate[], system: string, reference: number): Record<Exclude<RankerName, 'warroom'>, Suspect[]> {
  const byNear = (a: Candidate, b: Candidate) => nearness(a, reference) - nearness(b, reference) || a.id.localeCompare(b.id);
  const risk = (c: Candidate) => RISK_ORDER[c.risk ?? ''] ?? 0;
  return {
    nearest: [...candidates].sort(byNear),
    'risk-nearest': [...candidates].sort((a, b) => risk(b) - risk(a) || byNear(a, b)),
    'same-system': [...candidates].sort((a, b) => Number(b.system === system) - Number(a.system === system) || byNear(a, b)),
  };
}

async function runScenario(template: Blob, home: string, s: LocalizeScenario): Promise<ScenarioResult> {
  const started = performance.now();
  const empty: RankOutcome = { rank: null, top: null, decoysAbove: s.decoys.map((d) => ({ id: d.id, kind: d.kind })) };
  const result: ScenarioResult = {
    id: s.id,
    split: s.split,
    file: s.file,
    culprit: s.culprit,
    candidates: 0,
    culpritInCandidates: false,
    decoysOutside: [],
    setAside: [],
    outcomes: { warroom: empty, nearest: empty, 'risk-nearest': empty, 'same-system': empty },
    durationMs: 0,
  };
  const at = new Date(s.at);
  const db = await createPgliteDb(undefined, { loadDataDir: template });
  try {
    await migrate(db);
    const app = await createApp(loadConfig(baseEnv(home)), { db, logger: createLogger('silent'), clock: () => at });
    await importJson(db, s.data, `scenario ${s.id} data`);
    const ctx = toolContext(app, 'localize-eval');
    const input = { system: s.system, at: s.at, ...(s.onset ? { onset: s.onset } : {}), ...(s.symptom ? { symptom: s.symptom } : {}) };
    const r = await app.tools.call(localizeToolRef, input, ctx);
    if (r.status === 'error' || !r.data) throw new Error(`localize: ${r.error ?? r.summary}`);
    const card = r.data;

    // Items the card set aside are not suspects (the field exists once the ranker lists them).
    const setAside = ((card as { setAside?: Array<{ id: string }> }).setAside ?? []).map((x) => x.id);
    result.setAside = setAside;
    const aside = new Set(setAside);
    const scoredItems = [
      ...card.changes.map((c, i) => ({ score: c.score, order: i, s: { id: c.id, kind: 'change' as const, title: c.title, system: c.system, changeId: null } })),
      ...card.changeEvents.map((e, i) => ({ score: e.score, order: card.changes.length + i, s: { id: e.id, kind: 'event' as const, title: `${e.action} ${e.object}`, system: e.system, changeId: e.changeId } })),
    ].filter((x) => !aside.has(x.s.id));
    scoredItems.sort((a, b) => b.score - a.score || a.order - b.order);
    result.outcomes.warroom = outcomeOf(
      scoredItems.map((x) => x.s),
      s,
    );

    // The candidates: everything of the system and its neighbours in the card's window, through the same lookup.
    const lookup = await app.tools.call(changeLookupTool, { system: card.system.id, includeNeighbours: true, from: card.window.from, to: card.window.to, days: 3 }, ctx);
    if (lookup.status === 'error' || !lookup.data) throw new Error(`change_lookup: ${lookup.error ?? lookup.summary}`);
    const reference = Date.parse(card.onset ?? card.at);
    const tickets = new Set(lookup.data.changes.map((c) => c.id));
    const candidates: Candidate[] = [
      ...lookup.data.changes.map((c) => {
        const evs = lookup.data!.events.filter((e) => e.changeId === c.id).map((e) => Date.parse(e.at));
        const upTo = evs.filter((t) => t <= reference);
        const time = upTo.length ? Math.max(...upTo) : evs.length ? Math.min(...evs) : c.plannedStart ? Date.parse(c.plannedStart) : null;
        return { id: c.id, kind: 'change' as const, title: c.title, system: c.system, changeId: null, risk: c.risk, time };
      }),
      ...lookup.data.events
        .filter((e) => !e.changeId || !tickets.has(e.changeId))
        .map((e) => ({ id: e.id, kind: 'event' as const, title: `${e.action} ${e.object}`, system: e.system, changeId: e.changeId, risk: null, time: Date.parse(e.at) })),
    ];
    result.candidates = candidates.length;
    result.culpritInCandidates = candidates.some((c) => isCulprit(c, s));
    result.decoysOutside = s.decoys.filter((d) => !candidates.some((c) => matches(c, d.id))).map((d) => d.id);
    const naive = naiveRankings(candidates, card.system.id, reference);
    for (const name of ['nearest', 'risk-nearest', 'same-system'] as const) result.outcomes[name] = outcomeOf(naive[name], s);
    await app.close();
  } catch (err) {
    result.error = errorMessage(err);
  } finally {
    await db.close();
    result.durationMs = Math.round(performance.now() - started);
  }
  return result;
}

function rateOf(results: ScenarioResult[], ranker: RankerName): Rate {
  const ranks = results.map((r) => r.outcomes[ranker].rank);
  return { top1: ranks.filter((k) => k === 1).length, top3: ranks.filter((k) => k !== null && k <= 3).length, total: results.length };
}

/** Run every scenario (or the split / ids asked for) and rate each ranker. */
export async function runLocalizeEvaluation(scenarios: LocalizeScenario[], options: LocalizeEvalOptions = {}): Promise<LocalizeEvalReport> {
  const chosen = scenarios.filter((s) => (!options.split || s.split === options.split) && (!options.only?.length || options.only.some((o) => s.id.includes(o))));
  const home = mkdtempSync(join(tmpdir(), 'warroom-localize-eval-'));
  const results: ScenarioResult[] = [];
  try {
    const templates = new Map<'demo-systems' | 'empty', Blob>();
    for (const s of chosen) {
      let template = templates.get(s.base);
      if (!template) {
        template = await buildTemplate(home, s.base);
        templates.set(s.base, template);
      }
      const r = await runScenario(template, home, s);
      results.push(r);
      options.onScenario?.(r);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const rates = Object.fromEntries(
    RANKERS.map((ranker) => [
      ranker,
      {
        all: rateOf(results, ranker),
        tune: rateOf(
          results.filter((r) => r.split === 'tune'),
          ranker,
        ),
        heldout: rateOf(
          results.filter((r) => r.split === 'heldout'),
          ranker,
        ),
      },
    ]),
  ) as LocalizeEvalReport['rates'];
  return { scenarios: results.length, results, rates };
}
