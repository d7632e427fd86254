import type { Queryable } from '../../db/db.js';
import { maySeeIncident } from '../../tools/incidents/visibility.js';
import { getIncident, type IncidentRow } from './store.js';

/**
 * Which incidents a question may bring to an agent, and what of them it sees.
 *
 * The rule is tools/incidents/visibility.ts `maySeeIncident`. An incident named elsewhere
 * (INC-YYYYMMDD-NNN) that the asker may not see, and an id that does not exist, get the same
 * refusal, so the answer does not tell whether the incident exists; the question then does not
 * reach the agent at all. Incidents the model finds through tools are filtered by the same rule
 * (agents/llm/visibility.ts).
 */

const INCIDENT_ID = /\bINC-\d{8}-\d{3,}\b/gi;

/** The incident ids a question names, upper-cased, in order, once each. */
export function namedIncidentIds(text: string): string[] {
  return [...new Set((text.match(INCIDENT_ID) ?? []).map((id) => id.toUpperCase()))];
}

export { maySeeIncident };

/** An incident by id when this person may see it; undefined when it does not exist or they may not. */
export async function visibleIncident(db: Queryable, id: string, personId: string, at: Date): Promise<IncidentRow | undefined> {
  const incident = await getIncident(db, id);
  return incident && (await maySeeIncident(db, incident, personId, at)) ? incident : undefined;
}
