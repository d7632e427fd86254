import type { Db, Queryable } from '../../db/db.js';

/**
 * The alerts table for a whole batch at once: the deduplication by fingerprint that used to cost a
 * transaction per alert (find the open alert, raise its count or insert a new one) is worked out in
 * memory, in order, from what the table holds for the batch's fingerprints and ids, and written with
 * a few multi-row statements in one transaction. The batch is stored whole or not at all.
 */

/** One alert as the store needs it: validated, its system resolved, its fingerprint computed. */
export interface AlertToStore {
  /** The id a new row gets (given, or derived from the fingerprint and the start). */
  id: string;
  fingerprint: string;
  system: string;
  severity: string;
  title: string;
  startsAt: Date;
  /** When a resolved alert ended (its endsAt, or now when it gave none). */
  endsAt: Date | undefined;
  resolved: boolean;
  labels: Record<string, string>;
}

/** A row of the alerts table as the batch leaves it (the incident is filled in afterwards). */
export interface AlertRowState {
  id: string;
  fingerprint: string | null;
  startsAt: Date;
  endsAt: Date | null;
  count: number;
  incident: string | null;
  /** Already in the table before this batch (else the batch inserts it). */
  existing: boolean;
  // What the batch did to it.
  added: number;
  endsSet: boolean;
  lastSeen: Date | null;
  fresh?: Omit<AlertToStore, 'id' | 'fingerprint' | 'startsAt' | 'endsAt' | 'resolved'>;
}

/**
 * What storing did with one alert: `new` (a row of its own, for the incident logic), `repeat` (raised
 * the count of the open alert with its fingerprint), `cleared` (ended it; `row` is absent when no
 * alert with that fingerprint was open).
 */
export interface StoredAlert {
  kind: 'new' | 'repeat' | 'cleared';
  row?: AlertRowState;
  /** The count after this alert (repeats). */
  count: number;
}

/** Rows per statement: big enough to be fast, small enough that PGlite (which runs on this thread) never holds the event loop long. */
const CHUNK = 1000;

interface DbRow {
  id: string;
  fingerprint: string | null;
  repeat_count: number;
  incident_id: string | null;
  starts_at: Date;
  ends_at: Date | null;
  [key: string]: unknown;
}

const SELECT_ROWS = 'SELECT id, fingerprint, repeat_count, incident_id, starts_at, ends_at FROM alerts';

/**
 * The batch's lookups and updates touch a few rows each by key: index scans and nested loops. Left
 * to itself the planner, with statistics that lag a big batch (PGlite has no autovacuum), scans the
 * whole table once per chunk, which turns 100,000 repeats into minutes. For this transaction only.
 */
async function useIndexes(tx: Queryable): Promise<void> {
  for (const setting of ['enable_seqscan', 'enable_hashjoin', 'enable_mergejoin']) await tx.query(`SET LOCAL ${setting} = off`);
}

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function stateOf(r: DbRow): AlertRowState {
  return { id: r.id, fingerprint: r.fingerprint, startsAt: r.starts_at, endsAt: r.ends_at, count: r.repeat_count, incident: r.incident_id, existing: true, added: 0, endsSet: false, lastSeen: null };
}

/**
 * Store a batch in order, exactly as storing the alerts one by one would: a repeat of an open alert
 * (same fingerprint, not ended) raises its count and may end it; a resolved alert with nothing open is
 * only reported; anything else is a new row (when its id is already taken, that row's count is raised
 * instead, as before). One transaction; on PostgreSQL one advisory lock serialises alert batches, so
 * two batches never both insert the "new" alert of one fingerprint.
 */
