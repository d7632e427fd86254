import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ModelRequest } from './scripted-model.js';

/**
 * A loopback pass-through in front of a real OpenAI-compatible endpoint, for evaluating a real
 * model: every request goes on to the endpoint unchanged (streamed answers stream through) and is
 * kept, so the harness can tell whether the model was asked at all (or the offline planner
 * answered) and check that no secret from the data reached it.
 */
export interface RecordingProxy {
  /** The base URL to give the agent instead of the endpoint's. */
  readonly url: string;
  readonly requests: ModelRequest[];
  reset(): void;
  close(): Promise<void>;
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** `target`: the endpoint's base URL as configured (OPENAI_BASE_URL, default the OpenAI API). */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const base = target.replace(/\/+$/, '');
  const requests: ModelRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readRaw(req);
      const path = (req.url ?? '').replace(/^\/v1/, '');
      let body: unknown;
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        body = { unparsed: raw.toString('utf8') };
      }
      if (path.includes('/chat/completions')) requests.push({ path, body });
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'accept', 'openai-organization', 'openai-project', 'api-key']) {
        const v = req.headers[name];
        if (typeof v === 'string') headers[name] = v;
      }
      const upstream = await fetch(`${base}${path}`, { method: req.method ?? 'POST', headers, ...(raw.length && req.method !== 'GET' ? { body: new Uint8Array(raw) } : {}) });
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
      });
      res.writeHead(upstream.status, out);
      if (upstream.body) Readable.fromWeb(upstream.body as unknown as WebReadableStream).pipe(res);
      else res.end();
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `evaluation proxy: ${(err as Error).message}`, type: 'proxy_error' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    reset() {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
