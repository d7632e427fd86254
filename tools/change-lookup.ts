import { z } from 'zod';
import { formatZoned } from '../core/time.js';
import { listSystems, neighboursOf, resolveSystem } from '../db/queries/systems.js';
import { defineTool } from './tool.js';

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
});

export const changeLookupTool = defineTool({
  name: 'change_lookup',
  description:
    'Change tickets and change operation events (when, scene, who, where, action, object) of a system, and optionally its upstream/downstream neighbours, in the last N trading days (default 3) before a moment (default now). Weekends and exchange holidays are skipped when counting days.',
  risk: 'read',
  input: z.object({
    system: z.string().min(1).describe('system id, name or alias'),
    days: z.number().int().min(1).max(30).default(3).describe('trading days to look back'),
    at: z.string().datetime({ offset: true }).optional().describe('ISO time the window ends at; default now'),
    includeNeighbours: z.boolean().default(false).describe('also the systems it depends on and those that depend on it'),
    environment: z.string().optional(),
    operator: z.string().optional(),
    risk: z.enum(['low', 'medium', 'high']).optional(),
  }),
  output: z.object({
    system: z.object({ id: z.string(), name: z.string() }),
    systems: z.array(z.string()),
    window: z.object({ from: z.string(), to: z.string(), tradingDays: z.array(z.string()), includesToday: z.boolean() }),
    changes: z.array(changeOut),
    events: z.array(eventOut),
  }),
  async run(input, ctx) {
    const system = await resolveSystem(ctx.db, input.system);
    const at = input.at ? new Date(input.at) : ctx.now;
    const window = ctx.calendar.lastTradingDays(input.days, at);
    let systemIds = [system.id];
    if (input.includeNeighbours) {
      const n = neighboursOf(await listSystems(ctx.db), system.id);
      systemIds = [...new Set([system.id, ...n.upstream, ...n.downstream])];
    }
    const from = window.from.toISOString();
    const to = window.to.toISOString();

    const events = await ctx.db.query<{
      id: string; at: Date; scene: string | null; operator: string; system: string; environment: string | null;
      action: string; object: string; change_id: string | null; source: string | null;
    }>(
      `SELECT id, at, scene, operator, system, environment, action, object, change_id, source
         FROM change_events
        WHERE system = ANY($1::text[]) AND at >= $2 AND at <= $3
          AND ($4::text IS NULL OR environment = $4) AND ($5::text IS NULL OR operator = $5)
        ORDER BY at DESC, id`,
      [systemIds, from, to, input.environment ?? null, input.operator ?? null],
    );

    // A change is in the window when it was planned to start there or when any of its events happened there.
    const changes = await ctx.db.query<{
      id: string; title: string; system: string; risk: string | null; status: string | null; planned_start: Date | null;
      planned_end: Date | null; executor: string | null; reviewer: string | null; objects: string[]; event_count: number;
    }>(
      `SELECT c.id, c.title, c.system, c.risk, c.status, c.planned_start, c.planned_end, c.executor, c.reviewer, c.objects,
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
    const nameOf = (id: string | null) => (id ? (people.get(id) ?? null) : null);
    const z8 = (d: Date | null) => (d ? formatZoned(d, ctx.timeZone) : null);
    const data = {
      system: { id: system.id, name: system.name },
      systems: systemIds,
      window: { from: formatZoned(window.from, ctx.timeZone), to: formatZoned(window.to, ctx.timeZone), tradingDays: window.tradingDays, includesToday: window.includesToday },
      changes: changes.map((c) => ({
        id: c.id, title: c.title, system: c.system, risk: c.risk, status: c.status, plannedStart: z8(c.planned_start),
        plannedEnd: z8(c.planned_end), executor: c.executor, executorName: nameOf(c.executor), reviewer: c.reviewer, reviewerName: nameOf(c.reviewer), objects: c.objects, eventCount: c.event_count,
      })),
      events: events.map((e) => ({
        id: e.id, at: formatZoned(e.at, ctx.timeZone), scene: e.scene, operator: e.operator, operatorName: nameOf(e.operator), system: e.system, environment: e.environment,
        action: e.action, object: e.object, changeId: e.change_id, source: e.source,
      })),
    };
    const untracked = data.events.filter((e) => !e.changeId).length;
    return {
      data,
      status: data.changes.length || data.events.length ? 'success' : 'no_data',
      summary:
        `${system.name}: ${data.changes.length} change(s) and ${data.events.length} operation event(s) since ${window.tradingDays[0] ?? '?'} ` +
        `(last ${input.days} trading days${input.includeNeighbours ? ', with neighbours' : ''})` +
        (untracked ? `; ${untracked} event(s) without a ticket.` : '.'),
    };
  },
});
