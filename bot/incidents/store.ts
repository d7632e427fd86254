import type { Queryable } from '../../db/db.js';
import { nextDailyId } from '../../db/daily-ids.js';
import { WarroomError } from '../../core/errors.js';
import type { Lang, Platform } from '../messages.js';
import type { MessageRef, RoomRef } from '../platforms/platform.js';
import type { Role, Severity, Stage, Status } from './policy.js';

/** Reads and writes of incidents, their roles, timeline and posted messages: SQL lives here only. */

export interface IncidentRoom {
  platform: Platform;
  id: string;
  name?: string;
}

export type IncidentRow = {
  id: string;
  title: string;
  system: string;
  severity: Severity;
  status: Status;
  opened_at: Date;
  resolved_at: Date | null;
  summary: string | null;
  impact: string | null;
  root_cause: string | null;
  resolution: string | null;
  change_ids: string[];
  /** ISO times each stage was reached: discover, respond, localize, recover. */
  stages: Partial<Record<'discover' | Stage, string>>;
  room: IncidentRoom | null;
  extra: Record<string, unknown>;
  declared_by: string | null;
  postmortem: string | null;
  updated_at: Date;
};

export type TimelineRow = {
  id: number;
  incident_id: string;
  at: Date;
  actor: string | null;
  kind: string;
  text: string;
  data: Record<string, unknown>;
};

/** The language the incident was declared in; its room, card and postmortem use it. */
export function langOf(incident: IncidentRow): Lang {
  return incident.extra.lang === 'en' ? 'en' : 'zh';
}

const COLUMNS = 'id, title, system, severity, status, opened_at, resolved_at, summary, impact, root_cause, resolution, change_ids, stages, room, extra, declared_by, postmortem, updated_at';

/** The next id of the day, INC-YYYYMMDD-NNN, taken atomically so concurrent declarations never collide. */
export async function nextIncidentId(db: Queryable, at: Date, timeZone: string): Promise<string> {
  return nextDailyId(db, 'INC', at, timeZone);
}

export async function insertIncident(
  db: Queryable,
  row: { id: string; title: string; system: string; severity: Severity; openedAt: Date; discoveredAt: Date; declaredBy: string; extra: Record<string, unknown>; changeIds?: string[] },
): Promise<IncidentRow> {
  const stages = { discover: row.discoveredAt.toISOString() };
  const rows = await db.query<IncidentRow>(
    `INSERT INTO incidents (id, title, system, severity, status, opened_at, stages, declared_by, extra, change_ids)
     VALUES ($1, $2, $3, $4, 'investigating', $5, $6::jsonb, $7, $8::jsonb, $9) RETURNING ${COLUMNS}`,
    [row.id, row.title, row.system, row.severity, row.openedAt, JSON.stringify(stages), row.declaredBy, JSON.stringify(row.extra), row.changeIds ?? []],
  );
  return rows[0]!;
}

export async function getIncident(db: Queryable, id: string): Promise<IncidentRow | undefined> {
  const rows = await db.query<IncidentRow>(`SELECT ${COLUMNS} FROM incidents WHERE upper(id) = upper($1)`, [id]);
  return rows[0];
}

export async function requireIncident(db: Queryable, id: string): Promise<IncidentRow> {
  const row = await getIncident(db, id);
  if (!row) throw new WarroomError('unknown_incident', `No incident ${id}.`, { hint: 'Type `status` to list the open incidents.' });
  return row;
}

/** The incident whose room this is, if any. */
export async function incidentOfRoom(db: Queryable, platform: Platform, roomId: string): Promise<IncidentRow | undefined> {
  const rows = await db.query<IncidentRow>(`SELECT ${COLUMNS} FROM incidents WHERE room ->> 'platform' = $1 AND room ->> 'id' = $2 ORDER BY opened_at DESC LIMIT 1`, [platform, roomId]);
  return rows[0];
}

/** Open incidents, most severe first; only one system's when `system` is given. */
export async function openIncidents(db: Queryable, system?: string): Promise<IncidentRow[]> {
  return db.query<IncidentRow>(
    `SELECT ${COLUMNS} FROM incidents WHERE status <> 'resolved' AND resolved_at IS NULL AND ($1::text IS NULL OR system = $1) ORDER BY severity, opened_at`,
    [system ?? null],
  );
}

