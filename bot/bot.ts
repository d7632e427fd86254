import type { App } from '../tools/services.js';
import { errorMessage, isWarroomError } from '../core/errors.js';
import { requireCleanChatText } from '../core/text.js';
import { actorOf, converse, splitArgs } from './conversation.js';
import { declareFromAlert, primaryPlatform } from './incidents/alerts.js';
import { runIncidentAction, runIncidentCommand, type IncidentContext } from './incidents/commands.js';
import { noteResponse, recordFact } from './incidents/flows.js';
import { getIncident, incidentOfRoom, langOf } from './incidents/store.js';
import { ACTIONS } from './incidents/views.js';
import { detectLang, t, type Lang, type Platform } from './messages.js';
import type { BotReply, ChatEvent, ChatPlatform } from './platforms/platform.js';
import { ActionService } from '../workers/actions.js';
import type { ActionQueue } from '../workers/queue.js';
import { createActionNotifier } from './actions/notifier.js';
import { matchActionCommand, runActionButton, runActionCommand } from './actions/commands.js';
import { ACTION_BUTTONS } from './views/action-views.js';
import { chatProposals } from './actions/propose.js';
import { createTurnHistory, type TurnHistory } from './history.js';
import { platformProgress, type ProgressSink } from './progress.js';
import type { Answerer } from './questions.js';

/**
 * The bot: the platforms it is connected to and one entry point for every event they deliver.
 * Platform adapters verify and normalise, call `handle`, and deliver the replies.
 */
export interface Bot {
  app: App;
  platforms: Map<Platform, ChatPlatform>;
  /** Action requests and their approvals (workers/actions.ts), with this bot's cards as the notifier. */
  actions: ActionService;
  /** The last questions of each asker in each room, for follow-ups (bot/history.ts). */
  history: TurnHistory;
  handle(event: ChatEvent, options?: HandleOptions): Promise<BotReply[]>;
}

export interface HandleOptions {
  /**
   * Where "working on it…" shows while a question takes its time. Default: the event's room on its
   * platform (post, then update in place where the platform edits messages); `null`: nowhere.
   */
  progress?: ProgressSink | null;
}

export interface CreateBotOptions {
  /**
   * Where approved actions go. Without one (a one-shot CLI command, the terminal chat) decisions are
   * recorded and the approved action waits in the outbox for the running server's sweeper.
   */
  queue?: ActionQueue;
  /** Called after each audited decision (anchors the audit chain's head outside the database). */
  afterAudit?: () => Promise<void>;
  /** The audit chain's head as shown on updated request cards ("#1234 a1b2c3d4"). */
  auditHead?: () => Promise<string | undefined>;
  /** How long a question may take before the progress line shows (default 1000 ms). */
  progressAfterMs?: number;
  /** The agent's entry (default answerQuestion); tests put a slow or scripted one here. */
  answer?: Answerer;
}

