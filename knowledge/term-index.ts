import type { Queryable } from '../db/db.js';

/**
 * The BM25 term index that search reads: one row per term holding that term's postings with their
 * BM25 weights already computed, packed as binary (`runbook_term_index`, migration 012).
 *
 * BM25 over a fixed corpus is a sum over the query's terms of a weight that depends only on the
 * term and the document (idf × saturated, length-normalised tf), so ingest computes every weight
 * once and search only adds them up: it reads one row per query term (≈ 30 rows) instead of every
 * posting (≈ 14,000 rows at 10k chunks), and scores in memory.
 *
 * Each blob is a run of 12-byte entries (int4 document number, float8 weight; network byte order,
 * as `int4send`/`float8send` write them). Document numbers index the id arrays of
 * `runbook_term_index_docs`, numbered when the index is built; kb_meta `term_index` names that
 * build, so a reader never pairs weights of one build with ids of another.
 */

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

const ENTRY = 12;

/** Rebuild the index inside the transaction that refreshed the corpus statistics. */
export async function buildTermIndex(tx: Queryable, corpus: { chunks: number; avgdl: number; runbooks: number; avgrl: number }): Promise<void> {
  await tx.query('DELETE FROM runbook_term_index');
  await tx.query('DELETE FROM runbook_term_index_docs');
  // The weight is the summand of the BM25 sum: idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · len / avglen)).
  await tx.query(
    `WITH cn AS (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS no FROM runbook_chunks),
          rn AS (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS no FROM runbooks),
          c AS (SELECT t.term,
                       string_agg(int4send(cn.no) || float8send(
                         ln(1 + ($1::float8 - s.df + 0.5) / (s.df + 0.5)) * t.tf * ($5::float8 + 1)
                           / (t.tf + $5::float8 * (1 - $6::float8 + $6::float8 * t.chunk_len / $2::float8))), ''::bytea ORDER BY cn.no) AS blob
                  FROM runbook_terms t JOIN cn ON cn.id = t.chunk_id JOIN runbook_term_stats s USING (term)
                 GROUP BY t.term),
          r AS (SELECT p.term,
                       string_agg(int4send(rn.no) || float8send(
                         ln(1 + ($3::float8 - s.rdf + 0.5) / (s.rdf + 0.5)) * p.tf * ($5::float8 + 1)
                           / (p.tf + $5::float8 * (1 - $6::float8 + $6::float8 * p.runbook_len / $4::float8))), ''::bytea ORDER BY rn.no) AS blob
                  FROM runbook_postings p JOIN rn ON rn.id = p.runbook_id JOIN runbook_term_stats s USING (term)
                 GROUP BY p.term)
     INSERT INTO runbook_term_index (term, chunks, runbooks)
     SELECT term, c.blob, r.blob FROM c JOIN r USING (term)`,
    [corpus.chunks, corpus.avgdl || 1, corpus.runbooks, corpus.avgrl || 1, BM25_K1, BM25_B],
  );
  await tx.query(
    `INSERT INTO runbook_term_index_docs (kind, ids)
     SELECT 'c', coalesce(array_agg(id ORDER BY id), '{}') FROM runbook_chunks
     UNION ALL
     SELECT 'r', coalesce(array_agg(id ORDER BY id), '{}') FROM runbooks`,
  );
  await tx.query(
    "INSERT INTO kb_meta (key, value) VALUES ('term_index', gen_random_uuid()::text) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
  );
}

interface DocIds {
  build: string;
  chunks: string[];
  runbooks: string[];
}

/** Document ids of the index build last read, per store (kept until a search sees another build). */
const docIdCache = new WeakMap<object, DocIds>();

async function loadDocIds(db: Queryable): Promise<DocIds | undefined> {
  const rows = await db.query<{ build: string; kind: string | null; ids: string[] | null }>(
    `SELECT m.value AS build, d.kind, d.ids FROM kb_meta m LEFT JOIN runbook_term_index_docs d ON true WHERE m.key = 'term_index'`,
  );
  if (!rows[0]) return undefined;
  return { build: rows[0].build, chunks: rows.find((r) => r.kind === 'c')?.ids ?? [], runbooks: rows.find((r) => r.kind === 'r')?.ids ?? [] };
}