/** Open incidents in which this person holds a role. */
export async function openIncidentsHeldBy(db: Queryable, person: string): Promise<IncidentRow[]> {
  return db.query<IncidentRow>(
    `SELECT ${COLUMNS} FROM incidents i
      WHERE status <> 'resolved' AND resolved_at IS NULL AND EXISTS (SELECT 1 FROM incident_roles r WHERE r.incident_id = i.id AND r.person = $1)
      ORDER BY severity, opened_at`,
    [person],
  );
}

/** A system's display name (its id when the system is unknown). */
export async function systemNameOf(db: Queryable, id: string): Promise<string> {
  const rows = await db.query<{ name: string }>('SELECT name FROM systems WHERE id = $1', [id]);
  return rows[0]?.name ?? id;
}

/** Incidents opened, or still open, during a local day. */
export async function incidentsOfDay(db: Queryable, from: Date, to: Date): Promise<IncidentRow[]> {
  return db.query<IncidentRow>(
    `SELECT ${COLUMNS} FROM incidents
      WHERE opened_at < $2 AND (opened_at >= $1 OR resolved_at >= $1 OR (status <> 'resolved' AND resolved_at IS NULL))
      ORDER BY severity, opened_at`,
    [from, to],
  );
}

export async function setRoom(db: Queryable, id: string, room: IncidentRoom): Promise<void> {
  await db.query('UPDATE incidents SET room = $2::jsonb, updated_at = now() WHERE id = $1', [id, JSON.stringify(room)]);
}

export async function updateIncident(
  db: Queryable,
  id: string,
  patch: Partial<{ severity: Severity; status: Status; resolvedAt: Date; impact: string; rootCause: string; resolution: string; summary: string; postmortem: string }>,
): Promise<void> {
  const cols: Record<string, unknown> = {
    severity: patch.severity,
    status: patch.status,
    resolved_at: patch.resolvedAt,
    impact: patch.impact,
    root_cause: patch.rootCause,
    resolution: patch.resolution,
    summary: patch.summary,
    postmortem: patch.postmortem,
  };
  const set = Object.entries(cols).filter(([, v]) => v !== undefined);
  if (!set.length) return;
  await db.query(
    `UPDATE incidents SET ${set.map(([c], i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`,
    [id, ...set.map(([, v]) => v)],
  );
}

/** Set one key of an incident's `extra` (facts without a column of their own, e.g. the expected recovery `eta`). */
export async function setIncidentExtra(db: Queryable, id: string, key: string, value: unknown): Promise<void> {
  await db.query(`UPDATE incidents SET extra = extra || jsonb_build_object($2::text, $3::jsonb), updated_at = now() WHERE id = $1`, [id, key, JSON.stringify(value)]);
}

/** Record the first time a stage is reached; later calls keep the first time. Returns whether it was new. */
export async function markStage(db: Queryable, id: string, stage: Stage, at: Date): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE incidents SET stages = stages || jsonb_build_object($2::text, $3::text), updated_at = now()
      WHERE id = $1 AND NOT (stages ? $2) RETURNING id`,
    [id, stage, at.toISOString()],
  );
  return rows.length > 0;
}

export async function mergeExtra(db: Queryable, id: string, extra: Record<string, unknown>): Promise<void> {
  await db.query('UPDATE incidents SET extra = extra || $2::jsonb, updated_at = now() WHERE id = $1', [id, JSON.stringify(extra)]);
}

export type RoleRow = {
  role: Role;
  person: string;
  name: string | null;
  slack: string | null;
  wecom: string | null;
  assigned_by: string | null;
  assigned_at: Date;
};

export async function rolesOf(db: Queryable, incidentId: string): Promise<RoleRow[]> {
  return db.query<RoleRow>(
    `SELECT r.role, r.person, p.name, p.slack, p.wecom, r.assigned_by, r.assigned_at
       FROM incident_roles r LEFT JOIN people p ON p.id = r.person
      WHERE r.incident_id = $1
      ORDER BY array_position(ARRAY['incident-commander','communications-lead','operations-lead','scribe'], r.role)`,
    [incidentId],
  );
}

export async function setRole(db: Queryable, incidentId: string, role: Role, person: string, by: string, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO incident_roles (incident_id, role, person, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (incident_id, role) DO UPDATE SET person = EXCLUDED.person, assigned_by = EXCLUDED.assigned_by, assigned_at = EXCLUDED.assigned_at`,
    [incidentId, role, person, by, at],
  );
}

