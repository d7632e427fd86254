import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/json.js';
import type { Queryable } from '../../db/db.js';

type StoredRow = {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  detail: Record<string, unknown>;
  hash: string;
};

/** What someone with superuser rights on the database can do behind the append-only triggers. */
export async function behindTheTriggers<T>(db: Queryable, fn: () => Promise<T>): Promise<T> {
  await db.exec('ALTER TABLE audit_log DISABLE TRIGGER USER');
  try {
    return await fn();
  } finally {
    await db.exec('ALTER TABLE audit_log ENABLE TRIGGER USER');
  }
}

/**
 * Edit the row `fromId` and recompute every hash from it on, the way the chain is built (the
 * formula is no secret): the chain alone then looks whole.
 */
export async function rewriteChainFrom(db: Queryable, fromId: number, edit: { outcome?: string; actor?: string }): Promise<void> {
  await behindTheTriggers(db, async () => {
    const rows = await db.query<StoredRow>('SELECT * FROM audit_log ORDER BY id');
    let prev = '0'.repeat(64);
    for (const row of rows) {
      if (row.id < fromId) {
        prev = row.hash;
        continue;
      }
      const r = row.id === fromId ? { ...row, ...edit } : row;
      const hash = createHash('sha256')
        .update(prev)
        .update(canonicalJson({ at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, detail: r.detail }))
        .digest('hex');
      await db.query('UPDATE audit_log SET actor = $1, outcome = $2, prev_hash = $3, hash = $4 WHERE id = $5', [r.actor, r.outcome, prev, hash, r.id]);
      prev = hash;
    }
  });
}

export async function auditIds(db: Queryable): Promise<number[]> {
  return (await db.query<{ id: number }>('SELECT id FROM audit_log ORDER BY id')).map((r) => Number(r.id));
}
