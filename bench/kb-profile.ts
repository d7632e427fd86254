/** Per-ranking latency of the knowledge search at 10k chunks (diagnostics for kb-bench figures). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { packageRoot } from '../core/paths.js';
import { migrate } from '../db/migrate.js';
import { createPostgresDb } from '../db/postgres.js';
import { OfflineEmbedder } from '../knowledge/embedder.js';
import { readEvalSet } from '../knowledge/eval.js';
import { ingestRunbooks } from '../knowledge/ingest.js';
import { rankLexical, rankVector } from '../knowledge/search.js';
import { buildCorpus } from './kb-bench.js';

const url = process.env.DATABASE_URL!;
const dir = mkdtempSync(join(tmpdir(), 'kbprof-'));
buildCorpus(dir);
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const name = `kbprof_${process.pid}`;
await admin.query(`CREATE DATABASE ${name}`);
const u = new URL(url);
u.pathname = `/${name}`;
const db = createPostgresDb(u.toString());
await migrate(db);
const e = new OfflineEmbedder();
await ingestRunbooks(db, dir, e);
const stats = new Map((await db.query<{ key: string; value: string }>('SELECT key, value FROM kb_meta')).map((r) => [r.key, r.value]));
const qs = readEvalSet(join(packageRoot, 'test', 'knowledge', 'eval-set.json')).queries.map((q) => q.query);
import { queryTerms } from '../knowledge/index-text.js';
let rows = 0;
for (const q of qs) rows += Number((await db.query<{ n: number }>('SELECT coalesce(sum(df), 0)::int AS n FROM runbook_term_stats WHERE term = ANY($1::text[])', [[...queryTerms(q).keys()]]))[0]?.n ?? 0);
console.log('postings read per query (mean):', Math.round(rows / qs.length), 'of', (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM runbook_terms'))[0]?.n);
if (process.env.PROFILE_CLUSTER) {
  await db.exec('CLUSTER runbook_terms USING runbook_terms_pkey');
  await db.exec('VACUUM ANALYZE runbook_terms');
  await db.exec('VACUUM ANALYZE runbook_term_stats');
  console.log('clustered + vacuum analyze');
}
if (process.env.PROFILE_EXPLAIN) {
  const orig = db.query.bind(db);
  const q0 = qs[0]!;
  (db as { query: typeof db.query }).query = (async (sql: string, params?: readonly unknown[]) => {
    if (/WITH qs AS/.test(sql)) console.log((await orig<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).map((r) => r['QUERY PLAN']).join('\n'));
    return orig(sql, params);
  }) as typeof db.query;
  await rankLexical(db, q0, 40, stats);
  (db as { query: typeof db.query }).query = orig;
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
await db.close();
await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
rmSync(dir, { recursive: true, force: true });
