import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../core/errors.js';
import type { Db, Queryable } from '../db/db.js';
import { toVectorLiteral } from '../db/db.js';
import type { Embedder } from './embedder.js';
import { chunkTerms, embeddingText, INDEX_VERSION } from './index-text.js';
import { hashContent, parseRunbook, type ParsedRunbook } from './runbook.js';
import { buildTermIndex } from './term-index.js';

export interface IngestProblem {
  file: string;
  message: string;
}

export interface IngestReport {
  files: number;
  runbooks: number;
  chunks: number;
  /** Files whose content and embedder were unchanged: no work done. */
  skipped: number;
  /** Runbooks removed by --prune. */
  removed: number;
  /** Chunks re-embedded because the embedder changed. */
  reembedded: number;
  errors: IngestProblem[];
  seconds: number;
}

export interface IngestOptions {
  prune?: boolean;
  onProgress?: (done: number, total: number, file: string) => void;
}

/** Markdown files under `dir`; README files document a folder and are not runbooks. */
export function findRunbookFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.md$/i.test(name) && !/^readme\.md$/i.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

async function getMeta(db: Queryable, key: string): Promise<string | undefined> {
  return (await db.query<{ value: string }>('SELECT value FROM kb_meta WHERE key = $1', [key]))[0]?.value;
}

async function setMeta(db: Queryable, key: string, value: string): Promise<void> {
  await db.query('INSERT INTO kb_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [key, value]);
}

/** Drop the HNSW indexes of every dimension but `keep` (all of them when `keep` is undefined). */
async function dropVectorIndexes(db: Db, keep?: number): Promise<void> {
  const existing = await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'runbook_chunks' AND indexname LIKE 'runbook_chunks_hnsw_%'");
  for (const { indexname } of existing) if (indexname !== `runbook_chunks_hnsw_${keep}`) await db.exec(`DROP INDEX IF EXISTS ${indexname}`);
}

/** The HNSW index for one dimension (pgvector indexes need a fixed dimension). */
async function ensureVectorIndex(db: Db, dim: number): Promise<void> {
  await dropVectorIndexes(db, dim);
  await db.exec(`CREATE INDEX IF NOT EXISTS runbook_chunks_hnsw_${dim} ON runbook_chunks USING hnsw ((embedding::vector(${dim})) vector_cosine_ops)`);
}

/** Corpus statistics for BM25 (sizes, average lengths, document frequencies), rebuilt after every change. */
async function refreshStats(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM runbook_term_stats');
    await tx.query(
      `INSERT INTO runbook_term_stats (term, df, rdf)
       SELECT c.term, c.df, r.rdf
         FROM (SELECT term, count(*)::int AS df FROM runbook_terms GROUP BY term) c
         JOIN (SELECT term, count(*)::int AS rdf FROM runbook_postings GROUP BY term) r USING (term)`,
    );
    const [c] = await tx.query<{ n: number; avgdl: number | null }>('SELECT count(*)::int AS n, avg(doc_len)::float8 AS avgdl FROM runbook_chunks');
    const [r] = await tx.query<{ n: number; avgdl: number | null }>('SELECT count(*)::int AS n, avg(doc_len)::float8 AS avgdl FROM runbooks');
    await setMeta(tx, 'chunks', String(c?.n ?? 0));
    await setMeta(tx, 'avgdl', String(c?.avgdl ?? 1));
    await setMeta(tx, 'runbooks', String(r?.n ?? 0));
    await setMeta(tx, 'avgrl', String(r?.avgdl ?? 1));
    // Search reads precomputed BM25 weights: rebuilt with the statistics they depend on, in the same transaction.
    await buildTermIndex(tx, { chunks: c?.n ?? 0, avgdl: c?.avgdl ?? 1, runbooks: r?.n ?? 0, avgrl: r?.avgdl ?? 1 });
  });
  // Fresh statistics, and a visibility map so postings are read by index-only scans (VACUUM cannot
  // run inside a transaction: each statement runs on its own).
  for (const table of ['runbook_terms', 'runbook_postings', 'runbook_term_stats', 'runbook_term_index', 'runbook_chunks']) await db.exec(`VACUUM ANALYZE ${table}`);
}

/** Re-embed every stored chunk when the configured embedder differs from the one that made them. */
async function reembedIfNeeded(db: Db, embedder: Embedder): Promise<number> {
  const stored = await getMeta(db, 'embedder');
  const count = Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM runbook_chunks'))[0]?.n ?? 0);
  if (stored === embedder.name || count === 0) return 0;
  const dim = await embedder.dimension();
  const rows = await db.query<{ id: string; title: string; heading_path: string[]; content: string; tags: string[]; section: string; ord: number }>(
    'SELECT c.id, r.title, c.heading_path, c.content, r.tags, c.section, c.ord FROM runbook_chunks c JOIN runbooks r ON r.id = c.runbook_id ORDER BY c.id',
  );
  // The old index casts to the old dimension: vectors of the new one could not be written under it.
  await dropVectorIndexes(db);
  for (let i = 0; i < rows.length; i += 64) {
    const batch = rows.slice(i, i + 64);
    const vectors = await embedder.embed(batch.map((r) => embeddingText({ ord: r.ord, section: r.section, headingPath: r.heading_path, content: r.content }, r.tags)));
    await db.transaction(async (tx) => {
      for (const [j, r] of batch.entries()) {
        await tx.query('UPDATE runbook_chunks SET embedding = $2::vector, embedder = $3 WHERE id = $1', [r.id, toVectorLiteral(vectors[j]!), embedder.name]);
      }
    });
  }
  await setMeta(db, 'embedder', embedder.name);
  await setMeta(db, 'dimension', String(dim));
  await ensureVectorIndex(db, dim);
  return rows.length;
}

