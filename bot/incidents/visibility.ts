import type { Queryable } from '../../db/db.js';
import { gatherPersonFacts } from '../../tools/oncall/person-facts.js';
import { getIncident, type IncidentRow } from './store.js';

/**
 * Which incidents a question may bring to an agent, and what of them it sees.
 *
 * The rule (issue 14, item 4: the model never sees an incident of a room the asker may not see):
 * - asked in an incident's room, that incident is the question's context: whoever can write in the
 *   room can read it (the platform decides who is in a room, not Warroom);
 * - an incident named elsewhere (INC-YYYYMMDD-NNN) is given only when the asker, a person known to
 *   Warroom, is in it: holds a role in it, declared it, was brought into its room at declaration
 *   or joined its web chat room, has an entry on its timeline, or is on call now for its system (or a
 *   system it depends on, as the policy's on-call grants read it). Anybody else, and an id that does
 *   not exist, get the same refusal, so the answer does not tell whether the incident exists; the
 *   question then does not reach the agent at all.
 */

const INCIDENT_ID = /\bINC-\d{8}-\d{3,}\b/gi;

/** The incident ids a question names, upper-cased, in order, once each. */
export function namedIncidentIds(text: string): string[] {
  return [...new Set((text.match(INCIDENT_ID) ?? []).map((id) => id.toUpperCase()))];
}

/** Whether this person may see the incident from outside its room (see the rule above). */
export async function maySeeIncident(db: Queryable, incident: IncidentRow, personId: string, at: Date): Promise<boolean> {
  if (incident.declared_by === personId) return true;
  const [row] = await db.query<{ seen: boolean }>(
    `SELECT (
        EXISTS (SELECT 1 FROM people WHERE id = $2) AND (
          EXISTS (SELECT 1 FROM incident_roles WHERE incident_id = $1 AND person = $2)
          OR EXISTS (SELECT 1 FROM incident_declarations WHERE incident_id = $1 AND $2 = ANY(members))
          OR EXISTS (SELECT 1 FROM incident_timeline WHERE incident_id = $1 AND actor = $2)
          OR ($3::text IS NOT NULL AND EXISTS (SELECT 1 FROM local_room_members WHERE room_id = $3 AND person = $2))
        )
      ) AS seen`,
    [incident.id, personId, incident.room?.platform === 'local' ? incident.room.id : null],
  );
  if (row?.seen) return true;
  const facts = await gatherPersonFacts(db, personId, { system: incident.system, at });
  return facts.known && facts.onCallRoles.length > 0;
}

/** An incident by id when this person may see it; undefined when it does not exist or they may not. */
export async function visibleIncident(db: Queryable, id: string, personId: string, at: Date): Promise<IncidentRow | undefined> {
  const incident = await getIncident(db, id);
  return incident && (await maySeeIncident(db, incident, personId, at)) ? incident : undefined;
}
