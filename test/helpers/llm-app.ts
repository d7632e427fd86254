import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shippedRunbooksDir } from '../../core/paths.js';
import type { Db } from '../../db/db.js';
import { ingestRunbooks } from '../../knowledge/ingest.js';
import type { App } from '../../tools/services.js';
import { createDemoApp } from './app.js';
import { createTestPglite } from './db.js';
import type { ChatRequestBody, OpenAIStub } from './openai-stub.js';

export const LLM_KEY = 'sk-test';

/**
 * The demo app with the LLM agent on, talking to the local OpenAI stand-in (the real openai and
 * LangChain clients); the shipped runbooks plus `extraRunbooks` (file name → Markdown), embedded
 * through the stand-in too.
 */
export async function createLlmDemoApp(stub: OpenAIStub, options: { env?: NodeJS.ProcessEnv; extraRunbooks?: Record<string, string> } = {}): Promise<{ db: Db; app: App }> {
  const db = await createTestPglite();
  const app = await createDemoApp(db, { runbooks: false, env: { WARROOM_LLM_MODEL: 'test-model', OPENAI_BASE_URL: stub.url, OPENAI_API_KEY: LLM_KEY, WARROOM_LLM_MAX_RETRIES: '0', ...(options.env ?? {}) } });
  const dir = mkdtempSync(join(tmpdir(), 'wr-llm-rb-'));
  cpSync(shippedRunbooksDir, dir, { recursive: true });
  for (const [name, text] of Object.entries(options.extraRunbooks ?? {})) writeFileSync(join(dir, name), text);
  await ingestRunbooks(db, dir, app.embedder);
  return { db, app };
}

/** The chat requests the stand-in received (embeddings left out). */
export function chatRequests(stub: OpenAIStub): ChatRequestBody[] {
  return stub.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as ChatRequestBody);
}

/** The tool messages of one request, by call id. */
export function toolMessages(body: ChatRequestBody): Array<{ id: string; content: string }> {
  return body.messages.filter((m) => m.role === 'tool').map((m) => ({ id: m.tool_call_id ?? '', content: String(m.content) }));
}
