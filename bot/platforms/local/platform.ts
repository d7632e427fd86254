import { errorMessage, isWarroomError } from '../../../core/errors.js';
import type { Bot } from '../../bot.js';
import { detectLang, t, type OutgoingMessage } from '../../messages.js';
import type { BotReply, ChatEvent, ChatPlatform, CreateRoomSpec, MessageRef, RoomRef } from '../platform.js';
import type { LocalChatEvents } from './events.js';
import { LOCAL_BOT_AUTHOR, notFound, type LocalMessage, type LocalRoom, type LocalStore, type Person } from './store.js';

/**
 * The local web chat as a ChatPlatform (what the incident flows call), and the way in: messages and
 * button presses from the page handed to the bot, its replies stored in the room.
 */
export interface LocalPlatform {
  platform: ChatPlatform;
  /** Store a message in a room and tell the streams that may see it. */
  store(room: LocalRoom, author: string, message: OutgoingMessage, privateTo?: string | null): Promise<LocalMessage>;
  /** Walking into an incident room by writing in it joins it, as a Slack channel does. */
  joinIfIncident(room: LocalRoom, user: Person): Promise<void>;
  /** Hand a person's message to the bot; the replies follow in the room, in order. */
  receiveMessage(room: LocalRoom, user: Person, text: string): void;
  /**
   * Hand a button press to the bot. `onlyForUser` when the message is the presser's alone (a private
   * message or their DM), so a private reply may replace it without showing it to anyone else.
   */
  receiveAction(room: LocalRoom, user: Person, press: { ref: MessageRef; actionId: string; value: string; onlyForUser: boolean }): void;
  /** Resolves once every message and action handed to the bot so far has had its replies delivered. */
  settled(): Promise<void>;
}

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

export function createLocalPlatform(bot: Bot, db: LocalStore, events: LocalChatEvents, statusRoomId: string): LocalPlatform {
  const now = (): Date => bot.app.clock();
  const log = () => bot.app.logger;
  const { emit } = events;

  const store = async (room: LocalRoom, author: string, message: OutgoingMessage, privateTo: string | null = null): Promise<LocalMessage> => {
    const msg = await db.insertMessage(room.id, author, message, privateTo);
    emit({ type: 'message', op: 'created', room: room.id, id: msg.id }, privateTo ?? room.dmOf);
    return msg;
  };

  const parseRefId = (ref: MessageRef): number => {
    if (!/^\d{1,18}$/.test(ref.id)) throw notFound(`No local chat message "${ref.id}" in room "${ref.roomId}".`);
    return Number(ref.id);
  };

  /** Change a stored message and tell the streams; throws 404 when it is not in that room. */
  const changeMessage = async (ref: MessageRef, change: (roomId: string, id: number) => ReturnType<LocalStore['pinMessage']>): Promise<void> => {
    const msgId = parseRefId(ref);
    const changed = await change(ref.roomId, msgId);
    if (!changed) throw notFound(`No local chat message "${ref.id}" in room "${ref.roomId}".`);
    emit({ type: 'message', op: 'updated', room: changed.roomId, id: msgId }, changed.visibleTo);
  };

  const platform: ChatPlatform = {
    name: 'local',

    userIdOf(person) {
      return person.id;
    },

    async createRoom(spec: CreateRoomSpec): Promise<RoomRef> {
      await db.ensureDefaults();
      const base = roomSlug(spec.name);
      const at = now();
      for (let n = 1; n <= 1000; n++) {
        const roomId = n === 1 ? base : `${base}-${n}`;
        if (await db.createIncidentRoom(roomId, spec, at)) {
          emit({ type: 'room', room: roomId });
          return { platform: 'local', id: roomId, name: spec.name };
        }
      }
      throw new Error(`local chat: no free room id for "${spec.name}"`);
    },

    async findRoom(spec): Promise<RoomRef | undefined> {
      // Rooms live in the same database as the incidents: the first room made under this name.
      const base = roomSlug(spec.name);
      for (let n = 1; n <= 1000; n++) {
        const room = await db.getRoom(n === 1 ? base : `${base}-${n}`);
        if (!room) return undefined;
        if (room.kind === 'incident' && room.name === spec.name) return { platform: 'local', id: room.id, name: spec.name };
      }
      return undefined;
    },

    async invite(room: RoomRef, memberIds: string[]): Promise<void> {
      const r = await db.requireRoom(room.id);
      await db.addMembers(r.id, memberIds);
      emit({ type: 'room', room: r.id }, r.dmOf);
    },

    async post(room: RoomRef, message: OutgoingMessage): Promise<MessageRef> {
      const r = await db.requireRoom(room.id);
      const msg = await store(r, LOCAL_BOT_AUTHOR, message);
      return { platform: 'local', roomId: r.id, id: String(msg.id) };
    },

    async update(ref: MessageRef, message: OutgoingMessage): Promise<void> {
      await changeMessage(ref, (roomId, id) => db.updateMessage(roomId, id, message));
    },

    async pin(ref: MessageRef): Promise<boolean> {
      await changeMessage(ref, (roomId, id) => db.pinMessage(roomId, id));
      return true;
    },

    async setTopic(room: RoomRef, topic: string): Promise<boolean> {
      const r = await db.requireRoom(room.id);
      await db.setTopic(r.id, topic);
      emit({ type: 'room', room: r.id }, r.dmOf);
      return true;
    },

    async sendDirect(userId: string, message: OutgoingMessage): Promise<MessageRef> {
      await db.ensureDefaults();
      await db.requirePerson(userId);
      const room = await db.requireRoom(await db.ensureDm(userId));
      const msg = await store(room, LOCAL_BOT_AUTHOR, message);
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
            else if (reply.private) await store(room, LOCAL_BOT_AUTHOR, reply.message, user.id);
            else await store(room, LOCAL_BOT_AUTHOR, reply.message);
          } catch (err) {
            log().error({ err: errorMessage(err), room: room.id }, 'local chat: storing a bot reply failed');
            await store(room, LOCAL_BOT_AUTHOR, errorReply(err, text), user.id).catch(() => {});
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

  return {
    platform,
    store,

    async joinIfIncident(room, user) {
      if (room.kind !== 'incident') return;
      if (await db.join(room.id, user.id)) emit({ type: 'room', room: room.id });
    },

    receiveMessage(room, user, text) {
      handOff(toEvent(text, room, user), room, user, text);
    },

    receiveAction(room, user, { ref, actionId, value, onlyForUser }) {
      const event: ChatEvent = {
        platform: 'local',
        userId: user.id,
        userName: user.name,
        room: eventRoom(room),
        at: now(),
        kind: 'action',
        actionId,
        value,
        message: ref,
      };
      handOff(event, room, user, value, { ref, onlyForUser });
    },

    async settled() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
