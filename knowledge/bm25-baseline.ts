import type { Queryable } from '../db/db.js';
import { tokenize } from './tokenize.js';

/**
 * Plain BM25 (k1 = 1.2, b = 0.75) over each chunk's whole text (title, headings and content as one
 * field, no weighting, no vectors), in memory: the baseline the hybrid search must beat, built from
 * the same stored chunks and the same tokenizer so the comparison is fair.
 */
export class Bm25Baseline {
  private readonly docs: Array<{ id: string; runbookId: string; tf: Map<string, number>; len: number }> = [];
  private readonly df = new Map<string, number>();
  private avgdl = 1;

  static async fromStore(db: Queryable): Promise<Bm25Baseline> {
    const rows = await db.query<{ id: string; runbook_id: string; heading_path: string[]; content: string }>(
      'SELECT id, runbook_id, heading_path, content FROM runbook_chunks ORDER BY id',
    );
    const b = new Bm25Baseline();
    for (const r of rows) b.add(r.id, r.runbook_id, `${r.heading_path.join(' ')}\n${r.content}`);
    b.finish();
    return b;
  }

  private add(id: string, runbookId: string, text: string): void {
    const tf = new Map<string, number>();
    const tokens = tokenize(text);
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const t of tf.keys()) this.df.set(t, (this.df.get(t) ?? 0) + 1);
    this.docs.push({ id, runbookId, tf, len: tokens.length });
  }

  private finish(): void {
    this.avgdl = this.docs.reduce((s, d) => s + d.len, 0) / Math.max(1, this.docs.length) || 1;
  }

  /** Runbook ids, best first; a runbook scores as its best chunk. */
  search(query: string, top = 10): string[] {
    const n = this.docs.length;
    const q = tokenize(query);
    const best = new Map<string, number>();
    for (const d of this.docs) {
      let s = 0;
      for (const t of q) {
        const f = d.tf.get(t);
        if (!f) continue;
        const df = this.df.get(t) ?? 0;
        s += Math.log(1 + (n - df + 0.5) / (df + 0.5)) * ((f * 2.2) / (f + 1.2 * (0.25 + (0.75 * d.len) / this.avgdl)));
      }
      if (s > 0 && s > (best.get(d.runbookId) ?? 0)) best.set(d.runbookId, s);
    }
    return [...best.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, top)
      .map(([id]) => id);
  }
}
