import type { PersonFacts } from '../../core/policy-file.js';
import { INCIDENT_ROLES } from '../../core/policy-file.js';
import type { Queryable } from '../../db/db.js';

/**
 * What the store says about a person, as the policy's grants see it: known or not, their people
 * roles, the rota roles they are on call in now for `system` or a system it depends on, and the
 * roles they hold in `incidentId`. Shared by incident permissions and action approvals, so both
 * judge a grant from the same facts.
 */
export async function gatherPersonFacts(db: Queryable, personId: string, scope: { system?: string | null; incidentId?: string | null; at: Date }): Promise<PersonFacts> {
  const [person] = await db.query<{ roles: string[] | null }>('SELECT roles FROM people WHERE id = $1', [personId]);
  if (!person) return { id: personId, known: false, peopleRoles: [], onCallRoles: [], incidentRoles: [] };
  let onCallRoles: string[] = [];
  if (scope.system) {
    const rows = await db.query<{ role: string }>(
      `SELECT DISTINCT o.role FROM oncall o
        WHERE o.person = $1
          AND (o.system = $2 OR o.system = ANY(COALESCE((SELECT depends_on FROM systems WHERE id = $2), '{}')))
          AND (o.starts_at IS NULL OR o.starts_at <= $3) AND (o.ends_at IS NULL OR o.ends_at > $3)`,
      [personId, scope.system, scope.at],
    );
    onCallRoles = rows.map((r) => r.role).sort();
  }
  let incidentRoles: PersonFacts['incidentRoles'] = [];
  if (scope.incidentId) {
    const rows = await db.query<{ role: string }>('SELECT role FROM incident_roles WHERE incident_id = $1 AND person = $2', [scope.incidentId, personId]);
    incidentRoles = rows.map((r) => r.role).filter((r): r is PersonFacts['incidentRoles'][number] => (INCIDENT_ROLES as readonly string[]).includes(r));
  }
  return { id: personId, known: true, peopleRoles: person.roles ?? [], onCallRoles, incidentRoles };
}
