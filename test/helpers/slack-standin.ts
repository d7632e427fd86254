import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Slack Web API (POST /api/<method>), for tests and the benchmark.
 * It keeps channels, members, topics, pins and messages, answers in Slack's shapes and error codes,
 * records every call, and can be slowed down (latencyMs) or told to rate-limit a method once.
 */

export interface SlackStandinCall {
  method: string;
  /** The parsed body, token removed; JSON-valued form fields (blocks, attachments) decoded. */
  body: Record<string, unknown>;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** The HTTP status it was answered with (429 when rate-limited). */
  status: number;
  /** The `error` of an ok:false answer. */
  error?: string;
}

export interface StandinMessage {
  ts: string;
  channel: string;
  text: string;
  blocks?: unknown[];
  user?: string;
  bot_id?: string;
  thread_ts?: string;
  edited?: { user: string; ts: string };
  /** chat.postMessage's `metadata` ({event_type, event_payload}), returned with include_all_metadata. */
  metadata?: Record<string, unknown>;
}

export interface StandinEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  message_ts: string;
}

export interface StandinChannel {
  id: string;
  name: string;
  isIm: boolean;
  members: Set<string>;
  topic: string;
  /** Timestamps of pinned messages. */
  pins: string[];
  /** Oldest first. */
  messages: StandinMessage[];
  ephemerals: StandinEphemeral[];
  created: number;
}

export interface SlackStandinOptions {
  /** Delay before each answer, in ms. */
  latencyMs?: number;
  /** Delay before answering particular methods, in ms (instead of latencyMs), e.g. `{'chat.postMessage': 3000}`. */
  methodLatencyMs?: Record<string, number>;
  /** The bot token the stand-in accepts (default: a random xoxb- token). */
  token?: string;
}

