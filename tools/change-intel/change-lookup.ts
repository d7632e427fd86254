import { z } from 'zod';
import type { TradingCalendar } from '../../core/calendar.js';
import { WarroomError } from '../../core/errors.js';
import { addDays, formatZoned } from '../../core/time.js';
import { listSystems, neighboursOf, resolveSystem } from '../oncall/systems.js';
import { changeFlags, flagChange, flagEvent } from './change-flags.js';
import { defineTool } from '../tool.js';

const changeOut = z.object({
  id: z.string(),
  title: z.string(),
  system: z.string(),
  risk: z.string().nullable(),
  status: z.string().nullable(),
  plannedStart: z.string().nullable(),
  plannedEnd: z.string().nullable(),
  executor: z.string().nullable(),
  executorName: z.string().nullable(),
  reviewer: z.string().nullable(),
  reviewerName: z.string().nullable(),
  objects: z.array(z.string()),
  eventCount: z.number(),
  /** Stable codes from tools/change-flags.ts: high-risk, no-reviewer, key-param-change, … */
  flags: z.array(z.string()),
});

const eventOut = z.object({
  id: z.string(),
  at: z.string(),
  scene: z.string().nullable(),
  operator: z.string(),
  operatorName: z.string().nullable(),
  system: z.string(),
  environment: z.string().nullable(),
  action: z.string(),
  object: z.string(),
  changeId: z.string().nullable(),
  source: z.string().nullable(),
  /** Stable codes from tools/change-flags.ts: no-ticket, restart-in-trading-hours, prod-data-maintenance, … */
  flags: z.array(z.string()),
});

/** An explicit window: the trading days it touches are listed (the day of `to` counts only when `to` is after its start). */
function explicitWindow(calendar: TradingCalendar, from: Date, to: Date): { kind: 'range'; from: Date; to: Date; tradingDays: string[]; includesToday: boolean } {
  if (to <= from) throw new WarroomError('bad_window', `The window's end (${to.toISOString()}) is not after its start (${from.toISOString()}).`, { hint: 'Give `from` before `to`.' });
  const last = calendar.dateOf(new Date(to.getTime() - 1));
  const tradingDays: string[] = [];
  for (let d = calendar.dateOf(from), guard = 0; d <= last && guard < 400; d = addDays(d, 1), guard++) if (calendar.isTradingDay(d)) tradingDays.push(d);
  return { kind: 'range', from, to, tradingDays, includesToday: false };
}

