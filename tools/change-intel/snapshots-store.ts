import type { Queryable } from '../../db/db.js';
import type { Snapshot } from './snapshot.js';

/** A snapshot's id: its host and the moment it was taken, so posting the same snapshot twice stores it once. */
export function snapshotId(s: Pick<Snapshot, 'host' | 'takenAt'>): string {
  return `${s.host}@${new Date(s.takenAt).toISOString()}`;
}

export interface StoredSnapshot extends Snapshot {
  id: string;
}

type Row = {
  id: string; host: string; taken_at: Date; label: string | null; change_id: string | null; role: string | null;
  environment: string | null; skipped: Record<string, string> | null; factors: Snapshot['factors'];
};

const toSnapshot = (r: Row): StoredSnapshot => ({
  id: r.id,
  host: r.host,
  takenAt: new Date(r.taken_at).toISOString(),
  ...(r.label ? { label: r.label as NonNullable<Snapshot['label']> } : {}),
  ...(r.change_id ? { changeId: r.change_id } : {}),
  ...(r.role ? { role: r.role } : {}),
  ...(r.environment ? { environment: r.environment } : {}),
  ...(r.skipped && Object.keys(r.skipped).length ? { skipped: r.skipped } : {}),
  factors: r.factors,
});

export interface StoreCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  ids: string[];
}

/** Upsert snapshots by id, in one transaction's worth of statements (the caller chooses the transaction). */
export async function storeSnapshots(db: Queryable, snapshots: readonly Snapshot[]): Promise<StoreCounts> {
  const counts: StoreCounts = { inserted: 0, updated: 0, unchanged: 0, ids: [] };
  for (const s of snapshots) {
    const id = snapshotId(s);
    const rows = await db.query<{ inserted: boolean }>(
      `INSERT INTO snapshots (id, host, taken_at, label, change_id, role, environment, skipped, factors)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)
       ON CONFLICT (id) DO UPDATE SET label = EXCLUDED.label, change_id = EXCLUDED.change_id, role = EXCLUDED.role,
              environment = EXCLUDED.environment, skipped = EXCLUDED.skipped, factors = EXCLUDED.factors
        WHERE (snapshots.label, snapshots.change_id, snapshots.role, snapshots.environment, snapshots.skipped, snapshots.factors)
              IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.change_id, EXCLUDED.role, EXCLUDED.environment, EXCLUDED.skipped, EXCLUDED.factors)
       RETURNING (xmax = 0) AS inserted`,
      [id, s.host, new Date(s.takenAt).toISOString(), s.label ?? null, s.changeId ?? null, s.role ?? null, s.environment ?? null, JSON.stringify(s.skipped ?? {}), JSON.stringify(s.factors)],
    );
    counts.ids.push(id);
    if (!rows[0]) counts.unchanged++;
    else if (rows[0].inserted) counts.inserted++;
    else counts.updated++;
  }
  return counts;
}

export interface SnapshotFilter {
  host: string;
  changeId?: string | undefined;
  label?: string | undefined;
  /** Only snapshots taken at or before this moment. */
  before?: Date | undefined;
  limit?: number;
}

/** Newest first. */
export async function findSnapshots(db: Queryable, f: SnapshotFilter): Promise<StoredSnapshot[]> {
  const rows = await db.query<Row>(
    `SELECT id, host, taken_at, label, change_id, role, environment, skipped, factors FROM snapshots
      WHERE host = $1 AND ($2::text IS NULL OR change_id = $2) AND ($3::text IS NULL OR label = $3)
        AND ($4::timestamptz IS NULL OR taken_at <= $4)
      ORDER BY taken_at DESC, id DESC LIMIT $5`,
    [f.host, f.changeId ?? null, f.label ?? null, f.before ? f.before.toISOString() : null, f.limit ?? 2],
  );
  return rows.map(toSnapshot);
}

/** Hosts that have snapshots, with how many and the newest; for "did you mean" answers. */
export async function snapshotHosts(db: Queryable, limit = 20): Promise<Array<{ host: string; count: number; latest: string }>> {
  const rows = await db.query<{ host: string; count: number; latest: Date }>(
    'SELECT host, count(*)::int AS count, max(taken_at) AS latest FROM snapshots GROUP BY host ORDER BY max(taken_at) DESC LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ host: r.host, count: r.count, latest: new Date(r.latest).toISOString() }));
}
