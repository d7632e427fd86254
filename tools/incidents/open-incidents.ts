import { z } from 'zod';
import { formatZoned } from '../../core/time.js';
import { defineTool } from '../tool.js';

export const openIncidentsTool = defineTool({
  name: 'open_incidents',
  description: 'Incidents that are not resolved yet, most severe first, with how long each has been open.',
  risk: 'read',
  input: z.object({ system: z.string().optional().describe('only this system id') }),
  output: z.object({
    incidents: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        system: z.string(),
        systemName: z.string().nullable(),
        severity: z.string(),
        status: z.string(),
        openedAt: z.string(),
        openMinutes: z.number(),
      }),
    ),
  }),
  async run(input, ctx) {
    const rows = await ctx.db.query<{ id: string; title: string; system: string; name: string | null; severity: string; status: string; opened_at: Date }>(
      `SELECT i.id, i.title, i.system, s.name, i.severity, i.status, i.opened_at
         FROM incidents i LEFT JOIN systems s ON s.id = i.system
        WHERE i.status <> 'resolved' AND i.resolved_at IS NULL AND ($1::text IS NULL OR i.system = $1)
        ORDER BY i.severity, i.opened_at`,
      [input.system ?? null],
    );
    const incidents = rows.map((r) => ({
      id: r.id,
      title: r.title,
      system: r.system,
      systemName: r.name,
      severity: r.severity,
      status: r.status,
      openedAt: formatZoned(r.opened_at, ctx.timeZone),
      openMinutes: Math.max(0, Math.round((ctx.now.getTime() - r.opened_at.getTime()) / 60000)),
    }));
    return {
      data: { incidents },
      status: incidents.length ? 'success' : 'no_data',
      summary: incidents.length ? `${incidents.length} open incident(s).` : 'No open incidents.',
    };
  },
});