export async function storeAlertBatch(db: Db, alerts: AlertToStore[], now: Date): Promise<StoredAlert[]> {
  const nowIso = now.toISOString();
  const fingerprints = [...new Set(alerts.map((a) => a.fingerprint))];
  const ids = [...new Set(alerts.map((a) => a.id))];

  return db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query("SELECT pg_advisory_xact_lock(hashtext('warroom:alerts'))");
    await useIndexes(tx);

    // What the table holds for this batch: the open alerts of its fingerprints (newest first, as the
    // one-by-one lookup took them) and the rows its new ids would collide with.
    const rows = new Map<string, AlertRowState>();
    const openByFingerprint = new Map<string, AlertRowState[]>();
    for (const part of chunks(fingerprints, 2 * CHUNK)) {
      const found = await tx.query<DbRow>(`${SELECT_ROWS} WHERE fingerprint = ANY($1::text[]) AND (ends_at IS NULL OR ends_at > $2::timestamptz) ORDER BY fingerprint, starts_at DESC, id`, [part, nowIso]);
      for (const r of found) {
        const row = rows.get(r.id) ?? stateOf(r);
        rows.set(r.id, row);
        const list = openByFingerprint.get(r.fingerprint!) ?? [];
        list.push(row);
        openByFingerprint.set(r.fingerprint!, list);
      }
    }
    for (const part of chunks(ids, 2 * CHUNK)) {
      for (const r of await tx.query<DbRow>(`${SELECT_ROWS} WHERE id = ANY($1::text[])`, [part])) if (!rows.has(r.id)) rows.set(r.id, stateOf(r));
    }

    // The batch, in order, in memory.
    const isOpen = (row: AlertRowState) => row.endsAt === null || row.endsAt > now;
    const out: StoredAlert[] = new Array(alerts.length);
    for (let i = 0; i < alerts.length; i++) {
      const a = alerts[i]!;
      const open = openByFingerprint.get(a.fingerprint);
      while (open?.length && !isOpen(open[0]!)) open.shift();
      const target = open?.[0];
      if (target) {
        target.count++;
        target.added++;
        target.lastSeen = now;
        if (a.resolved) {
          target.endsAt = a.endsAt ?? now;
          target.endsSet = true;
        }
        out[i] = { kind: a.resolved ? 'cleared' : 'repeat', row: target, count: target.count };
        continue;
      }
      if (a.resolved) {
        out[i] = { kind: 'cleared', count: 0 };
        continue;
      }
      const taken = rows.get(a.id);
      if (taken) {
        // The id names a row that is not open for this fingerprint: count it there, as ON CONFLICT did.
        taken.count++;
        taken.added++;
        taken.lastSeen = now;
        out[i] = { kind: 'new', row: taken, count: taken.count };
        continue;
      }
      const row: AlertRowState = {
        id: a.id,
        fingerprint: a.fingerprint,
        startsAt: a.startsAt,
        endsAt: null,
        count: 1,
        incident: null,
        existing: false,
        added: 1,
        endsSet: false,
        lastSeen: now,
        fresh: { system: a.system, severity: a.severity, title: a.title, labels: a.labels },
      };
      rows.set(a.id, row);
      openByFingerprint.set(a.fingerprint, [row]);
      out[i] = { kind: 'new', row, count: 1 };
    }

    const inserts: AlertRowState[] = [];
    const updates: AlertRowState[] = [];
    for (const row of rows.values()) {
      if (!row.existing) inserts.push(row);
      else if (row.added > 0) updates.push(row);
    }
    for (const part of chunks(inserts)) {
      await tx.query(
        `INSERT INTO alerts (id, fingerprint, system, severity, title, starts_at, ends_at, labels, repeat_count, last_seen_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[], $9::int[], $10::timestamptz[])
         ON CONFLICT (id) DO UPDATE SET repeat_count = alerts.repeat_count + EXCLUDED.repeat_count, last_seen_at = EXCLUDED.last_seen_at, updated_at = now()`,
        [
          part.map((r) => r.id),
          part.map((r) => r.fingerprint),
          part.map((r) => r.fresh!.system),
          part.map((r) => r.fresh!.severity),
          part.map((r) => r.fresh!.title),
          part.map((r) => r.startsAt.toISOString()),
          part.map((r) => (r.endsAt ? r.endsAt.toISOString() : null)),
          part.map((r) => JSON.stringify(r.fresh!.labels)),
          part.map((r) => r.count),
          part.map((r) => r.lastSeen?.toISOString() ?? null),
        ],
      );
      await yieldToEventLoop();
    }
    for (const part of chunks(updates)) {
      await tx.query(
        `UPDATE alerts a SET repeat_count = a.repeat_count + u.added, last_seen_at = u.last_seen_at,
                ends_at = CASE WHEN u.ends_set THEN u.ends_at ELSE a.ends_at END, updated_at = now()
           FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::boolean[], $5::timestamptz[]) AS u(id, added, last_seen_at, ends_set, ends_at)
          WHERE a.id = u.id`,
        [part.map((r) => r.id), part.map((r) => r.added), part.map((r) => r.lastSeen?.toISOString() ?? null), part.map((r) => r.endsSet), part.map((r) => (r.endsAt ? r.endsAt.toISOString() : null))],
      );
      await yieldToEventLoop();
    }
    return out;
  });
}

/** An alert that joined (or opened) an incident, and the timeline line that says so (none for the alert that declared it). */
export interface IncidentLink {
  alert: string;
  incident: string;
  timeline?: { at: Date; actor: string; kind: string; text: string; data: Record<string, unknown> };
}

/** Record which incident each alert belongs to, and the attached alerts on their timelines, in bulk. */
export async function writeIncidentLinks(db: Db, links: IncidentLink[]): Promise<void> {
  if (!links.length) return;
  await db.transaction(async (tx: Queryable) => {
    await useIndexes(tx);
    for (const part of chunks(links)) {
      await tx.query('UPDATE alerts a SET incident_id = u.incident FROM unnest($1::text[], $2::text[]) AS u(id, incident) WHERE a.id = u.id', [part.map((l) => l.alert), part.map((l) => l.incident)]);
      const lines = part.filter((l) => l.timeline);
      if (lines.length) {
        // In the batch's order: the timeline reads entries of the same moment by id.
        await tx.query(
          `INSERT INTO incident_timeline (incident_id, at, actor, kind, text, data)
           SELECT incident_id, at, actor, kind, text, data
             FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS u(incident_id, at, actor, kind, text, data, n)
            ORDER BY n`,
          [
            lines.map((l) => l.incident),
            lines.map((l) => l.timeline!.at.toISOString()),
            lines.map((l) => l.timeline!.actor),
            lines.map((l) => l.timeline!.kind),
            lines.map((l) => l.timeline!.text),
            lines.map((l) => JSON.stringify(l.timeline!.data)),
          ],
        );
      }
      await yieldToEventLoop();
    }
  });
}
