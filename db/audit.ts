import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/json.js';
import type { Db, Queryable } from './db.js';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

export type AuditRow = {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
};

const GENESIS = '0'.repeat(64);

function hashOf(prevHash: string, at: string, e: AuditEntry): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalJson({ at, actor: e.actor, action: e.action, target: e.target ?? null, outcome: e.outcome, detail: e.detail ?? {} }))
    .digest('hex');
}

/**
 * Append to the audit log. Rows are chained by hash and the table refuses UPDATE, DELETE and
 * TRUNCATE, so an edit made behind the database's back shows up in `verifyAuditChain`.
 */
export async function appendAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.transaction((tx) => appendAuditIn(tx, db.kind, entry));
}

/**
 * Append inside a transaction the caller already holds, so the audit row and the change it records
 * commit together or not at all (a refused audit row rolls the change back).
 */
export async function appendAuditIn(tx: Queryable, kind: Db['kind'], entry: AuditEntry): Promise<void> {
  // Serialise appends so each row sees its predecessor (PGlite is single-connection anyway).
  if (kind === 'postgres') await tx.query("SELECT pg_advisory_xact_lock(hashtext('warroom:audit'))");
  const last = await tx.query<{ hash: string }>('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1');
  const prev = last[0]?.hash ?? GENESIS;
  const at = new Date().toISOString();
  // Hash the detail as jsonb will give it back (dates as strings, undefined array items as null),
  // or verification would see a difference that no one made.
  const detail = JSON.parse(JSON.stringify(entry.detail ?? {})) as Record<string, unknown>;
  await tx.query(
    'INSERT INTO audit_log (at, actor, action, target, outcome, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)',
    [at, entry.actor, entry.action, entry.target ?? null, entry.outcome, JSON.stringify(detail), prev, hashOf(prev, at, { ...entry, detail })],
  );
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  /** The first row whose hash or link does not match, when `ok` is false. */
  brokenAt?: number;
}

export async function verifyAuditChain(db: Db): Promise<AuditVerification> {
  const rows = await db.query<AuditRow>('SELECT * FROM audit_log ORDER BY id');
  let prev = GENESIS;
  for (const row of rows) {
    const at = new Date(row.at).toISOString();
    const expected = hashOf(prev, at, { actor: row.actor, action: row.action, target: row.target ?? undefined, outcome: row.outcome, detail: row.detail });
    if (row.prev_hash !== prev || row.hash !== expected) return { ok: false, rows: rows.length, brokenAt: row.id };
    prev = row.hash;
  }
  return { ok: true, rows: rows.length };
}
