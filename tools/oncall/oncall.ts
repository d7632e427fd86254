import { z } from 'zod';
import { formatZoned } from '../../core/time.js';
import { resolveSystem } from './systems.js';
import { defineTool } from '../tool.js';

export const oncallTool = defineTool({
  name: 'who_is_oncall',
  description: 'Who is on call for a system at a moment (default now), by role: incident commander, communications lead, operations lead, ops, dba, dev… Without a system: everyone on call at that moment, system by system.',
  risk: 'read',
  input: z.object({
    system: z.string().min(1).optional().describe('system id, name or alias, e.g. 集中交易 or jzjy; omit for every system'),
    role: z.string().optional().describe('only this role'),
    at: z.string().datetime({ offset: true }).optional().describe('ISO time; default now'),
  }),
  output: z.object({
    /** The system asked about; null when the question was about every system. */
    system: z.object({ id: z.string(), name: z.string() }).nullable(),
    at: z.string(),
    entries: z.array(
      z.object({
        system: z.object({ id: z.string(), name: z.string() }),
        role: z.string(),
        person: z.object({ id: z.string(), name: z.string(), slack: z.string().nullable(), wecom: z.string().nullable() }),
        from: z.string().nullable(),
        to: z.string().nullable(),
      }),
    ),
  }),
  async run(input, ctx) {
    const system = input.system ? await resolveSystem(ctx.db, input.system) : null;
    const at = input.at ? new Date(input.at) : ctx.now;
    const rows = await ctx.db.query<{
      system: string;
      system_name: string | null;
      role: string;
      person: string;
      name: string | null;
      slack: string | null;
      wecom: string | null;
      starts_at: Date | null;
      ends_at: Date | null;
    }>(
      `SELECT o.system, s.name AS system_name, o.role, o.person, p.name, p.slack, p.wecom, o.starts_at, o.ends_at
         FROM oncall o LEFT JOIN people p ON p.id = o.person LEFT JOIN systems s ON s.id = o.system
        WHERE ($1::text IS NULL OR o.system = $1) AND (o.starts_at IS NULL OR o.starts_at <= $2) AND (o.ends_at IS NULL OR o.ends_at > $2)
          AND ($3::text IS NULL OR o.role = $3)
        ORDER BY s.tier NULLS LAST, o.system, CASE o.role WHEN 'incident-commander' THEN 0 WHEN 'communications-lead' THEN 1 WHEN 'operations-lead' THEN 2 ELSE 3 END, o.role, o.person`,
      [system?.id ?? null, at.toISOString(), input.role ?? null],
    );
    const entries = rows.map((r) => ({
      system: { id: r.system, name: r.system_name ?? r.system },
      role: r.role,
      person: { id: r.person, name: r.name ?? r.person, slack: r.slack, wecom: r.wecom },
      from: r.starts_at ? formatZoned(r.starts_at, ctx.timeZone) : null,
      to: r.ends_at ? formatZoned(r.ends_at, ctx.timeZone) : null,
    }));
    return {
      data: { system: system ? { id: system.id, name: system.name } : null, at: formatZoned(at, ctx.timeZone), entries },
      status: entries.length ? 'success' : 'no_data',
      summary: entries.length
        ? system
          ? `${system.name}: ${entries.map((e) => `${e.role} ${e.person.name}`).join(', ')}`
          : `${new Set(entries.map((e) => e.system.id)).size} system(s) have someone on call.`
        : `Nobody is on call for ${system?.name ?? 'any system'}${input.role ? ` as ${input.role}` : ''} at that time.`,
    };
  },
});
