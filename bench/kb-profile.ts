/**
 * Per-ranking latency of the knowledge search at 10k chunks (diagnostics behind the kb-bench
 * figures), on PGlite (always) and PostgreSQL (when DATABASE_URL is set): the parts kb-bench prints
 * (floors, BM25 chunks / runbooks, vectors, raw pgvector queries, fetch), over the 60 eval-set
 * queries, and the recall of the HNSW vector ranking against the exact nearest neighbours.
 * PROFILE_EXPLAIN=1 prints the plans of the lexical and vector statements.
 * Run: bash scripts/test-all.sh --exec node --import tsx bench/kb-profile.ts (or without the wrapper: PGlite only)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { buildCorpus, formatTiming, searchParts, timeEach } from './kb-bench.js';

const K = 40;

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

  for (const t of await searchParts(db, qs, e, K)) console.log(formatTiming(t));
  console.log(formatTiming(await timeEach('search (searchRunbooks, top 5)', qs, (q) => search.searchRunbooks(db, q, e))));
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
