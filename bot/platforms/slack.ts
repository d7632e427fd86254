import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver, LogLevel, webApi, type AnyMiddlewareArgs, type Logger as BoltLogger, type RespondFn } from '@slack/bolt';
import { z } from 'zod';
import type { Bot } from '../bot.js';
import { errorMessage, WarroomError } from '../../core/errors.js';
import { claimOnce } from '../../db/dedupe.js';
import type { Logger } from '../../core/logger.js';
import type { Route } from '../http.js';
import { detectLang, t, type Lang, type OutgoingMessage } from '../messages.js';
import { parseActionId, renderBlockKit } from '../render/block-kit.js';
import type { BotReply, ChatEvent, ChatPlatform, MessageRef, PlatformAdapter, RoomRef } from './platform.js';

export interface SlackPlatformOptions {
  /** Bot token (xoxb-…). */
  botToken: string;
  /** Signs every HTTP request Slack sends; Bolt rejects unsigned or stale ones with 401. */
  signingSecret: string;
  /** Web API base URL; a proxy, or the local stand-in in tests. Defaults to https://slack.com/api/. */
  apiUrl?: string;
  /** App-level token (xapp-…): Socket Mode instead of HTTP events. */
  appToken?: string;
  /** Channel id (C…) for declarations and status updates. */
  statusChannel?: string;
  logger: Logger;
  /**
   * Web API retries (connection errors, 5xx and 429 after its Retry-After).
   * The default gives up after about 2–3 s of backoff, so a dead API fails in seconds.
   */
  retryConfig?: webApi.RetryOptions;
  /** Per-request timeout for Web API calls, in ms (default 10 000). */
  requestTimeoutMs?: number;
  /**
   * The wall clock (ms) that `x-slack-request-timestamp` is checked against, as Bolt checks it
   * (default Date.now). Claims of handled deliveries use the app's clock.
   */
  wallClock?: () => number;
}

/**
 * The Slack adapter. `routes`: `POST /slack/events` in HTTP mode; empty in Socket Mode. `start()` checks
 * the token (auth.test) and, in Socket Mode, opens the socket; `stop()` closes the socket and waits
 * (at most 10 s) for events still being handled.
 */
export type SlackPlatform = PlatformAdapter;

/** Reactions that flag a message for the incident timeline. */
export const flagReactions: ReadonlySet<string> = new Set(['pushpin', 'round_pushpin', 'memo']);

const expectedCodes = new Set(['name_taken', 'already_in_channel', 'cant_invite_self', 'already_pinned']);

/**
 * Bolt refuses requests signed more than 5 minutes ago; we also refuse those signed more than 5 minutes
 * ahead. A signed request is therefore replayable for at most 10 minutes, and a claim on its signature
 * lasts that long and a minute more.
 */
export const SLACK_REQUEST_WINDOW_MS = 5 * 60_000;
const REQUEST_CLAIM_TTL_MS = 2 * SLACK_REQUEST_WINDOW_MS + 60_000;
/** Slack retries an event three times within about 6 minutes (at once, after 1 and after 5); an hour is ample. */
const EVENT_CLAIM_TTL_MS = 60 * 60_000;
/** The context property (Bolt's customProperties) carrying the digest of a verified request's signature. */
const REQUEST_KEY = 'warroomRequestKey';

/** The context property holding the acknowledgement the de-duplication middleware sent, first thing. */
const ACKED = 'warroomAcked';

/** Acknowledge unless the de-duplication middleware already did (it does, for every command and action). */
async function ackOnce(context: Record<string, unknown>, ack: () => Promise<void>): Promise<void> {
  if (context[ACKED]) await context[ACKED];
  else await ack();
}

/** The metadata event type of keyed posts (the incident card), see `findPosted`. */
const POST_KEY_EVENT = 'warroom_post';

const defaultRetryConfig: webApi.RetryOptions = { retries: 3, factor: 2, minTimeout: 200, maxTimeout: 1000, randomize: true };

/** Slack channel names: lower-case a–z, 0–9, `-` and `_`, at most 80 characters. Other characters are dropped. */
export function slackChannelName(name: string): string {
  const cleaned = name
    .normalize('NFKD') // full-width ASCII becomes ASCII, accents split off
    .toLowerCase()
    .replace(/[\s./:·、，,]+/g, '-')
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  return (cleaned || 'incident').slice(0, 80).replace(/[-_]+$/, '');
}

