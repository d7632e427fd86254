import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { App } from '../tools/services.js';
import { routeServes, sendJson, type Route, type RouteContext } from '../bot/http.js';

export { sendJson, type Route, type RouteContext };
import { redactUrl } from '../core/config.js';
import { parsePublicHosts, sameOrigin, servedHosts, type ServedHosts } from '../core/hosts.js';
import { errorMessage, isWarroomError, WarroomError } from '../core/errors.js';
import { enableDefaultMetrics, httpDuration, httpRequests, metricsRegistry } from '../core/metrics.js';
import { pingRedis } from '../core/redis.js';
import { requireCleanJson } from '../core/text.js';

export interface HttpServerOptions {
  port: number;
  host?: string;
  routes?: Route[];
  redis?: Redis;
  /** Largest body accepted, in bytes. */
  maxBodyBytes?: number;
}

function readBody(req: IncomingMessage, limit: number, hint?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return; // keep reading and dropping, so the 413 reaches the client
      size += c.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        reject(new WarroomError('body_too_large', `Request body is larger than ${limit} bytes.`, { status: 413, ...(hint ? { hint } : {}) }));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function healthRoutes(redis: Redis | undefined): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      async handler({ app, res }) {
        const checks: Record<string, unknown> = {};
        let ok = true;
        const t0 = performance.now();
        try {
          await app.db.ping();
          checks.database = { ok: true, kind: app.db.kind, ms: Math.round(performance.now() - t0) };
        } catch (err) {
          ok = false;
          checks.database = { ok: false, kind: app.db.kind, error: errorMessage(err) };
        }
        if (redis) {
          const t1 = performance.now();
          try {
            await pingRedis(redis);
            checks.redis = { ok: true, url: redactUrl(app.config.REDIS_URL), ms: Math.round(performance.now() - t1) };
          } catch (err) {
            ok = false;
            checks.redis = { ok: false, url: redactUrl(app.config.REDIS_URL), error: errorMessage(err) };
          }
        } else {
          checks.redis = { configured: false };
        }
        sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      async handler({ res }) {
        const body = await metricsRegistry.metrics();
        res.writeHead(200, { 'content-type': metricsRegistry.contentType });
        res.end(body);
      },
    },
  ];
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'DELETE']);

/**
 * Why a state-changing request is refused before its handler runs (see RouteScreen in bot/http.ts),
 * or undefined. A page elsewhere can send a `text/plain` or form body without asking (a "simple"
 * request, `mode: 'no-cors'`), but never with `content-type: application/json`, and the browser
 * always names the page's origin in `Origin`.
 */
function screenRequest(route: Route, req: IncomingMessage): { status: number; body: Record<string, unknown> } | undefined {
  const screen = route.screen ?? 'json';
  if (screen === 'signed' || !STATE_CHANGING.has(req.method ?? '')) return undefined;
  const what = `${req.method} ${route.path}`;
  const origin = req.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
    return {
      status: 403,
      body: { error: 'forbidden_origin', message: `${what} refuses requests from another web origin (Origin: ${JSON.stringify(origin.slice(0, 200))}).`, hint: 'Only Warroom\'s own pages may send this; servers and scripts send no Origin header.' },
    };
  }
  if (origin === undefined && screen === 'browser') {
    return {
      status: 403,
      body: { error: 'origin_required', message: `${what} needs an Origin header naming this server.`, hint: 'Browsers send it by themselves; the web chat\'s page is the client of this API.' },
    };
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    return {
      status: 415,
      body: { error: 'unsupported_media_type', message: `${what} takes a JSON body: send "content-type: application/json"${type ? `, not "${type}"` : ' (none was sent)'}.`, expected: 'application/json' },
    };
  }
  return undefined;
}

