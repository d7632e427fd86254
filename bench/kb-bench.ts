/**
 * Knowledge-base benchmark: ingest throughput and search latency (p50/p95/p99) at 10,000 chunks,
 * on PGlite and on PostgreSQL (when DATABASE_URL is set; `npm run bench` starts one);
 * KB_BENCH_STORES=pglite or =postgres measures one of them. Each store also prints the parts of a
 * search (per ranking) and its floors measured in the same run (`SELECT 1`, raw pgvector queries).
 * The corpus is synthetic but built from the shipped runbooks' own lines, so token statistics are
 * those of real runbooks; it goes through the real path: Markdown files → parse → chunk → embed → store.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot, shippedRunbooksDir } from '../core/paths.js';
import type { Db } from '../db/db.js';
import { toVectorLiteral } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createPgliteDb } from '../db/pglite.js';
import { OfflineEmbedder } from '../knowledge/embedder.js';
import { findRunbookFiles, ingestRunbooks } from '../knowledge/ingest.js';
import { readEvalSet } from '../knowledge/eval.js';
import { rankLexical, rankVector, searchRunbooks } from '../knowledge/search.js';
import { withBenchDatabase } from './bench-db.js';

const RUNBOOKS = Number(process.env.BENCH_RUNBOOKS ?? 1000);
const SECTIONS = 10; // → 10,000 chunks
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);

/** Deterministic pseudo-random numbers, so every run measures the same corpus. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function buildCorpus(dir: string): number {
  const lines = findRunbookFiles(shippedRunbooksDir)
    .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
    .filter((l) => l.trim().length > 8 && !l.startsWith('#') && !l.startsWith('---') && !/^(id|title|systems|tags):/.test(l));
  const headings = ['现象', '影响', '排查', '处置', '验证', 'Symptoms', 'Diagnosis', 'Remediation', 'Escalation', '回退'];
  const rand = rng(42);
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]!;
  let chunks = 0;
  for (let r = 0; r < RUNBOOKS; r++) {
    const area = join(dir, `area-${r % 20}`);
    mkdirSync(area, { recursive: true });
    const host = `host-${Math.floor(rand() * 5000)}`;
    let body = `---\nid: rb-bench-${r}\ntitle: ${JSON.stringify(`合成手册 ${r} ${pick(lines).slice(0, 30)}`)}\nsystems: [sys-${r % 40}]\ntags: [bench, tag-${r % 97}]\n---\n`;
    for (let s = 0; s < SECTIONS; s++) {
      body += `\n## ${headings[s]} ${s}\n`;
      const n = 3 + Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) body += `${pick(lines)} ${rand() < 0.3 ? `${host} ERR-${Math.floor(rand() * 90000)}` : ''}\n`;
      chunks++;
    }
    writeFileSync(join(area, `rb-bench-${r}.md`), body);
  }
  return chunks;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface Timing {
  name: string;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Time `fn` once per query after a warm-up of 10. */
