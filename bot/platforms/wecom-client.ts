import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { errorMessage, WarroomError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/**
 * A small typed client for the WeCom (企业微信) server API of a self-built app.
 *
 * - The access token is fetched with `gettoken`, cached until shortly before `expires_in`, and
 *   fetched once for all concurrent callers (single flight).
 * - An answer saying the token is invalid or expired (40014, 42001, 40001) drops the cached token,
 *   fetches a new one and retries the call exactly once.
 * - HTTP 429 waits `Retry-After` and retries; errcode 45009 (frequency limit) backs off and retries;
 *   both a bounded number of times.
 * - Every answer is checked with zod; errcode ≠ 0 becomes a WarroomError naming the method,
 *   errcode and errmsg. Neither the secret nor the access token ever appears in an error or a log.
 */

export const DEFAULT_WECOM_API_URL = 'https://qyapi.weixin.qq.com/cgi-bin';

/** errcodes that mean "this access_token is no good": 40014 invalid, 42001 expired, 40001 invalid credential. */
const TOKEN_ERRCODES = new Set([40014, 42001, 40001]);
/** errcode for WeCom's API frequency limit. */
const FREQUENCY_LIMIT_ERRCODE = 45009;

// ---- request bodies -------------------------------------------------------------------------

export interface WeComTemplateCardButton {
  /** 0 (or absent) = callback button, 1 = jump to url. */
  type?: 0 | 1;
  text: string;
  /** 1–4; WeCom defaults to 1. */
  style?: 1 | 2 | 3 | 4;
  /** Returned as EventKey in template_card_event; ≤ 1024 bytes, unique within the card. */
  key?: string;
  url?: string;
}

export interface WeComHorizontalContent {
  type?: 0 | 1 | 2 | 3;
  keyname: string;
  value?: string;
  url?: string;
  userid?: string;
}

/** The template card shapes Warroom sends (button_interaction, and text_notice when updating). */
export interface WeComTemplateCard {
  card_type: 'button_interaction' | 'text_notice';
  source?: { icon_url?: string; desc?: string; desc_color?: 0 | 1 | 2 | 3 };
  main_title?: { title?: string; desc?: string };
  sub_title_text?: string;
  horizontal_content_list?: WeComHorizontalContent[];
  /** ≤ 128 bytes of [A-Za-z0-9_@-], unique per app. */
  task_id?: string;
  button_list?: WeComTemplateCardButton[];
  card_action?: { type: 0 | 1 | 2; url?: string; appid?: string; pagepath?: string };
  replace_text?: string;
}

interface SendMessageBase {
  /** userid1|userid2 */
  touser?: string;
  toparty?: string;
  totag?: string;
  /** Defaults to the client's agent id. */
  agentid?: number;
  safe?: 0 | 1;
  enable_id_trans?: 0 | 1;
  enable_duplicate_check?: 0 | 1;
  duplicate_check_interval?: number;
}

export type SendMessageBody = SendMessageBase &
  (
    | { msgtype: 'text'; text: { content: string } }
    | { msgtype: 'markdown'; markdown: { content: string } }
    | { msgtype: 'template_card'; template_card: WeComTemplateCard }
  );

export interface CreateChatBody {
  /** ≤ 50 UTF-8 characters (WeCom truncates longer names). */
  name: string;
  owner: string;
  /** At least 2 and at most 2000 members. */
  userlist: string[];
  /** ≤ 32 characters of [0-9a-zA-Z]; WeCom generates one when absent. */
  chatid?: string;
}

export interface UpdateChatBody {
  chatid: string;
  name?: string;
  owner?: string;
  add_user_list?: string[];
  del_user_list?: string[];
}

export type SendToChatBody = { chatid: string; safe?: 0 | 1 } & (
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'markdown'; markdown: { content: string } }
);

