import type { Queryable } from '../../db/db.js';
import type { UserNoiseRule } from './diff/noise.js';

type Row = { id: number; factor: string; key_pattern: string; reason: string | null; created_by: string; created_at: Date };

const toRule = (r: Row): UserNoiseRule => ({
  id: Number(r.id),
  factor: r.factor,
  keyPattern: r.key_pattern,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
});

const COLUMNS = 'id, factor, key_pattern, reason, created_by, created_at';

export async function listNoiseRules(db: Queryable): Promise<UserNoiseRule[]> {
  return (await db.query<Row>(`SELECT ${COLUMNS} FROM noise_rules ORDER BY id`)).map(toRule);
}

/** Add a rule; adding the same factor and pattern again returns the existing rule. */
export async function addNoiseRule(
  db: Queryable,
  rule: { factor: string; keyPattern: string; reason?: string | undefined; createdBy: string },
): Promise<{ rule: UserNoiseRule; created: boolean }> {
  const inserted = await db.query<Row>(
    `INSERT INTO noise_rules (factor, key_pattern, reason, created_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (factor, key_pattern) DO NOTHING RETURNING ${COLUMNS}`,
    [rule.factor, rule.keyPattern, rule.reason ?? null, rule.createdBy],
  );
  if (inserted[0]) return { rule: toRule(inserted[0]), created: true };
  const existing = await db.query<Row>(`SELECT ${COLUMNS} FROM noise_rules WHERE factor = $1 AND key_pattern = $2`, [rule.factor, rule.keyPattern]);
  return { rule: toRule(existing[0]!), created: false };
}

export async function removeNoiseRule(db: Queryable, id: number): Promise<UserNoiseRule | undefined> {
  const rows = await db.query<Row>(`DELETE FROM noise_rules WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  return rows[0] ? toRule(rows[0]) : undefined;
}