export async function timeEach(name: string, qs: string[], fn: (q: string) => Promise<unknown>): Promise<Timing> {
  for (const q of qs.slice(0, 10)) await fn(q);
  const t: number[] = [];
  for (const q of qs) {
    const s = performance.now();
    await fn(q);
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { name, mean: t.reduce((s, x) => s + x, 0) / t.length, p50: percentile(t, 50), p95: percentile(t, 95), p99: percentile(t, 99) };
}

export function formatTiming(t: Timing): string {
  const f = (x: number) => x.toFixed(2).padStart(6);
  return `  ${t.name.padEnd(34)} mean ${f(t.mean)}  p50 ${f(t.p50)}  p95 ${f(t.p95)}  p99 ${f(t.p99)} ms`;
}

/**
 * The parts of a search, each alone, and its floors in the same run: a `SELECT 1` round trip, and
 * the raw pgvector query on the same table (through the HNSW index as search runs it, and exact).
 */
export async function searchParts(db: Db, queries: string[], embedder: OfflineEmbedder, k = 40): Promise<Timing[]> {
  const stats = new Map((await db.query<{ key: string; value: string }>('SELECT key, value FROM kb_meta')).map((r) => [r.key, r.value]));
  const dim = Number(stats.get('dimension'));
  const vectors = new Map(queries.map((q) => [q, toVectorLiteral(embedder.embedOne(q))]));
  const nearest = `SELECT id FROM runbook_chunks ORDER BY embedding::vector(${dim}) <=> $1::vector(${dim}) LIMIT ${k}`;
  const parts: Array<[string, (q: string) => Promise<unknown>]> = [
    ['floor: SELECT 1', () => db.query('SELECT 1')],
    ['search statistics (kb_meta)', () => db.query('SELECT key, value FROM kb_meta')],
    ['BM25 chunks', (q) => rankLexical(db, q, k, 'chunks')],
    ['BM25 runbooks', (q) => rankLexical(db, q, k, 'runbooks')],
    ['BM25 both (as search runs them)', (q) => rankLexical(db, q, k)],
    ['vector ranking (embed + HNSW)', (q) => rankVector(db, q, embedder, k, stats)],
    ['peer: raw pgvector HNSW query', (q) =>
      db.transaction(async (tx) => {
        await tx.exec(`SET LOCAL enable_seqscan = off; SET LOCAL hnsw.ef_search = ${Math.max(64, k * 2)}`);
        return tx.query(nearest, [vectors.get(q)]);
      })],
    ['peer: raw pgvector exact (seq scan)', (q) => db.query(nearest, [vectors.get(q)])],
    ['fetch of 5 hits', () => db.query(`SELECT c.id, r.title, c.section, r.source, c.content FROM runbook_chunks c JOIN runbooks r ON r.id = c.runbook_id WHERE c.id = ANY($1::text[])`, [['rb-bench-1#0', 'rb-bench-2#3', 'rb-bench-3#1', 'rb-bench-4#2', 'rb-bench-5#5']])],
  ];
  const out: Timing[] = [];
  for (const [n, fn] of parts) out.push(await timeEach(n, queries.slice(0, 100), fn));
  return out;
}

async function measure(label: string, db: Db, dir: string, queries: string[]): Promise<string> {
  const embedder = new OfflineEmbedder();
  await migrate(db);
  const t0 = performance.now();
  const report = await ingestRunbooks(db, dir, embedder);
  const ingestS = (performance.now() - t0) / 1000;
  if (report.errors.length) throw new Error(`ingest errors: ${report.errors[0]!.file}: ${report.errors[0]!.message}`);
  const t1 = performance.now();
  const again = await ingestRunbooks(db, dir, embedder);
  const reingestS = (performance.now() - t1) / 1000;
  const search = await timeEach('search (searchRunbooks, top 5)', queries, (q) => searchRunbooks(db, q, embedder));
  const parts = await searchParts(db, queries, embedder);
  const f = (x: number) => x.toFixed(1).padStart(7);
  return [
    `${label.padEnd(11)} ${String(report.chunks).padStart(7)} ${f(ingestS)} s ${f(report.chunks / ingestS)} ch/s  re-ingest ${again.skipped} unchanged in ${reingestS.toFixed(2)} s` +
      `  search ms mean ${f(search.mean)} p50 ${f(search.p50)} p95 ${f(search.p95)} p99 ${f(search.p99)}  (load ${loadavg()[0]!.toFixed(2)})`,
    formatTiming(search),
    ...parts.map(formatTiming),
  ].join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warroom-kb-bench-'));
  try {
    const chunks = buildCorpus(dir);
    const evalQueries = readEvalSet(join(packageRoot, 'test', 'knowledge', 'eval-set.json')).queries.map((q) => q.query);
    const queries = Array.from({ length: QUERIES }, (_, i) => evalQueries[i % evalQueries.length]!);
    console.log(`kb bench: ${RUNBOOKS} synthetic runbooks, ${chunks} chunks; ${queries.length} searches (offline embedder, top 5); parts and floors over 100 queries; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('store        chunks  ingest          rate                                         search latency');
    const stores = (process.env.KB_BENCH_STORES ?? 'pglite,postgres').split(',');
    if (stores.includes('pglite')) {
      const lite = await createPgliteDb();
      console.log(await measure('pglite', lite, dir, queries));
      await lite.close();
    }
    if (!stores.includes('postgres')) return;
    const url = process.env.DATABASE_URL;
    if (!url) {
      console.log('postgres    (not measured: DATABASE_URL is not set; `npm run bench` starts PostgreSQL)');
      return;
    }
    console.log(await withBenchDatabase(url, (db) => measure('postgres', db, dir, queries)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
