import { localParts } from '../core/time.js';
import type { Queryable } from './db.js';

/** Ids numbered per day: incidents (INC-YYYYMMDD-NNN) and action requests (ACT-YYYYMMDD-NNN). */
const KINDS = {
  // Incidents were numbered first: their counter row is keyed by the bare day.
  INC: { table: 'incidents', counterKey: (day: string) => day },
  ACT: { table: 'action_requests', counterKey: (day: string) => `ACT-${day}` },
} as const;

/**
 * The next id of the day (the day in the exchange's time zone), taken atomically in
 * `incident_counters`, so concurrent callers never collide; it starts after any id of the day that
 * is already there (imported, or from before the counter).
 */
export async function nextDailyId(db: Queryable, prefix: keyof typeof KINDS, at: Date, timeZone: string): Promise<string> {
  const p = localParts(at, timeZone);
  const day = `${p.year}${String(p.month).padStart(2, '0')}${String(p.day).padStart(2, '0')}`;
  const { table, counterKey } = KINDS[prefix];
  const rows = await db.query<{ n: number }>(
    `INSERT INTO incident_counters (day, n)
       VALUES ($1, 1 + COALESCE((SELECT max(substring(id FROM 14)::int) FROM ${table} WHERE id ~ ('^${prefix}-' || $2 || '-[0-9]+$')), 0))
     ON CONFLICT (day) DO UPDATE SET n = incident_counters.n + 1
     RETURNING n`,
    [counterKey(day), day],
  );
  return `${prefix}-${day}-${String(rows[0]!.n).padStart(3, '0')}`;
}
