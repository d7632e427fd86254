import { createHash } from 'node:crypto';
import type { Queryable } from './db.js';

/**
 * "Run once, whatever arrives twice": a delivery (a signed request, an event id, a callback's
 * message id) is claimed in the database before it is handled. The first claim wins; a claim of the
 * same (scope, key) before it expires is refused, so the caller acknowledges the delivery and drops
 * it. Because the claims live in `request_claims` (migration 008), they survive a restart and are
 * shared by every Warroom process on one PostgreSQL database; on PGlite they survive a restart of
 * the process that owns the files.
 *
 * Time is the caller's (the app's clock), never the database's or the wall clock.
 */

/** Keys longer than this are stored as their SHA-256 digest. */
const MAX_KEY_CHARS = 200;
/** At most this often (app time) a claim also deletes expired rows, at most PRUNE_BATCH of them. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 1_000;

const lastPruned = new WeakMap<object, number>();

function storedKey(key: string): string {
  return key.length > MAX_KEY_CHARS ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key;
}

/**
 * Claim (scope, key) until `now + ttlMs`. Resolves true when this caller is the first (or the earlier
 * claim has expired): go on and handle the delivery. Resolves false when someone — this process,
 * another one, or this one before a restart — already claimed it and the claim is still live: drop it.
 * One statement, atomic on PostgreSQL under concurrency (the conflicting row is locked and re-checked).
 */
export async function claimOnce(db: Queryable, scope: string, key: string, now: Date, ttlMs: number): Promise<boolean> {
  if (!scope || !key) throw new TypeError('claimOnce needs a scope and a key');
  if (!(ttlMs > 0)) throw new TypeError('claimOnce needs a positive ttlMs');
  const at = now.getTime();
  if (!Number.isFinite(at)) throw new TypeError('claimOnce needs a valid time');
  const rows = await db.query(
    `INSERT INTO request_claims AS c (scope, key, first_seen_at, expires_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, key) DO UPDATE SET first_seen_at = EXCLUDED.first_seen_at, expires_at = EXCLUDED.expires_at
       WHERE c.expires_at <= EXCLUDED.first_seen_at
     RETURNING 1 AS claimed`,
    [scope, storedKey(key), new Date(at).toISOString(), new Date(at + ttlMs).toISOString()],
  );
  await pruneNow(db, now);
  return rows.length === 1;
}

/** Delete up to `limit` claims that expired before `now`; returns how many went. */
export async function pruneClaims(db: Queryable, now: Date, limit: number = PRUNE_BATCH): Promise<number> {
  const rows = await db.query(
    `DELETE FROM request_claims WHERE (scope, key) IN (
       SELECT scope, key FROM request_claims WHERE expires_at < $1 ORDER BY expires_at LIMIT $2
     ) RETURNING 1`,
    [now.toISOString(), limit],
  );
  return rows.length;
}

/** Prune in passing, about once a minute of app time per store; a failure here never fails a claim. */
async function pruneNow(db: Queryable, now: Date): Promise<void> {
  const at = now.getTime();
  const last = lastPruned.get(db);
  if (last !== undefined && at >= last && at - last < PRUNE_EVERY_MS) return;
  lastPruned.set(db, at);
  try {
    await pruneClaims(db, now);
  } catch {
    // The next prune catches up; expired rows are reclaimable meanwhile anyway.
  }
}
