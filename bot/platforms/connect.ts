import type { Config } from '../../core/config.js';
import { WarroomError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Route } from '../http.js';
import { attachPlatform, type Bot } from '../bot.js';
import type { Platform } from '../messages.js';
import { createLocalChatPlatform, type LocalChat } from './local/index.js';
import type { PlatformAdapter } from './platform.js';
import { createSlackPlatform } from './slack.js';
import { createWeComPlatform } from './wecom.js';

export interface ConnectedPlatforms {
  /** The connected adapters, in the order they start and stop. */
  adapters: PlatformAdapter[];
  names: Platform[];
  routes: Route[];
  /** The local web chat, when it is on (it mints the sign-in links). */
  webChat: LocalChat | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once every event handed to the bot so far has had its replies delivered (tests, shutdown). */
  settled(): Promise<void>;
}

/** A platform is on when all of its variables are set; some but not all is a mistake worth stopping for. */
function configured(config: Config, names: Array<keyof Config>, platform: string): boolean {
  const set = names.filter((n) => config[n] !== undefined);
  if (set.length === 0) return false;
  if (set.length < names.length) {
    const missing = names.filter((n) => config[n] === undefined);
    throw new WarroomError('config_invalid', `${platform} is half configured: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set.`, {
      hint: `Set ${missing.join(' and ')} too, or unset ${set.join(', ')} to run without ${platform} (see "Configuration" in README.md).`,
    });
  }
  return true;
}

/** The adapters the configuration names, not yet attached to the bot. */
function configuredAdapters(bot: Bot, config: Config, logger: Logger): { adapters: PlatformAdapter[]; webChat: LocalChat | undefined } {
  const adapters: PlatformAdapter[] = [];
  if (configured(config, ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'], 'Slack')) {
    adapters.push(
      createSlackPlatform(bot, {
        botToken: config.SLACK_BOT_TOKEN!,
        signingSecret: config.SLACK_SIGNING_SECRET!,
        logger,
        ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
        ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
        ...(config.SLACK_STATUS_CHANNEL ? { statusChannel: config.SLACK_STATUS_CHANNEL } : {}),
      }),
    );
  }
  if (configured(config, ['WECOM_CORP_ID', 'WECOM_AGENT_ID', 'WECOM_SECRET', 'WECOM_TOKEN', 'WECOM_AES_KEY'], 'WeCom')) {
    adapters.push(
      createWeComPlatform(bot, {
        corpId: config.WECOM_CORP_ID!,
        agentId: config.WECOM_AGENT_ID!,
        secret: config.WECOM_SECRET!,
        token: config.WECOM_TOKEN!,
        aesKey: config.WECOM_AES_KEY!,
        apiUrl: config.WECOM_API_URL,
        logger,
        ...(config.WECOM_STATUS_CHAT ? { statusChat: config.WECOM_STATUS_CHAT } : {}),
      }),
    );
  }
  const webChat = config.WARROOM_WEB_CHAT === 'on' || (config.WARROOM_WEB_CHAT === 'auto' && adapters.length === 0);
  const local = webChat ? createLocalChatPlatform(bot) : undefined;
  if (local) adapters.push(local);
  return { adapters, webChat: local };
}

/**
 * Connect the chat platforms the configuration names: Slack, WeCom, and the local web chat at
 * /chat (on when neither is configured, or when WARROOM_WEB_CHAT=on).
 */
export function connectPlatforms(bot: Bot, config: Config, logger: Logger): ConnectedPlatforms {
  const { adapters, webChat } = configuredAdapters(bot, config, logger);
  for (const a of adapters) attachPlatform(bot, a.platform);
  return {
    adapters,
    webChat,
    names: adapters.map((a) => a.platform.name),
    routes: adapters.flatMap((a) => a.routes),
    async start() {
      for (const a of adapters) await a.start();
    },
    async stop() {
      for (const a of adapters) await a.stop();
    },
    async settled() {
      await Promise.all(adapters.map((a) => a.settled()));
    },
  };
}