export interface UpdateTemplateCardBody {
  userids?: string[];
  partyids?: number[];
  tagids?: number[];
  atall?: 0 | 1;
  /** Defaults to the client's agent id. */
  agentid?: number;
  /** From message/send or the template_card_event callback; usable once, for 72 hours. */
  response_code: string;
  /** Turn the clicked button into a non-clickable one with this text. */
  button?: { replace_name: string };
  /** Or replace the whole card. */
  template_card?: WeComTemplateCard;
}

// ---- answers --------------------------------------------------------------------------------

const baseAnswer = z.object({ errcode: z.number().int(), errmsg: z.string().default('') }).passthrough();

const tokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.number().int().positive() });

const sendMessageAnswer = z.object({
  msgid: z.string().optional(),
  /** Present for cards that can call back (button_interaction…): lets update_template_card run once. */
  response_code: z.string().optional(),
  invaliduser: z.string().optional(),
  invalidparty: z.string().optional(),
  invalidtag: z.string().optional(),
  unlicenseduser: z.string().optional(),
});
export type SendMessageResult = z.infer<typeof sendMessageAnswer>;

const createChatAnswer = z.object({ chatid: z.string().min(1) });
const emptyAnswer = z.object({});

// ---- the client -----------------------------------------------------------------------------

export interface WeComClientOptions {
  corpId: string;
  secret: string;
  agentId: number;
  /** Default https://qyapi.weixin.qq.com/cgi-bin (WECOM_API_URL). */
  apiUrl?: string;
  logger?: Logger;
  /** Retries after HTTP 429 or errcode 45009, each; default 3. */
  maxRetries?: number;
  /** Longest wait honoured from a Retry-After header; default 30 s. */
  maxRetryAfterMs?: number;
  /** First backoff after errcode 45009 (doubles each time); default 1 s. */
  backoffMs?: number;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  /** Refresh the token this long before WeCom says it expires; default 5 minutes. */
  tokenMarginMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

export class WeComClient {
  readonly agentId: number;
  private readonly corpId: string;
  private readonly secret: string;
  private readonly base: string;
  private readonly logger: Logger | undefined;
  private readonly maxRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly tokenMarginMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private token: CachedToken | undefined;
  private tokenInFlight: Promise<CachedToken> | undefined;
  /** How many times a token was fetched (for metrics and tests). */
  tokenFetches = 0;

