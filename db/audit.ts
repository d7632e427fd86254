import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/json.js';
import { redactSecrets, redactText } from '../core/redact.js';
import { readAuditAnchors, type AuditAnchor } from './audit-anchors.js';
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
 * commit together or not at all (a refused audit row rolls the change back). Secrets in the detail
 * and the target are redacted first (core/redact.ts): the log never holds them, and the hash is
 * of what is stored.
 */
export async function appendAuditIn(tx: Queryable, kind: Db['kind'], entry: AuditEntry): Promise<void> {
  // Serialise appends so each row sees its predecessor (PGlite is single-connection anyway).
  if (kind === 'postgres') await tx.query("SELECT pg_advisory_xact_lock(hashtext('warroom:audit'))");
  const last = await tx.query<{ hash: string }>('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1');
  const prev = last[0]?.hash ?? GENESIS;
  const at = new Date().toISOString();
  // Hash the detail as jsonb will give it back (dates as strings, undefined array items as null),
  // or verification would see a difference that no one made.
  const detail = redactSecrets(JSON.parse(JSON.stringify(entry.detail ?? {})) as Record<string, unknown>);
  const stored: AuditEntry = { actor: entry.actor, action: entry.action, outcome: entry.outcome, detail, ...(entry.target !== undefined ? { target: redactText(entry.target) } : {}) };
  await tx.query(
    'INSERT INTO audit_log (at, actor, action, target, outcome, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)',
    [at, stored.actor, stored.action, stored.target ?? null, stored.outcome, JSON.stringify(detail), prev, hashOf(prev, at, stored)],
  );
}

export interface AuditHead {
  id: number;
  hash: string;
}

