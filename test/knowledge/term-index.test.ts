import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedRunbooksDir } from '../../core/paths.js';
import type { Db, Queryable } from '../../db/db.js';
import { loadMigrations } from '../../db/migrate.js';
import { createPostgresDb } from '../../db/postgres.js';
import { OfflineEmbedder } from '../../knowledge/embedder.js';
import { queryTerms } from '../../knowledge/index-text.js';
import { ingestRunbooks } from '../../knowledge/ingest.js';
import { rankLexical } from '../../knowledge/search.js';
import { BM25_B, BM25_K1 } from '../../knowledge/term-index.js';
import { drivers } from '../helpers/db.js';

/**
 * BM25 straight from the postings and the statistics (how search computed it before the term
 * index): the precomputed weights must rank the same documents in the same order with the same scores.
 */
async function referenceBm25(db: Queryable, query: string, limit: number): Promise<{ chunks: Array<{ id: string; score: number }>; runbooks: Array<{ id: string; score: number }> }> {
  const meta = new Map((await db.query<{ key: string; value: string }>('SELECT key, value FROM kb_meta')).map((r) => [r.key, r.value]));
  const terms = queryTerms(query);
  const run = (table: string, idCol: string, lenCol: string, n: number, avg: number, df: string) =>
    db.query<{ id: string; score: number }>(
      `SELECT p.${idCol} AS id, sum(q.qw * ln(1 + ($3::float8 - s.${df} + 0.5) / (s.${df} + 0.5)) * p.tf * ($5::float8 + 1)
                                 / (p.tf + $5::float8 * (1 - $6::float8 + $6::float8 * p.${lenCol} / $4::float8)))::float8 AS score
         FROM unnest($1::text[], $2::float8[]) AS q(term, qw) JOIN runbook_term_stats s USING (term) JOIN ${table} p USING (term)
        GROUP BY p.${idCol}`,
      [[...terms.keys()], [...terms.values()], n, avg, BM25_K1, BM25_B],
    );
  const top = (rows: Array<{ id: string; score: number }>) => rows.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, limit);
  return {
    chunks: top(await run('runbook_terms', 'chunk_id', 'chunk_len', Number(meta.get('chunks')), Number(meta.get('avgdl')) || 1, 'df')),
    runbooks: top(await run('runbook_postings', 'runbook_id', 'runbook_len', Number(meta.get('runbooks')), Number(meta.get('avgrl')) || 1, 'rdf')),
  };
}

const queries = ['集中交易 登录 超时', 'market data gateway failover', 'ORA-12519 listener refused', '转不过来钱', 'Redis 主从复制断了', '证监会 报送 审批 谁签字'];

function expectSameRanking(got: Array<{ id: string; score: number }>, want: Array<{ id: string; score: number }>): void {
  expect(got.map((g) => g.id)).toEqual(want.map((w) => w.id));
  for (const [i, g] of got.entries()) expect(g.score).toBeCloseTo(want[i]!.score, 9);
}

for (const driver of drivers) describe.skipIf(!driver.enabled)(`runbook term index on ${driver.name}`, () => {
  let db: Db;
  let close: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), 'wr-kbti-'));
  const embedder = new OfflineEmbedder({ dimension: 64 });
  beforeAll(async () => {
    ({ db, close } = await driver.open());
    cpSync(shippedRunbooksDir, dir, { recursive: true });
    const r = await ingestRunbooks(db, dir, embedder);
    expect(r.errors).toEqual([]);
  });
  afterAll(async () => {
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ranks chunks and runbooks exactly as BM25 over the postings does', async () => {
    for (const q of queries) {
      const got = await rankLexical(db, q, 40);
      const want = await referenceBm25(db, q, 40);
      expect(want.chunks.length).toBeGreaterThan(0);
      expectSameRanking(got.chunks, want.chunks);
      expectSameRanking(got.runbooks, want.runbooks);
    }
  });

  it('is rebuilt by the migration for a store ingested before it', async () => {
    const before = await rankLexical(db, queries[0]!, 40);
    await db.exec("DELETE FROM runbook_term_index; DELETE FROM runbook_term_index_docs; DELETE FROM kb_meta WHERE key = 'term_index'");
    expect(await rankLexical(db, queries[0]!, 40)).toEqual({ chunks: [], runbooks: [] });
    await db.exec(loadMigrations().find((m) => m.version === '012_runbook_term_index')!.sql.replace(/CREATE TABLE[^;]*;/g, ''));
    const after = await rankLexical(db, queries[0]!, 40);
    expectSameRanking(after.chunks, before.chunks);
    expectSameRanking(after.runbooks, before.runbooks);
  });

  // One process owns a PGlite store: there is no second handle to ingest through.
  it.skipIf(driver.name !== 'postgres')('a reader that cached one build sees the next after another handle ingests', async () => {
    const other = createPostgresDb(process.env.DATABASE_URL!.replace(/\/[^/]*$/, `/${await currentDatabase(db)}`));
    try {
      expect((await rankLexical(db, 'zzqxv', 5)).chunks).toEqual([]); // caches the current build
      writeFileSync(join(dir, 'zz-new.md'), '---\nid: rb-zz-new\ntitle: New runbook\nsystems: [core]\ntags: [x]\n---\n## Symptoms\nzzqxv appears in the log\n');
      await ingestRunbooks(other, dir, embedder);
      const hits = (await rankLexical(db, 'zzqxv', 5)).chunks;
      expect(hits[0]?.id).toBe('rb-zz-new#0');
      expectSameRanking((await rankLexical(db, queries[1]!, 40)).chunks, (await referenceBm25(db, queries[1]!, 40)).chunks);
    } finally {
      await other.close();
    }
  });
});

async function currentDatabase(db: Queryable): Promise<string> {
  return (await db.query<{ d: string }>('SELECT current_database() AS d'))[0]!.d;
}
