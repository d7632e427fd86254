import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/db.js';
import { OfflineEmbedder } from '../../knowledge/embedder.js';
import { INDEX_VERSION } from '../../knowledge/index-text.js';
import { ingestRunbooks } from '../../knowledge/ingest.js';
import { searchRunbooks } from '../../knowledge/search.js';
import { drivers } from '../helpers/db.js';

const rb = (id: string, title: string, body: string) => `---\nid: ${id}\ntitle: ${title}\nsystems: [redis-cloud]\ntags: [redis]\n---\n${body}`;

function writeCorpus(dir: string): void {
  mkdirSync(join(dir, 'redis'), { recursive: true });
  writeFileSync(join(dir, 'redis', 'mem.md'), rb('rb-mem', 'Redis 内存过高', '## 现象\nused_memory 接近 maxmemory，出现 OOM command not allowed\n## 处置\n1. 清理大 key\n'));
  writeFileSync(join(dir, 'redis', 'repl.md'), rb('rb-repl', 'Redis 主从复制中断', '## 现象\nmaster_link_status:down，复制偏移量不再增长\n## 处置\n1. 检查网络\n'));
  writeFileSync(join(dir, 'clock.md'), rb('rb-clock', 'Clock drift on trading hosts', '## Symptoms\nchronyc tracking shows offset above 50 ms\n## Remediation\n1. Step the clock after the close\n'));
  writeFileSync(join(dir, 'bad.md'), '---\nid: rb-bad\ntitle: Bad\n---\n## A\nno systems\n');
  writeFileSync(join(dir, 'README.md'), '# Runbooks\nnot a runbook\n');
}

for (const driver of drivers) describe.skipIf(!driver.enabled)(`knowledge ingestion on ${driver.name}`, () => {
  let db: Db;
  let close: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), 'wr-kb-'));
  const embedder = new OfflineEmbedder({ dimension: 256 });
  beforeAll(async () => {
    ({ db, close } = await driver.open());
    writeCorpus(dir);
  });
  afterAll(async () => close?.());

  it('stores good runbooks, reports the bad one precisely, and skips READMEs', async () => {
    const r = await ingestRunbooks(db, dir, embedder);
    expect(r).toMatchObject({ files: 4, runbooks: 3, skipped: 0 });
    expect(r.errors).toEqual([{ file: 'bad.md', message: 'front matter field "systems" is missing' }]);
    expect(await db.query("SELECT id FROM runbooks WHERE id = 'rb-bad'")).toEqual([]);
    const chunks = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM runbook_chunks');
    expect(chunks[0]!.n).toBe(6);
  });

  it('does no work for unchanged files', async () => {
    const r = await ingestRunbooks(db, dir, embedder);
    expect(r).toMatchObject({ runbooks: 0, chunks: 0, skipped: 3 });
  });

  it('replaces the chunks of a changed file', async () => {
    writeFileSync(join(dir, 'redis', 'mem.md'), rb('rb-mem', 'Redis 内存过高', '## 现象\nevicted_keys 快速增长\n'));
    const r = await ingestRunbooks(db, dir, embedder);
    expect(r).toMatchObject({ runbooks: 1, chunks: 1, skipped: 2 });
    const rows = await db.query<{ content: string }>("SELECT content FROM runbook_chunks WHERE runbook_id = 'rb-mem'");
    expect(rows.map((x) => x.content)).toEqual(['evicted_keys 快速增长']);
    const hits = await searchRunbooks(db, 'OOM command not allowed', embedder);
    expect(hits.map((h) => h.text).join('\n')).not.toContain('OOM command not allowed'); // the old text is gone
    expect((await searchRunbooks(db, 'evicted_keys 增长', embedder))[0]?.runbookId).toBe('rb-mem');
  });

  it('finds by symptom in either language and cites section and source', async () => {
    const [hit] = await searchRunbooks(db, '主从复制断了 master_link_status down', embedder);
    expect(hit).toMatchObject({ runbookId: 'rb-repl', section: '现象', source: 'redis/repl.md' });
    const [en] = await searchRunbooks(db, 'time offset too large on the host', embedder);
    expect(en).toMatchObject({ runbookId: 'rb-clock', source: 'clock.md' });
  });

  it('re-indexes unchanged runbooks once when the index weights changed (an older index version)', async () => {
    await db.query("UPDATE kb_meta SET value = 'old' WHERE key = 'index_version'");
    const r = await ingestRunbooks(db, dir, embedder);
    expect(r).toMatchObject({ runbooks: 3, skipped: 0 });
    expect(await db.query("SELECT value FROM kb_meta WHERE key = 'index_version'")).toEqual([{ value: INDEX_VERSION }]);
    expect(await ingestRunbooks(db, dir, embedder)).toMatchObject({ runbooks: 0, skipped: 3 });
  });

  it('removes runbooks whose file is gone only with --prune', async () => {
    rmSync(join(dir, 'clock.md'));
    expect((await ingestRunbooks(db, dir, embedder)).removed).toBe(0);
    expect(await db.query("SELECT id FROM runbooks WHERE id = 'rb-clock'")).toHaveLength(1);
    expect((await ingestRunbooks(db, dir, embedder, { prune: true })).removed).toBe(1);
    expect(await db.query("SELECT id FROM runbooks WHERE id = 'rb-clock'")).toEqual([]);
  });

  it('re-embeds everything when the embedder changes, never mixing vectors', async () => {
    const other = new OfflineEmbedder({ dimension: 128 });
    const r = await ingestRunbooks(db, dir, other);
    expect(r.reembedded).toBe(3);
    const rows = await db.query<{ embedder: string; dims: number }>('SELECT DISTINCT embedder, vector_dims(embedding) AS dims FROM runbook_chunks');
    expect(rows).toEqual([{ embedder: other.name, dims: 128 }]);
    const idx = await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'runbook_chunks' AND indexname LIKE 'runbook_chunks_hnsw_%'");
    expect(idx.map((i) => i.indexname)).toEqual(['runbook_chunks_hnsw_128']);
    expect((await searchRunbooks(db, 'master_link_status down', other))[0]?.runbookId).toBe('rb-repl');
  });

  it('uses the HNSW index for vector search', async () => {
    if (db.kind !== 'postgres') return; // PGlite's planner costs differ; the index exists there too
    await db.exec('SET enable_seqscan = off');
    const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT id FROM runbook_chunks ORDER BY embedding::vector(128) <=> (SELECT embedding::vector(128) FROM runbook_chunks LIMIT 1) LIMIT 5`);
    await db.exec('RESET enable_seqscan');
    expect(plan.map((p) => p['QUERY PLAN']).join('\n')).toContain('runbook_chunks_hnsw_128');
  });
});
