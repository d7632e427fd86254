import type { Bot } from '../../bot.js';
import type { PlatformAdapter } from '../platform.js';
import { createLocalChatEvents } from './events.js';
import { createLocalPlatform } from './platform.js';
import { localChatRoutes } from './routes.js';
import { createLocalStore } from './store.js';

/**
 * The local web chat: a small chat front end at /chat behind the same ChatPlatform interface as Slack
 * and WeCom, so the whole incident flow can be tried in a browser on one machine.
 *
 * There is NO LOGIN. Whoever can reach the page picks any person from `people` and acts as them
 * ("You are: …"). It is meant for trying Warroom on one machine (the server listens on 127.0.0.1 by
 * default); do not expose it to a network where people should not impersonate each other.
 *
 * Platform user ids are Warroom person ids. Rooms and messages live in the database (migration
 * 005_local_chat.sql, all SQL in store.ts), so conversations survive a restart. Changes reach open
 * pages through one Server-Sent Events stream per page (routes.ts); events only say what changed, and
 * the page (page/app.js) fetches the rest over the JSON API. platform.ts is the ChatPlatform and hands
 * what people write and press to the bot.
 */

export type { LocalChatStreamEvent } from './events.js';
export { GENERAL_ROOM_ID, LOCAL_BOT_AUTHOR, type LocalMessage, type LocalRoom, type LocalRoomKind } from './store.js';

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

export function createLocalChatPlatform(bot: Bot, options: LocalChatOptions = {}): LocalChat {
  const statusRoomId = options.statusRoomId ?? 'status';
  const db = createLocalStore({ db: () => bot.app.db, now: () => bot.app.clock(), statusRoomId });
  const events = createLocalChatEvents(() => bot.app.logger);
  const local = createLocalPlatform(bot, db, events, statusRoomId);
  const web = localChatRoutes(bot, { db, events, local, statusRoomId, heartbeatMs: options.heartbeatMs ?? 15_000 });
  return {
    platform: local.platform,
    routes: web.routes,
    async start() {},
    settled: () => local.settled(),
    async stop() {
      await web.endStreams();
      // Replies still on their way are stored before the database closes.
      await local.settled();
    },
  };
}
