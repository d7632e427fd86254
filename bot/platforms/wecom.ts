import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { decrypt, getSignature } from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { errorMessage, isWarroomError, WarroomError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { claimOnce } from '../../db/dedupe.js';
import type { Route, RouteContext } from '../http.js';
import type { Bot } from '../bot.js';
import { t, type OutgoingMessage } from '../messages.js';
import { clip, decodeButtonKey, isWarroomTaskId, renderWeComMarkdown, renderWeComMarkdownParts, renderWeComTemplateCard } from '../render/wecom.js';
import { langOf, type BotReply, type ChatEvent, type ChatPlatform, type CreateRoomSpec, type MessageRef, type PlatformAdapter, type RoomRef } from './platform.js';
import { WeComClient, type WeComClientOptions } from './wecom-client.js';

/**
 * WeCom (企业微信) self-built app: the callback routes and the ChatPlatform.
 *
 * Callbacks (`/wecom/callback`): GET is the URL verification, POST carries messages and events.
 * Both check msg_signature (constant-time), decrypt with the EncodingAESKey and check that the
 * receive id is our corp id (`@wecom/crypto` does not). POST also refuses timestamps more than
 * 5 minutes off (replays), drops WeCom's retried deliveries and replays within that window (claimed
 * in the database, so this holds across restarts and between processes), answers 200 at once and
 * handles the event afterwards, so the 5-second callback window is never at risk.
 *
 * Message refs (`MessageRef.id`) mean:
 * - `wr-card-…`  a template card Warroom sent (its task_id). The platform keeps the latest unused
 *                response_code for it (from message/send, then from each click), so `update`
 *                replaces the card with update_template_card. After a restart, or when the code
 *                is used up or expired, `update` sends the new content again marked as updated.
 * - `wr-msg-…`   a markdown message (direct or group). WeCom cannot edit these: `update` posts
 *                the new content again, marked as updated (更新).
 * - anything else: a response_code from a template_card_event (the `message` of an action event);
 *                usable once, for 72 hours, by update_template_card.
 *
 * Rooms: `RoomRef.id` is an appchat chatid for rooms Warroom created (`wrchat…`, always 32
 * characters) and the configured status chat; any other id is a WeCom userid, reached through
 * message/send (a direct message from the app).
 */

export interface WeComPlatformOptions {
  corpId: string;
  agentId: number;
  secret: string;
  /** The callback Token. */
  token: string;
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  apiUrl: string;
  /** Group chat id (appchat) for declarations and status updates. */
  statusChat?: string;
  logger: Logger;
  /** A callback whose timestamp is further than this from now is refused; default 300 s. */
  maxSkewSeconds?: number;
  /**
   * How long a delivered callback is remembered (in the database, shared by every Warroom process on
   * it and kept across restarts) to drop WeCom's retries and replays. Default: twice the timestamp
   * window and a minute, so a callback stays refused for as long as its timestamp is accepted.
   */
  dedupeTtlMs?: number;
  /** Retry and timeout tuning for the API client. */
  clientOptions?: Pick<WeComClientOptions, 'maxRetries' | 'maxRetryAfterMs' | 'backoffMs' | 'timeoutMs' | 'tokenMarginMs'>;
  /** The wall clock (ms) that WeCom's signed timestamps are checked against (default Date.now). Claims use the app's clock. */
  now?: () => number;
}

/**
 * The WeCom adapter. `routes`: the callback URL (GET to verify it, POST for callbacks). `start()` has
 * nothing to open (WeCom calls in); `stop()` and `settled()` wait until every callback accepted so far
 * has been handled.
 */
export type WeComPlatform = PlatformAdapter;

export const WECOM_CALLBACK_PATH = '/wecom/callback';
const CHAT_NAME_MAX_CHARS = 50;
const MAX_REMEMBERED = 10_000;

/** The decrypted callback XML, as strings: ids never become numbers. */
const innerMessageSchema = z
  .object({
    ToUserName: z.string().optional(),
    FromUserName: z.string().min(1),
    CreateTime: z.string().regex(/^\d{1,12}$/),
    MsgType: z.string().min(1),
    Content: z.string().optional(),
    MsgId: z.string().optional(),
    AgentID: z.string().optional(),
    Event: z.string().optional(),
    EventKey: z.string().optional(),
    TaskId: z.string().optional(),
    CardType: z.string().optional(),
    ResponseCode: z.string().optional(),
  })
  .passthrough();
type InnerMessage = z.infer<typeof innerMessageSchema>;

const outerSchema = z.object({ xml: z.object({ Encrypt: z.string().min(1) }).passthrough() });

// Strings only, and no entity expansion in either the outer envelope or the decrypted message: a
// DOCTYPE is refused before parsing (WeCom never sends one), and the five predefined entities and
// character references are decoded by `decodeXmlText`, never anything a document declares.
// CDATA is kept apart (CDATA_KEY) so that only text outside it is decoded.
const CDATA_KEY = '__cdata';
const xmlOptions = { parseTagValue: false, parseAttributeValue: false, ignoreAttributes: true, processEntities: false, htmlEntities: false, trimValues: true, cdataPropName: CDATA_KEY } as const;
const outerParser = new XMLParser(xmlOptions);
const innerParser = new XMLParser(xmlOptions);
const DOCTYPE = /<!DOCTYPE/i;
const DOCTYPE_REFUSAL = 'the XML has a DOCTYPE (entity declarations are not accepted; WeCom never sends one)';

interface CardState {
  userId: string;
  /** The latest response_code not yet used by update_template_card. */
  responseCode?: string;
}

export function createWeComPlatform(bot: Bot, options: WeComPlatformOptions): WeComPlatform {
  const { corpId, token, aesKey, logger } = options;
  const now = options.now ?? Date.now;
  const maxSkewMs = (options.maxSkewSeconds ?? 300) * 1000;
  const dedupeTtlMs = options.dedupeTtlMs ?? 2 * maxSkewMs + 60_000;
  // One app's deliveries: two WeCom apps on one database never drop each other's messages.
  const dedupeScope = `wecom:${corpId}:${options.agentId}`;
  const client = new WeComClient({
    corpId,
    secret: options.secret,
    agentId: options.agentId,
    apiUrl: options.apiUrl,
    logger,
    ...options.clientOptions,
  });

  const knownChats = new Set<string>(options.statusChat ? [options.statusChat] : []);
  const cards = new BoundedMap<string, CardState>(MAX_REMEMBERED);
  /** response_code → task_id, for codes that came with a click. */
  const codeToTask = new BoundedMap<string, string>(MAX_REMEMBERED);
  const usedCodes = new BoundedMap<string, true>(MAX_REMEMBERED);
  const inFlight = new Set<Promise<void>>();

  const isAppChat = (id: string): boolean => knownChats.has(id) || /^wrchat[0-9a-f]{26}$/.test(id);

  // ---- callback verification ----------------------------------------------------------------

  type Verified = { ok: true; message: string } | { ok: false; status: 400 | 401; reason: string };

  function verifyAndDecrypt(signature: string, timestamp: string, nonce: string, encrypted: string): Verified {
    if (!safeEqual(getSignature(token, timestamp, nonce, encrypted), signature.toLowerCase())) {
      return { ok: false, status: 401, reason: 'msg_signature does not match (check WECOM_TOKEN)' };
    }
    let plain: { message: string; id: string };
    try {
      plain = decrypt(aesKey, encrypted);
    } catch {
      return { ok: false, status: 400, reason: 'the encrypted payload does not decrypt with the configured EncodingAESKey' };
    }
    if (!safeEqual(plain.id, corpId)) return { ok: false, status: 401, reason: 'the payload was encrypted for another corp id' };
    return { ok: true, message: plain.message };
  }

  function refuse(res: ServerResponse, status: 400 | 401, reason: string, route: string): void {
    logger.warn({ route, status, reason }, 'wecom callback refused');
    sendText(res, status, `WeCom callback refused: ${reason}.`);
  }

  async function verifyUrl(ctx: RouteContext): Promise<void> {
    const q = ctx.url.searchParams;
    const signature = q.get('msg_signature');
    const timestamp = q.get('timestamp');
    const nonce = q.get('nonce');
    // Base64 never holds spaces: a "+" that arrived unencoded was decoded as one.
    const echostr = q.get('echostr')?.replace(/ /g, '+');
    if (!signature || !timestamp || !nonce || !echostr) {
      return refuse(ctx.res, 400, 'missing msg_signature, timestamp, nonce or echostr', 'GET');
    }
    const v = verifyAndDecrypt(signature, timestamp, nonce, echostr);
    if (!v.ok) return refuse(ctx.res, v.status, v.reason, 'GET');
    logger.info('wecom callback URL verified');
    sendText(ctx.res, 200, v.message);
  }

  async function receive(ctx: RouteContext): Promise<void> {
    const q = ctx.url.searchParams;
    const signature = q.get('msg_signature');
    const timestamp = q.get('timestamp');
    const nonce = q.get('nonce');
    if (!signature || !timestamp || !nonce) return refuse(ctx.res, 400, 'missing msg_signature, timestamp or nonce', 'POST');
    if (!/^\d{1,12}$/.test(timestamp)) return refuse(ctx.res, 400, 'timestamp is not a number of seconds', 'POST');

    const body = (await ctx.body()).toString('utf8');
    if (DOCTYPE.test(body)) return refuse(ctx.res, 400, DOCTYPE_REFUSAL, 'POST');
    const outer = parseXml(outerParser, body, outerSchema);
    if (!outer) return refuse(ctx.res, 400, 'the body is not WeCom callback XML with an Encrypt element', 'POST');

    const v = verifyAndDecrypt(signature, timestamp, nonce, outer.xml.Encrypt);
    if (!v.ok) return refuse(ctx.res, v.status, v.reason, 'POST');
    // Checked after the signature, so the timestamp is the one WeCom signed.
    if (Math.abs(now() - Number(timestamp) * 1000) > maxSkewMs) {
      return refuse(ctx.res, 401, `timestamp is more than ${maxSkewMs / 1000} s from now (a replay, or a clock problem)`, 'POST');
    }

    if (DOCTYPE.test(v.message)) return refuse(ctx.res, 400, `the decrypted message: ${DOCTYPE_REFUSAL}`, 'POST');
    const inner = parseXml(innerParser, v.message, z.object({ xml: innerMessageSchema }));
    if (!inner) return refuse(ctx.res, 400, 'the decrypted payload is not a WeCom message', 'POST');
    const msg = inner.xml;
    if (msg.MsgType === 'text' && msg.Content === undefined) return refuse(ctx.res, 400, 'a text message without Content', 'POST');

    // Claimed in the database: a retry or a replay is dropped even after a restart, or by another process.
    let first: boolean;
    try {
      first = await claimOnce(bot.app.db, dedupeScope, dedupeKey(msg), bot.app.clock(), dedupeTtlMs);
    } catch (err) {
      // Without the store, "once" cannot be promised: not handled, and WeCom tries again.
      logger.error({ err: errorMessage(err), msgType: msg.MsgType, event: msg.Event }, 'could not record the wecom callback; answering 503 so WeCom retries');
      sendText(ctx.res, 503, 'WeCom callback not handled: the store is unavailable; retry later.');
      return;
    }
    if (!first) {
      logger.info({ msgType: msg.MsgType, event: msg.Event }, 'wecom callback delivered again (retry or replay); acknowledged and dropped');
      sendText(ctx.res, 200, '');
      return;
    }
    // Answer first: WeCom retries anything not answered within 5 seconds.
    sendText(ctx.res, 200, '');
    const job = handleInner(msg)
      .catch((err: unknown) => logger.error({ err: errorMessage(err), msgType: msg.MsgType, event: msg.Event }, 'wecom callback handling failed'))
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
  }

  // ---- events → bot → replies ---------------------------------------------------------------

  async function handleInner(msg: InnerMessage): Promise<void> {
    const event = toChatEvent(msg);
    if (!event) {
      logger.debug({ msgType: msg.MsgType, event: msg.Event }, 'wecom callback ignored');
      return;
    }
    if (event.kind === 'action' && msg.TaskId && msg.ResponseCode) {
      // A click hands out a fresh response_code for this card: keep it for later updates.
      const state = cards.get(msg.TaskId);
      cards.set(msg.TaskId, { userId: state?.userId ?? event.userId, responseCode: msg.ResponseCode });
      codeToTask.set(msg.ResponseCode, msg.TaskId);
    }
    logger.debug({ kind: event.kind, userId: event.userId }, 'wecom event');
    const replies = await bot.handle(event);
    await deliver(event, replies);
  }

  function toChatEvent(msg: InnerMessage): ChatEvent | undefined {
    const base = {
      platform: 'wecom' as const,
      userId: msg.FromUserName,
      room: { platform: 'wecom' as const, id: msg.FromUserName, kind: 'dm' as const },
      at: new Date(Number(msg.CreateTime) * 1000),
    };
    if (msg.MsgType === 'text') {
      const text = msg.Content ?? '';
      const command = parseCommand(text);
      return command ? { ...base, kind: 'command', ...command } : { ...base, kind: 'message', text };
    }
    if (msg.MsgType === 'event' && msg.Event === 'template_card_event' && msg.EventKey) {
      const { actionId, value } = decodeButtonKey(msg.EventKey);
      return {
        ...base,
        kind: 'action',
        actionId,
        value,
        ...(msg.ResponseCode ? { message: { platform: 'wecom' as const, roomId: msg.FromUserName, id: msg.ResponseCode } } : {}),
      };
    }
    return undefined;
  }

  async function deliver(event: ChatEvent, replies: BotReply[]): Promise<void> {
    let responseCode = event.kind === 'action' ? event.message?.id : undefined;
    for (const reply of replies) {
      if (reply.replaceOriginal && responseCode) {
        await replaceCard(event.userId, responseCode, reply.message);
        responseCode = undefined; // a response_code works once
        continue;
      }
      // A WeCom app talks to people one to one: private or not, the reply goes to the asker.
      await sendToUser(event.userId, reply.message);
    }
  }

  // ---- sending ------------------------------------------------------------------------------

  async function sendToUser(userId: string, message: OutgoingMessage, updated = false): Promise<MessageRef> {
    const lang = langOf(message);
    if (message.buttons?.length) {
      const shown = updated ? { ...message, title: `${t(lang, '（已更新）', '(updated) ')}${message.title ?? ''}` } : message;
      const card = renderWeComTemplateCard(shown);
      const r = await client.sendMessage({ touser: userId, msgtype: 'template_card', template_card: card });
      checkDelivered(userId, r.invaliduser);
      cards.set(card.task_id, { userId, ...(r.response_code ? { responseCode: r.response_code } : {}) });
      if (r.response_code) codeToTask.set(r.response_code, card.task_id);
      return { platform: 'wecom', roomId: userId, id: card.task_id };
    }
    const content = renderWeComMarkdown(message, updated ? { banner: t(lang, '（已更新）', '(updated)') } : {});
    const r = await client.sendMessage({ touser: userId, msgtype: 'markdown', markdown: { content } });
    checkDelivered(userId, r.invaliduser);
    return { platform: 'wecom', roomId: userId, id: newMessageId() };
  }

  async function sendToChat(chatid: string, message: OutgoingMessage, updated = false): Promise<MessageRef> {
    const lang = langOf(message);
    // Long messages (the incident card) go out in parts, in order, rather than cut short.
    for (const content of renderWeComMarkdownParts(message, { buttons: 'hints', ...(updated ? { banner: t(lang, '（已更新）', '(updated)') } : {}) })) {
      await client.sendToChat({ chatid, msgtype: 'markdown', markdown: { content } });
    }
    return { platform: 'wecom', roomId: chatid, id: newMessageId() };
  }

  async function repost(roomId: string, message: OutgoingMessage): Promise<void> {
    if (isAppChat(roomId)) await sendToChat(roomId, message, true);
    else await sendToUser(roomId, message, true);
  }

  /**
   * Replace a card through its response_code: a whole new card when the message has buttons,
   * otherwise the clicked button becomes a non-clickable label and anything more than that label
   * follows as a direct message. A code WeCom refuses (used, expired) falls back to a new message.
   */
  async function replaceCard(userId: string, responseCode: string, message: OutgoingMessage): Promise<void> {
    consumeCode(responseCode);
    try {
      if (message.buttons?.length) {
        const card = renderWeComTemplateCard(message);
        await client.updateTemplateCard({ userids: [userId], response_code: responseCode, template_card: card });
        cards.set(card.task_id, { userId });
        return;
      }
      const full = (message.title ?? message.text).trim();
      const label = clip(full.replace(/\s*\n\s*/g, ' '), 10);
      await client.updateTemplateCard({ userids: [userId], response_code: responseCode, button: { replace_name: label || '✓' } });
      const more = label !== full || Boolean(message.title && message.text) || Boolean(message.fields?.length || message.sections?.length || message.context?.length);
      if (more) await sendToUser(userId, message);
    } catch (err) {
      if (!isWarroomError(err) || err.code !== 'wecom_api_error') throw err;
      logger.warn({ err: err.message, userId }, 'wecom card update refused; sending the content as a new message');
      await sendToUser(userId, message, true);
    }
  }

  function consumeCode(code: string): void {
    usedCodes.set(code, true);
    const task = codeToTask.get(code);
    const state = task ? cards.get(task) : undefined;
    if (task && state?.responseCode === code) cards.set(task, { userId: state.userId });
  }

  function checkDelivered(userId: string, invalid: string | undefined): void {
    if (invalid && invalid.split('|').includes(userId)) {
      throw new WarroomError('wecom_invalid_user', `WeCom did not deliver the message: "${userId}" is not a member the app can reach.`, {
        hint: "Check the person's WeCom userid in people.wecom and the app's visible range.",
      });
    }
  }

  // ---- ChatPlatform -------------------------------------------------------------------------

  const platform: ChatPlatform = {
    name: 'wecom',
    // appchat/send has no interactive cards: buttons reach people as template cards in their app chat.
    roomButtons: false,
    // Markdown messages cannot be edited: `update` sends them again, marked as updated.
    editsMessages: false,

    userIdOf(person) {
      return person.wecom ?? undefined;
    },

    async createRoom(spec: CreateRoomSpec): Promise<RoomRef> {
      const members = [...new Set(spec.memberIds.map((m) => m.trim()).filter(Boolean))];
      if (members.length < 2) {
        throw new WarroomError(
          'wecom_room_too_small',
          `WeCom group chats need at least 2 members; "${spec.name}" has ${members.length} (${members.join(', ') || 'nobody with a WeCom id'}).`,
          { hint: 'Add a second responder with a WeCom userid, or work with the person in a direct message.' },
        );
      }
      const name = clip(spec.name.replace(/\s+/g, ' ').trim() || 'Warroom', CHAT_NAME_MAX_CHARS);
      // With a key the chat id is fixed before the first attempt: creating again finds that chat.
      const wanted = spec.key && /^[0-9a-f]{26}$/.test(spec.key) ? `wrchat${spec.key}` : newChatId();
      let chatid: string;
      try {
        ({ chatid } = await client.createChat({ name, owner: members[0] as string, userlist: members, chatid: wanted }));
      } catch (err) {
        if (!spec.key || wecomErrcode(err) !== CHATID_EXISTS) throw err;
        // Made by an earlier attempt that did not live to record it: bring in whoever is missing.
        chatid = wanted;
        knownChats.add(chatid);
        await client.updateChat({ chatid, add_user_list: members });
        logger.info({ chatid }, 'wecom chat already existed (an earlier attempt made it); reused');
        return { platform: 'wecom', id: chatid, name };
      }
      knownChats.add(chatid);
      const room: RoomRef = { platform: 'wecom', id: chatid, name };
      if (spec.topic.trim()) {
        try {
          await sendToChat(chatid, { text: `【话题】${spec.topic}` });
        } catch (err) {
          // The room exists and people are in it; a missing topic line must not lose it.
          logger.warn({ err: errorMessage(err), chatid }, 'wecom room created but its topic could not be posted');
        }
      }
      return room;
    },

    async invite(room, memberIds) {
      const add = [...new Set(memberIds.map((m) => m.trim()).filter(Boolean))];
      if (!add.length) return;
      await client.updateChat({ chatid: room.id, add_user_list: add });
    },

    async post(room, message) {
      return isAppChat(room.id) ? sendToChat(room.id, message) : sendToUser(room.id, message);
    },

    async update(ref, message) {
      if (ref.id.startsWith('wr-msg-')) return repost(ref.roomId, message);
      const state = cards.get(ref.id);
      if (state) {
        if (state.responseCode && !usedCodes.has(state.responseCode)) return replaceCard(state.userId, state.responseCode, message);
        return repost(state.userId, message);
      }
      if (isWarroomTaskId(ref.id) || usedCodes.has(ref.id)) return repost(ref.roomId, message);
      return replaceCard(ref.roomId, ref.id, message);
    },

    async pin() {
      return false;
    },

    async setTopic(room, topic) {
      await platform.post(room, { text: `【话题】${topic}` });
      return false;
    },

    async sendDirect(userId, message) {
      return sendToUser(userId, message);
    },

    statusRoom() {
      return options.statusChat ? { platform: 'wecom', id: options.statusChat } : undefined;
    },
  };

  const settled = async (): Promise<void> => {
    while (inFlight.size) await Promise.allSettled([...inFlight]);
  };

  const routes: Route[] = [
    { method: 'GET', path: WECOM_CALLBACK_PATH, handler: verifyUrl },
    // WeCom's XML and msg_signature, checked by `receive`.
    { method: 'POST', path: WECOM_CALLBACK_PATH, handler: receive, screen: 'signed' },
  ];

  return {
    platform,
    routes,
    async start() {},
    async stop() {
      await settled();
    },
    settled,
  };
}

// ---- helpers --------------------------------------------------------------------------------

/**
 * "/incident declare …" and "incident declare …" are the incident command; "/warroom …" is the
 * warroom command. Anything else is a message.
 */
export function parseCommand(text: string): { command: 'incident' | 'warroom'; text: string } | undefined {
  const trimmed = text.trim();
  const incident = /^(?:\/incident(?:\s+([\s\S]*))?|incident\s+([\s\S]+))$/i.exec(trimmed);
  if (incident) return { command: 'incident', text: (incident[1] ?? incident[2] ?? '').trim() };
  const warroom = /^\/warroom(?:\s+([\s\S]*))?$/i.exec(trimmed);
  if (warroom) return { command: 'warroom', text: (warroom[1] ?? '').trim() };
  return undefined;
}

/** WeCom retries a callback up to three times; these identify one delivery. */
function dedupeKey(msg: InnerMessage): string {
  if (msg.MsgType !== 'event') {
    if (msg.MsgId) return `msg:${msg.MsgId}`;
    const digest = createHash('sha256').update(msg.Content ?? '').digest('hex').slice(0, 16);
    return `msg:${msg.FromUserName}:${msg.CreateTime}:${digest}`;
  }
  return `evt:${msg.FromUserName}:${msg.CreateTime}:${msg.Event ?? ''}:${msg.EventKey ?? ''}:${msg.TaskId ?? ''}`;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * XML's own escapes in element text outside CDATA: the five predefined entities and character
 * references. Any other `&name;` stays as written (nothing a document declares is expanded).
 */
export function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:(lt|gt|amp|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/g, (whole, name: string | undefined, dec: string | undefined, hexa: string | undefined) => {
    if (name) return PREDEFINED[name]!;
    const code = dec !== undefined ? Number(dec) : Number.parseInt(hexa!, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** Parsed XML with text decoded and CDATA sections (kept as written) joined back into their element's string. */
function decodeXmlValues(v: unknown): unknown {
  if (typeof v === 'string') return decodeXmlText(v);
  if (Array.isArray(v)) return v.map(decodeXmlValues);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.includes(CDATA_KEY) && keys.every((k) => k === CDATA_KEY || k === '#text')) {
      const parts = ([] as unknown[]).concat(o[CDATA_KEY]).map(String);
      return `${typeof o['#text'] === 'string' ? decodeXmlText(o['#text']) : ''}${parts.join('')}`;
    }
    return Object.fromEntries(keys.map((k) => [k, decodeXmlValues(o[k])]));
  }
  return v;
}

function parseXml<T extends z.ZodTypeAny>(parser: XMLParser, xml: string, schema: T): z.output<T> | undefined {
  try {
    const parsed = schema.safeParse(decodeXmlValues(parser.parse(xml, true)));
    return parsed.success ? (parsed.data as z.output<T>) : undefined;
  } catch {
    return undefined;
  }
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A chat id WeCom accepts (≤ 32 of [0-9a-zA-Z]) and Warroom recognises after a restart. */
/** appchat/create's errcode for a chat id that is taken. */
const CHATID_EXISTS = 86215;

function wecomErrcode(err: unknown): number | undefined {
  const cause = err instanceof Error ? (err.cause as { errcode?: unknown } | undefined) : undefined;
  return typeof cause?.errcode === 'number' ? cause.errcode : undefined;
}

function newChatId(): string {
  return `wrchat${randomBytes(13).toString('hex')}`;
}

function newMessageId(): string {
  return `wr-msg-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** A Map that forgets its oldest entries beyond `max`. */
class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  has(key: K): boolean {
    return this.map.has(key);
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }
}
