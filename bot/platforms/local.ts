import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { errorMessage, isWarroomError, WarroomError } from '../../core/errors.js';
import { formatShort, formatZoned } from '../../core/time.js';
import type { Db, Queryable } from '../../db/db.js';
import { sendJson, type Route, type RouteContext } from '../../server/http.js';
import type { Bot } from '../bot.js';
import { detectLang, t, type OutgoingMessage } from '../messages.js';
import { chatPageCss, chatPageHtml, chatPageJs } from './local-page.js';
import type { BotReply, ChatEvent, ChatPlatform, CreateRoomSpec, MessageRef, PlatformAdapter, RoomRef } from './platform.js';

/**
 * The local web chat: a small chat front end at /chat behind the same ChatPlatform interface as Slack
 * and WeCom, so the whole incident flow can be tried in a browser on one machine.
 *
 * There is NO LOGIN. Whoever can reach the page picks any person from `people` and acts as them
 * ("You are: …"). It is meant for trying Warroom on one machine (the server listens on 127.0.0.1 by
 * default); do not expose it to a network where people should not impersonate each other.
 *
 * Platform user ids are Warroom person ids. Rooms and messages live in the database (migration
 * 005_local_chat.sql), so conversations survive a restart. Changes reach open pages through one
 * Server-Sent Events stream per page (`GET /chat/api/stream`); events only say what changed, and the
 * page fetches the rest over the JSON API.
 */

export type LocalRoomKind = 'dm' | 'channel' | 'incident';

export interface LocalRoom {
  id: string;
  name: string;
  kind: LocalRoomKind;
  topic: string;
  /** For a DM room: the person talking to the bot in it. */
  dmOf: string | null;
  createdAt: string;
}

export interface LocalMessage {
  id: number;
  roomId: string;
  /** A person id, or 'warroom' for the bot. */
  author: string;
  authorName: string;
  message: OutgoingMessage;
  /** Set when only this person sees the message. */
  privateTo: string | null;
  pinned: boolean;
  createdAt: string;
  updatedAt: string;
}

/** What the event stream says: only what changed; the page fetches the details. */
export type LocalChatStreamEvent =
  | { type: 'room'; room: string }
  | { type: 'message'; op: 'created' | 'updated'; room: string; id: number }
  | { type: 'typing'; room: string; on: boolean }
  | { type: 'action'; op: 'done'; room: string; messageId: number };

export interface LocalChatOptions {
  /** The status channel's room id (created as a public channel); default 'status'. */
  statusRoomId?: string;
  /** Interval of the event stream's heartbeat comments; default 15 s. */
  heartbeatMs?: number;
}

/**
 * The local web chat adapter. `start()` has nothing to open; `stop()` ends the open event streams and
 * waits for replies still being delivered: await it before closing the HTTP server (which would
 * otherwise wait for the streams) and the database. `settled()` resolves once every message and
 * action handed to the bot so far has had its replies delivered.
 */
export type LocalChat = PlatformAdapter;

/** The bot's author id on stored messages. */
export const LOCAL_BOT_AUTHOR = 'warroom';
export const GENERAL_ROOM_ID = 'general';
const MAX_TEXT = 4000;

type Person = {
  id: string;
  name: string;
  roles: string[];
};

type RoomRow = { id: string; name: string; kind: LocalRoomKind; topic: string; dm_of: string | null; created_at: Date | string };
type MessageRow = {
  id: number | string;
  room_id: string;
  author: string;
  author_name: string | null;
  message: OutgoingMessage | string;
  private_to: string | null;
  pinned: boolean;
  created_at: Date | string;
  updated_at: Date | string;
};

const iso = (v: Date | string): string => new Date(v).toISOString();

const toRoom = (r: RoomRow): LocalRoom => ({ id: r.id, name: r.name, kind: r.kind, topic: r.topic, dmOf: r.dm_of, createdAt: iso(r.created_at) });

