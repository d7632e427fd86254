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
  chatReplies: unknown[];
  failNext?: { status: number; message: string };
  close(): Promise<void>;
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
      const reply = stub.chatReplies.shift();
      if (!reply) return send(500, { error: { message: 'no scripted reply left' } });
      return send(200, reply);
    }
    send(404, { error: { message: `no route ${req.url}` } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  stub.close = () => new Promise((r) => server.close(() => r()));
  return stub;
}
