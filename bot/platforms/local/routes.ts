import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { WarroomError } from '../../../core/errors.js';
import { formatShort, formatZoned } from '../../../core/time.js';
import { sendJson, type Route, type RouteContext } from '../../http.js';
import type { Bot } from '../../bot.js';
import type { MessageRef } from '../platform.js';
import type { LocalChatEvents } from './events.js';
import { readChatPageFile } from './page.js';
import type { LocalPlatform } from './platform.js';
import type { WebSession, WebSessions } from './sessions.js';
import { notFound, type LocalStore, type Person } from './store.js';

/**
 * The web chat's HTTP side: sign-in (`GET /chat/login?token=…`, the link `warroom start` prints),
 * the page and its script and style, the JSON API under /chat/api, and one Server-Sent Events stream
 * per open page (`GET /chat/api/stream`); events only say what changed, and the page fetches the
 * rest over the JSON API.
 *
 * Every API call needs the session cookie; the person it acts as is the session's (chosen with
 * `POST /chat/api/session {"person": …}`), never a field of the request. Posts need JSON and this
 * server's own Origin (screen 'browser', checked by the HTTP server).
 */

/** The session cookie: HttpOnly (no script reads it), SameSite=Strict, only sent to /chat. */
export const SESSION_COOKIE = 'warroom_session';

/** The path of a sign-in link for a token; `as` binds the session to that person at once. */
export function signInPath(token: string, as?: string): string {
  return `/chat/login?token=${encodeURIComponent(token)}${as ? `&as=${encodeURIComponent(as)}` : ''}`;
}

const MAX_TEXT = 4000;

/** A 400 that names the offending fields (`fields` in the JSON answer). */
class RequestError extends WarroomError {
  readonly fields: string[];
  constructor(message: string, fields: string[]) {
    super('invalid_request', message, { status: 400 });
    this.fields = fields;
  }
}

// ---------------------------------------------------------------------------------------------
// Request validation
// ---------------------------------------------------------------------------------------------
const id = () =>
  z
    .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters');
const messageId = z.union([z.string().trim().regex(/^\d{1,18}$/, 'must be a message id (digits)'), z.number().int().nonnegative().transform(String)], {
  errorMap: (issue, ctx) => (issue.code === 'invalid_union' ? { message: ctx.data === undefined ? 'is required' : 'must be a message id' } : { message: ctx.defaultError }),
});

const messagesQuery = z.object({
  room: id(),
  after: z.string().regex(/^\d{1,18}$/, 'must be a message id (digits)').optional(),
});
const bodyObject = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { invalid_type_error: 'must be a JSON object', required_error: 'is required' });
const sendBody = bodyObject({
  room: id(),
  text: z
    .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
    .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
    .refine((s) => s.trim().length > 0, 'must not be empty'),
});
const actionBody = bodyObject({
  room: id(),
  messageId,
  actionId: id(),
  value: z.string({ required_error: 'is required', invalid_type_error: 'must be a string' }).max(2000, 'must be at most 2000 characters'),
});
const sessionBody = bodyObject({ person: id() });

/** Who acts is the session's person: a request naming a `user` is refused rather than half-believed. */
function refuseUserField(value: unknown, where: 'body' | 'query'): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'user' in value) {
    throw new RequestError(
      `"user" is not accepted in the ${where}: the web chat acts as the person of your session. To act as someone else, POST /chat/api/session {"person": "<id>"}.`,
      ['user'],
    );
  }
}

function parse<T extends z.ZodTypeAny>(schema: T, value: unknown, where: 'body' | 'query'): z.output<T> {
  refuseUserField(value, where);
  const r = schema.safeParse(value);
  if (r.success) return r.data as z.output<T>;
  const fields = [...new Set(r.error.issues.map((i) => (i.path.length ? i.path.join('.') : where)))];
  const what = r.error.issues.map((i) => `${i.path.length ? `"${i.path.join('.')}"` : `the ${where}`} ${i.message}`).join('; ');
  throw new RequestError(where === 'query' ? `Invalid query parameters: ${what}.` : `Invalid request body: ${what}.`, fields);
}

