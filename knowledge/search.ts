import type { Db, Queryable } from '../db/db.js';
import { toVectorLiteral } from '../db/db.js';
import type { Embedder } from './embedder.js';
import { queryTerms } from './index-text.js';
import { rankTerms } from './term-index.js';

export interface SearchHit {
  runbookId: string;
  title: string;
  section: string;
  score: number;
  source: string;
  text: string;
}

export interface SearchOptions {
  /** Runbooks to return. */
  top?: number;
  /** Chunks taken from each ranking before fusion. */
  candidates?: number;
}

export type RankedChunk = {
  id: string;
  score: number;
};

async function meta(db: Queryable): Promise<Map<string, string>> {
  return new Map((await db.query<{ key: string; value: string }>('SELECT key, value FROM kb_meta')).map((r) => [r.key, r.value]));
}

export interface LexicalRankings {
  /** BM25 over chunks (headings weighted, see index-text.ts). */
  chunks: RankedChunk[];
  /**
   * BM25 over whole runbooks: a symptom description often spreads its words over several sections
   * (what is seen, what it affects), which no single chunk holds.
   */
  runbooks: RankedChunk[];
}

/**
 * Both BM25 rankings from one statement: the query terms' rows of the term index, whose BM25 weights
 * were computed at ingest (knowledge/term-index.ts), summed here. `only` reads one of the two
 * (diagnostics: bench/kb-profile.ts).
 */
export async function rankLexical(db: Queryable, query: string, limit: number, only?: 'chunks' | 'runbooks'): Promise<LexicalRankings> {
  return rankTerms(db, queryTerms(query), limit, only);
}

/** Nearest chunks by cosine similarity, through the HNSW index for the stored dimension. */
export async function rankVector(db: Db, query: string, embedder: Embedder, limit: number, stats: Map<string, string>): Promise<RankedChunk[]> {
  // Vectors from another embedder are not comparable: without a re-ingest, rank by text alone.
  if (stats.get('embedder') !== embedder.name) return [];
  const dim = Number(stats.get('dimension'));
  if (!Number.isInteger(dim) || dim <= 0) return [];
  const [v] = await embedder.embed([query]);
  if (!v || v.length !== dim) return [];
  const rows = await db.transaction(async (tx) => {
    // The planner overestimates the HNSW expression index and scans the table instead (135 ms
    // against 9 ms at 10k chunks); these settings hold for this one statement only. ef_search
    // above the candidate count keeps the approximate search's recall up.
    await tx.exec(`SET LOCAL enable_seqscan = off; SET LOCAL hnsw.ef_search = ${Math.max(64, limit * 2)}`);
    return tx.query<RankedChunk>(
      `SELECT id, (1 - (embedding::vector(${dim}) <=> $1::vector(${dim})))::float8 AS score
         FROM runbook_chunks
        ORDER BY embedding::vector(${dim}) <=> $1::vector(${dim})
        LIMIT $2`,
      [toVectorLiteral(v), limit],
    );
  });
  return rows.filter((r) => r.score > 0); // no shared feature at all is not a match
}

/**
 * Fuse rankings of runbooks by a convex combination of max-normalised scores, with equal weights.
 * Unlike reciprocal rank fusion it keeps each signal's confidence (a runbook far ahead on BM25
 * stays ahead), and equal weights leave no knob tuned to one evaluation set.
 */
export function fuseScores(rankings: Array<Array<{ runbookId: string; score: number }>>): Array<{ runbookId: string; score: number }> {
  const fused = new Map<string, number>();
  const share = 1 / Math.max(1, rankings.length);
  for (const ranking of rankings) {
    const top = ranking[0]?.score ?? 0;
    if (top <= 0) continue;
    for (const r of ranking) fused.set(r.runbookId, (fused.get(r.runbookId) ?? 0) + (share * r.score) / top);
  }
  return [...fused.entries()].map(([runbookId, score]) => ({ runbookId, score })).sort((a, b) => b.score - a.score || a.runbookId.localeCompare(b.runbookId));
}

/**
 * Rank runbooks by their best chunk (max-passage). A bonus for further matching sections was
 * tried and removed: on the fused-rank scale neighbouring ranks differ by ~0.0003, so any bonus
 * large enough to matter let runbooks with several weak matches beat the best match.
 */
export function groupByRunbook(chunks: RankedChunk[]): Array<{ runbookId: string; score: number; bestChunk: string }> {
  const per = new Map<string, Array<[string, number]>>();
  for (const { id, score: s } of chunks) {
    const rb = id.slice(0, id.lastIndexOf('#'));
    const list = per.get(rb) ?? [];
    list.push([id, s]);
    per.set(rb, list);
  }
  return [...per.entries()]
    .map(([runbookId, list]) => {
      list.sort((a, b) => b[1] - a[1]);
      return { runbookId, score: list[0]![1], bestChunk: list[0]![0] };
    })
    .sort((a, b) => b.score - a.score || a.runbookId.localeCompare(b.runbookId));
}

/**
 * Hybrid search: chunk BM25 (headings weighted), chunk vector similarity and whole-runbook BM25,
 * fused per runbook; each runbook is shown with its best section (by the fused chunk evidence).
 */
export async function searchRunbooks(db: Db, query: string, embedder: Embedder, options: SearchOptions = {}): Promise<SearchHit[]> {
  const top = options.top ?? 5;
  const candidates = options.candidates ?? 40;
  const stats = await meta(db);
  // Independent: on PostgreSQL they run on two pool connections at once; PGlite queues them.
  const [{ chunks: text, runbooks: whole }, vector] = await Promise.all([rankLexical(db, query, candidates), rankVector(db, query, embedder, candidates, stats)]);
  const textByRunbook = groupByRunbook(text);
  const vectorByRunbook = groupByRunbook(vector);
  const fused = fuseScores([textByRunbook, vectorByRunbook, whole.map((w) => ({ runbookId: w.id, score: w.score }))]).slice(0, top);
  if (fused.length === 0) return [];
  // The section shown for a runbook: its best chunk on text, else on vectors, else its first.
  const bestChunk = new Map<string, string>();
  for (const r of [...vectorByRunbook, ...textByRunbook]) bestChunk.set(r.runbookId, r.bestChunk);
  const ranked = fused.map((f) => ({ ...f, bestChunk: bestChunk.get(f.runbookId) ?? `${f.runbookId}#0` }));
  const rows = await db.query<{ id: string; runbook_id: string; title: string; section: string; source: string; content: string }>(
    `SELECT c.id, c.runbook_id, r.title, c.section, r.source, c.content
       FROM runbook_chunks c JOIN runbooks r ON r.id = c.runbook_id
      WHERE c.id = ANY($1::text[])`,
    [ranked.map((r) => r.bestChunk)],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ranked.flatMap((r) => {
    const c = byId.get(r.bestChunk);
    return c ? [{ runbookId: c.runbook_id, title: c.title, section: c.section, score: Math.round(r.score * 1e5) / 1e5, source: c.source, text: c.content }] : [];
  });
}