function withNameSuffix(base: string, n: number): string {
  const suffix = `-${n}`;
  return `${base.slice(0, 80 - suffix.length).replace(/[-_]+$/, '')}${suffix}`;
}

/** The `error` of a Web API answer with ok:false (e.g. `name_taken`), if that is what `err` is. */
export function slackErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === webApi.ErrorCode.PlatformError) {
    const code = (err as { data?: { error?: unknown } }).data?.error;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

const apiHints: Record<string, string> = {
  not_in_channel: 'Invite the Warroom app to the channel (/invite @Warroom) and try again.',
  channel_not_found: 'Check the channel id, and that the Warroom app has been added to it.',
  invalid_auth: 'SLACK_BOT_TOKEN is not valid for this workspace; copy the Bot User OAuth Token again.',
  not_authed: 'SLACK_BOT_TOKEN is missing.',
  missing_scope: 'Add the missing OAuth scope to the Slack app and reinstall it.',
  restricted_action: 'A workspace setting prevents the app from doing this; ask a Slack admin.',
};

/** A Web API failure as a WarroomError that says which call failed and what to do. */
function apiError(method: string, err: unknown): WarroomError {
  const code = slackErrorCode(err);
  const hint = code ? apiHints[code] : 'Check that the Slack API is reachable (SLACK_API_URL) and try again.';
  return new WarroomError('slack_api_error', `Slack ${method} failed: ${code ?? errorMessage(err)}`, {
    status: 502,
    cause: err,
    ...(hint ? { hint } : {}),
  });
}

// Tokens must never reach a log line, whatever a library puts in its messages.
const tokenPattern = /\bx(?:ox[abeprs]|app)-[A-Za-z0-9-]+/g;
// WebClient logs whole request and response bodies at debug level: those carry message text.
const bodyDump = /^(http request (body|headers)|http request result|Error details)/;

/** Bolt's and the WebClient's Logger interface, writing to our pino logger. */
export function boltLoggerFor(logger: Logger, name = 'bolt'): BoltLogger {
  let component = name;
  const line = (parts: unknown[]): string =>
    parts
      .map((p) => (p instanceof Error ? p.message : typeof p === 'string' || typeof p === 'number' ? String(p) : '[object]'))
      .join(' ')
      .replace(tokenPattern, '[redacted-token]')
      .slice(0, 500);
  const emit = (level: 'debug' | 'info' | 'warn' | 'error') => (...parts: unknown[]) => {
    if (!logger.isLevelEnabled(level)) return;
    const msg = line(parts);
    if (bodyDump.test(msg)) return;
    logger[level]({ component }, msg);
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    // pino's level rules; Bolt asks to set INFO by default and must not override LOG_LEVEL.
    setLevel: () => {},
    getLevel: () => {
      if (logger.isLevelEnabled('debug')) return LogLevel.DEBUG;
      if (logger.isLevelEnabled('info')) return LogLevel.INFO;
      if (logger.isLevelEnabled('warn')) return LogLevel.WARN;
      return LogLevel.ERROR;
    },
    setName: (n: string) => {
      component = n;
    },
  };
}

// ---- Payloads Slack sends, checked for the fields we use ----

const commandSchema = z.object({
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  channel_id: z.string().min(1),
  channel_name: z.string().optional(),
  text: z.string().default(''),
});

const blockActionSchema = z.object({
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  channel: z.object({ id: z.string().min(1), name: z.string().optional() }).optional(),
  container: z.object({ channel_id: z.string().optional(), is_ephemeral: z.boolean().optional() }).passthrough().optional(),
  message: z.object({ ts: z.string().min(1) }).passthrough().optional(),
  actions: z
    .array(
      z
        .object({
          action_id: z.string().min(1),
          value: z.string().optional(),
          selected_option: z.object({ value: z.string() }).optional(),
          action_ts: z.string().optional(),
        })
        .passthrough(),
    )
    .min(1),
});

const mentionSchema = z.object({
  user: z.string().min(1),
  text: z.string().default(''),
  channel: z.string().min(1),
  ts: z.string(),
  thread_ts: z.string().optional(),
  bot_id: z.string().optional(),
});

const imMessageSchema = z.object({
  channel_type: z.literal('im'),
  subtype: z.undefined(),
  bot_id: z.undefined(),
  user: z.string().min(1),
  text: z.string().default(''),
  channel: z.string().min(1),
  ts: z.string(),
  thread_ts: z.string().optional(),
});

const reactionSchema = z.object({
  user: z.string().min(1),
  reaction: z.string(),
  item: z.object({ type: z.string(), channel: z.string().optional(), ts: z.string().optional() }),
  event_ts: z.string().optional(),
});

/** Where a reply goes and who asked. */
interface ReplyTarget {
  channel: string;
  userId: string;
  threadTs?: string;
  /** The bot message a button was pressed on (for replaceOriginal). */
  message?: MessageRef;
  /** Slack's response_url helper, for ephemeral originals and channels the bot is not in. */
  respond?: RespondFn;
  lang: Lang;
}

function dateOfTs(ts: string | undefined, fallback: () => Date): Date {
  const seconds = ts ? Number(ts) : Number.NaN;
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : fallback();
}

function roomKind(channelId: string, channelName?: string): 'dm' | 'channel' {
  return channelName === 'directmessage' || channelId.startsWith('D') ? 'dm' : 'channel';
}

/**
 * Text as Slack sends it back to text as typed: Slack escapes `&`, `<` and `>` a person typed as
 * `&amp;`, `&lt;` and `&gt;` (its own markup, `<@U…>` mentions and `<url|label>` links, stays).
 * Warroom stores and handles the typed text; the Block Kit renderer escapes it again, once.
 */
export function slackText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** `<@U123> who is on call` → `who is on call`: the bot's own mention, or a leading one when the bot id is unknown. */
export function stripMention(text: string, botUserId?: string): string {
  const stripped = botUserId ? text.split(`<@${botUserId}>`).join(' ') : text.replace(/^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/, '');
  return stripped.replace(/\s+/g, ' ').trim();
}

/**
 * The Slack adapter: Bolt receives and verifies (HTTP events or Socket Mode), acks first, hands a neutral
 * ChatEvent to the bot and delivers its replies; the ChatPlatform methods make rooms and posts through one WebClient.
 */
export function createSlackPlatform(bot: Bot, options: SlackPlatformOptions): SlackPlatform {
  const log = options.logger.child({ platform: 'slack' });
  const apiUrl = (options.apiUrl ?? 'https://slack.com/api/').replace(/\/*$/, '/');
  const clientOptions: webApi.WebClientOptions = {
    slackApiUrl: apiUrl,
    retryConfig: options.retryConfig ?? defaultRetryConfig,
    rejectRateLimitedCalls: false, // wait for Retry-After and try again
    timeout: options.requestTimeoutMs ?? 10_000,
  };
  // Every Web API call (replies, rooms, history) goes through this one client, so a 429 pauses them all.
  const client = new webApi.WebClient(options.botToken, { ...clientOptions, logger: boltLoggerFor(log, 'web-api') });
  const socketMode = Boolean(options.appToken);
  const receiver = socketMode
    ? undefined
    : new HTTPReceiver({
        signingSecret: options.signingSecret,
        endpoints: '/slack/events',
        processBeforeResponse: false,
        logger: boltLoggerFor(log, 'bolt-receiver'),
        // Called only for a request whose signature Bolt has verified: forged requests never reach the claims.
        customPropertiesExtractor: (req) => {
          const signature = req.headers['x-slack-signature'];
          const timestamp = req.headers['x-slack-request-timestamp'];
          if (typeof signature !== 'string' || typeof timestamp !== 'string') return {};
          return { [REQUEST_KEY]: createHash('sha256').update(`${timestamp}:${signature}`).digest('hex') };
        },
      });
  const wallClock = options.wallClock ?? Date.now;

  const inflight = new Set<Promise<void>>();
  const track = (work: Promise<void>): Promise<void> => {
    inflight.add(work);
    return work.finally(() => inflight.delete(work));
  };

  async function api<T>(method: string, call: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const result = await call();
      log.debug({ method, ms: Date.now() - started }, 'slack api');
      return result;
    } catch (err) {
      const code = slackErrorCode(err);
      // Answers the callers handle (name_taken → next name) are not warnings.
      const level = code && expectedCodes.has(code) ? 'debug' : 'warn';
      log[level]({ method, ms: Date.now() - started, error: code ?? errorMessage(err) }, 'slack api call failed');
      throw err;
    }
  }

  // ---- Who the bot is (auth.test), asked once ----
  let identity: Promise<{ botUserId: string; botId: string }> | undefined;
  function whoAmI(): Promise<{ botUserId: string; botId: string }> {
    identity ??= api('auth.test', () => client.auth.test()).then(
      (r) => {
        if (!r.user_id || !r.bot_id) throw new WarroomError('slack_not_a_bot', 'SLACK_BOT_TOKEN is not a bot token (auth.test returned no bot id).', { hint: 'Use the Bot User OAuth Token (xoxb-…).' });
        return { botUserId: r.user_id, botId: r.bot_id };
      },
      (err: unknown) => {
        identity = undefined; // try again next time
        throw apiError('auth.test', err);
      },
    );
    return identity;
  }

  // ---- Bolt, built once the bot's identity is known (so Bolt never calls auth.test itself) ----
  let bolt: Promise<App> | undefined;
  function boltApp(): Promise<App> {
    bolt ??= whoAmI().then(
      ({ botUserId, botId }) => {
        const app = new App({
          token: options.botToken,
          botUserId,
          botId,
          tokenVerificationEnabled: false,
          logger: boltLoggerFor(log, 'bolt'),
          clientOptions: { ...clientOptions },
          ...(socketMode ? { socketMode: true, appToken: options.appToken } : { receiver }),
        });
        registerListeners(app);
        return app;
      },
      (err: unknown) => {
        bolt = undefined;
        throw err;
      },
    );
    return bolt;
  }

  // ---- Replies ----

  async function deliver(replies: BotReply[], target: ReplyTarget): Promise<void> {
    for (const reply of replies) {
      const { text, blocks } = renderBlockKit(reply.message);
      if (reply.private) {
        await api('chat.postEphemeral', () =>
          client.chat.postEphemeral({ channel: target.channel, user: target.userId, text, blocks, ...(target.threadTs ? { thread_ts: target.threadTs } : {}) }),
        );
      } else if (reply.replaceOriginal && target.message) {
        await api('chat.update', () => client.chat.update({ channel: target.message!.roomId, ts: target.message!.id, text, blocks }));
      } else if (reply.replaceOriginal && target.respond) {
        // The button was on an ephemeral message: only response_url can replace it.
        await target.respond({ replace_original: true, text, blocks });
      } else {
        try {
          await api('chat.postMessage', () =>
            client.chat.postMessage({ channel: target.channel, text, blocks, unfurl_links: false, ...(target.threadTs ? { thread_ts: target.threadTs } : {}) }),
          );
        } catch (err) {
          // A slash command in a channel the bot is not in: answer through the command's response_url.
          const code = slackErrorCode(err);
          if (target.respond && (code === 'not_in_channel' || code === 'channel_not_found')) {
            await target.respond({ response_type: 'in_channel', text, blocks });
          } else throw err;
        }
      }
    }
  }

  async function handleEvent(event: ChatEvent, target: ReplyTarget): Promise<void> {
    const started = Date.now();
    try {
      const replies = await bot.handle(event);
      await deliver(replies, target);
      log.debug({ kind: event.kind, channel: target.channel, replies: replies.length, ms: Date.now() - started }, 'slack event handled');
    } catch (err) {
      log.error({ kind: event.kind, channel: target.channel, err: errorMessage(err) }, 'slack event handling failed');
      const text = t(target.lang, '处理出错，已记录日志。请稍后重试。', 'Something went wrong handling that; it has been logged. Please try again.');
      try {
        await client.chat.postEphemeral({ channel: target.channel, user: target.userId, text });
      } catch (notified) {
        log.warn({ channel: target.channel, error: slackErrorCode(notified) ?? errorMessage(notified) }, 'could not tell the user about the failure');
      }
    }
  }

  /**
   * Why a verified delivery must not run: 'replay' (these exact signed bytes were accepted before),
   * 'retry' (Slack delivering an event again whose event_id was accepted before), or undefined (first time).
   */
  async function repeated(args: AnyMiddlewareArgs & { context: Record<string, unknown> }): Promise<'replay' | 'retry' | undefined> {
    const now = bot.app.clock();
    const requestKey = args.context[REQUEST_KEY];
    if (typeof requestKey === 'string' && !(await claimOnce(bot.app.db, 'slack:request', requestKey, now, REQUEST_CLAIM_TTL_MS))) return 'replay';
    const body = args.body as { type?: unknown; event_id?: unknown; api_app_id?: unknown };
    if (body.type === 'event_callback' && typeof body.event_id === 'string' && body.event_id) {
      const key = `${typeof body.api_app_id === 'string' ? body.api_app_id : ''}:${body.event_id}`;
      if (!(await claimOnce(bot.app.db, 'slack:event', key, now, EVENT_CLAIM_TTL_MS))) return 'retry';
    }
    return undefined;
  }

  function registerListeners(app: App): void {
    app.error(async (error) => {
      log.error({ code: error.code, err: error.message.replace(tokenPattern, '[redacted-token]') }, 'bolt error');
    });

    // Before every listener, after Bolt has verified the signature: what arrives twice runs once.
    // Events are already acknowledged by Bolt at this point; commands and actions are acknowledged here,
    // first, before the claim touches the store: an acknowledgement is only "received" (Slack's 3 s), and
    // a replay or a retry gets the same 200 whether it then runs or is dropped. A busy store (twenty
    // declarations at once, a big alert batch) therefore never delays it.
    app.use(async (args) => {
      const { body, context, next } = args;
      const ack = 'ack' in args && typeof args.ack === 'function' ? (args.ack as (response?: string) => Promise<void>) : undefined;
      const b = body as { type?: unknown; command?: unknown; event_id?: unknown; event?: { type?: unknown }; channel_id?: unknown; user_id?: unknown; text?: unknown };
      const what = typeof b.command === 'string' ? `command ${b.command}` : b.type === 'event_callback' ? `event ${String(b.event?.type)}` : `${String(b.type)}`;
      if (ack) context[ACKED] = ack().catch((err: unknown) => log.warn({ what, err: errorMessage(err) }, 'slack ack failed'));
      let verdict: 'replay' | 'retry' | undefined;
      try {
        verdict = await repeated(args as AnyMiddlewareArgs & { context: Record<string, unknown> });
      } catch (err) {
        // Without the store, "once" cannot be promised: refuse rather than risk running it twice.
        log.error({ what, err: errorMessage(err) }, 'could not record the slack delivery; dropped');
        if (typeof b.command === 'string' && typeof b.channel_id === 'string' && typeof b.user_id === 'string') {
          await context[ACKED];
          const text = t(
            detectLang(typeof b.text === 'string' ? b.text : ''),
            'Warroom 暂时无法记录这个请求（数据库不可用），未执行。请稍后重试。',
            'Warroom could not record this request (its database is unavailable), so it did not run it. Please try again shortly.',
          );
          const respond = 'respond' in args && typeof args.respond === 'function' ? (args.respond as (m: { text: string; response_type: 'ephemeral' }) => Promise<unknown>) : undefined;
          try {
            await client.chat.postEphemeral({ channel: b.channel_id, user: b.user_id, text });
          } catch {
            // Not in that channel: the command's response_url reaches the person anywhere.
            await respond?.({ text, response_type: 'ephemeral' }).catch(() => undefined);
          }
        }
        return;
      }
      if (verdict) {
        log.info(
          { what, reason: verdict, retryNum: context.retryNum, retryReason: context.retryReason, ...(typeof b.event_id === 'string' ? { eventId: b.event_id } : {}) },
          verdict === 'replay' ? 'slack request replayed; acknowledged and dropped' : 'slack event delivered again; acknowledged and dropped',
        );
        return;
      }
      await next();
    });

    for (const command of ['incident', 'warroom', 'action', 'failover'] as const) {
      app.command(`/${command}`, async ({ ack, command: body, respond, context }) => {
        await ackOnce(context, ack); // within Slack's 3 s, before any work
        const parsed = commandSchema.safeParse(body);
        if (!parsed.success) {
          log.warn({ command, issues: parsed.error.issues.length }, 'slash command payload missing fields; ignored');
          return;
        }
        const c = parsed.data;
        const text = slackText(c.text.trim());
        const room = { platform: 'slack' as const, id: c.channel_id, kind: roomKind(c.channel_id, c.channel_name) };
        await track(
          handleEvent(
            { kind: 'command', command, platform: 'slack', userId: c.user_id, ...(c.user_name ? { userName: c.user_name } : {}), room, text, at: bot.app.clock() },
            { channel: c.channel_id, userId: c.user_id, respond, lang: detectLang(text) },
          ),
        );
      });
    }

    app.action({ type: 'block_actions' }, async ({ ack, body, respond, context }) => {
      await ackOnce(context, ack);
      const parsed = blockActionSchema.safeParse(body);
      if (!parsed.success) {
        log.warn({ issues: parsed.error.issues.length }, 'block action payload missing fields; ignored');
        return;
      }
      const b = parsed.data;
      const channel = b.channel?.id ?? b.container?.channel_id;
      if (!channel) {
        log.info('block action outside a conversation (home tab or modal); ignored');
        return;
      }
      const action = b.actions[0]!;
      const message: MessageRef | undefined = b.message ? { platform: 'slack', roomId: channel, id: b.message.ts } : undefined;
      const userName = b.user.username ?? b.user.name;
      await track(
        handleEvent(
          {
            kind: 'action',
            platform: 'slack',
            userId: b.user.id,
            ...(userName ? { userName } : {}),
            room: { platform: 'slack', id: channel, kind: roomKind(channel, b.channel?.name) },
            actionId: parseActionId(action.action_id),
            value: action.value ?? action.selected_option?.value ?? '',
            ...(message ? { message } : {}),
            at: dateOfTs(action.action_ts, bot.app.clock),
          },
          { channel, userId: b.user.id, respond, lang: 'zh', ...(message ? { message } : {}) },
        ),
      );
    });

    app.event('app_mention', async ({ event, context }) => {
      const parsed = mentionSchema.safeParse(event);
      if (!parsed.success || parsed.data.bot_id) return;
      const e = parsed.data;
      const text = slackText(stripMention(e.text, context.botUserId));
      await track(
        handleEvent(
          { kind: 'message', platform: 'slack', userId: e.user, room: { platform: 'slack', id: e.channel, kind: roomKind(e.channel) }, text, ...(e.thread_ts ? { thread: e.thread_ts } : {}), at: dateOfTs(e.ts, bot.app.clock) },
          { channel: e.channel, userId: e.user, lang: detectLang(text), ...(e.thread_ts ? { threadTs: e.thread_ts } : {}) },
        ),
      );
    });

    app.event('message', async ({ event, context }) => {
      // Direct messages only: channel chatter reaches the bot through app_mention.
      const parsed = imMessageSchema.safeParse(event);
      if (!parsed.success) return;
      const e = parsed.data;
      const text = slackText(stripMention(e.text, context.botUserId));
      await track(
        handleEvent(
          { kind: 'message', platform: 'slack', userId: e.user, room: { platform: 'slack', id: e.channel, kind: 'dm' }, text, ...(e.thread_ts ? { thread: e.thread_ts } : {}), at: dateOfTs(e.ts, bot.app.clock) },
          { channel: e.channel, userId: e.user, lang: detectLang(text), ...(e.thread_ts ? { threadTs: e.thread_ts } : {}) },
        ),
      );
    });

    app.event('reaction_added', async ({ event }) => {
      const parsed = reactionSchema.safeParse(event);
      if (!parsed.success || !flagReactions.has(parsed.data.reaction)) return;
      const { user, item, event_ts } = parsed.data;
      if (item.type !== 'message' || !item.channel || !item.ts) return;
      const channel = item.channel;
      const ts = item.ts;
      await track(
        (async () => {
          let text: string;
          try {
            const history = await api('conversations.history', () => client.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 }));
            const found = history.messages?.find((m) => m.ts === ts);
            if (!found) {
              // Thread replies are not in the channel history.
              log.info({ channel, ts }, 'flagged message not found in channel history; ignored');
              return;
            }
            text = slackText(found.text ?? '');
          } catch (err) {
            log.warn({ channel, error: slackErrorCode(err) ?? errorMessage(err) }, 'could not read the flagged message');
            return;
          }
          const message: MessageRef = { platform: 'slack', roomId: channel, id: ts };
          await handleEvent(
            { kind: 'flag', platform: 'slack', userId: user, room: { platform: 'slack', id: channel, kind: roomKind(channel) }, text, message, at: dateOfTs(event_ts, bot.app.clock) },
            // No `message` in the target: the flagged message is a person's, the bot cannot replace it.
            { channel, userId: user, lang: detectLang(text) },
          );
        })(),
      );
    });
  }

  // ---- HTTP route: Bolt's receiver reads, verifies and answers the request itself ----

  const routes: Route[] = receiver
    ? [
        {
          method: 'POST',
          path: '/slack/events',
          // Slack's own format (form or JSON) and signature, checked by Bolt's receiver.
          screen: 'signed',
          async handler({ req, res }: { req: IncomingMessage; res: ServerResponse }) {
            // Bolt refuses stale signatures but not ones from the future; a claim must outlive the whole window.
            const stamp = Number(req.headers['x-slack-request-timestamp']);
            if (Number.isFinite(stamp) && stamp * 1000 - wallClock() > SLACK_REQUEST_WINDOW_MS) {
              log.warn({ aheadS: Math.round(stamp - wallClock() / 1000) }, 'slack request refused: x-slack-request-timestamp is more than 5 minutes ahead');
              res.writeHead(401, { 'content-type': 'application/json; charset=utf-8' });
              res.end(JSON.stringify({ error: 'slack_timestamp_ahead', message: 'x-slack-request-timestamp is more than 5 minutes ahead of this server (a clock problem, or a forged request).' }));
              return;
            }
            try {
              await boltApp();
            } catch (err) {
              log.error({ err: errorMessage(err) }, 'slack app not ready; answering 503 so Slack retries');
              res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5' });
              res.end(JSON.stringify({ error: 'slack_unavailable', message: 'The Slack adapter could not start; see the server log.' }));
              return;
            }
            const finished = new Promise<void>((resolve) => {
              res.once('finish', resolve);
              res.once('close', resolve);
            });
            receiver.requestListener(req, res);
            await finished;
          },
        },
      ]
    : [];

  // ---- ChatPlatform ----

  let started: App | undefined;

  async function invite(room: RoomRef, memberIds: string[]): Promise<void> {
    const me = await whoAmI().then((i) => i.botUserId, () => undefined);
    const ids = [...new Set(memberIds.filter((id) => id && id !== me))];
    if (!ids.length) return;
    const tolerated = new Set(['already_in_channel', 'cant_invite_self']);
    try {
      await api('conversations.invite', () => client.conversations.invite({ channel: room.id, users: ids.join(',') }));
    } catch (err) {
      const code = slackErrorCode(err);
      if (!code || !tolerated.has(code)) throw apiError('conversations.invite', err);
      if (ids.length === 1) return;
      // One of them is already there: Slack refuses the whole list, so invite the rest one at a time.
      for (const id of ids) {
        try {
          await api('conversations.invite', () => client.conversations.invite({ channel: room.id, users: id }));
        } catch (one) {
          const c = slackErrorCode(one);
          if (!c || !tolerated.has(c)) throw apiError('conversations.invite', one);
        }
      }
    }
  }

  async function setTopic(room: RoomRef, topic: string): Promise<boolean> {
    try {
      await api('conversations.setTopic', () => client.conversations.setTopic({ channel: room.id, topic: [...topic].slice(0, 250).join('') }));
    } catch (err) {
      throw apiError('conversations.setTopic', err);
    }
    return true;
  }

  async function postMessage(channel: string, message: OutgoingMessage, key?: string, thread?: string): Promise<MessageRef> {
    const { text, blocks } = renderBlockKit(message);
    // A keyed post carries the key as message metadata, so findPosted can tell it apart later.
    const metadata = key ? { metadata: { event_type: POST_KEY_EVENT, event_payload: { key } } } : {};
    let res;
    try {
      res = await api('chat.postMessage', () => client.chat.postMessage({ channel, text, blocks, unfurl_links: false, ...metadata, ...(thread ? { thread_ts: thread } : {}) }));
    } catch (err) {
      throw apiError('chat.postMessage', err);
    }
    if (!res.ts) throw new WarroomError('slack_api_error', 'Slack chat.postMessage answered without a message ts.', { status: 502 });
    return { platform: 'slack', roomId: res.channel ?? channel, id: res.ts };
  }

  const platform: ChatPlatform = {
    name: 'slack',
    userIdOf: (person) => person.slack ?? undefined,

    async createRoom(spec) {
      const base = slackChannelName(spec.name);
      let created: { id: string; name: string } | undefined;
      for (let attempt = 1; !created; attempt += 1) {
        const name = attempt === 1 ? base : withNameSuffix(base, attempt);
        try {
          const res = await api('conversations.create', () => client.conversations.create({ name }));
          if (!res.channel?.id) throw new WarroomError('slack_api_error', 'Slack conversations.create answered without a channel id.', { status: 502 });
          created = { id: res.channel.id, name: res.channel.name ?? name };
        } catch (err) {
          if (slackErrorCode(err) === 'name_taken' && attempt < 50) continue;
          throw err instanceof WarroomError ? err : apiError('conversations.create', err);
        }
      }
      const room: RoomRef = { platform: 'slack', id: created.id, name: created.name };
      await invite(room, spec.memberIds);
      if (spec.topic.trim()) await setTopic(room, spec.topic);
      return room;
    },

    async findRoom(spec) {
      const base = slackChannelName(spec.name);
      const ours = new RegExp(`^${base.replace(/[-_]/g, '\\$&')}(?:-\\d+)?$`);
      // A minute of slack for clocks that differ between Warroom and Slack.
      const notBefore = spec.notBefore ? Math.floor(spec.notBefore.getTime() / 1000) - 60 : 0;
      const found: Array<{ id: string; name: string; created: number }> = [];
      let cursor: string | undefined;
      for (let page = 0; page < 100; page += 1) {
        let res;
        try {
          res = await api('conversations.list', () =>
            client.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) }),
          );
        } catch (err) {
          throw apiError('conversations.list', err);
        }
        for (const c of res.channels ?? []) {
          if (c.id && c.name && c.is_member && ours.test(c.name) && (c.created ?? 0) >= notBefore) found.push({ id: c.id, name: c.name, created: c.created ?? 0 });
        }
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!cursor) break;
      }
      // The first one made: a second would only exist if an old Warroom made two.
      const first = found.sort((a, b) => a.created - b.created || a.name.length - b.name.length)[0];
      return first ? { platform: 'slack', id: first.id, name: first.name } : undefined;
    },

    invite,

    post: (room, message, postOptions) => postMessage(room.id, message, postOptions?.key, postOptions?.thread),

    async findPosted(room, key) {
      const me = await whoAmI().then((i) => i.botId, () => undefined);
      let res;
      try {
        res = await api('conversations.history', () => client.conversations.history({ channel: room.id, limit: 200, include_all_metadata: true }));
      } catch (err) {
        throw apiError('conversations.history', err);
      }
      const found = res.messages?.find(
        (m) => m.ts && (!me || m.bot_id === me) && m.metadata?.event_type === POST_KEY_EVENT && (m.metadata.event_payload as { key?: unknown } | undefined)?.key === key,
      );
      return found?.ts ? { platform: 'slack', roomId: room.id, id: found.ts } : undefined;
    },

    async update(ref, message) {
      const { text, blocks } = renderBlockKit(message);
      try {
        await api('chat.update', () => client.chat.update({ channel: ref.roomId, ts: ref.id, text, blocks }));
      } catch (err) {
        throw apiError('chat.update', err);
      }
    },

    async pin(ref) {
      try {
        await api('pins.add', () => client.pins.add({ channel: ref.roomId, timestamp: ref.id }));
      } catch (err) {
        if (slackErrorCode(err) !== 'already_pinned') throw apiError('pins.add', err);
      }
      return true;
    },

    setTopic,

    // Posting to a user id opens (or reuses) the app's DM with them; the answer names the D… channel.
    sendDirect: (userId, message) => postMessage(userId, message),

    statusRoom: () => (options.statusChannel ? { platform: 'slack', id: options.statusChannel } : undefined),
  };

  return {
    platform,
    routes,
    async start() {
      const app = await boltApp();
      if (socketMode && !started) {
        await app.start();
        started = app;
      }
      log.info({ mode: socketMode ? 'socket' : 'http' }, 'slack adapter ready');
    },
    async stop() {
      if (started) {
        const app = started;
        started = undefined;
        await app.stop();
      }
      // Events already acknowledged are still being answered: let them finish (bounded).
      if (inflight.size) {
        await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 10_000).unref())]);
      }
    },
    async settled() {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
  };
}