export interface Scored {
  id: string;
  score: number;
}

export interface TermIndexRankings {
  chunks: Scored[];
  runbooks: Scored[];
}

/**
 * BM25 over chunks and over whole runbooks for weighted query terms, `limit` of each, best first
 * (ties by id). One statement reads the query terms' rows and the build they belong to; the ids of
 * that build come from the per-store cache, read again only when an ingest has rebuilt the index.
 */
export async function rankTerms(db: Queryable, terms: Map<string, number>, limit: number, only?: 'chunks' | 'runbooks'): Promise<TermIndexRankings> {
  if (terms.size === 0) return { chunks: [], runbooks: [] };
  // As base64 text, decoded here: the drivers' own bytea parsing is slow on this much data (PGlite
  // parses the hex form two digits at a time: 24 ms for a 30-term query at 10k chunks, against 2 ms).
  const cols = `${only === 'runbooks' ? 'NULL' : "encode(t.chunks, 'base64')"} AS chunks, ${only === 'chunks' ? 'NULL' : "encode(t.runbooks, 'base64')"} AS runbooks`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const rows = await db.query<{ build: string; term: string | null; chunks: string | null; runbooks: string | null }>(
      `SELECT m.value AS build, t.term, ${cols}
         FROM kb_meta m LEFT JOIN runbook_term_index t ON t.term = ANY($1::text[])
        WHERE m.key = 'term_index'`,
      [[...terms.keys()]],
    );
    const build = rows[0]?.build;
    if (build === undefined) return { chunks: [], runbooks: [] }; // never ingested
    let ids = docIdCache.get(db);
    if (ids?.build !== build) {
      ids = await loadDocIds(db);
      if (!ids) return { chunks: [], runbooks: [] };
      docIdCache.set(db, ids);
      // An ingest finished between the two statements: read the postings of the newer build.
      if (ids.build !== build) continue;
    }
    const found = rows.filter((r) => r.term !== null);
    return {
      chunks: only === 'runbooks' ? [] : accumulate(found.map((r) => [Buffer.from(r.chunks!, 'base64'), terms.get(r.term!)!]), ids.chunks, limit),
      runbooks: only === 'chunks' ? [] : accumulate(found.map((r) => [Buffer.from(r.runbooks!, 'base64'), terms.get(r.term!)!]), ids.runbooks, limit),
    };
  }
  throw new Error('the runbook term index kept changing during the search; try again');
}

/** Sum query weight × stored weight per document; the `limit` best, ties by id. */
function accumulate(postings: Array<[Uint8Array, number]>, ids: string[], limit: number): Scored[] {
  const scores = new Float64Array(ids.length);
  for (const [blob, qw] of postings) addWeights(scores, blob, qw);
  // The limit-th best score, from a small min-heap; then every document at or above it, ties by id.
  const heap = new Float64Array(limit);
  let size = 0;
  for (let no = 0; no < scores.length; no++) {
    const x = scores[no]!;
    if (x <= 0) continue;
    if (size < limit) {
      let i = size++;
      while (i > 0 && heap[(i - 1) >> 1]! > x) {
        heap[i] = heap[(i - 1) >> 1]!;
        i = (i - 1) >> 1;
      }
      heap[i] = x;
    } else if (x > heap[0]!) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const c = l + 1 < size && heap[l + 1]! < heap[l]! ? l + 1 : l;
        if (heap[c]! >= x) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = x;
    }
  }
  if (size === 0) return [];
  const threshold = heap[0]!;
  const out: Scored[] = [];
  for (let no = 0; no < scores.length; no++) if (scores[no]! >= threshold && scores[no]! > 0) out.push({ id: ids[no]!, score: scores[no]! });
  return out.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, limit);
}

function addWeights(scores: Float64Array, blob: Uint8Array, qw: number): void {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const end = blob.byteLength - (blob.byteLength % ENTRY);
  for (let o = 0; o < end; o += ENTRY) {
    const no = view.getInt32(o);
    scores[no] = scores[no]! + qw * view.getFloat64(o + 4);
  }
}
