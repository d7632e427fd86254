import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import type { Db } from '../../db/db.js';
import { createEmbedder, OfflineEmbedder, OpenAICompatibleEmbedder } from '../../knowledge/embedder.js';
import { ingestRunbooks } from '../../knowledge/ingest.js';
import { searchRunbooks } from '../../knowledge/search.js';
import { createTestPglite } from '../helpers/db.js';
import { startOpenAIStub, type OpenAIStub } from '../helpers/openai-stub.js';

const KEY = 'sk-test-0123456789abcdef';

describe('OpenAI-compatible embeddings through LangChain, against a local endpoint', () => {
  let stub: OpenAIStub;
  let db: Db;
  const dir = mkdtempSync(join(tmpdir(), 'wr-kb-oa-'));
  beforeAll(async () => {
    stub = await startOpenAIStub({ dimension: 64 });
    db = await createTestPglite();
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'redis.md'), '---\nid: rb-redis\ntitle: Redis replication broken\nsystems: [redis-cloud]\ntags: [redis]\n---\n## Symptoms\nmaster link down, replica offset frozen\n');
    writeFileSync(join(dir, 'a', 'cert.md'), '---\nid: rb-cert\ntitle: Certificate expiry on the gateway\nsystems: [api-gw]\ntags: [tls]\n---\n## Symptoms\nclients fail the TLS handshake: certificate has expired\n');
  });
  afterAll(async () => {
    await stub.close();
    await db.close();
  });

  it('is chosen when OPENAI_API_KEY is set, and the offline one otherwise', () => {
    expect(createEmbedder(loadConfig({}))).toBeInstanceOf(OfflineEmbedder);
    expect(createEmbedder(loadConfig({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: stub.url }))).toBeInstanceOf(OpenAICompatibleEmbedder);
    expect(createEmbedder(loadConfig({ OPENAI_API_KEY: KEY, WARROOM_EMBEDDER: 'offline' }))).toBeInstanceOf(OfflineEmbedder);
    expect(() => createEmbedder(loadConfig({ WARROOM_EMBEDDER: 'openai' }))).toThrow(/needs OPENAI_API_KEY/);
  });

  it('ingests and searches with the endpoint, recording the embedder and dimension', async () => {
    const embedder = createEmbedder(loadConfig({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: stub.url, WARROOM_EMBEDDING_MODEL: 'bge-m3' }));
    const r = await ingestRunbooks(db, dir, embedder);
    expect(r).toMatchObject({ runbooks: 2, errors: [] });
    const meta = new Map((await db.query<{ key: string; value: string }>('SELECT key, value FROM kb_meta')).map((m) => [m.key, m.value]));
    expect(meta.get('embedder')).toBe('openai:bge-m3');
    expect(meta.get('dimension')).toBe('64');
    const embeddingCalls = stub.requests.filter((q) => q.path === '/v1/embeddings');
    expect(embeddingCalls.length).toBeGreaterThan(0);
    expect(embeddingCalls[0]!.authorization).toBe(`Bearer ${KEY}`);
    expect((embeddingCalls[0]!.body as { model: string }).model).toBe('bge-m3');
    const [hit] = await searchRunbooks(db, 'certificate has expired', embedder);
    expect(hit?.runbookId).toBe('rb-cert');
  });

  it('re-embeds when switching back to the offline embedder', async () => {
    const r = await ingestRunbooks(db, dir, new OfflineEmbedder({ dimension: 96 }));
    expect(r.reembedded).toBe(2);
    const dims = await db.query<{ d: number }>('SELECT DISTINCT vector_dims(embedding) AS d FROM runbook_chunks');
    expect(dims).toEqual([{ d: 96 }]);
  });

  it('reports an endpoint failure clearly, without the key', async () => {
    const embedder = new OpenAICompatibleEmbedder({ apiKey: KEY, baseURL: stub.url, model: 'bge-m3' });
    stub.failNext = { status: 400, message: `model not found for key ${KEY}` };
    const err = await embedder.embed(['x']).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('Embedding endpoint failed');
    expect((err as Error).message).not.toContain(KEY);
  });
});