export async function addTimeline(db: Queryable, incidentId: string, entry: { at: Date; actor: string | null; kind: string; text: string; data?: Record<string, unknown> }): Promise<void> {
  await db.query('INSERT INTO incident_timeline (incident_id, at, actor, kind, text, data) VALUES ($1, $2, $3, $4, $5, $6::jsonb)', [
    incidentId,
    entry.at,
    entry.actor,
    entry.kind,
    entry.text,
    JSON.stringify(entry.data ?? {}),
  ]);
}

export async function timelineOf(db: Queryable, incidentId: string): Promise<TimelineRow[]> {
  return db.query<TimelineRow>('SELECT id, incident_id, at, actor, kind, text, data FROM incident_timeline WHERE incident_id = $1 ORDER BY at, id', [incidentId]);
}

export async function recordMessage(db: Queryable, incidentId: string, kind: 'card' | 'announcement' | 'draft' | 'nudge', ref: MessageRef): Promise<void> {
  await db.query('INSERT INTO incident_messages (incident_id, kind, platform, room_id, message_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
    incidentId,
    kind,
    ref.platform,
    ref.roomId,
    ref.id,
  ]);
}

export async function messagesOf(db: Queryable, incidentId: string, kind: 'card' | 'announcement' | 'draft' | 'nudge'): Promise<MessageRef[]> {
  const rows = await db.query<{ platform: Platform; room_id: string; message_id: string }>(
    'SELECT platform, room_id, message_id FROM incident_messages WHERE incident_id = $1 AND kind = $2 ORDER BY created_at',
    [incidentId, kind],
  );
  return rows.map((r) => ({ platform: r.platform, roomId: r.room_id, id: r.message_id }));
}

export type UpdateRow = {
  id: number;
  incident_id: string;
  status: 'drafted' | 'posted' | 'discarded';
  text: string;
  drafted_at: Date;
  posted_at: Date | null;
  posted_by: string | null;
};

export async function updatesOf(db: Queryable, incidentId: string): Promise<UpdateRow[]> {
  return db.query<UpdateRow>('SELECT id, incident_id, status, text, drafted_at, posted_at, posted_by FROM incident_updates WHERE incident_id = $1 ORDER BY drafted_at, id', [incidentId]);
}

export async function insertUpdate(db: Queryable, incidentId: string, u: { status: 'drafted' | 'posted'; text: string; at: Date; by?: string }): Promise<number> {
  const rows = await db.query<{ id: number }>(
    'INSERT INTO incident_updates (incident_id, status, text, drafted_at, posted_at, posted_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
    [incidentId, u.status, u.text, u.at, u.status === 'posted' ? u.at : null, u.status === 'posted' ? (u.by ?? null) : null],
  );
  return Number(rows[0]!.id);
}

/** Mark a draft posted, once: a second press of the button finds nothing to post. */
export async function postDraft(db: Queryable, draftId: number, by: string, at: Date): Promise<UpdateRow | undefined> {
  const rows = await db.query<UpdateRow>(
    `UPDATE incident_updates SET status = 'posted', posted_at = $3, posted_by = $2 WHERE id = $1 AND status = 'drafted'
     RETURNING id, incident_id, status, text, drafted_at, posted_at, posted_by`,
    [draftId, by, at],
  );
  return rows[0];
}

/** Record a stage nudge once; false if this stage was already nudged. */
export async function claimNudge(db: Queryable, incidentId: string, stage: string, at: Date): Promise<boolean> {
  const rows = await db.query<{ stage: string }>('INSERT INTO incident_nudges (incident_id, stage, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING stage', [incidentId, stage, at]);
  return rows.length > 0;
}

export type PersonRow = {
  id: string;
  name: string;
  slack: string | null;
  wecom: string | null;
  roles: string[];
};

export async function peopleByIds(db: Queryable, ids: string[]): Promise<PersonRow[]> {
  if (!ids.length) return [];
  return db.query<PersonRow>('SELECT id, name, slack, wecom, roles FROM people WHERE id = ANY($1)', [ids]);
}

/** A person by Warroom id, Slack id or WeCom id. */
export async function findPerson(db: Queryable, platform: Platform, who: string): Promise<PersonRow | undefined> {
  const column = platform === 'slack' ? 'slack' : platform === 'wecom' ? 'wecom' : 'id';
  const rows = await db.query<PersonRow>(`SELECT id, name, slack, wecom, roles FROM people WHERE ${column} = $1 OR id = $1 OR name = $1 LIMIT 1`, [who]);
  return rows[0];
}

