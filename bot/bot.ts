import type { App } from '../core/app.js';
import { handleMessage } from './conversation.js';
import type { Platform } from './messages.js';
import type { BotReply, ChatEvent, ChatPlatform } from './platforms/platform.js';

/**
 * The bot: the platforms it is connected to and one entry point for every event they deliver.
 * Platform adapters verify and normalise, call `handle`, and deliver the replies.
 */
export interface Bot {
  app: App;
  platforms: Map<Platform, ChatPlatform>;
  handle(event: ChatEvent): Promise<BotReply[]>;
}

export function createBot(app: App, platforms: ChatPlatform[] = []): Bot {
  const bot: Bot = {
    app,
    platforms: new Map(platforms.map((p) => [p.name, p])),
    async handle(event) {
      return handleChatEvent(bot, event);
    },
  };
  return bot;
}

/** Add a platform after the bot exists (adapters need the bot to deliver events to). */
export function attachPlatform(bot: Bot, platform: ChatPlatform): void {
  bot.platforms.set(platform.name, platform);
}

async function handleChatEvent(bot: Bot, event: ChatEvent): Promise<BotReply[]> {
  switch (event.kind) {
    case 'message':
    case 'command': {
      const replies = await handleMessage(bot.app, {
        user: { platform: event.platform, id: event.userId, ...(event.userName ? { name: event.userName } : {}) },
        room: { platform: event.platform, id: event.room.id, kind: event.room.kind },
        text: event.text,
        at: event.at,
      });
      return replies.map((message) => ({ message }));
    }
    case 'action':
    case 'flag':
      return [];
  }
}
