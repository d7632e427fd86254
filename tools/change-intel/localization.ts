import { z } from 'zod';
import { formatZoned } from '../../core/time.js';
import { listSystems, neighboursOf, resolveSystem } from '../oncall/systems.js';
import { tokenize } from '../../knowledge/tokenize.js';
import { searchRunbooks } from '../../knowledge/search.js';
import { changeLookupTool } from './change-lookup.js';
import { rankSuspects, Reasons, type SuspectEvent } from './suspects.js';
import { fpgaStatusToolRef, type FpgaStatus } from '../fpga/fpga-status.js';
import type { SystemRow } from '../oncall/systems.js';
import type { ToolContext } from '../tool.js';
import type { ToolRegistry } from '../registry.js';

/** `reasons` in English (the documented JSON key), `reasonsZh` the same reasons in Chinese. */
const scored = { score: z.number(), reasons: z.array(z.string()), reasonsZh: z.array(z.string()) };

/**
 * The fault-localization card (GF's "AI-assisted fault localization"): the system and its
 * neighbours, the changes of the last trading days ranked by suspicion with the reasons, health,
 * recent alerts, similar past incidents and runbooks — every item with its source. The ranking is
 * a hint for people, never a verdict.
 *
 * Defined once, as the tool's output schema; the type is derived from it.
 */
export const localizationCardSchema = z.object({
  system: z.object({ id: z.string(), name: z.string(), upstream: z.array(z.string()), downstream: z.array(z.string()) }),
  at: z.string(),
  onset: z.string().nullable(),
  onsetSource: z.enum(['given', 'alert']).nullable(),
  onsetAlert: z.string().nullable(),
  window: z.object({ from: z.string(), to: z.string(), tradingDays: z.array(z.string()) }),
  changes: z.array(z.object({ id: z.string(), title: z.string(), system: z.string(), risk: z.string().nullable(), plannedStart: z.string().nullable(), source: z.string(), ...scored })),
  changeEvents: z.array(
    z.object({ id: z.string(), at: z.string(), system: z.string(), operator: z.string(), action: z.string(), object: z.string(), changeId: z.string().nullable(), flags: z.array(z.string()), source: z.string(), ...scored }),
  ),
  alerts: z.object({
    last2h: z.number(),
    from: z.string(),
    items: z.array(z.object({ id: z.string(), system: z.string(), severity: z.string(), title: z.string(), startsAt: z.string(), open: z.boolean(), count: z.number() })),
  }),
  health: z.number(),
  similarIncidents: z.array(z.object({ id: z.string(), title: z.string(), system: z.string(), rootCause: z.string().nullable(), resolution: z.string().nullable(), ...scored })),
  runbooks: z.array(z.object({ id: z.string(), title: z.string(), section: z.string(), score: z.number(), source: z.string() })),
  disclaimer: z.object({ zh: z.string(), en: z.string() }),
  /**
   * Market-data systems: one line of FPGA decoder health from fpga_status (`shown`), or why it is
   * left out (no status block here, a card for a past moment); null for other systems.
   */
  fpga: z.object({ shown: z.boolean(), healthy: z.boolean().nullable(), reader: z.enum(['addon', 'typescript']).nullable(), en: z.string(), zh: z.string() }).nullable().default(null),
  /**
   * Changes and ticketless events in the window that cannot have caused it, each with the stated
   * reason (never touched production, cancelled, rolled back before the onset, made after it…).
   * Not suspects, but listed so nothing is silently dropped.
   */
  setAside: z
    .array(z.object({ id: z.string(), kind: z.enum(['change', 'event']), title: z.string(), system: z.string(), reason: z.string(), reasonZh: z.string() }))
    .default([]),
});


export type LocalizationCard = z.output<typeof localizationCardSchema>;

const SEVERITY_PENALTY: Record<string, number> = { critical: 15, major: 8, minor: 3, warning: 1 };

