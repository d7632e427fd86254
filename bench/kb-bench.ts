/**
 * Knowledge-base benchmark: ingest throughput and search latency (p50/p95/p99) at 10,000 chunks,
 * on PGlite (always) and on PostgreSQL (when DATABASE_URL is set; `npm run bench` starts one).
 * The corpus is synthetic but built from the shipped runbooks' own lines, so token statistics are
 * those of real runbooks; it goes through the real path: Markdown files → parse → chunk → embed → store.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot, shippedRunbooksDir } from '../core/paths.js';
import type { Db } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createPgliteDb } from '../db/pglite.js';
import { OfflineEmbedder } from '../knowledge/embedder.js';
import { findRunbookFiles, ingestRunbooks } from '../knowledge/ingest.js';
import { readEvalSet } from '../knowledge/eval.js';
import { searchRunbooks } from '../knowledge/search.js';
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
  for (const q of queries.slice(0, 20)) await searchRunbooks(db, q, embedder); // warm-up
  const times: number[] = [];
  for (const q of queries) {
    const s = performance.now();
    await searchRunbooks(db, q, embedder);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(1).padStart(7);
  return (
    `${label.padEnd(11)} ${String(report.chunks).padStart(7)} ${f(ingestS)} s ${f(report.chunks / ingestS)} ch/s  re-ingest ${again.skipped} unchanged in ${reingestS.toFixed(2)} s` +
    `  search ms p50 ${f(percentile(times, 50))} p95 ${f(percentile(times, 95))} p99 ${f(percentile(times, 99))}`
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warroom-kb-bench-'));
  try {
    const chunks = buildCorpus(dir);
    const evalQueries = readEvalSet(join(packageRoot, 'test', 'knowledge', 'eval-set.json')).queries.map((q) => q.query);
    const queries = Array.from({ length: QUERIES }, (_, i) => evalQueries[i % evalQueries.length]!);
    console.log(`kb bench: ${RUNBOOKS} synthetic runbooks, ${chunks} chunks; ${queries.length} searches (offline embedder, top 5)`);
    console.log('store        chunks  ingest          rate                                         search latency');
    const lite = await createPgliteDb();
    console.log(await measure('pglite', lite, dir, queries));
    await lite.close();
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
