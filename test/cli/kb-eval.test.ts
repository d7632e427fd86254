import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import type { Db } from '../../db/db.js';
import type { App } from '../../tools/services.js';
import { createDemoApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { inProcessCli } from '../helpers/cli-in-process.js';

describe('warroom kb eval', () => {
  let db: Db;
  let app: App;
  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db);
  }, 120_000);
  afterAll(async () => db?.close());

  it('prints the hybrid and BM25 figures for the whole set and then for each split (dev, heldout)', async () => {
    const text = await inProcessCli(app, 'sunqiang').run(['kb', 'eval', join(packageRoot, 'test', 'knowledge', 'eval-paraphrase.json')]);
    expect(text).toMatch(/^120 queries, embedder offline-hash-v3-1024-g[0-9a-z]+\n/);
    expect(text).toMatch(/\ndev \(49 queries\)\n {2}hybrid +\d\.\d{3} +\d\.\d{3} +\d\.\d{3}\n {2}BM25 baseline +\d\.\d{3}/);
    expect(text).toMatch(/\nheldout \(71 queries\)\n {2}hybrid +\d\.\d{3}/);
  }, 60_000);

  it('--json carries the same figures per split', async () => {
    const r = JSON.parse(await inProcessCli(app, 'sunqiang').run(['kb', 'eval', join(packageRoot, 'test', 'knowledge', 'eval-paraphrase.json'), '--json'])) as {
      splits: Record<string, { hybrid: { queries: number; recallAt1: number }; bm25: { recallAt1: number } }>;
    };
    expect(Object.keys(r.splits)).toEqual(['dev', 'heldout']);
    expect(r.splits.heldout!.hybrid.queries).toBe(71);
    expect(r.splits.heldout!.hybrid.recallAt1).toBeGreaterThan(r.splits.heldout!.bm25.recallAt1);
  }, 60_000);

  it('prints no split lines for a set without splits', async () => {
    const text = await inProcessCli(app, 'sunqiang').run(['kb', 'eval', join(packageRoot, 'test', 'knowledge', 'eval-set.json')]);
    expect(text).toMatch(/^60 queries/);
    expect(text).not.toContain('dev (');
  }, 60_000);
});
