import { timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express from 'express';
import type { Queue } from 'bullmq';
import { sendJson, type Route } from '../../bot/http.js';
import { sameOrigin } from '../../core/hosts.js';

export const DASHBOARD_PATH = '/admin/queues';

function tokenMatches(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The admin token from `Authorization: Bearer …`, or the password of HTTP Basic (what a browser prompts for). */
function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!value) return undefined;
  if (/^bearer$/i.test(scheme!)) return value;
  if (/^basic$/i.test(scheme!)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return undefined;
}

/**
 * The bull-board dashboard of the action queue at /admin/queues, behind WARROOM_ADMIN_TOKEN (HTTP
 * Basic with any user name and the token as password, or a Bearer token). Without a token set the
 * dashboard is not served at all. Changes made from the dashboard (retry, clean) must come from its
 * own pages: a foreign Origin is refused.
 */
export function queueDashboardRoutes(queue: Queue, adminToken: string | undefined): Route[] {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter: adapter, options: { uiConfig: { boardTitle: 'Warroom actions' } } });
  const board = express();
  board.disable('x-powered-by');
  board.use(DASHBOARD_PATH, adapter.getRouter());
  const methods = ['GET', 'POST', 'PUT', 'DELETE'] as const;
  return methods.map(
    (method): Route => ({
      method,
      path: DASHBOARD_PATH,
      prefix: true,
      // Its own API (bodies of its own shape), screened here: the token, and for changes the origin.
      screen: 'signed',
      async handler({ req, res }) {
        if (!adminToken) {
          return sendJson(res, 404, { error: 'dashboard_off', message: 'The queue dashboard is off.', hint: 'Set WARROOM_ADMIN_TOKEN (and REDIS_URL) to serve it at /admin/queues.' });
        }
        const given = presentedToken(req.headers.authorization);
        if (!given || !tokenMatches(given, adminToken)) {
          res.setHeader('www-authenticate', 'Basic realm="Warroom queue dashboard", charset="UTF-8"');
          return sendJson(res, 401, { error: 'admin_token_required', message: 'The queue dashboard needs the admin token.', hint: 'Sign in with any user name and WARROOM_ADMIN_TOKEN as the password, or send "Authorization: Bearer <token>".' });
        }
        if (method !== 'GET' && req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.headers.host)) {
          return sendJson(res, 403, { error: 'forbidden_origin', message: 'Dashboard changes are accepted only from its own pages.' });
        }
        await new Promise<void>((resolve, reject) => {
          res.once('finish', resolve);
          res.once('close', resolve);
          // An express app is a plain (req, res, next) listener over node's own request and response.
          (board as unknown as (q: typeof req, r: typeof res, next: (err?: unknown) => void) => void)(req, res, (err?: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
        });
        if (!res.headersSent) sendJson(res, 404, { error: 'not_found', message: `No dashboard page at ${req.url ?? ''}.` });
      },
    }),
  );
}
