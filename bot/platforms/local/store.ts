import { WarroomError } from '../../../core/errors.js';
import type { Db, Queryable } from '../../../db/db.js';
import type { OutgoingMessage } from '../../messages.js';

/**
 * Every SQL statement of the local web chat: rooms, their members and messages (tables from
 * migration 005_local_chat.sql), and the people one can act as. Nothing here talks to streams or the bot.
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

/** A room in a person's room list. */
export interface LocalRoomListing extends LocalRoom {
  joined: boolean;
  memberCount: number;
  lastMessageId: number;
}

export type Person = {
  id: string;
  name: string;
  roles: string[];
};

/** The bot's author id on stored messages. */
export const LOCAL_BOT_AUTHOR = 'warroom';
export const GENERAL_ROOM_ID = 'general';

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

export function notFound(message: string, hint?: string): WarroomError {
  return new WarroomError('not_found', message, { status: 404, ...(hint ? { hint } : {}) });
}

/** Who sees a change to a message: its private reader, or the person of a DM room; null for everyone. */
export interface MessageAudience {
  roomId: string;
  visibleTo: string | null;
}

export interface LocalStore {
  /** The general and status channels, created on first use. */
  ensureDefaults(): Promise<void>;
  /** The DM room of a person with the bot, created on first use; its id. */
  ensureDm(personId: string): Promise<string>;
  getRoom(roomId: string): Promise<LocalRoom | undefined>;
  /** 404 when there is no such room. */
  requireRoom(roomId: string): Promise<LocalRoom>;
  /** A room as `user` may see it: public channels, their own DM, every incident room; 404 otherwise. */
  requireVisibleRoom(roomId: string, user: Person): Promise<LocalRoom>;
  listRooms(user: Person): Promise<LocalRoomListing[]>;
  /** A new incident room with its first members; false when the id is taken. */
  createIncidentRoom(roomId: string, spec: { name: string; topic: string; memberIds: string[] }, at: Date): Promise<boolean>;
  addMembers(roomId: string, memberIds: string[]): Promise<void>;
  /** Adds one member; false when they were one already. */
  join(roomId: string, personId: string): Promise<boolean>;
  members(roomId: string): Promise<Array<{ id: string; name: string | null }>>;
  setTopic(roomId: string, topic: string): Promise<void>;

  getPerson(personId: string): Promise<Person | undefined>;
  /** 404 with a hint when there is no such person. */
  requirePerson(personId: string): Promise<Person>;
  people(): Promise<Person[]>;

  insertMessage(roomId: string, author: string, message: OutgoingMessage, privateTo: string | null): Promise<LocalMessage>;
  /** Replace a message's content; undefined when it is not in that room. */
  updateMessage(roomId: string, messageId: number, message: OutgoingMessage): Promise<MessageAudience | undefined>;
  /** Pin a message; undefined when it is not in that room. */
  pinMessage(roomId: string, messageId: number): Promise<MessageAudience | undefined>;
  /** The messages of a room `user` may see: those after `after`, or the latest 300 and every pinned one. */
  listMessages(roomId: string, user: Person, after: number | undefined): Promise<LocalMessage[]>;
  /** A message in the room that `userId` may see (for a button press on it). */
  findVisibleMessage(roomId: string, messageId: number, userId: string): Promise<{ id: number; privateTo: string | null } | undefined>;
}

