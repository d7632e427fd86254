import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../tools/services.js';

/**
 * An HTTP route as chat platforms and webhooks declare it; the server (server/http.ts) mounts them.
 * It lives here, below the server, so platform adapters need nothing from the layer above them.
 */
export interface RouteContext {
  app: App;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The raw body, read once (webhook signatures need the exact bytes). */
  body(): Promise<Buffer>;
  json(): Promise<unknown>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** A body limit of its own (bytes), instead of the server's; `hint` says what to do beyond it. */
  bodyLimit?: { bytes: number; hint: string };
  handler(ctx: RouteContext): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

