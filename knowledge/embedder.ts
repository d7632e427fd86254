import { OpenAIEmbeddings } from '@langchain/openai';
import { WarroomError, errorMessage } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { GLOSSARY_FINGERPRINT, phraseExpansions, translations } from './glossary.js';
import { hanBigrams, tokenize } from './tokenize.js';

/** Turns texts into unit vectors. The name and dimension are stored with every vector. */
export interface Embedder {
  /** Stable identity: vectors from different names are never compared. */
  readonly name: string;
  /** Known after construction for the offline embedder; after the first call for remote ones. */
  dimension(): Promise<number>;
  embed(texts: string[]): Promise<number[][]>;
}

/** FNV-1a, 32 bit: fast, stable across runs and platforms. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface OfflineEmbedderOptions {
  dimension?: number;
}

/**
 * An embedder that needs no model and no download: feature hashing of words (jieba for Chinese),
 * Han character bigrams (robust to segmentation differences: 断开 vs 断了 share 断) and Latin
 * character trigrams (robust to inflection and typos: timeout / timed out), log-scaled and
 * L2-normalised. It is a fuzzy lexical signal that complements BM25, not a semantic model.
 */
export class OfflineEmbedder implements Embedder {
  readonly name: string;
  private readonly dim: number;

  constructor(options: OfflineEmbedderOptions = {}) {
    this.dim = options.dimension ?? 1024;
    // v3: the grown glossary (translations weigh 0.7) and colloquial phrase features; the glossary's
    // fingerprint follows, so growing the glossary re-embeds at the next ingest.
    this.name = `offline-hash-v3-${this.dim}-g${GLOSSARY_FINGERPRINT}`;
  }

  async dimension(): Promise<number> {
    return this.dim;
  }

  embedOne(text: string): number[] {
    const weights = new Map<string, number>();
    const add = (feature: string, w: number) => weights.set(feature, (weights.get(feature) ?? 0) + w);
    for (const t of tokenize(text)) {
      add(`w:${t}`, 1);
      // Glossary translations put Chinese and English wording of the same thing near each other.
      for (const tr of translations(t)) add(`w:${tr}`, 0.7);
      if (/^[a-z][a-z]{3,}$/.test(t)) for (let i = 0; i + 3 <= t.length; i++) add(`t:${t.slice(i, i + 3)}`, 0.25);
    }
    for (const b of hanBigrams(text)) add(`b:${b}`, 0.5);
    // Colloquial phrases ("转不过来钱", "went silent") also stand for the technical words they mean.
    for (const p of phraseExpansions(text)) for (const t of tokenize(p)) add(`w:${t}`, 0.4);
    const v = new Array<number>(this.dim).fill(0);
    for (const [feature, w] of weights) {
      const h = fnv1a(feature);
      const sign = h & 0x80000000 ? -1 : 1;
      v[h % this.dim]! += sign * (1 + Math.log(w));
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return norm > 0 ? v.map((x) => x / norm) : v;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }
}

export interface OpenAIEmbedderOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  batchSize?: number;
}

/** Any OpenAI-compatible /embeddings endpoint, through LangChain's client. */
export class OpenAICompatibleEmbedder implements Embedder {
  readonly name: string;
  private readonly client: OpenAIEmbeddings;
  private dim: number | undefined;

  constructor(options: OpenAIEmbedderOptions) {
    this.name = `openai:${options.model}`;
    this.client = new OpenAIEmbeddings({
      apiKey: options.apiKey,
      model: options.model,
      batchSize: options.batchSize ?? 64,
      maxRetries: 2,
      ...(options.baseURL ? { configuration: { baseURL: options.baseURL } } : {}),
    });
  }

  async dimension(): Promise<number> {
    if (this.dim === undefined) await this.embed(['dimension probe']);
    return this.dim!;
  }

  async embed(texts: string[]): Promise<number[][]> {
    let vectors: number[][];
    try {
      // Secrets in a runbook or a pasted log line never leave for the endpoint.
      vectors = await this.client.embedDocuments(texts.map(redactText));
    } catch (err) {
      // The key must never reach a message; LangChain's errors do not include it, but be sure.
      throw new WarroomError('embedding_failed', `Embedding endpoint failed: ${errorMessage(err).replace(/sk-[A-Za-z0-9_-]+/g, 'sk-***')}`, {
        hint: 'Check OPENAI_BASE_URL, OPENAI_API_KEY and WARROOM_EMBEDDING_MODEL, or set WARROOM_EMBEDDER=offline.',
      });
    }
    const first = vectors[0];
    if (first) this.dim = first.length;
    return vectors.map(normalise);
  }
}

function normalise(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return n > 0 ? v.map((x) => x / n) : v;
}

export interface EmbedderConfig {
  WARROOM_EMBEDDER: 'auto' | 'offline' | 'openai';
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
  WARROOM_EMBEDDING_MODEL: string;
}

/** The embedder the configuration asks for: OpenAI-compatible when a key is set (auto), else offline. */
export function createEmbedder(config: EmbedderConfig): Embedder {
  const wantOpenAI = config.WARROOM_EMBEDDER === 'openai' || (config.WARROOM_EMBEDDER === 'auto' && config.OPENAI_API_KEY);
  if (!wantOpenAI) return new OfflineEmbedder();
  if (!config.OPENAI_API_KEY) {
    throw new WarroomError('config_invalid', 'WARROOM_EMBEDDER=openai needs OPENAI_API_KEY.', { hint: 'Set OPENAI_API_KEY (and OPENAI_BASE_URL for a self-hosted endpoint).' });
  }
  return new OpenAICompatibleEmbedder({
    apiKey: config.OPENAI_API_KEY,
    model: config.WARROOM_EMBEDDING_MODEL,
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
  });
}