/** The newest row of the audit log (its id and hash), or undefined while the log is empty. */
export async function auditHead(db: Queryable): Promise<AuditHead | undefined> {
  const rows = await db.query<{ id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1');
  return rows[0] ? { id: Number(rows[0].id), hash: rows[0].hash } : undefined;
}

/** "audit #1234 a1b2c3d4": the head as a decision message shows it, enough to compare by eye. */
export function formatAuditHead(head: AuditHead): string {
  return `audit #${head.id} ${head.hash.slice(0, 8)}`;
}

/** Why a row breaks the log: edited, unlinked from its predecessor, not what was anchored, or gone. */
export type AuditBreakReason = 'hash' | 'link' | 'anchor-mismatch' | 'missing-row';

export interface VerifyAuditOptions {
  /** The anchors file (`anchorAuditHead`) to check the rows against; without it, the chain alone. */
  anchorsFile?: string;
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  /** The first row (lowest id) that breaks the log, when `ok` is false. */
  brokenAt?: number;
  reason?: AuditBreakReason;
  /** What was found, for people: the row, why it breaks, and its actor, action and time. */
  detail: string;
  /** The broken row as stored, when it still exists. */
  row?: Pick<AuditRow, 'id' | 'actor' | 'action' | 'target' | 'outcome'> & { at: string };
  anchors: {
    /** Anchor lines compared with the rows (all of them when the log is intact). */
    checked: number;
    file?: string;
    /** No anchors file at `file` (nothing anchored yet). */
    absent?: boolean;
    /** Line numbers of the anchors file that are not anchors (a torn last line after a crash, an edit). */
    invalidLines: number[];
    /** The highest anchored row id. */
    lastId?: number;
    /** Rows newer than the last anchor (not covered until the next anchoring). */
    unanchored: number;
  };
}

const PAGE = 5000;

function describeRow(row: AuditRow): string {
  return `actor ${row.actor}, action ${row.action}${row.target ? `, target ${redactText(row.target)}` : ''}, outcome ${row.outcome}, at ${new Date(row.at).toISOString()}`;
}

/**
 * Recompute the hash chain of the audit log and, given an anchors file, check every anchored row:
 * it must still exist and still have the anchored hash. The chain catches a row edited in place or
 * a row removed from the middle; the anchors catch what the chain cannot: a chain rewritten
 * consistently after an edit (every hash recomputed) and rows deleted from its end. Names the first
 * row (lowest id) that breaks, and why.
 */
export async function verifyAuditChain(db: Queryable, options: VerifyAuditOptions = {}): Promise<AuditVerification> {
  const read = options.anchorsFile ? await readAuditAnchors(options.anchorsFile) : undefined;
  // Anchored ids in order, each with every hash anchored for it (a duplicate line is harmless).
  const byId = new Map<number, AuditAnchor[]>();
  for (const a of read?.anchors ?? []) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
  const anchoredIds = [...byId.keys()].sort((a, b) => a - b);
  const lastAnchoredId = anchoredIds.at(-1);
  const anchors: AuditVerification['anchors'] = {
    checked: 0,
    ...(options.anchorsFile ? { file: options.anchorsFile } : {}),
    ...(read?.absent ? { absent: true } : {}),
    invalidLines: read?.invalidLines ?? [],
    ...(lastAnchoredId !== undefined ? { lastId: lastAnchoredId } : {}),
    unanchored: 0,
  };
  let rows = 0;
  let next = 0; // index into anchoredIds
  let prev = GENESIS;
  let prevId: number | undefined;
  const missing = (id: number, nextRowId?: number): AuditVerification => {
    const a = byId.get(id)![0]!;
    const gone = anchoredIds.length - next;
    const before = prevId === undefined ? 'the log has no row before it' : `the row before it is ${prevId}`;
    return {
      ok: false,
      rows,
      brokenAt: id,
      reason: 'missing-row',
      anchors,
      detail:
        `audit row ${id} is missing: it was anchored at ${a.at} with hash ${a.hash.slice(0, 16)}…, and the log has no row ${id} now (${before}). ` +
        (nextRowId === undefined
          ? `The log was cut short: ${gone === 1 ? 'that anchored row is' : `all ${gone} anchored rows from ${id} to ${lastAnchoredId} are`} gone.`
          : `Rows were deleted before row ${nextRowId}.`),
    };
  };
  const broken = (row: AuditRow, reason: AuditBreakReason, why: string): AuditVerification => ({
    ok: false,
    rows,
    brokenAt: row.id,
    reason,
    anchors,
    detail: `audit row ${row.id} ${why}: ${describeRow(row)}.`,
    row: { id: row.id, at: new Date(row.at).toISOString(), actor: row.actor, action: row.action, target: row.target === null ? null : redactText(row.target), outcome: row.outcome },
  });

  for (let after = 0; ; ) {
    const page = await db.query<AuditRow>('SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2', [after, PAGE]);
    if (page.length === 0) break;
    for (const raw of page) {
      const row = { ...raw, id: Number(raw.id) };
      rows++;
      // An anchored id below this row that no row has: deleted.
      if (next < anchoredIds.length && anchoredIds[next]! < row.id) return missing(anchoredIds[next]!, row.id);
      const at = new Date(row.at).toISOString();
      if (row.prev_hash !== prev) {
        return broken(row, 'link', `does not follow ${prevId === undefined ? 'the start of the log' : `row ${prevId}`} (its prev_hash is not that row's hash): a row between them was deleted, or rows were inserted or reordered`);
      }
      const expected = hashOf(prev, at, { actor: row.actor, action: row.action, target: row.target ?? undefined, outcome: row.outcome, detail: row.detail });
      if (row.hash !== expected) return broken(row, 'hash', 'does not match its hash (edited after it was written)');
      if (next < anchoredIds.length && anchoredIds[next] === row.id) {
        for (const a of byId.get(row.id)!) {
          anchors.checked++;
          if (a.hash !== row.hash) {
            return broken(row, 'anchor-mismatch', `is not the row anchored at ${a.at} (hash ${row.hash.slice(0, 16)}…, anchored ${a.hash.slice(0, 16)}…): the chain was rewritten from this row on, its hashes recomputed`);
          }
        }
        next++;
      } else if (lastAnchoredId === undefined || row.id > lastAnchoredId) anchors.unanchored++;
      prev = row.hash;
      prevId = row.id;
    }
    after = Number(page.at(-1)!.id);
  }
  // Anchored rows beyond the end of the log: the log was cut short.
  if (next < anchoredIds.length) return missing(anchoredIds[next]!);
  const head = prevId === undefined ? 'the log is empty' : `head row ${prevId} ${prev.slice(0, 8)}`;
  const anchorText = !options.anchorsFile
    ? 'no anchors checked'
    : read?.absent
      ? `no anchors yet (${options.anchorsFile} does not exist): a rewritten chain would not show`
      : `${anchors.checked} anchor${anchors.checked === 1 ? '' : 's'} checked in ${options.anchorsFile}${anchors.unanchored ? `; ${anchors.unanchored} newer row${anchors.unanchored === 1 ? ' is' : 's are'} not anchored yet` : ''}`;
  const invalid = anchors.invalidLines.length ? `; ${anchors.invalidLines.length} line(s) of the anchors file are not anchors (line ${anchors.invalidLines.slice(0, 5).join(', ')})` : '';
  return { ok: true, rows, anchors, detail: `${rows} row${rows === 1 ? '' : 's'}, hash chain intact (${head}); ${anchorText}${invalid}.` };
}

/** The latest `limit` rows, oldest first (as `tail` prints them), their details redacted again for rows written before redaction. */
export async function auditTail(db: Queryable, limit = 20): Promise<AuditRow[]> {
  const rows = await db.query<AuditRow>('SELECT * FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT $1) t ORDER BY id', [Math.max(0, Math.floor(limit))]);
  return rows.map((r) => ({ ...r, id: Number(r.id), target: r.target === null ? null : redactText(r.target), detail: redactSecrets(r.detail) }));
}