const toMessage = (r: MessageRow): LocalMessage => ({
  id: Number(r.id),
  roomId: r.room_id,
  author: r.author,
  authorName: r.author === LOCAL_BOT_AUTHOR ? 'Warroom' : (r.author_name ?? r.author),
  message: typeof r.message === 'string' ? (JSON.parse(r.message) as OutgoingMessage) : r.message,
  privateTo: r.private_to,
  pinned: r.pinned,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const MESSAGE_COLUMNS =
  'm.id, m.room_id, m.author, p.name AS author_name, m.message, m.private_to, m.pinned, m.created_at, m.updated_at';

/** A 400 that names the offending fields (`fields` in the JSON answer). */
class RequestError extends WarroomError {
  readonly fields: string[];
  constructor(message: string, fields: string[]) {
    super('invalid_request', message, { status: 400 });
    this.fields = fields;
  }
}

function notFound(message: string, hint?: string): WarroomError {
  return new WarroomError('not_found', message, { status: 404, ...(hint ? { hint } : {}) });
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

// ---------------------------------------------------------------------------------------------
// The platform
// ---------------------------------------------------------------------------------------------

/** Room ids for incident rooms: lower-case ASCII letters, digits and dashes, from the room name. */
function roomSlug(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60)
    .replace(/-$/, '');
  if (!slug) return 'incident';
  // 'dm-…' ids belong to DM rooms.
  return slug.startsWith('dm-') ? `room-${slug}` : slug;
}

export function createLocalChatPlatform(bot: Bot, options: LocalChatOptions = {}): LocalChat {
  const statusRoomId = options.statusRoomId ?? 'status';
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const db = (): Db => bot.app.db;
  const now = (): Date => bot.app.clock();
  const log = () => bot.app.logger;

  // --- change notifications for the event streams --------------------------------------------
  type Listener = (event: LocalChatStreamEvent, visibleTo: string | null) => void;
  const listeners = new Set<Listener>();
  const streams = new Set<ServerResponse>();
  /** `visibleTo`: only that person's streams hear it (private messages, DM rooms, their own action). */
  const emit = (event: LocalChatStreamEvent, visibleTo: string | null = null): void => {
    for (const l of listeners) {
      try {
        l(event, visibleTo);
      } catch (err) {
        log().warn({ err: errorMessage(err) }, 'local chat: event stream write failed');
      }
    }
  };

  // --- rooms -------------------------------------------------------------------------------
  let defaults: Promise<void> | undefined;
  const ensureDefaults = (): Promise<void> => {
    defaults ??= (async () => {
      const at = now();
      const rooms: Array<[string, string, string]> = [
        [GENERAL_ROOM_ID, 'general', 'Anyone can talk to Warroom here · 在这里可以直接问 Warroom'],
        [statusRoomId, statusRoomId, 'Incident declarations and status updates · 故障通告与进展'],
      ];
      for (const [roomId, name, topic] of rooms) {
        await db().query(
          `INSERT INTO local_rooms (id, name, kind, topic, created_at, updated_at) VALUES ($1, $2, 'channel', $3, $4, $4)
           ON CONFLICT DO NOTHING`,
          [roomId, name, topic, at],
        );
      }
    })().catch((err: unknown) => {
      defaults = undefined;
      throw err;
    });
    return defaults;
  };

  const dmRooms = new Map<string, string>();
  /** The DM room of a person with the bot, created on first use. */
  const ensureDm = async (personId: string): Promise<string> => {
    const known = dmRooms.get(personId);
    if (known) return known;
    const at = now();
    await db().query(
      `INSERT INTO local_rooms (id, name, kind, topic, dm_of, created_at, updated_at) VALUES ($1, 'Warroom', 'dm', $2, $3, $4, $4)
       ON CONFLICT DO NOTHING`,
      [`dm-${personId}`, 'Direct messages with Warroom · 与 Warroom 私聊', personId, at],
    );
    const [row] = await db().query<{ id: string }>('SELECT id FROM local_rooms WHERE dm_of = $1', [personId]);
    if (!row) throw new Error(`local chat: could not create the DM room of ${personId}`);
    await db().query('INSERT INTO local_room_members (room_id, person, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [row.id, personId, at]);
    dmRooms.set(personId, row.id);
    return row.id;
  };

  const getRoom = async (roomId: string): Promise<LocalRoom | undefined> => {
    await ensureDefaults();
    const [row] = await db().query<RoomRow>('SELECT id, name, kind, topic, dm_of, created_at FROM local_rooms WHERE id = $1', [roomId]);
    return row ? toRoom(row) : undefined;
  };

  const requireRoom = async (roomId: string): Promise<LocalRoom> => {
    const room = await getRoom(roomId);
    if (!room) throw notFound(`No local chat room "${roomId}".`);
    return room;
  };

  const getPerson = async (personId: string): Promise<Person | undefined> => {
    const [row] = await db().query<Person>('SELECT id, name, roles FROM people WHERE id = $1', [personId]);
    return row;
  };

  const requirePerson = async (personId: string): Promise<Person> => {
    const p = await getPerson(personId);
    if (!p) throw notFound(`No person "${personId}" in Warroom's people.`, 'GET /chat/api/people lists the people you can act as.');
    return p;
  };

  /** A room as `user` may see it: public channels, their own DM, every incident room. */
  const requireVisibleRoom = async (roomId: string, user: Person): Promise<LocalRoom> => {
    const room = await getRoom(roomId);
    if (!room || (room.kind === 'dm' && room.dmOf !== user.id)) {
      throw notFound(`No local chat room "${roomId}" visible to ${user.id}.`, 'GET /chat/api/rooms?user=… lists the rooms.');
    }
    return room;
  };

  const addMembers = async (tx: Queryable, roomId: string, memberIds: string[], at: Date): Promise<void> => {
    for (const m of new Set(memberIds.filter((x) => x.trim()))) {
      await tx.query('INSERT INTO local_room_members (room_id, person, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [roomId, m, at]);
    }
  };

  // --- messages ----------------------------------------------------------------------------
  const insertMessage = async (room: LocalRoom, author: string, message: OutgoingMessage, privateTo: string | null = null): Promise<LocalMessage> => {
    const at = now();
    const [row] = await db().query<MessageRow>(
      `WITH m AS (
         INSERT INTO local_messages (room_id, author, message, private_to, created_at, updated_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, $5) RETURNING *)
       SELECT ${MESSAGE_COLUMNS} FROM m LEFT JOIN people p ON p.id = m.author`,
      [room.id, author, JSON.stringify(message), privateTo, at],
    );
    const msg = toMessage(row!);
    emit({ type: 'message', op: 'created', room: room.id, id: msg.id }, privateTo ?? room.dmOf);
    return msg;
  };

  const parseRefId = (ref: MessageRef): number => {
    if (!/^\d{1,18}$/.test(ref.id)) throw notFound(`No local chat message "${ref.id}" in room "${ref.roomId}".`);
    return Number(ref.id);
  };

  /** Change a stored message and tell the streams; throws 404 when it is not in that room. */
  const changeMessage = async (ref: MessageRef, set: string, params: unknown[]): Promise<void> => {
    const msgId = parseRefId(ref);
    const rows = await db().query<{ room_id: string; private_to: string | null; dm_of: string | null }>(
      `UPDATE local_messages m SET ${set}, updated_at = $3 FROM local_rooms r
       WHERE m.id = $1 AND m.room_id = $2 AND r.id = m.room_id
       RETURNING m.room_id, m.private_to, r.dm_of`,
      [msgId, ref.roomId, now(), ...params],
    );
    const row = rows[0];
    if (!row) throw notFound(`No local chat message "${ref.id}" in room "${ref.roomId}".`);
    emit({ type: 'message', op: 'updated', room: row.room_id, id: msgId }, row.private_to ?? row.dm_of);
  };

  const platform: ChatPlatform = {
    name: 'local',

    userIdOf(person) {
      return person.id;
    },

    async createRoom(spec: CreateRoomSpec): Promise<RoomRef> {
      await ensureDefaults();
      const base = roomSlug(spec.name);
      const at = now();
      for (let n = 1; n <= 1000; n++) {
        const roomId = n === 1 ? base : `${base}-${n}`;
        const created = await db().transaction(async (tx) => {
          const rows = await tx.query<{ id: string }>(
            `INSERT INTO local_rooms (id, name, kind, topic, created_at, updated_at) VALUES ($1, $2, 'incident', $3, $4, $4)
             ON CONFLICT DO NOTHING RETURNING id`,
            [roomId, spec.name, spec.topic, at],
          );
          if (!rows[0]) return false;
          await addMembers(tx, roomId, spec.memberIds, at);
          return true;
        });
        if (created) {
          emit({ type: 'room', room: roomId });
          return { platform: 'local', id: roomId, name: spec.name };
        }
      }
      throw new Error(`local chat: no free room id for "${spec.name}"`);
    },

    async invite(room: RoomRef, memberIds: string[]): Promise<void> {
      const r = await requireRoom(room.id);
      await addMembers(db(), r.id, memberIds, now());
      emit({ type: 'room', room: r.id }, r.dmOf);
    },

    async post(room: RoomRef, message: OutgoingMessage): Promise<MessageRef> {
      const r = await requireRoom(room.id);
      const msg = await insertMessage(r, LOCAL_BOT_AUTHOR, message);
      return { platform: 'local', roomId: r.id, id: String(msg.id) };
    },

    async update(ref: MessageRef, message: OutgoingMessage): Promise<void> {
      await changeMessage(ref, 'message = $4::jsonb', [JSON.stringify(message)]);
    },

    async pin(ref: MessageRef): Promise<boolean> {
      await changeMessage(ref, 'pinned = true', []);
      return true;
    },

    async setTopic(room: RoomRef, topic: string): Promise<boolean> {
      const r = await requireRoom(room.id);
      await db().query('UPDATE local_rooms SET topic = $2, updated_at = $3 WHERE id = $1', [r.id, topic, now()]);
      emit({ type: 'room', room: r.id }, r.dmOf);
      return true;
    },

    async sendDirect(userId: string, message: OutgoingMessage): Promise<MessageRef> {
      await ensureDefaults();
      await requirePerson(userId);
      const room = await requireRoom(await ensureDm(userId));
      const msg = await insertMessage(room, LOCAL_BOT_AUTHOR, message);
      return { platform: 'local', roomId: room.id, id: String(msg.id) };
    },

    statusRoom(): RoomRef {
      return { platform: 'local', id: statusRoomId, name: statusRoomId };
    },
  };

  // --- handing events to the bot -----------------------------------------------------------
  // One queue per room, so replies come out in the order the messages went in.
  const queues = new Map<string, Promise<void>>();
  const pending = new Set<Promise<void>>();
  const enqueue = (roomId: string, job: () => Promise<void>): void => {
    const next = (queues.get(roomId) ?? Promise.resolve()).then(job).catch((err: unknown) => {
      log().error({ err: errorMessage(err), room: roomId }, 'local chat: delivering the bot replies failed');
    });
    queues.set(roomId, next);
    pending.add(next);
    void next.then(() => {
      pending.delete(next);
      if (queues.get(roomId) === next) queues.delete(roomId);
    });
  };

  /** What a person sees when the bot failed: the problem in words, never a stack trace. */
  const errorReply = (err: unknown, text: string): OutgoingMessage => {
    const lang = detectLang(text);
    if (isWarroomError(err)) return { lang, text: err.toUserText() };
    const first = (errorMessage(err).split('\n')[0] ?? '').slice(0, 300);
    return {
      lang,
      title: t(lang, '处理失败', 'Something went wrong'),
      text: t(lang, '处理这条消息时出错，已记录日志。', 'Warroom failed to handle that; the error has been logged.'),
      context: first ? [first] : [],
    };
  };

  /**
   * Run the bot on an event in the room's queue and deliver its replies. `origin` is the message a
   * button was pressed on; `onlyForUser` when that message is the asker's alone (a private message or
   * their DM), so a private reply may replace it without showing it to anyone else.
   */
  const handOff = (event: ChatEvent, room: LocalRoom, user: Person, text: string, origin?: { ref: MessageRef; onlyForUser: boolean }): void => {
    enqueue(room.id, async () => {
      emit({ type: 'typing', room: room.id, on: true }, room.dmOf);
      try {
        let replies: BotReply[];
        try {
          replies = await bot.handle(event);
        } catch (err) {
          log().error({ err: errorMessage(err), kind: event.kind, room: room.id }, 'local chat: the bot failed on an event');
          replies = [{ message: errorReply(err, text), private: true }];
        }
        for (const reply of replies) {
          try {
            if (reply.replaceOriginal && origin && (!reply.private || origin.onlyForUser)) await platform.update(origin.ref, reply.message);
            else if (reply.private) await insertMessage(room, LOCAL_BOT_AUTHOR, reply.message, user.id);
            else await insertMessage(room, LOCAL_BOT_AUTHOR, reply.message);
          } catch (err) {
            log().error({ err: errorMessage(err), room: room.id }, 'local chat: storing a bot reply failed');
            await insertMessage(room, LOCAL_BOT_AUTHOR, errorReply(err, text), user.id).catch(() => {});
          }
        }
      } finally {
        emit({ type: 'typing', room: room.id, on: false }, room.dmOf);
        if (origin) emit({ type: 'action', op: 'done', room: room.id, messageId: Number(origin.ref.id) }, user.id);
      }
    });
  };

  const eventRoom = (room: LocalRoom): ChatEvent['room'] => ({
    platform: 'local',
    id: room.id,
    name: room.name,
    kind: room.kind === 'dm' ? 'dm' : 'channel',
  });

  /** `/incident …` and `/warroom …` are slash commands, as on Slack; everything else is a message. */
  const toEvent = (text: string, room: LocalRoom, user: Person): ChatEvent => {
    const base = { platform: 'local' as const, userId: user.id, userName: user.name, room: eventRoom(room), at: now() };
    const m = /^\/(incident|warroom)(?:\s+([\s\S]*))?$/i.exec(text.trim());
    if (m) return { ...base, kind: 'command', command: m[1]!.toLowerCase() as 'incident' | 'warroom', text: (m[2] ?? '').trim() };
    return { ...base, kind: 'message', text };
  };

  /** Walking into an incident room by writing in it joins it, as a Slack channel does. */
  const joinIfIncident = async (room: LocalRoom, user: Person): Promise<void> => {
    if (room.kind !== 'incident') return;
    const rows = await db().query<{ room_id: string }>(
      'INSERT INTO local_room_members (room_id, person, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING room_id',
      [room.id, user.id, now()],
    );
    if (rows[0]) emit({ type: 'room', room: room.id });
  };

  // --- routes -------------------------------------------------------------------------------
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

  const listRooms = async (user: Person) => {
    const rows = await db().query<RoomRow & { joined: boolean; last_message_id: number | string | null; member_count: number | string }>(
      `SELECT r.id, r.name, r.kind, r.topic, r.dm_of, r.created_at,
              (r.kind <> 'incident' OR EXISTS (SELECT 1 FROM local_room_members x WHERE x.room_id = r.id AND x.person = $1)) AS joined,
              (SELECT max(m.id) FROM local_messages m WHERE m.room_id = r.id AND (m.private_to IS NULL OR m.private_to = $1)) AS last_message_id,
              (SELECT count(*) FROM local_room_members x WHERE x.room_id = r.id) AS member_count
       FROM local_rooms r
       WHERE r.kind <> 'dm' OR r.dm_of = $1
       ORDER BY CASE r.kind WHEN 'channel' THEN 0 WHEN 'dm' THEN 1 ELSE 2 END,
                CASE WHEN r.kind = 'incident' THEN r.created_at END DESC,
                CASE WHEN r.id = $2 THEN 0 WHEN r.id = $3 THEN 1 ELSE 2 END, r.name, r.id`,
      [user.id, GENERAL_ROOM_ID, statusRoomId],
    );
    return rows.map((r) => ({
      ...toRoom(r),
      joined: Boolean(r.joined),
      memberCount: Number(r.member_count),
      lastMessageId: r.last_message_id === null ? 0 : Number(r.last_message_id),
    }));
  };

  const listMessages = async (room: LocalRoom, user: Person, after: number | undefined): Promise<LocalMessage[]> => {
    const visible = '(m.private_to IS NULL OR m.private_to = $2)';
    if (after !== undefined) {
      const rows = await db().query<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM local_messages m LEFT JOIN people p ON p.id = m.author
         WHERE m.room_id = $1 AND ${visible} AND m.id > $3 ORDER BY m.id LIMIT 500`,
        [room.id, user.id, after],
      );
      return rows.map(toMessage);
    }
    // The latest 300, plus older pinned ones (pinned messages are always shown).
    const rows = await db().query<MessageRow>(
      `SELECT * FROM (
         SELECT ${MESSAGE_COLUMNS} FROM local_messages m LEFT JOIN people p ON p.id = m.author
         WHERE m.room_id = $1 AND ${visible} ORDER BY m.id DESC LIMIT 300) latest
       UNION
       SELECT ${MESSAGE_COLUMNS} FROM local_messages m LEFT JOIN people p ON p.id = m.author
         WHERE m.room_id = $1 AND ${visible} AND m.pinned
       ORDER BY id`,
      [room.id, user.id],
    );
    return rows.map(toMessage);
  };

  const openStream = async (req: IncomingMessage, res: ServerResponse, user: Person): Promise<void> => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n\nevent: hello\ndata: ${JSON.stringify({ user: user.id })}\n\n`);
    const listener: Listener = (event, visibleTo) => {
      if (visibleTo && visibleTo !== user.id) return;
      if (!res.writableEnded) res.write(`data: ${JSON.stringify(event)}\n\n`);
    };
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': heartbeat\n\n');
    }, heartbeatMs);
    heartbeat.unref();
    listeners.add(listener);
    streams.add(res);
    const stop = (): void => {
      clearInterval(heartbeat);
      listeners.delete(listener);
      streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  };

  const routes: Route[] = [
    route('GET', '/chat', async ({ res }) => sendStatic(res, 'text/html', chatPageHtml)),
    route('GET', '/chat/app.js', async ({ res }) => sendStatic(res, 'text/javascript', chatPageJs)),
    route('GET', '/chat/app.css', async ({ res }) => sendStatic(res, 'text/css', chatPageCss)),

    route('GET', '/chat/api/people', async ({ res }) => {
      const people = await db().query<Person>('SELECT id, name, roles FROM people ORDER BY id');
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
      const user = await requirePerson(q.user);
      await ensureDefaults();
      await ensureDm(user.id);
      sendJson(ctx.res, 200, { user: { id: user.id, name: user.name }, statusRoomId, rooms: await listRooms(user) });
    }),

    route('GET', '/chat/api/messages', async (ctx) => {
      const q = parse(messagesQuery, query(ctx), 'query');
      const user = await requirePerson(q.user);
      if (q.room === `dm-${user.id}`) await ensureDm(user.id);
      const room = await requireVisibleRoom(q.room, user);
      const [members, messages] = [
        await db().query<{ id: string; name: string | null }>(
          'SELECT x.person AS id, p.name FROM local_room_members x LEFT JOIN people p ON p.id = x.person WHERE x.room_id = $1 ORDER BY x.joined_at, x.person',
          [room.id],
        ),
        await listMessages(room, user, q.after === undefined ? undefined : Number(q.after)),
      ];
      const joined = room.kind !== 'incident' || members.some((m) => m.id === user.id);
      sendJson(ctx.res, 200, {
        room: { ...room, joined, members: members.map((m) => ({ id: m.id, name: m.name ?? m.id })) },
        messages,
      });
    }),

    route('GET', '/chat/api/stream', async (ctx) => {
      const q = parse(userQuery, query(ctx), 'query');
      const user = await requirePerson(q.user);
      await openStream(ctx.req, ctx.res, user);
    }),

    route('POST', '/chat/api/send', async (ctx) => {
      const body = parse(sendBody, await ctx.json(), 'body');
      const user = await requirePerson(body.user);
      if (body.room === `dm-${user.id}`) await ensureDm(user.id);
      const room = await requireVisibleRoom(body.room, user);
      await joinIfIncident(room, user);
      const text = body.text.replace(/\r\n?/g, '\n').trim();
      const msg = await insertMessage(room, user.id, { text });
      sendJson(ctx.res, 202, { accepted: true, room: room.id, id: msg.id });
      handOff(toEvent(text, room, user), room, user, text);
    }),

    route('POST', '/chat/api/action', async (ctx) => {
      const body = parse(actionBody, await ctx.json(), 'body');
      const user = await requirePerson(body.user);
      const room = await requireVisibleRoom(body.room, user);
      const [target] = await db().query<{ id: number | string; private_to: string | null }>(
        'SELECT id, private_to FROM local_messages WHERE id = $1 AND room_id = $2 AND (private_to IS NULL OR private_to = $3)',
        [Number(body.messageId), room.id, user.id],
      );
      if (!target) throw notFound(`No message ${body.messageId} in local chat room "${room.id}".`);
      const ref: MessageRef = { platform: 'local', roomId: room.id, id: String(Number(target.id)) };
      sendJson(ctx.res, 202, { accepted: true, room: room.id, messageId: Number(target.id) });
      const event: ChatEvent = {
        platform: 'local',
        userId: user.id,
        userName: user.name,
        room: eventRoom(room),
        at: now(),
        kind: 'action',
        actionId: body.actionId,
        value: body.value,
        message: ref,
      };
      handOff(event, room, user, body.value, { ref, onlyForUser: target.private_to === user.id || room.dmOf === user.id });
    }),
  ];

  return {
    platform,
    routes,
    async start() {},
    async settled() {
      while (pending.size) await Promise.all([...pending]);
    },
    async stop() {
      const ending = [...streams].map(
        (res) =>
          new Promise<void>((resolve) => {
            if (res.writableFinished || res.destroyed) return resolve();
            res.once('finish', () => resolve());
            res.once('close', () => resolve());
            res.end();
          }),
      );
      streams.clear();
      listeners.clear();
      await Promise.all(ending);
      // Replies still on their way are stored before the database closes.
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