export interface SlackStandin {
  /** Base URL ending in `/api/`, for `SLACK_API_URL` / `apiUrl`. */
  url: string;
  token: string;
  teamId: string;
  botUserId: string;
  botId: string;
  calls: SlackStandinCall[];
  channels: Map<string, StandinChannel>;
  callsOf(method: string): SlackStandinCall[];
  /** Answer the next call of `method` with HTTP 429 and `Retry-After: retryAfterSeconds`. */
  rateLimitNext(method: string, retryAfterSeconds: number): void;
  /** Slow down (or, with 0, speed up again) one method from now on. */
  setLatency(method: string, ms: number): void;
  /** Answer the next call of `method` with `{ok:false, error}`. */
  failNext(method: string, error: string): void;
  /** A channel that exists before the test (the bot is a member unless `botMember` is false). */
  addChannel(channel: { id?: string; name: string; members?: string[]; botMember?: boolean; isIm?: boolean }): StandinChannel;
  /** A message a person wrote, e.g. one that will be flagged with a reaction. */
  addMessage(channelId: string, message: { text: string; user: string; ts?: string }): StandinMessage;
  channelByName(name: string): StandinChannel | undefined;
  /** Wait until `check` holds (polling), or fail naming what was awaited. */
  waitFor(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type Answer = { status?: number; headers?: Record<string, string>; body: Record<string, unknown> };
type Handler = (body: Record<string, unknown>) => Answer['body'];

const jsonFields = new Set(['blocks', 'attachments', 'metadata']);

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) {
    const parsed = raw ? (JSON.parse(raw) as unknown) : {};
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (jsonFields.has(k)) {
      try {
        out[k] = JSON.parse(v) as unknown;
        continue;
      } catch {
        // Slack answers invalid_blocks; keep the raw string so the handler can.
      }
    }
    out[k] = v;
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const truthy = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;

function fail(error: string, extra: Record<string, unknown> = {}): Answer['body'] {
  return { ok: false, error, ...extra };
}

export async function startSlackStandin(options: SlackStandinOptions = {}): Promise<SlackStandin> {
  const token = options.token ?? `xoxb-standin-${randomBytes(8).toString('hex')}`;
  const teamId = 'T0WARROOM';
  const botUserId = 'U0WARBOT';
  const botId = 'B0WARBOT';
  const calls: SlackStandinCall[] = [];
  const channels = new Map<string, StandinChannel>();
  const rateLimits = new Map<string, number[]>();
  const failures = new Map<string, string[]>();
  const methodLatency = new Map<string, number>(Object.entries(options.methodLatencyMs ?? {}));
  let idCounter = 0;
  let tsCounter = 0;

  const nextId = (prefix: 'C' | 'D') => `${prefix}0${String(++idCounter).padStart(8, '0')}`;
  /** Increasing Slack timestamps: seconds.microseconds, 100 µs apart. */
  const nextTs = () => {
    const micros = 100 * ++tsCounter;
    return `${1700000000 + Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  };

  function channelJson(c: StandinChannel): Record<string, unknown> {
    return {
      id: c.id,
      name: c.isIm ? undefined : c.name,
      is_channel: !c.isIm,
      is_im: c.isIm,
      is_private: false,
      is_member: c.members.has(botUserId),
      created: c.created,
      creator: botUserId,
      topic: { value: c.topic, creator: c.topic ? botUserId : '', last_set: c.topic ? c.created : 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      num_members: c.members.size,
    };
  }

  function addChannel(spec: { id?: string; name: string; members?: string[]; botMember?: boolean; isIm?: boolean }): StandinChannel {
    const c: StandinChannel = {
      id: spec.id ?? nextId(spec.isIm ? 'D' : 'C'),
      name: spec.name,
      isIm: spec.isIm ?? false,
      members: new Set([...(spec.members ?? []), ...(spec.botMember === false ? [] : [botUserId])]),
      topic: '',
      pins: [],
      messages: [],
      ephemerals: [],
      created: Math.floor(Date.now() / 1000),
    };
    channels.set(c.id, c);
    return c;
  }

  function channelByName(name: string): StandinChannel | undefined {
    for (const c of channels.values()) if (!c.isIm && c.name === name) return c;
    return undefined;
  }

  /** `channel` as chat.postMessage takes it: a C…/D… id, or a user id (opens the app's DM with them). */
  function resolveChannel(id: string | undefined, allowUser: boolean): StandinChannel | undefined {
    if (!id) return undefined;
    const found = channels.get(id);
    if (found) return found;
    if (allowUser && /^[UW][A-Z0-9]+$/.test(id)) {
      for (const c of channels.values()) if (c.isIm && c.members.has(id)) return c;
      return addChannel({ name: id, members: [id], isIm: true });
    }
    return undefined;
  }

  function messageJson(m: StandinMessage): Record<string, unknown> {
    return {
      type: 'message',
      ts: m.ts,
      text: m.text,
      ...(m.user ? { user: m.user } : {}),
      ...(m.bot_id ? { bot_id: m.bot_id, app_id: 'A0WARROOM' } : {}),
      ...(m.blocks ? { blocks: m.blocks } : {}),
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      ...(m.edited ? { edited: m.edited } : {}),
      team: teamId,
    };
  }

  /** conversations.history leaves metadata out unless asked for it (include_all_metadata). */
  function historyJson(m: StandinMessage, withMetadata: boolean): Record<string, unknown> {
    return { ...messageJson(m), ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}) };
  }

  function messageContent(body: Record<string, unknown>): { text: string; blocks?: unknown[] } | string {
    const text = str(body.text) ?? '';
    const blocks = body.blocks;
    if (blocks !== undefined && !Array.isArray(blocks)) return 'invalid_blocks';
    if (Array.isArray(blocks) && blocks.length > 50) return 'invalid_blocks';
    if (!text && !(Array.isArray(blocks) && blocks.length)) return 'no_text';
    return { text, ...(Array.isArray(blocks) ? { blocks } : {}) };
  }

  const handlers: Record<string, Handler> = {
    'auth.test': () => ({ ok: true, url: 'https://warroom-test.slack.com/', team: 'Warroom Test', user: 'warroom', team_id: teamId, user_id: botUserId, bot_id: botId, is_enterprise_install: false }),

    'conversations.create': (body) => {
      const name = str(body.name) ?? '';
      if (!name) return fail('invalid_name_required');
      if (name.length > 80) return fail('invalid_name_maxlength');
      if (!/^[a-z0-9_-]+$/.test(name)) return fail('invalid_name_specials');
      if (channelByName(name)) return fail('name_taken');
      return { ok: true, channel: channelJson(addChannel({ name })) };
    },

    'conversations.invite': (body) => {
      const c = channels.get(str(body.channel) ?? '');
      if (!c || c.isIm) return fail('channel_not_found');
      if (!c.members.has(botUserId)) return fail('not_in_channel');
      const users = (str(body.users) ?? '').split(',').map((u) => u.trim()).filter(Boolean);
      if (!users.length) return fail('no_user');
      if (users.length > 1000) return fail('too_many_users');
      if (users.some((u) => !/^[UW][A-Z0-9]+$/.test(u))) return fail('user_not_found');
      if (users.includes(botUserId)) return fail('cant_invite_self');
      // Like Slack without force=true: one member already there refuses the whole list.
      if (users.some((u) => c.members.has(u))) return fail('already_in_channel');
      for (const u of users) c.members.add(u);
      return { ok: true, channel: channelJson(c) };
    },

    'conversations.setTopic': (body) => {
      const c = channels.get(str(body.channel) ?? '');
      if (!c) return fail('channel_not_found');
      if (!c.members.has(botUserId)) return fail('not_in_channel');
      const topic = str(body.topic) ?? '';
      if ([...topic].length > 250) return fail('too_long');
      c.topic = topic;
      return { ok: true, channel: channelJson(c) };
    },

    'conversations.info': (body) => {
      const c = channels.get(str(body.channel) ?? '');
      return c ? { ok: true, channel: channelJson(c) } : fail('channel_not_found');
    },

    'conversations.list': (body) => {
      // Paged like Slack: `cursor` is where the previous page stopped, `limit` at most 1000.
      const types = new Set((str(body.types) ?? 'public_channel').split(',').map((x) => x.trim()));
      const excludeArchived = truthy(body.exclude_archived);
      void excludeArchived; // nothing is archived here
      const limit = Math.max(1, Math.min(Number(str(body.limit) ?? 100) || 100, 1000));
      const start = Number(Buffer.from(str(body.cursor) ?? '', 'base64').toString('utf8').replace(/^offset:/, '')) || 0;
      const all = [...channels.values()].filter((c) => !c.isIm && (types.has('public_channel') || types.has('private_channel')));
      const page = all.slice(start, start + limit);
      const next = start + limit < all.length ? Buffer.from(`offset:${start + limit}`).toString('base64') : '';
      return { ok: true, channels: page.map(channelJson), response_metadata: { next_cursor: next } };
    },

    'conversations.history': (body) => {
      const c = channels.get(str(body.channel) ?? '');
      if (!c) return fail('channel_not_found');
      if (!c.members.has(botUserId)) return fail('not_in_channel');
      const latest = str(body.latest);
      const oldest = str(body.oldest);
      const inclusive = truthy(body.inclusive);
      const limit = Math.max(1, Math.min(Number(str(body.limit) ?? 100) || 100, 999));
      const cmp = (a: string, b: string) => Number(a) - Number(b);
      const matching = c.messages
        .filter((m) => !m.thread_ts || m.thread_ts === m.ts) // thread replies are not in the history
        .filter((m) => (latest === undefined ? true : inclusive ? cmp(m.ts, latest) <= 0 : cmp(m.ts, latest) < 0))
        .filter((m) => (oldest === undefined ? true : inclusive ? cmp(m.ts, oldest) >= 0 : cmp(m.ts, oldest) > 0))
        .sort((a, b) => cmp(b.ts, a.ts));
      const withMetadata = truthy(body.include_all_metadata);
      return { ok: true, messages: matching.slice(0, limit).map((m) => historyJson(m, withMetadata)), has_more: matching.length > limit, pin_count: c.pins.length };
    },

    'chat.postMessage': (body) => {
      const c = resolveChannel(str(body.channel), true);
      if (!c) return fail('channel_not_found');
      if (!c.members.has(botUserId) && !c.isIm) return fail('not_in_channel');
      const content = messageContent(body);
      if (typeof content === 'string') return fail(content);
      const threadTs = str(body.thread_ts);
      if (threadTs && !c.messages.some((m) => m.ts === threadTs)) return fail('thread_not_found');
      const metadata = typeof body.metadata === 'object' && body.metadata !== null ? (body.metadata as Record<string, unknown>) : undefined;
      const m: StandinMessage = { ts: nextTs(), channel: c.id, ...content, user: botUserId, bot_id: botId, ...(threadTs ? { thread_ts: threadTs } : {}), ...(metadata ? { metadata } : {}) };
      c.messages.push(m);
      return { ok: true, channel: c.id, ts: m.ts, message: messageJson(m) };
    },

    'chat.postEphemeral': (body) => {
      const c = resolveChannel(str(body.channel), false);
      if (!c) return fail('channel_not_found');
      if (!c.members.has(botUserId) && !c.isIm) return fail('not_in_channel');
      const user = str(body.user);
      if (!user || !/^[UW][A-Z0-9]+$/.test(user)) return fail('user_not_found');
      const content = messageContent(body);
      if (typeof content === 'string') return fail(content);
      const e: StandinEphemeral = { channel: c.id, user, ...content, message_ts: nextTs() };
      c.ephemerals.push(e);
      return { ok: true, message_ts: e.message_ts };
    },

    'chat.update': (body) => {
      const c = channels.get(str(body.channel) ?? '');
      if (!c) return fail('channel_not_found');
      const m = c.messages.find((x) => x.ts === str(body.ts));
      if (!m) return fail('message_not_found');
      if (m.bot_id !== botId) return fail('cant_update_message');
      const content = messageContent(body);
      if (typeof content === 'string') return fail(content);
      m.text = content.text;
      if (content.blocks) m.blocks = content.blocks;
      else delete m.blocks;
      m.edited = { user: botUserId, ts: nextTs() };
      return { ok: true, channel: c.id, ts: m.ts, text: m.text, message: messageJson(m) };
    },

    'pins.add': (body) => {
      const c = channels.get(str(body.channel) ?? '');
      if (!c) return fail('channel_not_found');
      if (!c.members.has(botUserId)) return fail('not_in_channel');
      const ts = str(body.timestamp);
      if (!ts || !c.messages.some((m) => m.ts === ts)) return fail('message_not_found');
      if (c.pins.includes(ts)) return fail('already_pinned');
      c.pins.push(ts);
      return { ok: true };
    },
  };

  function send(res: ServerResponse, answer: Answer): void {
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...(answer.headers ?? {}) });
    res.end(body);
  }

  async function answer(req: IncomingMessage, raw: string): Promise<Answer> {
    const method = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/^\/api\//, '');
    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, req.headers['content-type']);
    } catch {
      body = {};
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const given = bearer ?? str(body.token);
    const { token: _omitted, ...recorded } = body;
    const call: SlackStandinCall = { method, body: recorded, at: Date.now(), status: 200 };
    calls.push(call);
    const latency = methodLatency.get(method) ?? options.latencyMs;
    if (latency) await new Promise((r) => setTimeout(r, latency));

    const limited = rateLimits.get(method);
    if (limited?.length) {
      const retryAfter = limited.shift()!;
      call.status = 429;
      call.error = 'ratelimited';
      return { status: 429, headers: { 'retry-after': String(retryAfter) }, body: fail('ratelimited') };
    }
    let result: Answer['body'];
    if (!req.url?.startsWith('/api/')) {
      call.status = 404;
      return { status: 404, body: fail('unknown_method') };
    } else if (!given) result = fail('not_authed');
    else if (given !== token) result = fail('invalid_auth');
    else if (failures.get(method)?.length) result = fail(failures.get(method)!.shift()!);
    else {
      const handler = handlers[method];
      result = handler ? handler(body) : fail('unknown_method');
    }
    if (result.ok === false) call.error = String(result.error);
    return { body: result };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') return send(res, { status: 405, body: fail('method_not_allowed') });
      answer(req, Buffer.concat(chunks).toString('utf8')).then(
        (a) => send(res, a),
        (err: unknown) => send(res, { status: 500, body: fail('internal_error', { detail: String(err) }) }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    token,
    teamId,
    botUserId,
    botId,
    calls,
    channels,
    callsOf: (method) => calls.filter((c) => c.method === method),
    rateLimitNext(method, retryAfterSeconds) {
      rateLimits.set(method, [...(rateLimits.get(method) ?? []), retryAfterSeconds]);
    },
    setLatency(method, ms) {
      methodLatency.set(method, ms);
    },
    failNext(method, error) {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
    addChannel: (spec) => addChannel(spec),
    addMessage(channelId, message) {
      const c = channels.get(channelId);
      if (!c) throw new Error(`stand-in: no channel ${channelId}; addChannel it first`);
      const m: StandinMessage = { ts: message.ts ?? nextTs(), channel: c.id, text: message.text, user: message.user };
      c.messages.push(m);
      c.messages.sort((a, b) => Number(a.ts) - Number(b.ts));
      return m;
    },
    channelByName,
    async waitFor(check, what, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > until) throw new Error(`stand-in: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---- Requests as Slack sends them to /slack/events ----

/** Headers of a request signed the way Slack signs it: v0 HMAC-SHA256 of `v0:${timestamp}:${body}`. */
export function signSlackRequest(signingSecret: string, body: string, timestamp: number = Math.floor(Date.now() / 1000)): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${signature}`, 'x-slack-request-timestamp': String(timestamp) };
}

export const formContentType = 'application/x-www-form-urlencoded';
export const jsonContentType = 'application/json';

/** POST a body to `url` (…/slack/events) signed with `signingSecret`; `headers` override the signature. */
export async function postSigned(
  url: string,
  signingSecret: string,
  request: { body: string; contentType: string },
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': request.contentType, ...signSlackRequest(signingSecret, request.body), ...headers },
    body: request.body,
  });
  const body = await res.text();
  return { status: res.status, body, ms: Date.now() - started };
}

/** Slack gives every slash command and interaction its own trigger_id, so no two deliveries have the same bytes. */
function triggerId(): string {
  return `${Date.now()}.738474920.${randomBytes(16).toString('hex')}`;
}

/** A slash command as Slack posts it (form-encoded). */
export function slashCommandBody(spec: {
  command: string;
  text: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  teamId?: string;
}): { body: string; contentType: string } {
  const form = new URLSearchParams({
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: spec.teamId ?? 'T0WARROOM',
    team_domain: 'warroom-test',
    channel_id: spec.channelId ?? 'C0GENERAL',
    channel_name: spec.channelName ?? 'general',
    user_id: spec.userId ?? 'U0SONGKAI',
    user_name: spec.userName ?? 'songkai',
    command: spec.command,
    text: spec.text,
    api_app_id: 'A0WARROOM',
    is_enterprise_install: 'false',
    response_url: 'https://hooks.slack.com/commands/T0WARROOM/1234567890/abcdefABCDEF0123456789',
    trigger_id: triggerId(),
  });
  return { body: form.toString(), contentType: formContentType };
}

/** A button press (block_actions) as Slack posts it: form field `payload` holding JSON. */
export function blockActionsBody(spec: {
  actionId: string;
  value: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  messageTs: string;
  messageText?: string;
  label?: string;
}): { body: string; contentType: string } {
  const channelId = spec.channelId ?? 'C0GENERAL';
  const userId = spec.userId ?? 'U0SONGKAI';
  const payload = {
    type: 'block_actions',
    user: { id: userId, username: spec.userName ?? 'songkai', name: spec.userName ?? 'songkai', team_id: 'T0WARROOM' },
    api_app_id: 'A0WARROOM',
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    container: { type: 'message', message_ts: spec.messageTs, channel_id: channelId, is_ephemeral: false },
    trigger_id: triggerId(),
    team: { id: 'T0WARROOM', domain: 'warroom-test' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: spec.channelName ?? 'general' },
    message: {
      type: 'message',
      user: 'U0WARBOT',
      bot_id: 'B0WARBOT',
      ts: spec.messageTs,
      text: spec.messageText ?? 'Approve?',
      team: 'T0WARROOM',
      blocks: [{ type: 'actions', block_id: 'b1', elements: [{ type: 'button', action_id: spec.actionId, text: { type: 'plain_text', text: spec.label ?? 'Approve', emoji: true }, value: spec.value }] }],
    },
    state: { values: {} },
    response_url: 'https://hooks.slack.com/actions/T0WARROOM/1234567890/abcdefABCDEF0123456789',
    actions: [
      {
        action_id: spec.actionId,
        block_id: 'b1',
        text: { type: 'plain_text', text: spec.label ?? 'Approve', emoji: true },
        value: spec.value,
        type: 'button',
        action_ts: `${Math.floor(Date.now() / 1000)}.123456`,
      },
    ],
  };
  return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: formContentType };
}

let eventCounter = 0;

/** An Events API `event_callback` envelope (JSON) around `event`. */
export function eventCallbackBody(event: Record<string, unknown>, spec: { teamId?: string; botUserId?: string } = {}): { body: string; contentType: string } {
  const teamId = spec.teamId ?? 'T0WARROOM';
  eventCounter += 1;
  const envelope = {
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: teamId,
    context_team_id: teamId,
    api_app_id: 'A0WARROOM',
    event,
    type: 'event_callback',
    event_id: `Ev0${String(eventCounter).padStart(9, '0')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: spec.botUserId ?? 'U0WARBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(12).toString('base64url')}`,
  };
  return { body: JSON.stringify(envelope), contentType: jsonContentType };
}

function nowTs(): string {
  const ms = Date.now();
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}

export function appMentionEvent(spec: { text: string; user?: string; channel?: string; ts?: string; threadTs?: string }): Record<string, unknown> {
  const ts = spec.ts ?? nowTs();
  return {
    type: 'app_mention',
    user: spec.user ?? 'U0SONGKAI',
    text: spec.text,
    ts,
    team: 'T0WARROOM',
    channel: spec.channel ?? 'C0GENERAL',
    event_ts: ts,
    ...(spec.threadTs ? { thread_ts: spec.threadTs } : {}),
    blocks: [{ type: 'rich_text', block_id: 'x1', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: spec.text }] }] }],
  };
}

