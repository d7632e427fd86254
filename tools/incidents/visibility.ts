import type { Queryable } from '../../db/db.js';
import { gatherPersonFacts } from '../oncall/person-facts.js';

/**
 * Who may see an incident from outside its room (issue 14: the model never sees an incident of a
 * room the asker may not see). Asked in an incident's room, that incident is the question's context
 * (whoever can write in the room can read it: the platform decides who is in a room). Elsewhere a
 * person known to Warroom sees an incident they are in: they declared it, hold a role in it, were
 * brought into its room at declaration or joined its web chat room, have an entry on its timeline,
 * or are on call now for its system (or a system it depends on, as the policy's on-call grants read it).
 */
export type IncidentSeen = {
  id: string;
  system: string;
  declared_by: string | null;
  room: { platform: string; id: string } | null;
};

export async function maySeeIncident(db: Queryable, incident: IncidentSeen, personId: string, at: Date): Promise<boolean> {
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

/** `maySeeIncident` by id; false for an id that does not exist (the answer does not tell which). */
export async function maySeeIncidentId(db: Queryable, id: string, personId: string, at: Date): Promise<boolean> {
  const [incident] = await db.query<IncidentSeen>('SELECT id, system, declared_by, room FROM incidents WHERE id = $1', [id]);
  return incident ? maySeeIncident(db, incident, personId, at) : false;
}