function jaccard(a: Set<string>, b: Set<string>): number {
  if (!a.size || !b.size) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

const tokenSet = (text: string) => new Set(tokenize(text));


export interface LocalizeInput {
  system: string;
  at?: Date;
  /** When the trouble began, if someone knows (the declarer, an alert); otherwise it is found from the alerts. */
  onset?: Date;
  /** Extra words about the symptom (an incident title), used for similar incidents and runbooks. */
  symptom?: string;
}

export async function buildLocalizationCard(tools: ToolRegistry, ctx: ToolContext, input: LocalizeInput): Promise<LocalizationCard> {
  const at = input.at ?? ctx.now;
  const system = await resolveSystem(ctx.db, input.system);
  const all = await listSystems(ctx.db);
  const { upstream, downstream } = neighboursOf(all, system.id);
  const z8 = (d: Date) => formatZoned(d, ctx.timeZone);

  // The onset: given, or the first alert of the system's current episode. Everything counts back from it,
  // so a declaration typed hours after the first alert still sees the changes before it.
  const found = input.onset ? undefined : await detectOnset(ctx, system.id, at);
  const onset = input.onset && input.onset <= at ? input.onset : (found?.at ?? null);
  const reference = onset ?? at;

  // Alerts from 2 hours before the onset until now (system and neighbours).
  const since = new Date(reference.getTime() - 2 * 3600_000);
  const scope = [system.id, ...upstream, ...downstream];
  const alertRows = await ctx.db.query<{ id: string; system: string; severity: string; title: string; starts_at: Date; ends_at: Date | null; repeat_count: number; labels: Record<string, unknown> | null }>(
    `SELECT id, system, severity, title, starts_at, ends_at, repeat_count, labels FROM alerts
      WHERE system = ANY($1::text[]) AND starts_at <= $3 AND (starts_at >= $2 OR ends_at IS NULL OR ends_at >= $2)
      ORDER BY starts_at`,
    [scope, since.toISOString(), at.toISOString()],
  );
  const own = alertRows.filter((a) => a.system === system.id);
  const isOpen = (a: { ends_at: Date | null }) => !a.ends_at || a.ends_at > at;
  // Health: 100 minus a penalty per open alert on the system (resolved ones count a quarter). A heuristic, stated as such.
  const penalty = own.reduce((s, a) => s + (SEVERITY_PENALTY[a.severity] ?? 3) * (isOpen(a) ? 1 : 0.25), 0);
  const health = Math.max(0, Math.round(100 - penalty));

  // Changes of the system and its neighbours in the window, through the same tool chat uses.
  const lookup = await tools.call(changeLookupTool, { system: system.id, includeNeighbours: true, at: z8(reference), until: z8(at) }, ctx);
  if (lookup.status === 'error') throw new Error(lookup.error ?? 'change lookup failed');
  const data = lookup.data!;

  // Past incidents and the changes that caused them, for "a similar change caused IMS-…".
  const past = await ctx.db.query<{ id: string; title: string; system: string; summary: string | null; root_cause: string | null; resolution: string | null; change_ids: string[] }>(
    "SELECT id, title, system, summary, root_cause, resolution, change_ids FROM incidents WHERE opened_at < $1 AND status = 'resolved'",
    [at.toISOString()],
  );
  const causeIds = [...new Set(past.flatMap((p) => p.change_ids))];
  const causes = causeIds.length
    ? await ctx.db.query<{ id: string; title: string; objects: string[] }>('SELECT id, title, objects FROM changes WHERE id = ANY($1::text[])', [causeIds])
    : [];

  const snapshotCounts = new Map(
    (await ctx.db.query<{ change_id: string; n: number }>('SELECT change_id, count(*)::int AS n FROM snapshots WHERE change_id = ANY($1::text[]) GROUP BY change_id', [data.changes.map((c) => c.id)])).map((r) => [r.change_id, r.n]),
  );

  // Every operation event of the changes in the window (up to now, wherever it ran) and the ticketless
  // ones, with the host and detail the import kept apart: environment, rollback and relevance read them.
  const ticketless = data.events.filter((e) => !e.changeId);
  const eventRows = await ctx.db.query<{ id: string; at: Date; scene: string | null; system: string; environment: string | null; action: string; object: string; change_id: string | null; host: string | null; detail: string | null }>(
    `SELECT id, at, scene, system, environment, action, object, change_id, extra->>'host' AS host, extra->>'detail' AS detail
       FROM change_events WHERE (change_id = ANY($1::text[]) OR id = ANY($2::text[])) AND at <= $3 ORDER BY at, id`,
    [data.changes.map((c) => c.id), ticketless.map((e) => e.id), at.toISOString()],
  );
  const flagsOf = new Map(data.events.map((e) => [e.id, e.flags]));
  const toEvent = (r: (typeof eventRows)[number]): SuspectEvent => ({
    id: r.id, at: r.at, system: r.system, environment: r.environment, scene: r.scene, action: r.action, object: r.object, changeId: r.change_id, host: r.host, detail: r.detail,
    flags: flagsOf.get(r.id) ?? [],
  });
  const eventsByChange = new Map<string, SuspectEvent[]>();
  for (const r of eventRows) if (r.change_id) eventsByChange.set(r.change_id, [...(eventsByChange.get(r.change_id) ?? []), toEvent(r)]);
  const changeExtra = new Map(
    (await ctx.db.query<{ id: string; extra: Record<string, unknown> }>('SELECT id, extra FROM changes WHERE id = ANY($1::text[])', [data.changes.map((c) => c.id)])).map((r) => [r.id, r.extra]),
  );

  // The symptom: the failing system's alerts from its onset on (all of them when there is no onset), and
  // alerts of what it depends on that fired before it (a cause shows first; a consequence afterwards).
  const episodeFrom = onset ? onset.getTime() - 5 * 60_000 : since.getTime();
  const symptomAlerts = alertRows.filter((a) =>
    a.system === system.id
      ? a.starts_at.getTime() >= episodeFrom
      : upstream.includes(a.system) && a.starts_at <= new Date(reference.getTime() + 5 * 60_000) && (!a.ends_at || a.ends_at.getTime() >= reference.getTime() - 10 * 60_000),
  );

  const ranking = rankSuspects({
    system: { id: system.id, name: system.name, aliases: system.aliases },
    upstream,
    downstream,
    reference,
    referenceKind: !onset ? 'asked' : input.onset ? 'given' : 'alert',
    calendar: ctx.calendar,
    timeZone: ctx.timeZone,
    changes: data.changes.map((c) => {
      const extra = changeExtra.get(c.id) ?? {};
      return {
        id: c.id, title: c.title, system: c.system, risk: c.risk, status: c.status, plannedStart: c.plannedStart ? new Date(c.plannedStart) : null, plannedEnd: c.plannedEnd ? new Date(c.plannedEnd) : null,
        objects: c.objects, flags: c.flags, description: typeof extra.description === 'string' ? extra.description : null, extra, events: eventsByChange.get(c.id) ?? [],
      };
    }),
    events: eventRows.filter((r) => !r.change_id).map(toEvent),
    alerts: symptomAlerts.map((a) => ({ id: a.id, system: a.system, title: a.title, labels: a.labels ?? {} })),
    ...(input.symptom ? { symptom: input.symptom } : {}),
    pastCauses: causes.flatMap((k) => past.filter((p) => p.change_ids.includes(k.id)).slice(0, 1).map((p) => ({ changeId: k.id, title: k.title, objects: k.objects, incidentId: p.id, incidentText: `${p.title} ${p.summary ?? ''} ${p.root_cause ?? ''}` }))),
    snapshots: snapshotCounts,
  });
  const changeById = new Map(data.changes.map((c) => [c.id, c]));
  const changes = ranking.changes.map((s) => {
    const c = changeById.get(s.id)!;
    return { id: c.id, title: c.title, system: c.system, risk: c.risk, plannedStart: c.plannedStart, score: s.score, reasons: s.reasons, reasonsZh: s.reasonsZh, source: 'change ticket (ITSM)' };
  });
  const eventById = new Map(ticketless.map((e) => [e.id, e]));
  const changeEvents = ranking.events.flatMap((s) => {
    const e = eventById.get(s.id);
    if (!e) return [];
    return [{ id: e.id, at: e.at, system: e.system, operator: e.operatorName ?? e.operator, action: e.action, object: e.object, changeId: e.changeId, flags: e.flags, score: s.score, reasons: s.reasons, reasonsZh: s.reasonsZh, source: `change operation event (${e.source ?? 'unknown source'})` }];
  });

  // Similar past incidents: same system or neighbour, and words shared with what is happening now.
  const now = tokenSet([input.symptom ?? '', ...own.map((a) => a.title)].join(' '));
  const similarIncidents = past
    .map((p) => {
      const reasons = new Reasons();
      let score = 0;
      const text = jaccard(now, tokenSet(`${p.title} ${p.summary ?? ''} ${p.root_cause ?? ''}`));
      if (text > 0) {
        score += Math.min(1, text * 4) * 0.6;
        reasons.add(`shares words with the current alerts (${Math.round(text * 100)}%)`, `与当前告警用词重合 ${Math.round(text * 100)}%`);
      }
      if (p.system === system.id) {
        score += 0.3;
        reasons.add('same system', '同一系统');
      } else if (scope.includes(p.system)) {
        score += 0.1;
        reasons.add('neighbour system', '关联系统');
      }
      const byChange = changes.find((c) => c.reasons.some((r) => r.includes(p.id)));
      if (byChange) {
        score += 0.2;
        reasons.add(`caused by a change like ${byChange.id}`, `由与 ${byChange.id} 类似的变更引发`);
      }
      return { id: p.id, title: p.title, system: p.system, score: Math.round(score * 1000) / 1000, rootCause: p.root_cause, resolution: p.resolution, reasons: reasons.en, reasonsZh: reasons.zh };
    })
    .filter((p) => p.score >= 0.3)
    .sort((a, b) => b.score - a.score)
    .slice(0, 3);

  // Runbooks for the symptom: the alerts' words and the system's name, preferring runbooks for this system.
  const query = [input.symptom ?? '', ...own.slice(0, 5).map((a) => a.title), system.name].join(' ').trim();
  const hits = query ? await searchRunbooks(ctx.db, query, ctx.embedder, { top: 6 }) : [];
  const forSystem = new Set((await ctx.db.query<{ id: string }>('SELECT id FROM runbooks WHERE $1 = ANY(systems)', [system.id])).map((r) => r.id));
  const runbooks = hits
    .map((h) => ({ id: h.runbookId, title: h.title, section: h.section, score: Math.round((h.score + (forSystem.has(h.runbookId) ? 0.2 : 0)) * 1000) / 1000, source: h.source }))
    .sort((a, b) => b.score - a.score)
    .slice(0, 3);

  const fpga = isMarketDataSystem(system) ? await fpgaHealthLine(tools, ctx, at) : null;

  return {
    system: { id: system.id, name: system.name, upstream, downstream },
    at: z8(at),
    onset: onset ? z8(onset) : null,
    onsetSource: onset ? (input.onset ? 'given' : 'alert') : null,
    onsetAlert: found?.alert ?? null,
    window: { from: data.window.from, to: data.window.to, tradingDays: data.window.tradingDays },
    changes,
    changeEvents,
    alerts: {
      last2h: alertRows.length,
      from: z8(since),
      items: alertRows.map((a) => ({ id: a.id, system: a.system, severity: a.severity, title: a.title, startsAt: z8(a.starts_at), open: isOpen(a), count: a.repeat_count })),
    },
    health,
    similarIncidents,
    runbooks,
    disclaimer: {
      zh: '以上内容由机器按规则筛选排序，仅供参考，不是结论；请结合现场核实。',
      en: 'Machine-selected and ranked by rules: a hint, not a verdict. Check before acting.',
    },
    fpga,
    setAside: ranking.setAside,
  };
}

/** Market data by its id, name or aliases: fpga-md, soft-md, "FPGA 行情", "software market data". */
export function isMarketDataSystem(system: Pick<SystemRow, 'id' | 'name' | 'aliases'>): boolean {
  return [system.id, system.name, ...system.aliases].some((n) => /(^|[-_ ])md($|[-_ ])|market[- ]?data|行情/i.test(n));
}

/** The card shows live FPGA health only when it is about now; a status block says nothing of the past. */
const LIVE_SLACK_MS = 5 * 60_000;

type FpgaLine = NonNullable<LocalizationCard['fpga']>;

/** One short line of FPGA health, or why there is none (said in the card's small print). */
async function fpgaHealthLine(tools: ToolRegistry, ctx: ToolContext, at: Date): Promise<FpgaLine> {
  const left = (en: string, zh: string): FpgaLine => ({ shown: false, healthy: null, reader: null, en, zh });
  if (Math.abs(at.getTime() - ctx.now.getTime()) > LIVE_SLACK_MS) return left('FPGA decoder health not shown: the card is for a past moment and the status block is live.', '未显示 FPGA 行情卡状态：定位卡针对的是过去的时刻，而状态块只反映当前。');
  if (!tools.get(fpgaStatusToolRef.name)) return left('FPGA decoder health not shown: no fpga_status tool in this build.', '未显示 FPGA 行情卡状态：本版本没有 fpga_status 工具。');
  // A short interval: the card is wanted fast, and states matter here more than exact rates.
  const r = await tools.call(fpgaStatusToolRef, { intervalMs: 250 }, ctx);
  if (r.status === 'error' || !r.data) {
    const why = (r.error ?? r.summary).split('\n')[0]!;
    return left(`FPGA decoder health not shown: ${why}`, `未显示 FPGA 行情卡状态：${why}`);
  }
  return { shown: true, healthy: r.data.healthy, reader: r.data.reader, ...fpgaLineText(r.data) };
}

/** "card 0: MDGW login rejected (code 102) since 09:14:05; …" in both languages, two problems per card at most. */
function fpgaLineText(d: FpgaStatus): { en: string; zh: string } {
  const bad = d.cards.filter((c) => c.problems.length);
  if (!bad.length) return { en: `all ${d.cards.length} card(s) healthy`, zh: `${d.cards.length} 张卡均正常` };
  const more = (n: number, lang: 'en' | 'zh') => (n > 2 ? (lang === 'en' ? ` (+${n - 2} more)` : `（另有 ${n - 2} 项）`) : '');
  return {
    en: bad.map((c) => `card ${c.card}: ${c.problems.slice(0, 2).join('; ')}${more(c.problems.length, 'en')}`).join(' · '),
    zh: bad.map((c) => `卡 ${c.card}：${c.problemsZh.slice(0, 2).join('；')}${more(c.problemsZh.length, 'zh')}`).join(' · '),
  };
}

/** How far back an alert still firing can mark the onset (a declaration can come days late), and the gap that separates two episodes. */
const ONSET_LOOKBACK_MS = 72 * 3600_000;
const EPISODE_GAP_MS = 2 * 3600_000;

/**
 * The onset of what is happening on a system at `at`: the first alert of its current episode. The
 * episode is made of the alerts still firing at `at` (started in the last 3 days) and those that
 * started in the last 2 hours, chained back while each starts within 2 hours of the next; an old
 * alert left firing far apart from the rest does not drag the onset back.
 */
export async function detectOnset(ctx: Pick<ToolContext, 'db'>, system: string, at: Date): Promise<{ at: Date; alert: string } | undefined> {
  const rows = await ctx.db.query<{ id: string; starts_at: Date; ends_at: Date | null }>(
    `SELECT id, starts_at, ends_at FROM alerts
      WHERE system = $1 AND starts_at <= $2 AND starts_at >= $3 AND (ends_at IS NULL OR ends_at > $2 OR starts_at >= $4)
      ORDER BY starts_at DESC, id DESC`,
    [system, at.toISOString(), new Date(at.getTime() - ONSET_LOOKBACK_MS).toISOString(), new Date(at.getTime() - EPISODE_GAP_MS).toISOString()],
  );
  let first = rows[0];
  for (const r of rows.slice(1)) {
    if (!first || first.starts_at.getTime() - r.starts_at.getTime() > EPISODE_GAP_MS) break;
    first = r;
  }
  return first ? { at: first.starts_at, alert: first.id } : undefined;
}