export function imMessageEvent(spec: { text: string; user?: string; channel?: string; ts?: string; botId?: string; subtype?: string }): Record<string, unknown> {
  const ts = spec.ts ?? nowTs();
  return {
    type: 'message',
    channel: spec.channel ?? 'D0SONGKAI',
    user: spec.user ?? 'U0SONGKAI',
    text: spec.text,
    ts,
    event_ts: ts,
    channel_type: 'im',
    team: 'T0WARROOM',
    ...(spec.botId ? { bot_id: spec.botId } : {}),
    ...(spec.subtype ? { subtype: spec.subtype } : {}),
  };
}

export function reactionAddedEvent(spec: { reaction: string; channel: string; ts: string; user?: string; itemUser?: string }): Record<string, unknown> {
  return {
    type: 'reaction_added',
    user: spec.user ?? 'U0SONGKAI',
    reaction: spec.reaction,
    item_user: spec.itemUser ?? 'U0LIWEI',
    item: { type: 'message', channel: spec.channel, ts: spec.ts },
    event_ts: nowTs(),
  };
}

export function urlVerificationBody(challenge: string): { body: string; contentType: string } {
  return { body: JSON.stringify({ token: 'gIkuvaNzQIHg97ATvDxqgjtO', challenge, type: 'url_verification' }), contentType: jsonContentType };
}