async function storeRunbook(db: Db, rb: ParsedRunbook, embedder: Embedder, vectors: number[][]): Promise<void> {
  const indexed = rb.chunks.map((chunk) => ({ chunk, ...chunkTerms(chunk, rb.tags) }));
  const runbookLen = indexed.reduce((s, c) => s + c.length, 0);
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM runbooks WHERE id = $1 OR source = $2', [rb.id, rb.source]);
    await tx.query('INSERT INTO runbooks (id, title, systems, tags, source, content_hash, doc_len) VALUES ($1, $2, $3::text[], $4::text[], $5, $6, $7)', [
      rb.id,
      rb.title,
      rb.systems,
      rb.tags,
      rb.source,
      rb.contentHash,
      runbookLen,
    ]);
    for (const { chunk, terms, length } of indexed) {
      const id = `${rb.id}#${chunk.ord}`;
      await tx.query(
        `INSERT INTO runbook_chunks (id, runbook_id, ord, section, heading_path, content, search_text, embedder, embedding, doc_len)
         VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9::vector, $10)`,
        [id, rb.id, chunk.ord, chunk.section, chunk.headingPath, chunk.content, [...terms.keys()].join(' '), embedder.name, toVectorLiteral(vectors[chunk.ord]!), length],
      );
      await tx.query('INSERT INTO runbook_terms (term, chunk_id, tf, chunk_len) SELECT t, $1, w, $2 FROM unnest($3::text[], $4::real[]) AS u(t, w)', [
        id,
        length,
        [...terms.keys()],
        [...terms.values()],
      ]);
    }
    const perRunbook = new Map<string, number>();
    for (const { terms } of indexed) for (const [t, w] of terms) perRunbook.set(t, (perRunbook.get(t) ?? 0) + w);
    await tx.query('INSERT INTO runbook_postings (term, runbook_id, tf, runbook_len) SELECT t, $1, w, $2 FROM unnest($3::text[], $4::real[]) AS u(t, w)', [
      rb.id,
      runbookLen,
      [...perRunbook.keys()],
      [...perRunbook.values()],
    ]);
  });
}

/**
 * Ingest every runbook under `dir`: unchanged files (same content hash, same embedder) do no work,
 * changed files replace their chunks, a bad file is reported and skipped (nothing of it stored),
 * and with `prune` runbooks whose file is gone are removed.
 */
export async function ingestRunbooks(db: Db, dir: string, embedder: Embedder, options: IngestOptions = {}): Promise<IngestReport> {
  const started = performance.now();
  const report: IngestReport = { files: 0, runbooks: 0, chunks: 0, skipped: 0, removed: 0, reembedded: 0, errors: [], seconds: 0 };
  report.reembedded = await reembedIfNeeded(db, embedder);
  const files = findRunbookFiles(dir);
  report.files = files.length;
  const known = new Map((await db.query<{ id: string; source: string; content_hash: string }>('SELECT id, source, content_hash FROM runbooks')).map((r) => [r.source, r]));
  const seenIds = new Map<string, string>();
  const seenSources = new Set<string>();
  // Runbooks indexed under other weights (an older INDEX_VERSION) are re-indexed even if unchanged.
  const reindex = known.size > 0 && (await getMeta(db, 'index_version')) !== INDEX_VERSION;
  let changed = false;

  for (const [i, file] of files.entries()) {
    const source = relative(dir, file).split(sep).join('/');
    seenSources.add(source);
    options.onProgress?.(i + 1, files.length, source);
    try {
      const raw = readFileSync(file, 'utf8');
      const prior = known.get(source);
      if (prior && !reindex && prior.content_hash === hashContent(raw)) {
        report.skipped++;
        seenIds.set(prior.id, source);
        continue;
      }
      const rb = parseRunbook(raw, source);
      const clash = seenIds.get(rb.id);
      if (clash) throw new Error(`id "${rb.id}" is already used by ${clash}`);
      const other = (await db.query<{ source: string }>('SELECT source FROM runbooks WHERE id = $1 AND source <> $2', [rb.id, source]))[0];
      if (other && files.some((f) => relative(dir, f).split(sep).join('/') === other.source)) throw new Error(`id "${rb.id}" is already used by ${other.source}`);
      seenIds.set(rb.id, source);
      const vectors = await embedder.embed(rb.chunks.map((c) => embeddingText(c, rb.tags)));
      await storeRunbook(db, rb, embedder, vectors);
      report.runbooks++;
      report.chunks += rb.chunks.length;
      changed = true;
    } catch (err) {
      report.errors.push({ file: source, message: errorMessage(err).replace(`${source}: `, '') });
    }
  }

  if (options.prune) {
    for (const [source, row] of known) {
      if (!seenSources.has(source)) {
        await db.query('DELETE FROM runbooks WHERE id = $1', [row.id]);
        report.removed++;
        changed = true;
      }
    }
  }
  if (changed || report.reembedded) {
    await refreshStats(db);
    await setMeta(db, 'embedder', embedder.name);
    await setMeta(db, 'index_version', INDEX_VERSION);
    const dim = await embedder.dimension();
    await setMeta(db, 'dimension', String(dim));
    await ensureVectorIndex(db, dim);
  }
  report.seconds = Math.round((performance.now() - started) / 10) / 100;
  return report;
}
