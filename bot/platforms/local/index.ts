import type { Bot } from '../../bot.js';
import type { PlatformAdapter } from '../platform.js';
import { createLocalChatEvents } from './events.js';
import { createLocalPlatform } from './platform.js';
import { localChatRoutes, signInPath } from './routes.js';
import { createWebSessions } from './sessions.js';
import { createLocalStore } from './store.js';

/**
 * The local web chat: a small chat front end at /chat behind the same ChatPlatform interface as Slack
 * and WeCom, so the whole incident flow can be tried in a browser on one machine.
 *
 * Signing in: `warroom start` and `warroom demo` print a one-time link (`signInLink`, sessions.ts);
 * opening it gives the browser a session cookie. The signed-in operator chooses which person of
 * `people` the session acts as ("You are: …"; the demo plays several), and every API call acts as
 * exactly that person: it sees their DMs and private messages and nobody else's. It is meant for
 * operators on one machine or behind a proxy they control, not as a directory of user accounts.
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
export interface LocalChat extends PlatformAdapter {
  /**
   * A new one-time sign-in link's path and query (`/chat/login?token=…`), valid for 24 hours; with
   * `as`, the session starts as that person. Prefix it with the server's base URL.
   */
  signInLink(as?: string): Promise<{ path: string; expiresAt: Date }>;
}

export { signInPath, SESSION_COOKIE } from './routes.js';

export function createLocalChatPlatform(bot: Bot, options: LocalChatOptions = {}): LocalChat {
  const statusRoomId = options.statusRoomId ?? 'status';
  const db = createLocalStore({ db: () => bot.app.db, now: () => bot.app.clock(), statusRoomId });
  const events = createLocalChatEvents(() => bot.app.logger);
  const local = createLocalPlatform(bot, db, events, statusRoomId);
  const sessions = createWebSessions({ db: () => bot.app.db, now: () => bot.app.clock() });
  const web = localChatRoutes(bot, { db, sessions, events, local, statusRoomId, heartbeatMs: options.heartbeatMs ?? 15_000 });
  return {
    platform: local.platform,
    async signInLink(as) {
      const { token, expiresAt } = await sessions.mintSignInToken();
      return { path: signInPath(token, as), expiresAt };
    },
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
