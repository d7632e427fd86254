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
  /** Where the server listens and whether it is reachable beyond this machine (core/hosts.ts). */
  server: { port: number; beyondLoopback: boolean };
}

/**
 * How the server screens a state-changing request (POST, PUT, DELETE) before its handler runs:
 * - 'json' (the default): `content-type: application/json` (else 415), and an `Origin` header, when
 *   present, must be the server's own (else 403): a web page elsewhere cannot post to a webhook.
 * - 'browser': as 'json', and the `Origin` header is required (the web chat's page always sends it).
 * - 'signed': neither; the request has its platform's own format and signature, checked by the
 *   handler (Slack's form bodies, WeCom's XML callbacks).
 */
export type RouteScreen = 'json' | 'browser' | 'signed';

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** A body limit of its own (bytes), instead of the server's; `hint` says what to do beyond it. */
  bodyLimit?: { bytes: number; hint: string };
  handler(ctx: RouteContext): Promise<void>;
  /** See RouteScreen; 'json' when absent. */
  screen?: RouteScreen;
  /** Also serve every path under `path` (a mounted app such as the queue dashboard). */
  prefix?: boolean;
}

/** Whether a route serves this path: exactly, or below it for a prefix route. */
export function routeServes(route: Route, pathname: string): boolean {
  return route.path === pathname || (route.prefix === true && pathname.startsWith(`${route.path}/`));
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

