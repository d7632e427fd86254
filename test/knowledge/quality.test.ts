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
/** Colloquial, cross-lingual and process questions (issue 15), split dev / heldout. */
const paraphrase = readEvalSet(join(packageRoot, 'test', 'knowledge', 'eval-paraphrase.json'));

/** The level reached with the offline embedder (60 queries); a drop below it fails the build. */
const MIN_RECALL_AT_3 = 1.0;
/** Measured 1.000 (60 queries); the floor leaves room for one or two new confusions, no more. */
const MIN_RECALL_AT_1 = 0.95;
/**
 * Floors per split of the paraphrase set, below what was measured with the offline embedder:
 * dev 0.939 / 1.000, heldout 0.817 / 0.944 at recall@1 / recall@3 (71 queries: round 1 0.862 / 0.966,
 * round 2, written after round 1 was measured and never tuned on, 0.818 / 0.955; round 3, written apart
 * from the glossary, 0.750 / 0.900). Before the grown glossary (round 1 only): dev 0.690 / 0.862,
 * heldout 0.706 / 0.824.
 */
const PARAPHRASE_FLOORS = { dev: { recallAt1: 0.93, recallAt3: 0.96 }, heldout: { recallAt1: 0.8, recallAt3: 0.9 } } as const;

for (const driver of drivers) describe.skipIf(!driver.enabled)(`retrieval quality on the shipped runbooks (${driver.name})`, () => {
  let db: Db;
  let close: () => Promise<void>;
  let result: EvalResult;
  let para: EvalResult;
  const embedder = new OfflineEmbedder();
  beforeAll(async () => {
    ({ db, close } = await driver.open());
    const report = await ingestRunbooks(db, shippedRunbooksDir, embedder);
    expect(report.errors).toEqual([]);
    expect(report.runbooks).toBeGreaterThanOrEqual(30);
    result = await evaluateRetrieval(db, embedder, set);
    para = await evaluateRetrieval(db, embedder, paraphrase);
  }, 180_000);
  afterAll(async () => close?.());

  it('finds the FPGA/MDGW runbook first for "行情卡跟交易所网关的连接断了", with section and source', async () => {
    const [hit] = await searchRunbooks(db, '行情卡跟交易所网关的连接断了', embedder);
    expect(hit).toMatchObject({ runbookId: 'rb-fpga-mdgw-session', source: 'fpga/rb-fpga-mdgw-session.md' });
    expect(hit!.section.length).toBeGreaterThan(0);
    expect(hit!.text.length).toBeGreaterThan(0);
  });

  it(`keeps recall@3 at or above ${MIN_RECALL_AT_3} and recall@1 at or above ${MIN_RECALL_AT_1} on the evaluation set`, () => {
    expect(result.hybrid.queries).toBe(set.queries.length);
    expect(result.misses).toEqual([]);
    expect(result.hybrid.recallAt3).toBeGreaterThanOrEqual(MIN_RECALL_AT_3);
    expect(result.hybrid.recallAt1).toBeGreaterThanOrEqual(MIN_RECALL_AT_1);
  });

  it('answers colloquial, cross-lingual and process questions: recall floors on both halves of the paraphrase set', () => {
    expect(Object.keys(para.splits)).toEqual(['dev', 'heldout']);
    expect(para.splits.dev!.hybrid.queries + para.splits.heldout!.hybrid.queries).toBe(paraphrase.queries.length);
    expect(paraphrase.queries.length).toBeGreaterThanOrEqual(40);
    for (const split of ['dev', 'heldout'] as const) {
      expect(para.splits[split]!.hybrid.recallAt1, split).toBeGreaterThanOrEqual(PARAPHRASE_FLOORS[split].recallAt1);
      expect(para.splits[split]!.hybrid.recallAt3, split).toBeGreaterThanOrEqual(PARAPHRASE_FLOORS[split].recallAt3);
    }
  });

  it('reaches a Chinese-only runbook from an English question and an English-only one from a Chinese question; a colloquial symptom lands on the 现象 section', async () => {
    const [zh] = await searchRunbooks(db, 'Bank transfers are stuck in processing and the money never arrived', embedder);
    expect(zh).toMatchObject({ runbookId: 'rb-bank-transfer-timeout', source: 'bank/rb-bank-transfer-timeout.md' });
    const [en] = await searchRunbooks(db, '日志把盘撑爆了，进程卡住不动了', embedder);
    expect(en).toMatchObject({ runbookId: 'rb-log-disk-full' });
    const [colloquial] = await searchRunbooks(db, '银行那边转不过来钱', embedder);
    expect(colloquial).toMatchObject({ runbookId: 'rb-bank-transfer-timeout', section: '现象' });
    const [process] = await searchRunbooks(db, 'When do we have to tell the CSRC, and who files the report?', embedder);
    expect(process).toMatchObject({ runbookId: 'rb-regulatory-reporting', source: 'compliance/rb-regulatory-reporting.md' });
  });

  it('beats the plain BM25 baseline, computed in the same run, on recall@1, recall@3 and MRR', () => {
    expect(result.hybrid.recallAt1).toBeGreaterThan(result.bm25.recallAt1);
    expect(result.hybrid.recallAt3).toBeGreaterThan(result.bm25.recallAt3);
    expect(result.hybrid.mrr).toBeGreaterThan(result.bm25.mrr);
  });

  it('beats the plain BM25 baseline on each half of the paraphrase set too', () => {
    for (const split of ['dev', 'heldout'] as const) {
      const s = para.splits[split]!;
      expect(s.hybrid.recallAt1, split).toBeGreaterThan(s.bm25.recallAt1);
      expect(s.hybrid.recallAt3, split).toBeGreaterThan(s.bm25.recallAt3);
      expect(s.hybrid.mrr, split).toBeGreaterThan(s.bm25.mrr);
    }
  });
});
