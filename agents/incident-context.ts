import type { Queryable } from '../db/db.js';
import { readIncidentStatus } from '../tools/incidents/incident-status.js';
import type { IncidentContextData } from './types.js';

/**
 * The room's incident as agents get it with a question (Question.incident): recorded facts only,
 * the expected recovery from `/incident eta` included. The caller has already checked that the
 * asker may see this incident.
 */
export async function incidentContextData(db: Queryable, incidentId: string, now: Date, timeZone: string, timelineEntries = 8): Promise<IncidentContextData> {
  const s = await readIncidentStatus(db, incidentId, now, timeZone, timelineEntries);
  return {
    id: s.id,
    title: s.title,
    system: s.system,
    systemName: s.systemName,
    severity: s.severity,
    status: s.status,
    openedAt: s.openedAt,
    impact: s.impact,
    eta: s.eta?.text ?? null,
    rootCause: s.rootCause,
    roles: s.roles.map((r) => ({ role: r.role, person: r.person, name: r.name })),
    timeline: s.timeline,
  };
}
