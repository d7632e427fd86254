import type { RunbookChunk } from './runbook.js';
import { phraseExpansions, translations } from './glossary.js';
import { tokenize } from './tokenize.js';

/**
 * Version of what `chunkTerms` stores. Ingest re-indexes every runbook, changed or not, when the
 * stored version differs: bump it whenever the weights or the tokenizer change what is indexed.
 */
export const INDEX_VERSION = '2';

/** Weight of a glossary translation of a query word, relative to the word itself. */
export const TRANSLATION_WEIGHT = 0.8;

/** Weight of a technical term that a colloquial phrase of the query stands for. */
export const PHRASE_WEIGHT = 0.5;

/** Headings, title and tags say what a chunk is about: they count twice (a light BM25F). */
export const HEADING_WEIGHT = 2;

export interface ChunkTerms {
  terms: Map<string, number>;
  length: number;
}

/**
 * The symptom section (现象 / Symptoms) holds what people see and say ("下单转圈", "cannot log in"):
 * a colloquial question should land there, so its words count more. Its length still counts once,
 * so the weight raises the section's term frequencies rather than being normalised away.
 */
export const SYMPTOM_WEIGHT = 1.5;

const SYMPTOM_SECTION = /^(现象|症状|故障现象|symptoms?)$/i;

export function isSymptomSection(section: string): boolean {
  return SYMPTOM_SECTION.test(section.trim());
}

export function chunkTerms(chunk: RunbookChunk, tags: string[]): ChunkTerms {
  const terms = new Map<string, number>();
  let length = 0;
  const add = (tokens: string[], w: number, lengthWeight = w) => {
    for (const t of tokens) {
      terms.set(t, (terms.get(t) ?? 0) + w);
      length += lengthWeight;
    }
  };
  add(tokenize([...chunk.headingPath, ...tags].join(' ')), HEADING_WEIGHT);
  add(tokenize(chunk.content), isSymptomSection(chunk.section) ? SYMPTOM_WEIGHT : 1, 1);
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
  // Colloquial phrases ("转不过来钱", "who signs off") stand for the runbooks' technical words.
  for (const p of phraseExpansions(query)) {
    for (const t of tokenize(p)) if (!tokens.includes(t)) m.set(t, Math.max(m.get(t) ?? 0, PHRASE_WEIGHT));
  }
  return m;
}