/** One HTTP server for health, metrics, webhooks and chat platforms (mounted by later parts). */
export async function startHttpServer(app: App, options: HttpServerOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  enableDefaultMetrics();
  const routes = [...healthRoutes(options.redis), ...(options.routes ?? [])];
  const limit = options.maxBodyBytes ?? 5 * 1024 * 1024;
  const bindHost = options.host ?? '127.0.0.1';
  const publicHosts = parsePublicHosts(app.config.WARROOM_PUBLIC_HOSTS);
  // Known once the server listens (port 0 picks one); no request arrives before that.
  let hosts: ServedHosts | undefined;
  let listeningPort = 0;

  const server = createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes.find((r) => r.method === req.method && routeServes(r, url.pathname));
    const routeLabel = route ? route.path : 'unmatched';
    res.on('finish', () => {
      httpRequests.inc({ method: req.method ?? '?', route: routeLabel, status: String(res.statusCode) });
      httpDuration.observe({ method: req.method ?? '?', route: routeLabel }, (performance.now() - started) / 1000);
      app.logger.debug({ method: req.method, route: routeLabel, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'http');
    });
    // A Host that is not ours: a DNS-rebinding page, or a proxy whose name is not listed.
    if (!hosts?.allows(req.headers.host)) {
      const host = (req.headers.host ?? '').slice(0, 200);
      return sendJson(res, 421, {
        error: 'unknown_host',
        message: host ? `This Warroom does not serve the host "${host}".` : 'The request names no Host.',
        hint: `It answers for ${hosts?.describe() ?? 'its loopback names'}. Reached through a reverse proxy or by another name, add that name to WARROOM_PUBLIC_HOSTS.`,
      });
    }
    if (!route) {
      const allowed = routes.filter((r) => routeServes(r, url.pathname)).map((r) => r.method);
      if (allowed.length) {
        res.setHeader('allow', allowed.join(', '));
        return sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method} is not allowed on ${url.pathname}; use ${allowed.join(' or ')}.` });
      }
      return sendJson(res, 404, { error: 'not_found', message: `No route for ${req.method} ${url.pathname}.` });
    }
    const refused = screenRequest(route, req);
    if (refused) return sendJson(res, refused.status, refused.body);
    // A declared length over the limit is refused before any handler (Bolt's included) reads a byte;
    // the connection closes after the answer, so no client reuses it with the upload half-sent.
    const declared = Number(req.headers['content-length'] ?? 0);
    const routeLimit = route.bodyLimit?.bytes ?? limit;
    if (declared > routeLimit) {
      res.setHeader('connection', 'close');
      return sendJson(res, 413, { error: 'body_too_large', message: `Request body is larger than ${routeLimit} bytes.`, ...(route.bodyLimit?.hint ? { hint: route.bodyLimit.hint } : {}) });
    }
    let bodyPromise: Promise<Buffer> | undefined;
    const body = () => (bodyPromise ??= readBody(req, routeLimit, route.bodyLimit?.hint));
    const ctx: RouteContext = {
      app,
      req,
      res,
      url,
      body,
      server: { port: listeningPort, beyondLoopback: hosts.beyondLoopback },
      async json() {
        const buf = await body();
        let value: unknown;
        try {
          value = JSON.parse(buf.toString('utf8')) as unknown;
        } catch (err) {
          throw new WarroomError('invalid_json', `Request body is not valid JSON: ${errorMessage(err)}`, { status: 400 });
        }
        // NUL, control characters and lone surrogates: a 400 naming the field, before any handler sees them.
        requireCleanJson(value);
        return value;
      },
    };
    route.handler(ctx).catch((err: unknown) => {
      if (res.headersSent) return res.end();
      // After a 413 the rest of the upload is unread: close the connection so no client reuses it mid-body.
      if (isWarroomError(err) && err.status === 413) res.setHeader('connection', 'close');
      if (isWarroomError(err)) return sendJson(res, err.status, { error: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), ...err.details });
      app.logger.error({ err: errorMessage(err), route: routeLabel }, 'request failed');
      sendJson(res, 500, { error: 'internal', message: 'Internal error; it has been logged.' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, bindHost, () => {
      listeningPort = (server.address() as AddressInfo).port;
      hosts = servedHosts({ bindHost, port: listeningPort, publicHosts });
      resolve();
    });
  });
  const port = listeningPort;
  return {
    server,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    },
  };
}