export function createLocalStore(options: { db: () => Db; now: () => Date; statusRoomId: string }): LocalStore {
  const { db, now, statusRoomId } = options;

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

  const getPerson = async (personId: string): Promise<Person | undefined> => {
    const [row] = await db().query<Person>('SELECT id, name, roles FROM people WHERE id = $1', [personId]);
    return row;
  };

  const addMembers = async (tx: Queryable, roomId: string, memberIds: string[], at: Date): Promise<void> => {
    for (const m of new Set(memberIds.filter((x) => x.trim()))) {
      await tx.query('INSERT INTO local_room_members (room_id, person, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [roomId, m, at]);
    }
  };

  /** Change a stored message; undefined when it is not in that room. */
  const changeMessage = async (roomId: string, messageId: number, set: string, params: unknown[]): Promise<MessageAudience | undefined> => {
    const rows = await db().query<{ room_id: string; private_to: string | null; dm_of: string | null }>(
      `UPDATE local_messages m SET ${set}, updated_at = $3 FROM local_rooms r
       WHERE m.id = $1 AND m.room_id = $2 AND r.id = m.room_id
       RETURNING m.room_id, m.private_to, r.dm_of`,
      [messageId, roomId, now(), ...params],
    );
    const row = rows[0];
    return row ? { roomId: row.room_id, visibleTo: row.private_to ?? row.dm_of } : undefined;
  };

  return {
    ensureDefaults,
    ensureDm,
    getRoom,

    async requireRoom(roomId) {
      const room = await getRoom(roomId);
      if (!room) throw notFound(`No local chat room "${roomId}".`);
      return room;
    },

    async requireVisibleRoom(roomId, user) {
      const room = await getRoom(roomId);
      if (!room || (room.kind === 'dm' && room.dmOf !== user.id)) {
        throw notFound(`No local chat room "${roomId}" visible to ${user.id}.`, 'GET /chat/api/rooms lists the rooms you can see.');
      }
      return room;
    },

    async listRooms(user) {
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
    },

    async createIncidentRoom(roomId, { name, topic, memberIds }, at) {
      return db().transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(
          `INSERT INTO local_rooms (id, name, kind, topic, created_at, updated_at) VALUES ($1, $2, 'incident', $3, $4, $4)
           ON CONFLICT DO NOTHING RETURNING id`,
          [roomId, name, topic, at],
        );
        if (!rows[0]) return false;
        await addMembers(tx, roomId, memberIds, at);
        return true;
      });
    },

    async addMembers(roomId, memberIds) {
      await addMembers(db(), roomId, memberIds, now());
    },

    async join(roomId, personId) {
      const rows = await db().query<{ room_id: string }>(
        'INSERT INTO local_room_members (room_id, person, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING room_id',
        [roomId, personId, now()],
      );
      return rows[0] !== undefined;
    },

    members(roomId) {
      return db().query<{ id: string; name: string | null }>(
        'SELECT x.person AS id, p.name FROM local_room_members x LEFT JOIN people p ON p.id = x.person WHERE x.room_id = $1 ORDER BY x.joined_at, x.person',
        [roomId],
      );
    },

    async setTopic(roomId, topic) {
      await db().query('UPDATE local_rooms SET topic = $2, updated_at = $3 WHERE id = $1', [roomId, topic, now()]);
    },

    getPerson,

    async requirePerson(personId) {
      const p = await getPerson(personId);
      if (!p) throw notFound(`No person "${personId}" in Warroom's people.`, 'GET /chat/api/people lists the people you can act as.');
      return p;
    },

    people() {
      return db().query<Person>('SELECT id, name, roles FROM people ORDER BY id');
    },

    async insertMessage(roomId, author, message, privateTo) {
      const at = now();
      const [row] = await db().query<MessageRow>(
        `WITH m AS (
           INSERT INTO local_messages (room_id, author, message, private_to, created_at, updated_at)
           VALUES ($1, $2, $3::jsonb, $4, $5, $5) RETURNING *)
         SELECT ${MESSAGE_COLUMNS} FROM m LEFT JOIN people p ON p.id = m.author`,
        [roomId, author, JSON.stringify(message), privateTo, at],
      );
      return toMessage(row!);
    },

    updateMessage(roomId, messageId, message) {
      return changeMessage(roomId, messageId, 'message = $4::jsonb', [JSON.stringify(message)]);
    },

    pinMessage(roomId, messageId) {
      return changeMessage(roomId, messageId, 'pinned = true', []);
    },

    async listMessages(roomId, user, after) {
      const visible = '(m.private_to IS NULL OR m.private_to = $2)';
      if (after !== undefined) {
        const rows = await db().query<MessageRow>(
          `SELECT ${MESSAGE_COLUMNS} FROM local_messages m LEFT JOIN people p ON p.id = m.author
           WHERE m.room_id = $1 AND ${visible} AND m.id > $3 ORDER BY m.id LIMIT 500`,
          [roomId, user.id, after],
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
        [roomId, user.id],
      );
      return rows.map(toMessage);
    },

    async findVisibleMessage(roomId, messageId, userId) {
      const [row] = await db().query<{ id: number | string; private_to: string | null }>(
        'SELECT id, private_to FROM local_messages WHERE id = $1 AND room_id = $2 AND (private_to IS NULL OR private_to = $3)',
        [messageId, roomId, userId],
      );
      return row ? { id: Number(row.id), privateTo: row.private_to } : undefined;
    },
  };
}
