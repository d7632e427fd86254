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
import { notFound, type LocalStore, type Person } from './store.js';

/**
 * The web chat's HTTP side: the page and its script and style, the JSON API under /chat/api, and
 * one Server-Sent Events stream per open page (`GET /chat/api/stream`); events only say what changed,
 * and the page fetches the rest over the JSON API.
 */

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

const userQuery = z.object({ user: id() });
const messagesQuery = z.object({
  user: id(),
  room: id(),
  after: z.string().regex(/^\d{1,18}$/, 'must be a message id (digits)').optional(),
});
const bodyObject = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { invalid_type_error: 'must be a JSON object', required_error: 'is required' });
const sendBody = bodyObject({
  user: id(),
  room: id(),
  text: z
    .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
    .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
    .refine((s) => s.trim().length > 0, 'must not be empty'),
});
const actionBody = bodyObject({
  user: id(),
  room: id(),
  messageId,
  actionId: id(),
  value: z.string({ required_error: 'is required', invalid_type_error: 'must be a string' }).max(2000, 'must be at most 2000 characters'),
});

function parse<T extends z.ZodTypeAny>(schema: T, value: unknown, where: 'body' | 'query'): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data as z.output<T>;
  const fields = [...new Set(r.error.issues.map((i) => (i.path.length ? i.path.join('.') : where)))];
  const what = r.error.issues.map((i) => `${i.path.length ? `"${i.path.join('.')}"` : `the ${where}`} ${i.message}`).join('; ');
  throw new RequestError(where === 'query' ? `Invalid query parameters: ${what}.` : `Invalid request body: ${what}.`, fields);
}

const query = (ctx: RouteContext): Record<string, string> => Object.fromEntries(ctx.url.searchParams);

/** Route errors as JSON with the field names for a bad request. */
const route = (method: Route['method'], path: string, handler: (ctx: RouteContext) => Promise<void>): Route => ({
  method,
  path,
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

export interface LocalChatRoutes {
  routes: Route[];
  /** End the open event streams; resolves when they have ended. */
  endStreams(): Promise<void>;
}

export function localChatRoutes(
  bot: Bot,
  parts: { db: LocalStore; events: LocalChatEvents; local: LocalPlatform; statusRoomId: string; heartbeatMs: number },
): LocalChatRoutes {
  const { db, events, local, statusRoomId, heartbeatMs } = parts;
  const now = (): Date => bot.app.clock();
  /** The open streams, each with what stops it (heartbeat, listener). */
  const streams = new Map<ServerResponse, () => void>();

  const openStream = async (req: IncomingMessage, res: ServerResponse, user: Person): Promise<void> => {
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
    streams.set(res, stop);
    req.on('close', stop);
    res.on('close', stop);
  };

  const routes: Route[] = [
    route('GET', '/chat', async ({ res }) => sendStatic(res, 'text/html', await readChatPageFile('index.html'))),
    route('GET', '/chat/app.js', async ({ res }) => sendStatic(res, 'text/javascript', await readChatPageFile('app.js'))),
    route('GET', '/chat/app.css', async ({ res }) => sendStatic(res, 'text/css', await readChatPageFile('app.css'))),

    route('GET', '/chat/api/people', async ({ res }) => {
      const people = await db.people();
      sendJson(res, 200, { people: people.map((p) => ({ id: p.id, name: p.name, roles: p.roles })) });
    }),

    // The app's clock as the page should show it: exchange time, and whether it is the demo's story clock.
    route('GET', '/chat/api/clock', async ({ res }) => {
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
      const q = parse(userQuery, query(ctx), 'query');
      const user = await db.requirePerson(q.user);
      await db.ensureDefaults();
      await db.ensureDm(user.id);
      sendJson(ctx.res, 200, { user: { id: user.id, name: user.name }, statusRoomId, rooms: await db.listRooms(user) });
    }),

    route('GET', '/chat/api/messages', async (ctx) => {
      const q = parse(messagesQuery, query(ctx), 'query');
      const user = await db.requirePerson(q.user);
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
      const q = parse(userQuery, query(ctx), 'query');
      const user = await db.requirePerson(q.user);
      await openStream(ctx.req, ctx.res, user);
    }),

    route('POST', '/chat/api/send', async (ctx) => {
      const body = parse(sendBody, await ctx.json(), 'body');
      const user = await db.requirePerson(body.user);
      if (body.room === `dm-${user.id}`) await db.ensureDm(user.id);
      const room = await db.requireVisibleRoom(body.room, user);
      await local.joinIfIncident(room, user);
      const text = body.text.replace(/\r\n?/g, '\n').trim();
      const msg = await local.store(room, user.id, { text });
      sendJson(ctx.res, 202, { accepted: true, room: room.id, id: msg.id });
      local.receiveMessage(room, user, text);
    }),

    route('POST', '/chat/api/action', async (ctx) => {
      const body = parse(actionBody, await ctx.json(), 'body');
      const user = await db.requirePerson(body.user);
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
        ([res, stop]) =>
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
