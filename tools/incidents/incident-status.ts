import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import { formatZoned } from '../../core/time.js';
import type { Queryable } from '../../db/db.js';
import { defineTool } from '../tool.js';

/** The expected recovery as `/incident eta` records it in incidents.extra.eta. */
export const recordedEtaSchema = z.object({ text: z.string(), at: z.string().optional(), by: z.string().optional() });
export type RecordedEta = z.output<typeof recordedEtaSchema>;

/** The recorded expected recovery of an incident's `extra`, or null (older rows may hold a bare string). */
export function etaOf(extra: Record<string, unknown> | null | undefined): RecordedEta | null {
  const raw = extra?.eta;
  if (typeof raw === 'string') return raw.trim() ? { text: raw } : null;
  const parsed = recordedEtaSchema.safeParse(raw);
  return parsed.success && parsed.data.text.trim() ? parsed.data : null;
}

const person = z.object({ id: z.string(), name: z.string().nullable() });

export const incidentStatusSchema = z.object({
  id: z.string(),
  title: z.string(),
  system: z.string(),
  systemName: z.string().nullable(),
  severity: z.string(),
  status: z.string(),
  openedAt: z.string(),
  /** When the trouble began (the first alert, or the time the declarer gave); elapsed time counts from it. */
  onset: z.string(),
  resolvedAt: z.string().nullable(),
  elapsedMinutes: z.number().int(),
  /** Recorded facts; null when nobody recorded them yet. */
  impact: z.string().nullable(),
  eta: z.object({ text: z.string(), at: z.string().nullable(), by: person.nullable() }).nullable(),
  rootCause: z.string().nullable(),
  resolution: z.string().nullable(),
  changeIds: z.array(z.string()),
  roles: z.array(z.object({ role: z.string(), person: z.string(), name: z.string().nullable() })),
  /** Who to ask about facts not recorded: the commander, else the on-call commander of the system. */
  commander: person.extend({ source: z.enum(['role', 'oncall']) }).nullable(),
  /** Stages reached (discover, respond, localize, recover), as ISO times. */
  stages: z.record(z.string()),
  /** The last timeline entries, oldest first. */
  timeline: z.array(z.object({ at: z.string(), actor: z.string().nullable(), kind: z.string(), text: z.string() })),
});
export type IncidentStatus = z.output<typeof incidentStatusSchema>;

type Row = {
  id: string; title: string; system: string; system_name: string | null; severity: string; status: string; opened_at: Date; resolved_at: Date | null;
  impact: string | null; root_cause: string | null; resolution: string | null; change_ids: string[]; stages: Record<string, string>; extra: Record<string, unknown>;
};

const OPEN = `i.status <> 'resolved' AND i.resolved_at IS NULL`;
const COLUMNS = 'i.id, i.title, i.system, s.name AS system_name, i.severity, i.status, i.opened_at, i.resolved_at, i.impact, i.root_cause, i.resolution, i.change_ids, i.stages, i.extra';

/**
 * The incident a question is about: the one named, else the room's (`contextId`), else the only open
 * one (of `system` when given). Throws naming the open incidents when that is ambiguous.
 */
export async function findIncidentFor(db: Queryable, named: string | undefined, contextId: string | undefined, system?: string): Promise<string> {
  const id = named ?? contextId;
  if (id) {
    const rows = await db.query<{ id: string }>('SELECT id FROM incidents WHERE upper(id) = upper($1)', [id]);
    if (!rows[0]) throw new WarroomError('unknown_incident', `No incident ${id}.`, { hint: 'Ask "what is open?" (or type `status`) to list the open incidents.' });
    return rows[0].id;
  }
  const open = await db.query<{ id: string; title: string; severity: string }>(
    `SELECT i.id, i.title, i.severity FROM incidents i WHERE ${OPEN} AND ($1::text IS NULL OR i.system = $1) ORDER BY i.severity, i.opened_at`,
    [system ?? null],
  );
  if (open.length === 1) return open[0]!.id;
  if (open.length === 0) {
    throw new WarroomError('no_open_incident', system ? `No open incident on ${system}.` : 'No incident is open right now.', {
      hint: 'Name one (INC-…) to ask about a past incident.',
    });
  }
  throw new WarroomError('which_incident', `${open.length} incidents are open: ${open.map((o) => `${o.id} (${o.severity} ${o.title})`).join('; ')}.`, {
    hint: 'Name the incident (INC-…), or ask in its room.',
  });
}

