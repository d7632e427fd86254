import type { RunbookChunk } from './runbook.js';
import { translations } from './glossary.js';
import { tokenize } from './tokenize.js';

/** Weight of a glossary translation of a query word, relative to the word itself. */
export const TRANSLATION_WEIGHT = 0.4;

/** Headings, title and tags say what a chunk is about: they count twice (a light BM25F). */
export const HEADING_WEIGHT = 2;

export interface ChunkTerms {
  terms: Map<string, number>;
  length: number;
}

export function chunkTerms(chunk: RunbookChunk, tags: string[]): ChunkTerms {
  const terms = new Map<string, number>();
  let length = 0;
  const add = (tokens: string[], w: number) => {
    for (const t of tokens) {
      terms.set(t, (terms.get(t) ?? 0) + w);
      length += w;
    }
  };
  add(tokenize([...chunk.headingPath, ...tags].join(' ')), HEADING_WEIGHT);
  add(tokenize(chunk.content), 1);
  return { terms, length };
}

/** What the embedder sees for a chunk: where it sits, then what it says. */
export function embeddingText(chunk: RunbookChunk, tags: string[]): string {
  return `${chunk.headingPath.join(' > ')}\n${tags.join(' ')}\n${chunk.content}`;
}

/** Query terms with their weights: the words themselves, plus glossary translations at a lower weight. */
export function queryTerms(query: string): Map<string, number> {
  const m = new Map<string, number>();
  const tokens = tokenize(query);
  for (const t of tokens) m.set(t, (m.get(t) ?? 0) + 1);
  for (const t of tokens) {
    for (const tr of translations(t)) if (!tokens.includes(tr)) m.set(tr, Math.max(m.get(tr) ?? 0, TRANSLATION_WEIGHT));
  }
  return m;
}