  constructor(options: WeComClientOptions) {
    if (!options.corpId) throw new WarroomError('wecom_config', 'WeCom client needs a corp id (WECOM_CORP_ID).');
    if (!options.secret) throw new WarroomError('wecom_config', 'WeCom client needs the app secret (WECOM_SECRET).');
    if (!Number.isInteger(options.agentId) || options.agentId <= 0) {
      throw new WarroomError('wecom_config', `WeCom client needs a positive integer agent id (WECOM_AGENT_ID), got ${String(options.agentId)}.`);
    }
    this.corpId = options.corpId;
    this.secret = options.secret;
    this.agentId = options.agentId;
    this.base = (options.apiUrl ?? DEFAULT_WECOM_API_URL).replace(/\/+$/, '');
    this.logger = options.logger;
    this.maxRetries = options.maxRetries ?? 3;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.backoffMs = options.backoffMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.tokenMarginMs = options.tokenMarginMs ?? 5 * 60_000;
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** message/send: text, markdown or template_card to users. */
  async sendMessage(body: SendMessageBody): Promise<SendMessageResult> {
    return this.call('message/send', { ...body, agentid: body.agentid ?? this.agentId }, sendMessageAnswer);
  }

  /** appchat/create: a group chat owned by the app. WeCom needs at least two members. */
  async createChat(body: CreateChatBody): Promise<{ chatid: string }> {
    const members = [...new Set(body.userlist.filter(Boolean))];
    if (members.length < 2) {
      throw new WarroomError('wecom_chat_too_small', `A WeCom group chat needs at least 2 members; got ${members.length} (${members.join(', ') || 'none'}).`, {
        hint: 'Add another member (e.g. the on-call engineer), or talk to the person in a direct message.',
      });
    }
    if (members.length > 2000) throw new WarroomError('wecom_chat_too_large', `A WeCom group chat holds at most 2000 members; got ${members.length}.`);
    if (body.chatid !== undefined && !/^[0-9a-zA-Z]{1,32}$/.test(body.chatid)) {
      throw new WarroomError('wecom_bad_chatid', `WeCom chat ids are 1–32 letters and digits; "${body.chatid}" is not.`);
    }
    return this.call('appchat/create', { ...body, userlist: members }, createChatAnswer);
  }

  /** appchat/update: rename, change owner, add or remove members. */
  async updateChat(body: UpdateChatBody): Promise<void> {
    await this.call('appchat/update', body, emptyAnswer);
  }

  /** appchat/send: text or markdown into a group chat the app created. */
  async sendToChat(body: SendToChatBody): Promise<void> {
    await this.call('appchat/send', body, emptyAnswer);
  }

  /** message/update_template_card: replace a card, or turn its clicked button into a label. */
  async updateTemplateCard(body: UpdateTemplateCardBody): Promise<void> {
    await this.call('message/update_template_card', { ...body, agentid: body.agentid ?? this.agentId }, emptyAnswer);
  }

  /** The current access token, fetched when missing or about to expire. */
  async accessToken(): Promise<string> {
    return (await this.validToken()).value;
  }

  private async validToken(): Promise<CachedToken> {
    if (this.token && this.token.expiresAt > this.now()) return this.token;
    this.tokenInFlight ??= this.fetchToken().finally(() => {
      this.tokenInFlight = undefined;
    });
    return this.tokenInFlight;
  }

  private async fetchToken(): Promise<CachedToken> {
    const url = `${this.base}/gettoken?corpid=${encodeURIComponent(this.corpId)}&corpsecret=${encodeURIComponent(this.secret)}`;
    const answer = await this.request('gettoken', url, undefined, tokenAnswer);
    if (!answer.ok) throw this.apiError('gettoken', answer.errcode, answer.errmsg);
    this.tokenFetches += 1;
    const lifetimeMs = answer.value.expires_in * 1000;
    // Refresh a margin early, but never use a margin that eats most of a short-lived token.
    const margin = Math.min(this.tokenMarginMs, lifetimeMs / 2);
    const token = { value: answer.value.access_token, expiresAt: this.now() + lifetimeMs - margin };
    this.token = token;
    return token;
  }

  private async call<T extends z.ZodTypeAny>(method: string, body: unknown, schema: T): Promise<z.output<T>> {
    let refreshed = false;
    for (;;) {
      const token = await this.validToken();
      const url = `${this.base}/${method}?access_token=${encodeURIComponent(token.value)}`;
      const answer = await this.request(method, url, body, schema);
      if (answer.ok) return answer.value;
      if (TOKEN_ERRCODES.has(answer.errcode) && !refreshed) {
        refreshed = true;
        // Only drop the token this call used: concurrent callers that already refreshed keep theirs.
        if (this.token === token) this.token = undefined;
        this.logger?.info({ method, errcode: answer.errcode }, 'wecom access token rejected; refreshing once');
        continue;
      }
      throw this.apiError(method, answer.errcode, answer.errmsg);
    }
  }

  /**
   * One API call with the 429 / 45009 retries. Answers `ok: false` for errcode ≠ 0 so the caller
   * can decide about token errors; throws for transport, HTTP and validation failures.
   */
  private async request<T extends z.ZodTypeAny>(
    method: string,
    url: string,
    body: unknown,
    schema: T,
  ): Promise<{ ok: true; value: z.output<T> } | { ok: false; errcode: number; errmsg: string }> {
    const safeUrl = redactWeComUrl(url);
    for (let attempt = 0; ; attempt++) {
      const started = this.now();
      let res: Response;
      try {
        res = await this.fetchImpl(url, {
          method: body === undefined ? 'GET' : 'POST',
          headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        this.logger?.warn({ method, url: safeUrl, err: this.scrub(errorMessage(err)) }, 'wecom request failed');
        throw new WarroomError('wecom_unreachable', `WeCom ${method} could not be reached at ${safeUrl}: ${this.scrub(errorMessage(err))}`, {
          status: 502,
          hint: 'Check WECOM_API_URL and the network path to WeCom.',
        });
      }
      if (res.status === 429 && attempt < this.maxRetries) {
        const waitMs = Math.min(retryAfterMs(res.headers.get('retry-after')) ?? this.backoff(attempt), this.maxRetryAfterMs);
        await res.arrayBuffer().catch(() => undefined);
        this.logger?.warn({ method, url: safeUrl, status: 429, waitMs, attempt: attempt + 1 }, 'wecom rate limited; retrying');
        await sleep(waitMs);
        continue;
      }
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        this.logger?.warn({ method, url: safeUrl, status: res.status, ms: this.now() - started }, 'wecom http error');
        throw new WarroomError('wecom_http_error', `WeCom ${method} answered HTTP ${res.status}${res.status === 429 ? ` (still rate limited after ${this.maxRetries} retries)` : ''}.`, {
          status: 502,
        });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new WarroomError('wecom_bad_answer', `WeCom ${method} answered something that is not JSON (${text.length} bytes).`, { status: 502 });
      }
      const base = baseAnswer.safeParse(json);
      if (!base.success) {
        throw new WarroomError('wecom_bad_answer', `WeCom ${method} answered JSON without a numeric errcode.`, { status: 502 });
      }
      const { errcode, errmsg } = base.data;
      this.logger?.debug({ method, url: safeUrl, status: res.status, errcode, ms: this.now() - started }, 'wecom call');
      if (errcode === FREQUENCY_LIMIT_ERRCODE && attempt < this.maxRetries) {
        const waitMs = this.backoff(attempt);
        this.logger?.warn({ method, url: safeUrl, errcode, waitMs, attempt: attempt + 1 }, 'wecom frequency limit; backing off');
        await sleep(waitMs);
        continue;
      }
      if (errcode !== 0) return { ok: false, errcode, errmsg };
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new WarroomError('wecom_bad_answer', `WeCom ${method} answered errcode 0 but an unexpected shape: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}.`, {
          status: 502,
        });
      }
      return { ok: true, value: parsed.data as z.output<T> };
    }
  }

  /** Exponential backoff with jitter: base, 2×base, 4×base… ± 20 %. */
  private backoff(attempt: number): number {
    const ms = this.backoffMs * 2 ** attempt;
    return Math.round(ms * (0.8 + Math.random() * 0.4));
  }

  private apiError(method: string, errcode: number, errmsg: string): WarroomError {
    const hint = errcode === 40001 && method === 'gettoken' ? 'Check WECOM_SECRET: it must be the secret of the self-built app.' : errcode === 40013 ? 'Check WECOM_CORP_ID.' : undefined;
    return new WarroomError('wecom_api_error', `WeCom ${method} failed: errcode ${errcode} (${this.scrub(errmsg) || 'no errmsg'}).`, {
      status: 502,
      // The errcode, for callers that handle particular ones (86215: the chat id is taken).
      cause: { errcode },
      ...(hint ? { hint } : {}),
    });
  }

  /** Remove the secret and any access token from text that came back from the network. */
  private scrub(text: string): string {
    let out = text.split(this.secret).join('[secret]');
    if (this.token) out = out.split(this.token.value).join('[access_token]');
    return redactWeComUrl(out);
  }
}

/** A WeCom URL (or text containing one) with access_token and corpsecret values replaced. */
export function redactWeComUrl(text: string): string {
  return text.replace(/([?&](?:access_token|corpsecret)=)[^&#\s"';,)]*/gi, '$1***');
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(header);
  if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  return undefined;
}