export async function readIncidentStatus(db: Queryable, id: string, now: Date, timeZone: string, timelineEntries = 5): Promise<IncidentStatus> {
  const row = (await db.query<Row>(`SELECT ${COLUMNS} FROM incidents i LEFT JOIN systems s ON s.id = i.system WHERE upper(i.id) = upper($1)`, [id]))[0];
  if (!row) throw new WarroomError('unknown_incident', `No incident ${id}.`, { hint: 'Ask "what is open?" to list the open incidents.' });
  const people = new Map((await db.query<{ id: string; name: string }>('SELECT id, name FROM people')).map((p) => [p.id, p.name]));
  const roles = await db.query<{ role: string; person: string }>(
    `SELECT role, person FROM incident_roles WHERE incident_id = $1
      ORDER BY array_position(ARRAY['incident-commander','communications-lead','operations-lead','scribe'], role), role`,
    [row.id],
  );
  const timeline = await db.query<{ at: Date; actor: string | null; kind: string; text: string }>(
    'SELECT at, actor, kind, text FROM incident_timeline WHERE incident_id = $1 ORDER BY at DESC, id DESC LIMIT $2',
    [row.id, timelineEntries],
  );
  const heldBy = roles.find((r) => r.role === 'incident-commander');
  let commander: IncidentStatus['commander'] = heldBy ? { id: heldBy.person, name: people.get(heldBy.person) ?? null, source: 'role' } : null;
  if (!commander) {
    const [oncall] = await db.query<{ person: string }>(
      `SELECT person FROM oncall WHERE system = $1 AND role = 'incident-commander' AND (starts_at IS NULL OR starts_at <= $2) AND (ends_at IS NULL OR ends_at > $2) ORDER BY person LIMIT 1`,
      [row.system, now.toISOString()],
    );
    if (oncall) commander = { id: oncall.person, name: people.get(oncall.person) ?? null, source: 'oncall' };
  }
  const discover = row.stages.discover ? new Date(row.stages.discover) : undefined;
  const onset = discover && discover < row.opened_at ? discover : row.opened_at;
  const end = row.resolved_at ?? now;
  const eta = etaOf(row.extra);
  const z8 = (d: Date) => formatZoned(d, timeZone);
  return {
    id: row.id,
    title: row.title,
    system: row.system,
    systemName: row.system_name,
    severity: row.severity,
    status: row.status,
    openedAt: z8(row.opened_at),
    onset: z8(onset),
    resolvedAt: row.resolved_at ? z8(row.resolved_at) : null,
    elapsedMinutes: Math.max(0, Math.round((end.getTime() - onset.getTime()) / 60000)),
    impact: row.impact,
    eta: eta ? { text: eta.text, at: eta.at ?? null, by: eta.by ? { id: eta.by, name: people.get(eta.by) ?? null } : null } : null,
    rootCause: row.root_cause,
    resolution: row.resolution,
    changeIds: row.change_ids,
    roles: roles.map((r) => ({ role: r.role, person: r.person, name: people.get(r.person) ?? null })),
    commander,
    stages: Object.fromEntries(Object.entries(row.stages).map(([k, v]) => [k, z8(new Date(v))])),
    timeline: timeline.reverse().map((e) => ({ at: z8(e.at), actor: e.actor, kind: e.kind, text: e.text })),
  };
}

export const incidentStatusTool = defineTool({
  name: 'incident_status',
  description:
    "One incident's recorded facts: severity, status, impact, expected recovery (ETA), root cause, who holds which role, elapsed time since the onset, stages reached and the last timeline entries. Without an id: the incident of the room asked in, else the only open incident (of `system` when given). Facts not recorded are null: never guess them.",
  risk: 'read',
  input: z.object({
    incident: z.string().regex(/^INC-\d{8}-\d{3,}$/i, 'an incident id like INC-20261123-001').optional().describe('incident id; default the room\'s, else the only open one'),
    system: z.string().optional().describe('system id, when choosing among open incidents'),
    timeline: z.number().int().min(0).max(50).default(5).describe('how many of the last timeline entries'),
  }),
  output: incidentStatusSchema,
  async run(input, ctx) {
    const id = await findIncidentFor(ctx.db, input.incident, ctx.incidentId, input.system);
    const s = await readIncidentStatus(ctx.db, id, ctx.now, ctx.timeZone, input.timeline);
    const missing = [!s.impact && 'impact', !s.eta && 'ETA', !s.rootCause && 'root cause'].filter(Boolean);
    return {
      data: s,
      summary:
        `${s.id} ${s.severity} ${s.status}, ${s.elapsedMinutes} min since onset: ${s.title}` +
        (missing.length ? `; not recorded yet: ${missing.join(', ')}${s.commander ? ` (ask ${s.commander.name ?? s.commander.id})` : ''}.` : '.'),
    };
  },
});
