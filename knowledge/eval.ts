import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { WarroomError } from '../core/errors.js';
import type { Db } from '../db/db.js';
import { Bm25Baseline } from './bm25-baseline.js';
import type { Embedder } from './embedder.js';
import { searchRunbooks } from './search.js';

export const evalSetSchema = z.object({
  description: z.string().optional(),
  queries: z
    .array(
      z
        .object({
          query: z.string().min(1),
          expected: z.string().min(1),
          lang: z.string().optional(),
          kind: z.string().optional(),
          /** dev: may be looked at while tuning; heldout: only measured. Unset: the set has no split. */
          split: z.enum(['dev', 'heldout']).optional(),
        })
        .passthrough(),
    )
    .min(1),
});
export type EvalSet = z.infer<typeof evalSetSchema>;

export interface RetrievalScores {
  recallAt1: number;
  recallAt3: number;
  mrr: number;
  queries: number;
}

export interface SplitScores {
  hybrid: RetrievalScores;
  bm25: RetrievalScores;
}

export interface EvalResult {
  hybrid: RetrievalScores;
  bm25: RetrievalScores;
  embedder: string;
  /** The same figures per split (dev, heldout) when the set's queries carry one; empty otherwise. */
  splits: Record<string, SplitScores>;
  /** Queries the hybrid did not place in its top 3, for people improving runbooks or ranking. */
  misses: Array<{ query: string; expected: string; got: string[]; split?: string }>;
}

export function readEvalSet(path: string): EvalSet {
  const parsed = evalSetSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new WarroomError('eval_invalid', `${path}: ${i.path.join('.')}: ${i.message}`);
  }
  return parsed.data;
}

function score(rankings: Array<{ expected: string; ranked: string[] }>): RetrievalScores {
  let r1 = 0;
  let r3 = 0;
  let rr = 0;
  for (const { expected, ranked } of rankings) {
    const pos = ranked.indexOf(expected);
    if (pos === 0) r1++;
    if (pos >= 0 && pos < 3) r3++;
    if (pos >= 0) rr += 1 / (pos + 1);
  }
  const n = rankings.length;
  const round = (x: number) => Math.round((x / n) * 1000) / 1000;
  return { recallAt1: round(r1), recallAt3: round(r3), mrr: round(rr), queries: n };
}

/** Run every query through the hybrid search and the BM25 baseline, in the same run, on the same store. */
export async function evaluateRetrieval(db: Db, embedder: Embedder, set: EvalSet): Promise<EvalResult> {
  const baseline = await Bm25Baseline.fromStore(db);
  type Run = { expected: string; ranked: string[]; split: string | undefined };
  const hybridRuns: Run[] = [];
  const bm25Runs: Run[] = [];
  const misses: EvalResult['misses'] = [];
  for (const q of set.queries) {
    const ranked = (await searchRunbooks(db, q.query, embedder, { top: 10 })).map((h) => h.runbookId);
    hybridRuns.push({ expected: q.expected, ranked, split: q.split });
    bm25Runs.push({ expected: q.expected, ranked: baseline.search(q.query, 10), split: q.split });
    if (!ranked.slice(0, 3).includes(q.expected)) misses.push({ query: q.query, expected: q.expected, got: ranked.slice(0, 3), ...(q.split ? { split: q.split } : {}) });
  }
  const splits: Record<string, SplitScores> = {};
  for (const name of [...new Set(set.queries.flatMap((q) => (q.split ? [q.split] : [])))].sort()) {
    splits[name] = { hybrid: score(hybridRuns.filter((r) => r.split === name)), bm25: score(bm25Runs.filter((r) => r.split === name)) };
  }
  return { hybrid: score(hybridRuns), bm25: score(bm25Runs), embedder: embedder.name, splits, misses };
}
