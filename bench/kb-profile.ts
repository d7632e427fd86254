/**
 * Per-ranking latency of the knowledge search at 10k chunks on PostgreSQL (diagnostics behind the
 * kb-bench figures). PROFILE_EXPLAIN=1 prints the lexical query's plan; PROFILE_CLUSTER=1 clusters
 * the postings first. Run: bash scripts/test-all.sh --exec node --import tsx bench/kb-profile.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../core/paths.js';
import type { Db } from '../db/db.js';
import { OfflineEmbedder } from '../knowledge/embedder.js';
import { readEvalSet } from '../knowledge/eval.js';
import { queryTerms } from '../knowledge/index-text.js';
import { ingestRunbooks } from '../knowledge/ingest.js';
import { rankLexical, rankVector } from '../knowledge/search.js';
import { withBenchDatabase } from './bench-db.js';
import { buildCorpus } from './kb-bench.js';

async function profile(db: Db, dir: string): Promise<void> {
  const e = new OfflineEmbedder();
  await ingestRunbooks(db, dir, e);
  const stats = new Map((await db.query<{ key: string; value: string }>('SELECT key, value FROM kb_meta')).map((r) => [r.key, r.value]));
  const qs = readEvalSet(join(packageRoot, 'test', 'knowledge', 'eval-set.json')).queries.map((q) => q.query);
  let rows = 0;
  for (const q of qs) {
    rows += Number((await db.query<{ n: number }>('SELECT coalesce(sum(df), 0)::int AS n FROM runbook_term_stats WHERE term = ANY($1::text[])', [[...queryTerms(q).keys()]]))[0]?.n ?? 0);
  }
  const total = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM runbook_terms'))[0]?.n;
  console.log('postings read per query (mean):', Math.round(rows / qs.length), 'of', total);
  if (process.env.PROFILE_CLUSTER) {
    await db.exec('CLUSTER runbook_terms USING runbook_terms_pkey');
    await db.exec('VACUUM ANALYZE runbook_terms');
    console.log('postings clustered by term');
  }
  if (process.env.PROFILE_EXPLAIN) {
    const orig = db.query.bind(db);
    (db as { query: Db['query'] }).query = (async (sql: string, params?: readonly unknown[]) => {
      if (/WITH qs AS/.test(sql)) console.log((await orig<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).map((r) => r['QUERY PLAN']).join('\n'));
      return orig(sql, params);
    }) as Db['query'];
    await rankLexical(db, qs[0]!, 40, stats);
    (db as { query: Db['query'] }).query = orig;
  }
  const fns: Array<[string, (q: string) => Promise<unknown>]> = [
    ['lexical', (q) => rankLexical(db, q, 40, stats)],
    ['vector', (q) => rankVector(db, q, e, 40, stats)],
    ['embed', (q) => e.embed([q])],
  ];
  for (const [n, fn] of fns) {
    for (const q of qs.slice(0, 10)) await fn(q);
    const t: number[] = [];
    for (const q of qs) {
      const s = performance.now();
      await fn(q);
      t.push(performance.now() - s);
    }
    t.sort((a, b) => a - b);
    console.log(n.padEnd(8), 'p50', t[Math.floor(t.length / 2)]!.toFixed(1), 'p95', t[Math.floor(t.length * 0.95)]!.toFixed(1));
  }
}

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('kb-profile needs DATABASE_URL (run it through scripts/test-all.sh --exec)');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'kbprof-'));
try {
  buildCorpus(dir);
  await withBenchDatabase(url, (db) => profile(db, dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
