import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OpenAI-compatible server for tests: /v1/embeddings answers with deterministic vectors
 * (hashed words, so similar texts get similar vectors) and /v1/chat/completions replays scripted
 * replies. It records every request so tests can see what the real clients sent.
 */
export interface OpenAIStub {
  url: string;
  requests: Array<{ path: string; authorization: string | undefined; body: unknown }>;
  /**
   * Scripted /chat/completions replies, taken in order: a reply body, a function of the request
   * body that returns one (to answer from what the client sent), or `httpError(…)` / `delayed(…)`.
   */
  chatReplies: ChatReply[];
  failNext?: { status: number; message: string };
  close(): Promise<void>;
}

/** A scripted reply: a body, or a function of the request body that returns one. */
export type ChatReply = Record<string, unknown> | ((body: ChatRequestBody) => unknown);

/** What a chat client sends (the parts tests look at). */
export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: unknown; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
}

const HTTP_ERROR = Symbol('httpError');
const DELAYED = Symbol('delayed');

/** A scripted reply that fails with this HTTP status. */
export function httpError(status: number, message = 'scripted failure'): Record<string, unknown> {
  return { [HTTP_ERROR]: { status, message } };
}

/** A scripted reply sent only after `ms` (for timeouts). */
export function delayed(ms: number, reply: unknown): Record<string, unknown> {
  return { [DELAYED]: { ms, reply } };
}

export interface ScriptedCall {
  name: string;
  args: unknown;
  id?: string;
}

const usageOf = (u?: { prompt?: number; completion?: number }) => ({ prompt_tokens: u?.prompt ?? 100, completion_tokens: u?.completion ?? 20, total_tokens: (u?.prompt ?? 100) + (u?.completion ?? 20) });
let callSeq = 0;

/** A chat completion in which the model calls tools (`args` as JSON, or a raw string to send malformed JSON). */
export function toolCallsReply(calls: ScriptedCall[], usage?: { prompt?: number; completion?: number }): Record<string, unknown> {
  return {
    id: `chatcmpl-${++callSeq}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [
      {
        index: 0,
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: null,
          tool_calls: calls.map((c) => ({ id: c.id ?? `call_${++callSeq}`, type: 'function', function: { name: c.name, arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args) } })),
        },
      },
    ],
    usage: usageOf(usage),
  };
}

/** A chat completion with the model's final text. */
export function textReply(text: string, usage?: { prompt?: number; completion?: number }): Record<string, unknown> {
  return {
    id: `chatcmpl-${++callSeq}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: text } }],
    usage: usageOf(usage),
  };
}

function embed(text: string, dim: number): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)) {
    const h = createHash('md5').update(w).digest();
    v[h.readUInt16BE(0) % dim]! += 1;
  }
  return v;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

export async function startOpenAIStub(options: { dimension?: number } = {}): Promise<OpenAIStub> {
  const dim = options.dimension ?? 64;
  const stub: OpenAIStub = { url: '', requests: [], chatReplies: [], close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const b = await body(req);
    stub.requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body: b });
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (stub.failNext) {
      const f = stub.failNext;
      stub.failNext = undefined;
      return send(f.status, { error: { message: f.message, type: 'invalid_request_error' } });
    }
    if (req.url === '/v1/embeddings') {
      const input = (b as { input: string | string[] }).input;
      const texts = Array.isArray(input) ? input : [input];
      // Like real servers: base64 of little-endian float32 when the client asks for it (the SDK's default).
      const base64 = (b as { encoding_format?: string }).encoding_format === 'base64';
      const encode = (v: number[]) => (base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
      return send(200, { object: 'list', model: (b as { model: string }).model, data: texts.map((t, index) => ({ object: 'embedding', index, embedding: encode(embed(t, dim)) })), usage: { prompt_tokens: 1, total_tokens: 1 } });
    }
    if (req.url === '/v1/chat/completions') {
      const next = stub.chatReplies.shift();
      // A function may answer later (a Promise): a slow model, released when a test says so.
      let reply = typeof next === 'function' ? await (next as (body: ChatRequestBody) => unknown)(b as ChatRequestBody) : next;
      if (reply && typeof reply === 'object' && DELAYED in reply) {
        const d = (reply as { [DELAYED]: { ms: number; reply: unknown } })[DELAYED];
        await new Promise((r) => setTimeout(r, d.ms));
        if (res.destroyed || req.destroyed) return;
        reply = d.reply;
      }
      if (!reply) return send(500, { error: { message: 'no scripted reply left' } });
      if (typeof reply === 'object' && HTTP_ERROR in reply) {
        const e = (reply as { [HTTP_ERROR]: { status: number; message: string } })[HTTP_ERROR];
        return send(e.status, { error: { message: e.message, type: 'server_error' } });
      }
      return send(200, reply);
    }
    send(404, { error: { message: `no route ${req.url}` } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  stub.close = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return stub;
}