export function createBot(app: App, platforms: ChatPlatform[] = [], options: CreateBotOptions = {}): Bot {
  const bot = {
    app,
    platforms: new Map(platforms.map((p) => [p.name, p])),
    history: createTurnHistory(),
    async handle(event: ChatEvent, handleOptions: HandleOptions = {}) {
      return handleChatEvent(bot, event, { ...options, ...handleOptions });
    },
  } as Bot;
  bot.actions = new ActionService({
    app,
    notifier: createActionNotifier(bot, options.auditHead ? { auditHead: options.auditHead } : {}),
    queue: options.queue,
    afterAudit: options.afterAudit,
  });
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

/** One chat event on its way through the listeners, with who sent it and the reply language so far. */
interface Routed {
  bot: Bot;
  event: ChatEvent;
  options: CreateBotOptions & HandleOptions;
  /** The text without a leading mention of the bot. */
  text: string;
  actorId: string;
  lang: Lang;
  incident(lang: Lang): IncidentContext;
}

/** A listener answers the events it is for and returns undefined for the rest, which go on down the list. */
type Listener = (r: Routed) => Promise<BotReply[] | undefined>;

/** "/incident …", "incident …" and "申报故障 …": the incident commands. */
const incidentCommand: Listener = async (r) => {
  const { event, text, bot } = r;
  if (event.kind !== 'command' && event.kind !== 'message') return undefined;
  const incidentText =
    event.kind === 'command' && event.command === 'incident'
      ? text
      : INCIDENT_PREFIX.test(text)
        ? text.replace(INCIDENT_PREFIX, '')
        : DECLARE_PREFIX.test(text)
          ? `declare ${text.replace(DECLARE_PREFIX, '')}`
          : undefined;
  if (incidentText === undefined) return undefined;
  const here = await incidentOfRoom(bot.app.db, event.platform, event.room.id);
  r.lang = commandLang(incidentText, here ? langOf(here) : undefined);
  return runIncidentCommand(r.incident(r.lang), incidentText, splitArgs);
};

/** The Declare button offered under an alert. */
const alertButton: Listener = async (r) => {
  const { event, bot } = r;
  if (event.kind !== 'action' || event.actionId !== ACTIONS.declareAlert) return undefined;
  r.lang = 'zh';
  return [{ message: { lang: r.lang, text: await declareFromAlert(bot, bot.platforms.get(event.platform), event.value, r.actorId, r.lang) } }];
};

/** "/action …" and "/failover …" (and their Chinese words): approved actions. */
const actionCommand: Listener = async (r) => {
  const match = matchActionCommand(r.event, r.text);
  if (!match) return undefined;
  return runActionCommand({ deps: r.bot, actions: r.bot.actions, event: r.event, actorId: r.actorId, lang: r.lang }, match.command, match.words);
};

/** Approve, Reject and Cancel on request cards. */
const actionButton: Listener = async (r) => {
  const { event } = r;
  if (event.kind !== 'action' || !Object.values(ACTION_BUTTONS).includes(event.actionId as (typeof ACTION_BUTTONS)[keyof typeof ACTION_BUTTONS])) return undefined;
  return runActionButton({ deps: r.bot, actions: r.bot.actions, event, actorId: r.actorId, lang: r.lang });
};

/** Buttons on incident cards, drafts and nudges; any other button is stale. */
const incidentButton: Listener = async (r) => {
  const { event, bot } = r;
  if (event.kind !== 'action') return undefined;
  const incidentId = /^INC-\d{8}-\d{3,}/i.exec(event.value)?.[0];
  const incident = incidentId ? await getIncident(bot.app.db, incidentId) : undefined;
  r.lang = incident ? langOf(incident) : 'zh';
  if (event.actionId.startsWith('incident.')) return runIncidentAction(r.incident(r.lang), event.actionId, event.value);
  return [{ private: true, message: { lang: r.lang, text: t(r.lang, `这个按钮（${event.actionId}）已失效。`, `That button (${event.actionId}) is no longer handled.`) } }];
};

/** A message flagged (Slack :pushpin:) in an incident room goes on the timeline. */
const flaggedMessage: Listener = async (r) => {
  const { event, bot } = r;
  if (event.kind !== 'flag') return undefined;
  const here = await incidentOfRoom(bot.app.db, event.platform, event.room.id);
  if (!here) return [];
  r.lang = langOf(here);
  await recordFact(bot, here.id, { id: r.actorId, lang: r.lang }, 'note', `📌 ${event.text.slice(0, 500)}`, { flagged: true, ...(event.message ? { message: event.message.id } : {}) });
  return [];
};

/** Everything else said to Warroom: commands and questions (a message in a room counts as a response). */
const conversation: Listener = async (r) => {
  const { event, bot, text, options } = r;
  if (event.kind !== 'command' && event.kind !== 'message') return undefined;
  const here = await incidentOfRoom(bot.app.db, event.platform, event.room.id);
  if (here) await noteResponse(bot.app, here, r.actorId);
  const platform = bot.platforms.get(event.platform);
  const progress = options.progress === null ? undefined : (options.progress ?? (platform ? platformProgress(platform, { platform: event.platform, id: event.room.id }, event.thread) : undefined));
  const replies = await converse(
    bot.app,
    {
      user: { platform: event.platform, id: event.userId, personId: r.actorId, ...(event.userName ? { name: event.userName } : {}) },
      room: { platform: event.platform, id: event.room.id, kind: event.room.kind },
      text,
      at: event.at,
    },
    {
      history: bot.history,
      ...(progress ? { progress } : {}),
      ...(options.progressAfterMs !== undefined ? { progressAfterMs: options.progressAfterMs } : {}),
      ...(options.answer ? { answer: options.answer } : {}),
      proposals: (scope) => chatProposals(bot, scope),
    },
  );
  return replies.map(({ message, answer }) => ({ message, ...(answer ? { answer } : {}) }));
};

/** The order in which listeners see an event: the first that answers wins. */
const LISTENERS: Listener[] = [incidentCommand, actionCommand, alertButton, actionButton, incidentButton, flaggedMessage, conversation];

async function handleChatEvent(bot: Bot, event: ChatEvent, options: CreateBotOptions & HandleOptions): Promise<BotReply[]> {
  const app = bot.app;
  // A leading mention of the bot ("@warroom status") is an address, not part of the request.
  const text = 'text' in event ? event.text.replace(/^(\s*<@[A-Z0-9]+(\|[^>]*)?>)+/, '').trim() : '';
  const routed: Partial<Routed> & { lang: Lang } = { lang: detectLang(text) };
  try {
    // NUL, control characters and lone surrogates from any platform are refused here, with a reply,
    // before anything is looked up, stored or audited (PostgreSQL refuses NUL in text and jsonb).
    const { at: _at, ...fields } = event;
    requireCleanChatText(fields, routed.lang);
    const actorId = await actorOf(app, {
      user: { platform: event.platform, id: event.userId, ...(event.userName ? { name: event.userName } : {}) },
      room: { platform: event.platform, id: event.room.id, kind: event.room.kind },
      text,
    });
    const r: Routed = Object.assign(routed, {
      bot,
      event,
      options,
      text,
      actorId,
      incident: (l: Lang): IncidentContext => ({
        deps: bot,
        // The terminal has no rooms: incidents declared there open their room on the main platform.
        platform: bot.platforms.get(event.platform) ?? (event.platform === 'cli' ? primaryPlatform(bot) : undefined),
        platformName: event.platform,
        roomId: event.room.id,
        actor: { id: actorId, lang: l },
      }),
    });
    for (const listener of LISTENERS) {
      const replies = await listener(r);
      if (replies) return replies;
    }
    return [];
  } catch (err) {
    const lang = routed.lang;
    if (isWarroomError(err)) return [{ private: true, message: { lang, text: err.toUserText() } }];
    app.logger.error({ err: errorMessage(err), platform: event.platform, kind: event.kind }, 'event handling failed');
    return [{ private: true, message: { lang, text: t(lang, '处理时出错，已记录日志。请稍后重试。', 'Something failed while handling that; it has been logged. Please try again.') } }];
  }
}