export const changeLookupTool = defineTool({
  name: 'change_lookup',
  description:
    'Change tickets and change operation events (when, scene, who, where, action, object) of a system, and optionally its upstream/downstream neighbours, in the last N trading days (default 3) before a moment (default now), or between `from` and `to`. Weekends and exchange holidays are skipped when counting days. Tickets name their executor and reviewer, events their operator.',
  risk: 'read',
  input: z.object({
    system: z.string().min(1).describe('system id, name or alias'),
    days: z.number().int().min(1).max(30).default(3).describe('trading days to look back'),
    at: z.string().datetime({ offset: true }).optional().describe('ISO time the trading days are counted back from (e.g. the onset of an incident); default now'),
    until: z.string().datetime({ offset: true }).optional().describe('ISO time up to which changes are listed when later than `at` (e.g. now, while `at` is the onset); default `at`'),
    from: z.string().datetime({ offset: true }).optional().describe('ISO start of an explicit window (e.g. since 09:30 today, or last Tuesday 00:00); `days` is then ignored'),
    to: z.string().datetime({ offset: true }).optional().describe('ISO end of the explicit window; default now'),
    includeNeighbours: z.boolean().default(false).describe('also the systems it depends on and those that depend on it'),
    environment: z.string().optional(),
    operator: z.string().optional(),
    risk: z.enum(['low', 'medium', 'high']).optional(),
  }),
  output: z.object({
    system: z.object({ id: z.string(), name: z.string() }),
    systems: z.array(z.string()),
    /** `trading-days`: the last N trading days (and today so far); `range`: the explicit from/to asked for. */
    window: z.object({ kind: z.enum(['trading-days', 'range']), from: z.string(), to: z.string(), tradingDays: z.array(z.string()), includesToday: z.boolean() }),
    changes: z.array(changeOut),
    events: z.array(eventOut),
    /** Per flag, the tickets and events that carry it, most serious flag first. */
    highlights: z.array(z.object({ flag: z.string(), changes: z.array(z.string()), events: z.array(z.string()) })),
  }),
  async run(input, ctx) {
    const system = await resolveSystem(ctx.db, input.system);
    const at = input.at ? new Date(input.at) : ctx.now;
    const until = input.until ? new Date(input.until) : at;
    const window = input.from ? explicitWindow(ctx.calendar, new Date(input.from), input.to ? new Date(input.to) : ctx.now) : { ...ctx.calendar.lastTradingDays(input.days, at), to: until > at ? until : at, kind: 'trading-days' as const };
    let systemIds = [system.id];
    if (input.includeNeighbours) {
      const n = neighboursOf(await listSystems(ctx.db), system.id);
      systemIds = [...new Set([system.id, ...n.upstream, ...n.downstream])];
    }
    const from = window.from.toISOString();
    const to = window.to.toISOString();

    const events = await ctx.db.query<{
      id: string; at: Date; scene: string | null; operator: string; system: string; environment: string | null;
      action: string; object: string; change_id: string | null; source: string | null; detail: string | null;
    }>(
      `SELECT id, at, scene, operator, system, environment, action, object, change_id, source, extra->>'detail' AS detail
         FROM change_events
        WHERE system = ANY($1::text[]) AND at >= $2 AND at <= $3
          AND ($4::text IS NULL OR environment = $4) AND ($5::text IS NULL OR operator = $5)
        ORDER BY at DESC, id`,
      [systemIds, from, to, input.environment ?? null, input.operator ?? null],
    );

    // A change is in the window when it was planned to start there or when any of its events happened there.
    const changes = await ctx.db.query<{
      id: string; title: string; system: string; risk: string | null; status: string | null; planned_start: Date | null;
      planned_end: Date | null; executor: string | null; reviewer: string | null; objects: string[]; event_count: number; description: string | null;
    }>(
      `SELECT c.id, c.title, c.system, c.risk, c.status, c.planned_start, c.planned_end, c.executor, c.reviewer, c.objects, c.extra->>'description' AS description,
              (SELECT count(*)::int FROM change_events e WHERE e.change_id = c.id) AS event_count
         FROM changes c
        WHERE c.system = ANY($1::text[])
          AND ((c.planned_start >= $2 AND c.planned_start <= $3)
               OR EXISTS (SELECT 1 FROM change_events e WHERE e.change_id = c.id AND e.at >= $2 AND e.at <= $3))
          AND ($4::text IS NULL OR c.risk = $4)
          AND ($5::text IS NULL OR c.executor = $5)
        ORDER BY c.planned_start DESC NULLS LAST, c.id`,
      [systemIds, from, to, input.risk ?? null, input.operator ?? null],
    );

    const people = new Map((await ctx.db.query<{ id: string; name: string }>('SELECT id, name FROM people')).map((p) => [p.id, p.name]));
    // Events inherit the risk of their ticket, which may have been planned outside the window.
    const linkedIds = [...new Set(events.map((e) => e.change_id).filter((id): id is string => Boolean(id)))];
    const riskOf = new Map(
      linkedIds.length ? (await ctx.db.query<{ id: string; risk: string | null }>('SELECT id, risk FROM changes WHERE id = ANY($1::text[])', [linkedIds])).map((r) => [r.id, r.risk]) : [],
    );
    const nameOf = (id: string | null) => (id ? (people.get(id) ?? null) : null);
    const z8 = (d: Date | null) => (d ? formatZoned(d, ctx.timeZone) : null);
    const data = {
      system: { id: system.id, name: system.name },
      systems: systemIds,
      window: { kind: window.kind, from: formatZoned(window.from, ctx.timeZone), to: formatZoned(window.to, ctx.timeZone), tradingDays: window.tradingDays, includesToday: window.includesToday },
      changes: changes.map((c) => ({
        id: c.id, title: c.title, system: c.system, risk: c.risk, status: c.status, plannedStart: z8(c.planned_start),
        plannedEnd: z8(c.planned_end), executor: c.executor, executorName: nameOf(c.executor), reviewer: c.reviewer, reviewerName: nameOf(c.reviewer), objects: c.objects, eventCount: c.event_count,
        flags: flagChange({ title: c.title, risk: c.risk, plannedStart: c.planned_start, plannedEnd: c.planned_end, executor: c.executor, reviewer: c.reviewer, objects: c.objects, description: c.description }, ctx.calendar),
      })),
      events: events.map((e) => ({
        id: e.id, at: formatZoned(e.at, ctx.timeZone), scene: e.scene, operator: e.operator, operatorName: nameOf(e.operator), system: e.system, environment: e.environment,
        action: e.action, object: e.object, changeId: e.change_id, source: e.source,
        flags: flagEvent({ at: e.at, environment: e.environment, action: e.action, object: e.object, changeId: e.change_id, detail: e.detail }, ctx.calendar, e.change_id ? riskOf.get(e.change_id) : undefined),
      })),
      highlights: [] as Array<{ flag: string; changes: string[]; events: string[] }>,
    };
    for (const flag of changeFlags) {
      const withFlag = <T extends { id: string; flags: string[] }>(list: T[]) => list.filter((x) => x.flags.includes(flag)).map((x) => x.id);
      const h = { flag, changes: withFlag(data.changes), events: withFlag(data.events) };
      if (h.changes.length || h.events.length) data.highlights.push(h);
    }
    const flagged = new Set([...data.changes, ...data.events].filter((x) => x.flags.some((f) => f !== 'in-trading-hours')).map((x) => x.id)).size;
    const untracked = data.events.filter((e) => !e.changeId).length;
    return {
      data,
      status: data.changes.length || data.events.length ? 'success' : 'no_data',
      summary:
        `${system.name}: ${data.changes.length} change(s) and ${data.events.length} operation event(s) ` +
        (window.kind === 'range' ? `from ${data.window.from} to ${data.window.to}` : `since ${window.tradingDays[0] ?? '?'} (last ${input.days} trading days`) +
        `${input.includeNeighbours ? ', with neighbours' : ''}${window.kind === 'range' ? '' : ')'}` +
        (untracked ? `; ${untracked} event(s) without a ticket` : '') +
        (flagged ? `; ${flagged} flagged for attention (${data.highlights.map((h) => h.flag).join(', ')}).` : '.'),
    };
  },
});
