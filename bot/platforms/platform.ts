import type { AgentAnswer } from '../../agents/types.js';
import type { Route } from '../http.js';
import type { Lang, OutgoingMessage, Platform } from '../messages.js';

/**
 * The one interface every chat platform implements (Slack, WeCom, the local web chat).
 * Incident flows talk only to this; each platform file turns it into its own API calls.
 * Platform ids are the platform's own (Slack U…/C…, WeCom userid/chatid, local person ids/room ids).
 */
export interface RoomRef {
  platform: Platform;
  id: string;
  name?: string;
}

/** A message the bot posted, so it can be updated or pinned later. */
export interface MessageRef {
  platform: Platform;
  roomId: string;
  /** Slack `ts`, WeCom card `response_code`/msgid, local message id. */
  id: string;
}

export interface CreateRoomSpec {
  /** A platform-safe name is derived by the platform (Slack: lower-case, ≤ 80 chars). */
  name: string;
  topic: string;
  /** Platform user ids to invite at creation. */
  memberIds: string[];
  /**
   * A random key (26 lower-case hex characters) fixed before the first attempt and kept across
   * retries. Where the caller may choose the room's id (WeCom chat ids) it is derived from the key,
   * so creating again after a crash finds the room made the first time instead of a second one.
   */
  key?: string;
}

/** What identifies a room a declaration may already have made (see `ChatPlatform.findRoom`). */
export interface FindRoomSpec {
  /** The name given to `createRoom` (the platform derives its own form of it the same way). */
  name: string;
  key?: string;
  /** Rooms created before this moment (the platform's clock) belong to someone else. */
  notBefore?: Date;
}

/** Options of `post`. */
export interface PostOptions {
  /** A key `findPosted` can find the message by later, where the platform can search (Slack). */
  key?: string;
  /** The thread to post in (Slack `thread_ts`), where the platform has threads; ignored elsewhere. */
  thread?: string;
}

export interface ChatPlatform {
  readonly name: Platform;
  /**
   * False where room messages cannot carry buttons (WeCom group chats): the incident card with its
   * buttons then also goes to the commander directly.
   */
  readonly roomButtons?: boolean;
  /**
   * False where `update` cannot change a message in place but posts it again (WeCom markdown):
   * a "working on it…" line is then followed by the answer instead of replaced by it.
   */
  readonly editsMessages?: boolean;
  /** The platform user id of a Warroom person, if the person has one on this platform. */
  userIdOf(person: { id: string; slack: string | null; wecom: string | null }): string | undefined;
  createRoom(spec: CreateRoomSpec): Promise<RoomRef>;
  /**
   * The room an earlier `createRoom` with this name (and key) made, if the bot is in one: how a
   * resumed declaration avoids making a second room. Absent where `createRoom` itself is idempotent
   * by the key (WeCom).
   */
  findRoom?(spec: FindRoomSpec): Promise<RoomRef | undefined>;
  /** Bring people into a room; people already in it are left alone (never an error). */
  invite(room: RoomRef, memberIds: string[]): Promise<void>;
  post(room: RoomRef, message: OutgoingMessage, options?: PostOptions): Promise<MessageRef>;
  /**
   * A message the bot posted in `room` with this key, among the room's recent messages, where the
   * platform lets the bot read them back (Slack); absent elsewhere.
   */
  findPosted?(room: RoomRef, key: string): Promise<MessageRef | undefined>;
  update(ref: MessageRef, message: OutgoingMessage): Promise<void>;
  /** Pin a message; false where the platform has no pins (WeCom). */
  pin(ref: MessageRef): Promise<boolean>;
  /** Set the room's topic; false where the platform has none. */
  setTopic(room: RoomRef, topic: string): Promise<boolean>;
  /** A direct message to one user (nudges to the commander, drafts for the communications lead). */
  sendDirect(userId: string, message: OutgoingMessage): Promise<MessageRef>;
  /** The configured status channel, where declarations and status updates are announced. */
  statusRoom(): RoomRef | undefined;
}

/**
 * What every platform adapter (Slack, WeCom, the local web chat) hands back: the ChatPlatform the
 * bot talks to, the HTTP routes to mount, and its lifecycle. bot/platforms/connect.ts treats them alike.
 */
export interface PlatformAdapter {
  readonly platform: ChatPlatform;
  /** Mounted on the Warroom HTTP server (Slack events, WeCom callbacks, the web chat); may be empty. */
  readonly routes: Route[];
  /** Called once the HTTP server listens: checks credentials, opens sockets. */
  start(): Promise<void>;
  /**
   * Stops taking events and waits for replies still being delivered. Await it before closing the
   * HTTP server and the database.
   */
  stop(): Promise<void>;
  /** Resolves once every event handed to the bot so far has had its replies delivered (tests, shutdown). */
  settled(): Promise<void>;
}

interface EventBase {
  platform: Platform;
  /** The platform user id of who did it. */
  userId: string;
  userName?: string;
  /** Where it happened. `dm` for a one-to-one chat with the bot. */
  room: RoomRef & { kind: 'dm' | 'channel' };
  /** The thread it was said in (Slack `thread_ts`), so a later post about it lands there too. */
  thread?: string;
  at: Date;
}

/** Everything a platform can hand to the bot, in one neutral shape. */
export type ChatEvent =
  | (EventBase & { kind: 'message'; text: string })
  /** A slash command: `/incident declare …` is command 'incident' with text 'declare …'. */
  | (EventBase & { kind: 'command'; command: 'incident' | 'warroom' | 'action' | 'failover'; text: string })
  /** A button press on a message the bot posted. */
  | (EventBase & { kind: 'action'; actionId: string; value: string; message?: MessageRef })
  /** A reaction that flags a message for the timeline (Slack `:pushpin:` and the like). */
  | (EventBase & { kind: 'flag'; text: string; message?: MessageRef });

/** What the bot answers to an event: messages for the room, or only for the person who asked. */
export interface BotReply {
  message: OutgoingMessage;
  /** Only the asker sees it (Slack ephemeral, WeCom direct message). */
  private?: boolean;
  /** Replace the message the action came from instead of posting a new one. */
  replaceOriginal?: boolean;
  /** The agent's answer this message shows (tool calls, citations), for `warroom ask --json`; adapters ignore it. */
  answer?: AgentAnswer;
}

export function langOf(message: OutgoingMessage): Lang {
  return message.lang ?? 'zh';
}
