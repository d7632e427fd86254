import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot, shippedRunbooksDir } from '../../core/paths.js';
import type { Db } from '../../db/db.js';
import { OfflineEmbedder } from '../../knowledge/embedder.js';
import { evaluateRetrieval, readEvalSet, type EvalResult } from '../../knowledge/eval.js';
import { ingestRunbooks } from '../../knowledge/ingest.js';
import { searchRunbooks } from '../../knowledge/search.js';
import { drivers } from '../helpers/db.js';

const set = readEvalSet(join(packageRoot, 'test', 'knowledge', 'eval-set.json'));

/** The level reached with the offline embedder (60 queries); a drop below it fails the build. */
const MIN_RECALL_AT_3 = 1.0;

for (const driver of drivers) describe.skipIf(!driver.enabled)(`retrieval quality on the shipped runbooks (${driver.name})`, () => {
  let db: Db;
  let close: () => Promise<void>;
  let result: EvalResult;
  const embedder = new OfflineEmbedder();
  beforeAll(async () => {
    ({ db, close } = await driver.open());
    const report = await ingestRunbooks(db, shippedRunbooksDir, embedder);
    expect(report.errors).toEqual([]);
    expect(report.runbooks).toBeGreaterThanOrEqual(30);
    result = await evaluateRetrieval(db, embedder, set);
  }, 120_000);
  afterAll(async () => close?.());

  it('finds the FPGA/MDGW runbook first for "行情卡跟交易所网关的连接断了", with section and source', async () => {
    const [hit] = await searchRunbooks(db, '行情卡跟交易所网关的连接断了', embedder);
    expect(hit).toMatchObject({ runbookId: 'rb-fpga-mdgw-session', source: 'fpga/rb-fpga-mdgw-session.md' });
    expect(hit!.section.length).toBeGreaterThan(0);
    expect(hit!.text.length).toBeGreaterThan(0);
  });

  it(`keeps recall@3 at or above ${MIN_RECALL_AT_3} on the evaluation set`, () => {
    expect(result.hybrid.queries).toBe(set.queries.length);
    expect(result.misses).toEqual([]);
    expect(result.hybrid.recallAt3).toBeGreaterThanOrEqual(MIN_RECALL_AT_3);
  });

  it('beats the plain BM25 baseline, computed in the same run, on recall@1, recall@3 and MRR', () => {
    expect(result.hybrid.recallAt1).toBeGreaterThan(result.bm25.recallAt1);
    expect(result.hybrid.recallAt3).toBeGreaterThan(result.bm25.recallAt3);
    expect(result.hybrid.mrr).toBeGreaterThan(result.bm25.mrr);
  });
});
