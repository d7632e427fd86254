import type { App } from '../tools/services.js';
import { errorMessage, isWarroomError } from '../core/errors.js';
import { actorOf, handleMessage, splitArgs } from './conversation.js';
import { declareFromAlert, primaryPlatform } from './incidents/alerts.js';
import { runIncidentAction, runIncidentCommand, type IncidentContext } from './incidents/commands.js';
import { noteResponse, recordFact } from './incidents/flows.js';
import { getIncident, incidentOfRoom, langOf } from './incidents/store.js';
import { ACTIONS } from './incidents/views.js';
import { detectLang, t, type Lang, type Platform } from './messages.js';
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

/** "/incident …", "incident …" and "申报故障 …" typed as a message are incident commands too. */
const INCIDENT_PREFIX = /^[/!]?incident(\s+|$)/i;
const DECLARE_PREFIX = /^(申报故障|故障申报)(\s+|$)/;

/**
 * The reply language of an incident command: Chinese text decides by itself; a short command
 * ("/incident role scribe me", up to three words after the subcommand, which are command words and
 * names) follows the incident's language in its room; English prose is English.
 */
export function commandLang(text: string, roomLang: Lang | undefined): Lang {
  if (/[\u3400-\u9fff]/.test(text)) return detectLang(text.replace(/^\S+\s*/, '') || text);
  const words = text.split(/\s+/).slice(1).filter(Boolean);
  const short = words.length <= 3;
  const prose = words.filter((w) => /^[A-Za-z][A-Za-z'’-]*[.,!?]?$/.test(w) && !(short && /^[a-z]+$/i.test(w)));
  if (prose.length >= 2) return 'en';
  return roomLang ?? 'en';
}

async function handleChatEvent(bot: Bot, event: ChatEvent): Promise<BotReply[]> {
  const app = bot.app;
  // A leading mention of the bot ("@warroom status") is an address, not part of the request.
  const text = 'text' in event ? event.text.replace(/^(\s*<@[A-Z0-9]+(\|[^>]*)?>)+/, '').trim() : '';
  let lang: Lang = detectLang(text);
  try {
    const actorId = await actorOf(app, {
      user: { platform: event.platform, id: event.userId, ...(event.userName ? { name: event.userName } : {}) },
      room: { platform: event.platform, id: event.room.id, kind: event.room.kind },
      text,
    });
    const ctx = (l: Lang): IncidentContext => ({
      bot,
      // The terminal has no rooms: incidents declared there open their room on the main platform.
      platform: bot.platforms.get(event.platform) ?? (event.platform === 'cli' ? primaryPlatform(bot) : undefined),
      platformName: event.platform,
      roomId: event.room.id,
      actor: { id: actorId, lang: l },
    });

    switch (event.kind) {
      case 'command':
      case 'message': {
        const incidentText =
          event.kind === 'command' && event.command === 'incident'
            ? text
            : INCIDENT_PREFIX.test(text)
              ? text.replace(INCIDENT_PREFIX, '')
              : DECLARE_PREFIX.test(text)
                ? `declare ${text.replace(DECLARE_PREFIX, '')}`
                : undefined;
        if (incidentText !== undefined) {
          const here = await incidentOfRoom(app.db, event.platform, event.room.id);
          lang = commandLang(incidentText, here ? langOf(here) : undefined);
          return await runIncidentCommand(ctx(lang), incidentText, splitArgs);
        }
        const here = await incidentOfRoom(app.db, event.platform, event.room.id);
        if (here) await noteResponse(app, here, actorId);
        const replies = await handleMessage(app, {
          user: { platform: event.platform, id: event.userId, personId: actorId, ...(event.userName ? { name: event.userName } : {}) },
          room: { platform: event.platform, id: event.room.id, kind: event.room.kind },
          text,
          at: event.at,
        });
        return replies.map((message) => ({ message }));
      }
      case 'action': {
        const incidentId = /^INC-\d{8}-\d{3,}/i.exec(event.value)?.[0];
        const incident = incidentId ? await getIncident(app.db, incidentId) : undefined;
        lang = incident ? langOf(incident) : 'zh';
        if (event.actionId === ACTIONS.declareAlert) {
          return [{ message: { lang, text: await declareFromAlert(bot, bot.platforms.get(event.platform), event.value, actorId, lang) } }];
        }
        if (event.actionId.startsWith('incident.')) return await runIncidentAction(ctx(lang), event.actionId, event.value);
        return [{ private: true, message: { lang, text: t(lang, `这个按钮（${event.actionId}）已失效。`, `That button (${event.actionId}) is no longer handled.`) } }];
      }
      case 'flag': {
        const here = await incidentOfRoom(app.db, event.platform, event.room.id);
        if (!here) return [];
        lang = langOf(here);
        await recordFact(bot, here.id, { id: actorId, lang }, 'note', `📌 ${event.text.slice(0, 500)}`, { flagged: true, ...(event.message ? { message: event.message.id } : {}) });
        return [];
      }
    }
  } catch (err) {
    if (isWarroomError(err)) return [{ private: true, message: { lang, text: err.toUserText() } }];
    app.logger.error({ err: errorMessage(err), platform: event.platform, kind: event.kind }, 'event handling failed');
    return [{ private: true, message: { lang, text: t(lang, '处理时出错，已记录日志。请稍后重试。', 'Something failed while handling that; it has been logged. Please try again.') } }];
  }
}