const query = (ctx: RouteContext): Record<string, string> => Object.fromEntries(ctx.url.searchParams);

/** Route errors as JSON with the field names for a bad request. Posts come from the page only (screen 'browser'). */
const route = (method: Route['method'], path: string, handler: (ctx: RouteContext) => Promise<void>): Route => ({
  method,
  path,
  ...(method === 'GET' ? {} : { screen: 'browser' as const }),
  async handler(ctx) {
    try {
      await handler(ctx);
    } catch (err) {
      if (err instanceof RequestError && !ctx.res.headersSent) {
        return sendJson(ctx.res, 400, { error: err.code, message: err.message, fields: err.fields });
      }
      throw err;
    }
  },
});

const sendStatic = (res: ServerResponse, type: string, body: string): void => {
  res.writeHead(200, {
    'content-type': `${type}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...(type === 'text/html'
      ? {
          // Nothing from anywhere else: no CDN, no inline script, no framing.
          'content-security-policy':
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          'referrer-policy': 'no-referrer',
        }
      : {}),
  });
  res.end(body);
};

/** The session id in the request's cookie header, if any. */
function sessionCookie(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === SESSION_COOKIE) return part.slice(i + 1).trim();
  }
  return undefined;
}

function cookie(req: IncomingMessage, value: string, maxAgeSeconds: number): string {
  // Behind a TLS-terminating proxy the cookie is only ever sent over HTTPS.
  const secure = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim() === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/chat; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

const HOW_TO_SIGN_IN =
  'Open the sign-in link that <code>warroom start</code> (or <code>warroom demo --chat</code> / <code>--serve</code>) prints when it starts, ' +
  'e.g. <code>http://127.0.0.1:3000/chat/login?token=…</code>, in this browser. Each link works once, for 24 hours; ' +
  'starting Warroom again prints a new one. Ask whoever runs this Warroom if it is not you.';

/** A page without script: why there is no chat here and how to get in. Nothing from the request goes into it. */
function signInPage(res: ServerResponse, status: number, heading: string): void {
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Warroom · sign in</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/chat/app.css"></head>
<body class="signin"><main class="signin-box" data-testid="sign-in-needed">
<h1>${heading}</h1>
<p>${HOW_TO_SIGN_IN}</p>
</main></body>
</html>
`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}

const unauthorized = (): WarroomError =>
  new WarroomError('unauthorized', 'Not signed in to the web chat (no session, or it has expired).', {
    status: 401,
    hint: 'Open the sign-in link printed by `warroom start` or `warroom demo --chat`/`--serve` (/chat/login?token=…) in this browser.',
  });

export interface LocalChatRoutes {
  routes: Route[];
  /** End the open event streams; resolves when they have ended. */
  endStreams(): Promise<void>;
}

export function localChatRoutes(
  bot: Bot,
  parts: { db: LocalStore; sessions: WebSessions; events: LocalChatEvents; local: LocalPlatform; statusRoomId: string; heartbeatMs: number },
): LocalChatRoutes {
  const { db, sessions, events, local, statusRoomId, heartbeatMs } = parts;
  const now = (): Date => bot.app.clock();
  /** The open streams, each with what stops it (heartbeat, listener) and its session. */
  const streams = new Map<ServerResponse, { stop: () => void; session: string }>();

  /** The request's live session, or undefined. */
  const sessionOf = async (req: IncomingMessage): Promise<WebSession | undefined> => {
    const id = sessionCookie(req);
    return id ? sessions.find(id) : undefined;
  };
  const requireSession = async (ctx: RouteContext): Promise<WebSession> => {
    const session = await sessionOf(ctx.req);
    if (!session) throw unauthorized();
    return session;
  };
  /** The person the session acts as: the only identity the API uses. */
  const sessionPerson = async (ctx: RouteContext): Promise<{ session: WebSession; user: Person }> => {
    const session = await requireSession(ctx);
    const user = session.person ? await db.getPerson(session.person) : undefined;
    if (!user) {
      throw new WarroomError('person_required', session.person ? `The person "${session.person}" of this session is no longer in Warroom's people.` : 'Choose who you act as first.', {
        status: 409,
        hint: 'POST /chat/api/session {"person": "<id>"} (GET /chat/api/people lists them); the page does it with its "You are" picker.',
      });
    }
    return { session, user };
  };
  /** End a session's open streams (it now acts as someone else, or has signed out). */
  const endStreamsOf = (session: WebSession): void => {
    for (const [res, s] of streams) {
      if (s.session !== session.idHash) continue;
      s.stop();
      if (!res.writableEnded) res.end();
    }
  };

  const openStream = async (req: IncomingMessage, res: ServerResponse, user: Person, session: WebSession): Promise<void> => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n\nevent: hello\ndata: ${JSON.stringify({ user: user.id })}\n\n`);
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': heartbeat\n\n');
    }, heartbeatMs);
    heartbeat.unref();
    const unlisten = events.listen((event, visibleTo) => {
      if (visibleTo && visibleTo !== user.id) return;
      if (!res.writableEnded) res.write(`data: ${JSON.stringify(event)}\n\n`);
    });
    const stop = (): void => {
      clearInterval(heartbeat);
      unlisten();
      streams.delete(res);
    };
    streams.set(res, { stop, session: session.idHash });
    req.on('close', stop);
    res.on('close', stop);
  };

  const routes: Route[] = [
    route('GET', '/chat', async ({ req, res }) => {
      if (!(await sessionOf(req))) return signInPage(res, 401, 'Sign in to the Warroom web chat');
      sendStatic(res, 'text/html', await readChatPageFile('index.html'));
    }),
    route('GET', '/chat/app.js', async ({ res }) => sendStatic(res, 'text/javascript', await readChatPageFile('app.js'))),
    route('GET', '/chat/app.css', async ({ res }) => sendStatic(res, 'text/css', await readChatPageFile('app.css'))),

    // The sign-in link: redeemed once, it becomes a session cookie, and the token leaves the address bar.
    route('GET', '/chat/login', async ({ req, res, url }) => {
      const as = url.searchParams.get('as');
      const person = as ? await db.getPerson(as) : undefined;
      const made = await sessions.redeem(url.searchParams.get('token') ?? '', person?.id ?? null);
      if (!made) return signInPage(res, 401, 'This sign-in link does not work: it was used already, has expired, or is not a Warroom link');
      const maxAge = Math.max(0, Math.floor((made.expiresAt.getTime() - now().getTime()) / 1000));
      res.writeHead(303, { location: '/chat', 'set-cookie': cookie(req, made.sessionId, maxAge), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-length': 0 });
      res.end();
    }),

    route('GET', '/chat/api/session', async (ctx) => {
      const session = await requireSession(ctx);
      const person = session.person ? await db.getPerson(session.person) : undefined;
      sendJson(ctx.res, 200, { person: person ? { id: person.id, name: person.name, roles: person.roles } : null, expiresAt: session.expiresAt.toISOString() });
    }),

    // The signed-in operator chooses who the session acts as (the demo plays several people).
    route('POST', '/chat/api/session', async (ctx) => {
      const session = await requireSession(ctx);
      const body = parse(sessionBody, await ctx.json(), 'body');
      const person = await db.requirePerson(body.person);
      if (session.person !== person.id) {
        await sessions.bind(session, person.id);
        endStreamsOf(session);
      }
      sendJson(ctx.res, 200, { person: { id: person.id, name: person.name, roles: person.roles }, expiresAt: session.expiresAt.toISOString() });
    }),

    route('DELETE', '/chat/api/session', async (ctx) => {
      const session = await requireSession(ctx);
      await sessions.end(session);
      endStreamsOf(session);
      const body = JSON.stringify({ signedOut: true });
      ctx.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'set-cookie': cookie(ctx.req, '', 0) });
      ctx.res.end(body);
    }),

    route('GET', '/chat/api/people', async (ctx) => {
      await requireSession(ctx);
      const people = await db.people();
      sendJson(ctx.res, 200, { people: people.map((p) => ({ id: p.id, name: p.name, roles: p.roles })) });
    }),

    // The app's clock as the page should show it: exchange time, and whether it is the demo's story clock.
    route('GET', '/chat/api/clock', async (ctx) => {
      await requireSession(ctx);
      const { res } = ctx;
      const at = now();
      const tz = bot.app.config.WARROOM_TIMEZONE;
      const demo = bot.app.demoMoment !== undefined;
      sendJson(res, 200, {
        now: formatZoned(at, tz),
        timeZone: tz,
        demo,
        label: demo ? `Demo clock · 演示时钟 ${formatShort(at, tz, 'zh')}` : `${formatShort(at, tz, 'zh')} (${tz})`,
        title: demo
          ? "The demo answers as of its story's moment (a Monday, 10 minutes after the open) and runs on from there; `warroom demo --real-time` uses the real time."
          : 'Exchange time.',
      });
    }),

    route('GET', '/chat/api/rooms', async (ctx) => {
      const { user } = await sessionPerson(ctx);
      refuseUserField(query(ctx), 'query');
      await db.ensureDefaults();
      await db.ensureDm(user.id);
      sendJson(ctx.res, 200, { user: { id: user.id, name: user.name }, statusRoomId, rooms: await db.listRooms(user) });
    }),

    route('GET', '/chat/api/messages', async (ctx) => {
      const { user } = await sessionPerson(ctx);
      const q = parse(messagesQuery, query(ctx), 'query');
      if (q.room === `dm-${user.id}`) await db.ensureDm(user.id);
      const room = await db.requireVisibleRoom(q.room, user);
      const [members, messages] = [await db.members(room.id), await db.listMessages(room.id, user, q.after === undefined ? undefined : Number(q.after))];
      const joined = room.kind !== 'incident' || members.some((m) => m.id === user.id);
      sendJson(ctx.res, 200, {
        room: { ...room, joined, members: members.map((m) => ({ id: m.id, name: m.name ?? m.id })) },
        messages,
      });
    }),

    route('GET', '/chat/api/stream', async (ctx) => {
      const { user, session } = await sessionPerson(ctx);
      refuseUserField(query(ctx), 'query');
      await openStream(ctx.req, ctx.res, user, session);
    }),

    route('POST', '/chat/api/send', async (ctx) => {
      const { user } = await sessionPerson(ctx);
      const body = parse(sendBody, await ctx.json(), 'body');
      if (body.room === `dm-${user.id}`) await db.ensureDm(user.id);
      const room = await db.requireVisibleRoom(body.room, user);
      await local.joinIfIncident(room, user);
      const text = body.text.replace(/\r\n?/g, '\n').trim();
      const msg = await local.store(room, user.id, { text });
      sendJson(ctx.res, 202, { accepted: true, room: room.id, id: msg.id });
      local.receiveMessage(room, user, text);
    }),

    route('POST', '/chat/api/action', async (ctx) => {
      const { user } = await sessionPerson(ctx);
      const body = parse(actionBody, await ctx.json(), 'body');
      const room = await db.requireVisibleRoom(body.room, user);
      const target = await db.findVisibleMessage(room.id, Number(body.messageId), user.id);
      if (!target) throw notFound(`No message ${body.messageId} in local chat room "${room.id}".`);
      const ref: MessageRef = { platform: 'local', roomId: room.id, id: String(target.id) };
      sendJson(ctx.res, 202, { accepted: true, room: room.id, messageId: target.id });
      local.receiveAction(room, user, {
        ref,
        actionId: body.actionId,
        value: body.value,
        onlyForUser: target.privateTo === user.id || room.dmOf === user.id,
      });
    }),
  ];

  return {
    routes,
    async endStreams() {
      const ending = [...streams].map(
        ([res, { stop }]) =>
          new Promise<void>((resolve) => {
            stop();
            if (res.writableFinished || res.destroyed) return resolve();
            res.once('finish', () => resolve());
            res.once('close', () => resolve());
            res.end();
          }),
      );
      streams.clear();
      await Promise.all(ending);
    },
  };
}