/** On-call people of these systems at a moment, with their role. */
export async function oncallAt(db: Queryable, systems: string[], at: Date): Promise<Array<PersonRow & { system: string; oncall_role: string }>> {
  return db.query<PersonRow & { system: string; oncall_role: string }>(
    `SELECT o.system, o.role AS oncall_role, p.id, p.name, p.slack, p.wecom, p.roles
       FROM oncall o JOIN people p ON p.id = o.person
      WHERE o.system = ANY($1) AND (o.starts_at IS NULL OR o.starts_at <= $2) AND (o.ends_at IS NULL OR o.ends_at > $2)
      ORDER BY array_position($1, o.system), o.role`,
    [systems, at],
  );
}


/** The systems a system depends on (its upstream), from the CMDB subset. */
export async function dependenciesOf(db: Queryable, system: string): Promise<string[]> {
  const rows = await db.query<{ depends_on: string[] }>('SELECT depends_on FROM systems WHERE id = $1', [system]);
  return rows[0]?.depends_on ?? [];
}

// ---- Declarations as durable steps (migration 009) ----

/** The steps of a declaration after the record itself, each written once it is done. */
export type DeclareStep = 'localize' | 'room-requested' | 'room' | 'invite' | 'card-requested' | 'card' | 'dm' | 'pin' | 'announce-requested' | 'announce';

export type DeclarationRow = {
  incident_id: string;
  platform: Platform | null;
  room_name: string;
  room_key: string;
  members: string[];
  onset: Date | null;
  steps: Partial<Record<DeclareStep, Record<string, unknown> & { at: string }>>;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  done_at: Date | null;
};

const DECLARATION_COLUMNS = 'incident_id, platform, room_name, room_key, members, onset, steps, attempts, last_error, created_at, done_at';

export async function insertDeclaration(
  db: Queryable,
  d: { incidentId: string; platform: Platform | null; roomName: string; roomKey: string; members: string[]; onset: Date | undefined; doneAt: Date | null },
): Promise<void> {
  await db.query(
    'INSERT INTO incident_declarations (incident_id, platform, room_name, room_key, members, onset, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [d.incidentId, d.platform, d.roomName, d.roomKey, d.members, d.onset ?? null, d.doneAt],
  );
}

export async function getDeclaration(db: Queryable, incidentId: string): Promise<DeclarationRow | undefined> {
  const rows = await db.query<DeclarationRow>(`SELECT ${DECLARATION_COLUMNS} FROM incident_declarations WHERE incident_id = $1`, [incidentId]);
  return rows[0];
}

/** Record a completed step (or a step about to touch the platform, for the `-requested` ones). */
export async function markDeclareStep(db: Queryable, incidentId: string, step: DeclareStep, data: Record<string, unknown> & { at: string }): Promise<void> {
  await db.query('UPDATE incident_declarations SET steps = steps || jsonb_build_object($2::text, $3::jsonb) WHERE incident_id = $1', [incidentId, step, JSON.stringify(data)]);
}

export async function finishDeclaration(db: Queryable, incidentId: string, at: Date, error?: string): Promise<void> {
  await db.query('UPDATE incident_declarations SET done_at = $2, last_error = COALESCE($3, last_error) WHERE incident_id = $1', [incidentId, at, error ?? null]);
}

export async function failedDeclareAttempt(db: Queryable, incidentId: string, error: string): Promise<void> {
  await db.query('UPDATE incident_declarations SET attempts = attempts + 1, last_error = $2 WHERE incident_id = $1', [incidentId, error.slice(0, 2000)]);
}

/**
 * Declarations to finish: not done, on a platform (their room is missing, or their card, pin or
 * announcement), least-tried then oldest first; resolved incidents are included, their room is still owed.
 */
export async function unfinishedDeclarations(db: Queryable, platforms: string[], limit = 50): Promise<Array<{ incident_id: string; platform: Platform }>> {
  // Only those a connected platform can finish, the least-tried first: one that keeps failing (a
  // permission Slack refuses) never starves a newer one.
  return db.query<{ incident_id: string; platform: Platform }>(
    'SELECT incident_id, platform FROM incident_declarations WHERE done_at IS NULL AND platform = ANY($1::text[]) ORDER BY attempts, created_at, incident_id LIMIT $2',
    [platforms, limit],
  );
}
