/**
 * Per-ranking latency of the knowledge search at 10k chunks (diagnostics behind the kb-bench
 * figures), on PGlite (always) and PostgreSQL (when DATABASE_URL is set): a `SELECT 1` round trip
 * (the floor), the store's search statistics, chunk BM25, runbook BM25, both BM25 rankings in one
 * statement as search runs them, the vector ranking, the raw pgvector query (`ORDER BY embedding <=>
 * $1 LIMIT k`, exact, no index settings), the query embedding, the fetch of the hits and the whole search.
 * It also compares the vector ranking with the exact nearest neighbours (recall of the index).
 * PROFILE_EXPLAIN=1 prints the plans of the lexical and vector statements.
 * Run: bash scripts/test-all.sh --exec node --import tsx bench/kb-profile.ts (or without the wrapper: PGlite only)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../core/paths.js';
import type { Db } from '../db/db.js';
import { toVectorLiteral } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createPgliteDb } from '../db/pglite.js';
import { OfflineEmbedder } from '../knowledge/embedder.js';
import { readEvalSet } from '../knowledge/eval.js';
import { queryTerms } from '../knowledge/index-text.js';
import { ingestRunbooks } from '../knowledge/ingest.js';
import * as search from '../knowledge/search.js';
import { withBenchDatabase } from './bench-db.js';
import { buildCorpus } from './kb-bench.js';

const K = 40;

export interface Timing {
  name: string;
  mean: number;
  p50: number;
  p95: number;
}

export async function timeEach(name: string, qs: string[], fn: (q: string) => Promise<unknown>): Promise<Timing> {
  for (const q of qs.slice(0, 10)) await fn(q);
  const t: number[] = [];
  for (const q of qs) {
    const s = performance.now();
    await fn(q);
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { name, mean: t.reduce((s, x) => s + x, 0) / t.length, p50: t[Math.floor(t.length / 2)]!, p95: t[Math.min(t.length - 1, Math.floor(t.length * 0.95))]! };
}

export function formatTiming(t: Timing): string {
  return `${t.name.padEnd(22)} mean ${t.mean.toFixed(2).padStart(6)}  p50 ${t.p50.toFixed(2).padStart(6)}  p95 ${t.p95.toFixed(2).padStart(6)} ms`;
}

async function profile(label: string, db: Db, dir: string): Promise<void> {
  const e = new OfflineEmbedder();
  await ingestRunbooks(db, dir, e);
  const stats = new Map((await db.query<{ key: string; value: string }>('SELECT key, value FROM kb_meta')).map((r) => [r.key, r.value]));
  const dim = Number(stats.get('dimension'));
  const qs = readEvalSet(join(packageRoot, 'test', 'knowledge', 'eval-set.json')).queries.map((q) => q.query);
  let rows = 0;
  let terms = 0;
  for (const q of qs) {
    const t = [...queryTerms(q).keys()];
    terms += t.length;
    rows += Number((await db.query<{ n: number }>('SELECT coalesce(sum(df), 0)::int AS n FROM runbook_term_stats WHERE term = ANY($1::text[])', [t]))[0]?.n ?? 0);
  }
  const total = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM runbook_terms'))[0]?.n;
  console.log(`\n${label}: query terms per query (mean) ${(terms / qs.length).toFixed(1)}; chunk postings read per query (mean) ${Math.round(rows / qs.length)} of ${total}`);

  const vec = new Map<string, string>();
  for (const q of qs) vec.set(q, toVectorLiteral((await e.embed([q]))[0]!));
  const exact = async (q: string) =>
    db.query<{ id: string }>(`SELECT id FROM runbook_chunks ORDER BY embedding::vector(${dim}) <=> $1::vector(${dim}) LIMIT $2`, [vec.get(q), K]);

  if (process.env.PROFILE_EXPLAIN) {
    const orig = db.query.bind(db);
    let shown = 0;
    (db as { query: Db['query'] }).query = (async (sql: string, params?: readonly unknown[]) => {
      if (shown < 3 && /runbook_term_index|<=>/.test(sql)) {
        shown++;
        console.log((await orig<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).map((r) => r['QUERY PLAN']).join('\n'));
      }
      return orig(sql, params);
    }) as Db['query'];
    await search.searchRunbooks(db, qs[0]!, e);
    (db as { query: Db['query'] }).query = orig;
  }

  // Recall of the vector ranking against the exact nearest neighbours (cosine, no index).
  let hit = 0;
  let want = 0;
  for (const q of qs) {
    const truth = new Set((await exact(q)).map((r) => r.id));
    const got = await search.rankVector(db, q, e, K, stats);
    want += truth.size;
    hit += got.filter((g) => truth.has(g.id)).length;
  }
  console.log(`vector ranking recall@${K} against exact cosine: ${(hit / want).toFixed(3)}`);

  const parts: Array<[string, (q: string) => Promise<unknown>]> = [
    ['SELECT 1 (floor)', () => db.query('SELECT 1')],
    ['stats (kb_meta)', () => db.query('SELECT key, value FROM kb_meta')],
    ['BM25 chunks', (q) => search.rankLexical(db, q, K, 'chunks')],
    ['BM25 runbooks', (q) => search.rankLexical(db, q, K, 'runbooks')],
    ['BM25 both (1 stmt)', (q) => search.rankLexical(db, q, K)],
    ['vector ranking', (q) => search.rankVector(db, q, e, K, stats)],
    ['raw pgvector exact', (q) => exact(q)],
    ['embed query', (q) => e.embed([q])],
    ['fetch hits', () => db.query(`SELECT c.id, c.runbook_id, r.title, c.section, r.source, c.content FROM runbook_chunks c JOIN runbooks r ON r.id = c.runbook_id WHERE c.id = ANY($1::text[])`, [['rb-bench-1#0', 'rb-bench-2#3', 'rb-bench-3#1', 'rb-bench-4#2', 'rb-bench-5#5']])],
    ['searchRunbooks', (q) => search.searchRunbooks(db, q, e)],
  ];
  for (const [n, fn] of parts) console.log(formatTiming(await timeEach(n, qs, fn)));
}

const dir = mkdtempSync(join(tmpdir(), 'kbprof-'));
try {
  buildCorpus(dir);
  const lite = await createPgliteDb();
  await migrate(lite);
  await profile('pglite', lite, dir);
  await lite.close();
  const url = process.env.DATABASE_URL;
  if (url) await withBenchDatabase(url, (db) => profile('postgres', db, dir));
  else console.log('\npostgres: not measured (DATABASE_URL is not set; run through scripts/test-all.sh --exec)');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
