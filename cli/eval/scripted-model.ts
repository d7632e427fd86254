import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScriptTurn } from './cases.js';

/**
 * An OpenAI-compatible stand-in for a chat model, on loopback at a random port: it answers
 * /v1/chat/completions with the turns of a case's script, in order, so the real `openai` and
 * LangChain clients, the tool-call round trips and their parsing are exercised without a model.
 * Streaming requests get the same turn as server-sent events. Every request is kept, so a check
 * can see what reached the model (tool results, the validation error, no secrets).
 */
export interface ModelRequest {
  path: string;
  body: unknown;
}

export interface ScriptedModel {
  /** The base URL to give as OPENAI_BASE_URL (ends in /v1). */
  readonly url: string;
  /** Serve this script from the next request on; requests before it get a short text reply. */
  arm(script: ScriptTurn[]): void;
  disarm(): void;
  /** Chat requests made while armed. */
  readonly requests: ModelRequest[];
  /** Turns left unserved in the armed script. */
  remaining(): number;
  close(): Promise<void>;
}

/** The model name the stand-in reports. */
export const SCRIPTED_MODEL_NAME = 'warroom-scripted';

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return { unparsed: text };
  }
}

function hashEmbedding(text: string, dim: number): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)) {
    const h = createHash('md5').update(w).digest();
    v[h.readUInt16BE(0) % dim]! += 1;
  }
  return v;
}

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function wireCalls(turn: ScriptTurn, seq: number): WireToolCall[] {
  if (!('toolCalls' in turn)) return [];
  return turn.toolCalls.map((c, i) => ({
    id: `call_${seq}_${i}`,
    type: 'function' as const,
    function: { name: c.name, arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args) },
  }));
}

function roughTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
}

export async function startScriptedModel(): Promise<ScriptedModel> {
  let script: ScriptTurn[] | undefined;
  let served = 0;
  let seq = 0;
  const requests: ModelRequest[] = [];

  const send = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '').replace(/\?.*$/, '');
      if (path.endsWith('/embeddings')) {
        const input = (body as { input?: string | string[] }).input ?? '';
        const texts = Array.isArray(input) ? input : [input];
        const base64 = (body as { encoding_format?: string }).encoding_format === 'base64';
        const encode = (v: number[]) => (base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
        return send(res, 200, { object: 'list', model: (body as { model?: string }).model ?? 'embedding', data: texts.map((t, index) => ({ object: 'embedding', index, embedding: encode(hashEmbedding(String(t), 256)) })), usage: { prompt_tokens: 1, total_tokens: 1 } });
      }
      if (path.endsWith('/models')) return send(res, 200, { object: 'list', data: [{ id: SCRIPTED_MODEL_NAME, object: 'model', owned_by: 'warroom' }] });
      if (!path.endsWith('/chat/completions')) return send(res, 404, { error: { message: `no route ${path}`, type: 'invalid_request_error' } });

      if (script) requests.push({ path, body });
      // Unarmed (history questions before the one under test) or the script is used up: a plain answer.
      const turn: ScriptTurn = script && served < script.length ? script[served++]! : { text: script ? '(the scripted model has no more turns)' : '(scripted model: no script for this question)' };
      seq++;
      const calls = wireCalls(turn, seq);
      const content = 'text' in turn && turn.text !== undefined ? turn.text : null;
      const model = (body as { model?: string }).model ?? SCRIPTED_MODEL_NAME;
      const usage = { prompt_tokens: roughTokens((body as { messages?: unknown }).messages), completion_tokens: roughTokens(turn), total_tokens: 0 };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      const finish = calls.length ? 'tool_calls' : 'stop';
      const id = `chatcmpl-scripted-${seq}`;
      const created = Math.floor(Date.now() / 1000);

      if ((body as { stream?: boolean }).stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const chunk = (delta: Record<string, unknown>, finishReason: string | null, extra: Record<string, unknown> = {}) =>
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`);
        chunk({ role: 'assistant', content: content ?? '' }, null);
        if (calls.length) chunk({ tool_calls: calls.map((c, index) => ({ index, ...c })) }, null);
        chunk({}, finish);
        if ((body as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage) {
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
        }
        res.end('data: [DONE]\n\n');
        return;
      }
      send(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content, ...(calls.length ? { tool_calls: calls } : {}) }, finish_reason: finish, logprobs: null }],
        usage,
      });
    })().catch((err: unknown) => send(res, 500, { error: { message: (err as Error).message } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    arm(s) {
      script = s;
      served = 0;
      requests.length = 0;
    },
    disarm() {
      script = undefined;
      served = 0;
    },
    remaining() {
      return script ? script.length - served : 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
