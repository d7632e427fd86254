import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encrypt, getSignature } from '@wecom/crypto';

/**
 * A local stand-in for the WeCom server API (https://qyapi.weixin.qq.com/cgi-bin), enough for the
 * WeCom platform: gettoken, message/send, appchat/create|update|send, message/update_template_card.
 * It checks the access token on every call, WeCom's documented limits on what it is sent, records
 * every call, and can expire tokens, rate-limit a path (HTTP 429 with Retry-After) or answer the
 * frequency-limit errcode 45009. State changes are synchronous per request, so concurrent
 * callers are safe.
 *
 * Plus helpers that build real encrypted callbacks with @wecom/crypto, as WeCom would send them.
 */

/** WeCom's published sample values (企业微信 加解密 sample code). */
export const WECOM_SAMPLE = {
  corpId: 'wx5823bf96d3bd56c7',
  token: 'QDG6eK',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  /** The sample URL verification request and the plaintext it decrypts to. */
  verifyUrl: {
    msg_signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    timestamp: '1409659589',
    nonce: '263014780',
    echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
    plaintext: '1616140317555161061',
  },
} as const;

export interface StandinCall {
  /** Path under /cgi-bin, e.g. "message/send". */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** HTTP status answered. */
  status: number;
  /** errcode answered (undefined for a 429). */
  errcode?: number;
  errmsg?: string;
  /** The JSON answered (undefined for a 429). */
  response?: Record<string, unknown>;
  at: number;
}

export interface WeComStandin {
  /** Base URL to use as WECOM_API_URL: http://127.0.0.1:PORT/cgi-bin */
  url: string;
  port: number;
  corpId: string;
  secret: string;
  calls: StandinCall[];
  callsOf(path: string): StandinCall[];
  /** Bodies of successful calls to a path. */
  bodiesOf(path: string): Record<string, unknown>[];
  /** Every token issued so far stops working: the next call with one answers 42001. */
  expireToken(): void;
  /** The next call to `path` answers HTTP 429 with this Retry-After. */
  rateLimitNext(path: string, retryAfterSeconds: number): void;
  /** While on, every token is expired as soon as it is issued (a refresh that does not help). */
  tokensExpireImmediately(on: boolean): void;
  /** The next `times` calls to `path` answer errcode 45009. */
  frequencyLimitNext(path: string, times?: number): void;
  /** A response_code WeCom would put in a template_card_event for a click on this card. */
  issueResponseCode(taskId: string): string;
  chats: Map<string, { name: string; owner: string; userlist: string[] }>;
  close(): Promise<void>;
}

const MARKDOWN_MAX_BYTES = 2048;
const TEXT_MAX_BYTES = 2048;

export async function startWeComStandin(options: { latencyMs?: number; corpId?: string; secret?: string; tokenTtlSeconds?: number } = {}): Promise<WeComStandin> {
  const corpId = options.corpId ?? WECOM_SAMPLE.corpId;
  const secret = options.secret ?? `standin-secret-${randomBytes(8).toString('hex')}`;
  const latencyMs = options.latencyMs ?? 0;
  const tokenTtl = options.tokenTtlSeconds ?? 7200;

  const calls: StandinCall[] = [];
  const validTokens = new Set<string>();
  const expiredTokens = new Set<string>();
  const rateLimits = new Map<string, number[]>();
  const frequencyLimits = new Map<string, number>();
  const taskIds = new Set<string>();
  const responseCodes = new Map<string, { used: boolean }>();
  const chats = new Map<string, { name: string; owner: string; userlist: string[] }>();
  let tokenSeq = 0;
  let expireOnIssue = false;

  const issueCode = (): string => {
    const code = `rc${randomBytes(12).toString('hex')}`;
    responseCodes.set(code, { used: false });
    return code;
  };

  function answer(path: string, query: Record<string, string>, body: unknown): { status: number; json?: Record<string, unknown>; headers?: Record<string, string> } {
    const queue = rateLimits.get(path);
    if (queue?.length) {
      const retryAfter = queue.shift() as number;
      return { status: 429, headers: { 'retry-after': String(retryAfter) } };
    }
    if (path === 'gettoken') {
      if (query.corpid !== corpId) return err(40013, 'invalid corpid');
      if (query.corpsecret !== secret) return err(40001, 'invalid credential, hint: [standin]');
      const token = `tok${++tokenSeq}${randomBytes(16).toString('hex')}`;
      if (expireOnIssue) expiredTokens.add(token);
      else validTokens.add(token);
      return ok({ access_token: token, expires_in: tokenTtl });
    }
    const token = query.access_token;
    if (!token) return err(41001, 'access_token missing');
    if (expiredTokens.has(token)) return err(42001, 'access_token expired');
    if (!validTokens.has(token)) return err(40014, 'invalid access_token');
    const freq = frequencyLimits.get(path) ?? 0;
    if (freq > 0) {
      frequencyLimits.set(path, freq - 1);
      return err(45009, 'api freq out of limit');
    }
    if (!isObject(body)) return err(47001, 'data format error: body is not a JSON object');

    switch (path) {
      case 'message/send':
        return sendMessage(body);
      case 'appchat/create': {
        const { name, owner, userlist, chatid } = body;
        if (!Array.isArray(userlist) || userlist.some((u) => typeof u !== 'string')) return err(40058, 'userlist must be an array of userids');
        if (new Set(userlist).size < 2) return err(86004, 'invalid chat member count: userlist needs at least 2 members');
        if (userlist.length > 2000) return err(86004, 'invalid chat member count: at most 2000');
        if (typeof name !== 'string' || [...name].length > 50) return err(40058, 'name must be a string of at most 50 characters');
        if (typeof owner !== 'string' || !userlist.includes(owner)) return err(40058, 'owner must be one of userlist');
        let id = typeof chatid === 'string' ? chatid : `standinchat${randomBytes(8).toString('hex')}`;
        if (!/^[0-9a-zA-Z]{1,32}$/.test(id)) return err(40058, 'chatid must be 1-32 of 0-9a-zA-Z');
        if (chats.has(id)) return err(86215, 'chatid exists');
        chats.set(id, { name, owner, userlist: [...userlist] as string[] });
        return ok({ chatid: id });
      }
      case 'appchat/update': {
        const chat = typeof body.chatid === 'string' ? chats.get(body.chatid) : undefined;
        if (!chat) return err(86003, 'chat not exist');
        if (typeof body.name === 'string') chat.name = body.name;
        if (typeof body.owner === 'string') chat.owner = body.owner;
        if (Array.isArray(body.add_user_list)) for (const u of body.add_user_list) if (typeof u === 'string' && !chat.userlist.includes(u)) chat.userlist.push(u);
        if (Array.isArray(body.del_user_list)) chat.userlist = chat.userlist.filter((u) => !(body.del_user_list as unknown[]).includes(u));
        return ok({});
      }
      case 'appchat/send': {
        if (typeof body.chatid !== 'string' || !chats.has(body.chatid)) return err(86003, 'chat not exist');
        const problem = checkTextOrMarkdown(body);
        return problem ? err(40058, problem) : ok({});
      }
      case 'message/update_template_card': {
        if (typeof body.agentid !== 'number') return err(40056, 'invalid agentid');
        const code = typeof body.response_code === 'string' ? responseCodes.get(body.response_code) : undefined;
        if (!code) return err(40058, 'invalid response_code');
        if (code.used) return err(40058, 'response_code already used');
        if (isObject(body.button)) {
          if (typeof body.button.replace_name !== 'string' || !body.button.replace_name) return err(40058, 'button.replace_name required');
        } else if (isObject(body.template_card)) {
          const problem = checkCard(body.template_card);
          if (problem) return err(40058, problem);
        } else {
          return err(40058, 'button or template_card required');
        }
        code.used = true;
        return ok({});
      }
      default:
        return { status: 404, json: { errcode: 404, errmsg: `standin has no ${path}` } };
    }
  }

  function sendMessage(body: Record<string, unknown>): { status: number; json: Record<string, unknown> } {
    if (typeof body.touser !== 'string' || !body.touser) return err(40058, 'touser required');
    if (typeof body.agentid !== 'number') return err(40056, 'invalid agentid');
    if (body.msgtype === 'text' || body.msgtype === 'markdown') {
      const problem = checkTextOrMarkdown(body);
      return problem ? err(40058, problem) : ok({ msgid: `msg${randomBytes(8).toString('hex')}` });
    }
    if (body.msgtype === 'template_card') {
      if (!isObject(body.template_card)) return err(40058, 'template_card required');
      const problem = checkCard(body.template_card);
      if (problem) return err(40058, problem);
      return ok({ msgid: `msg${randomBytes(8).toString('hex')}`, response_code: issueCode() });
    }
    return err(40008, 'invalid message type');
  }

  /** WeCom's documented limits for the button_interaction card Warroom sends. */
  function checkCard(card: Record<string, unknown>): string | undefined {
    if (card.card_type !== 'button_interaction') return `card_type ${String(card.card_type)} not supported by the standin`;
    if (!isObject(card.main_title)) return 'main_title required';
    const taskId = card.task_id;
    if (typeof taskId !== 'string' || !/^[A-Za-z0-9_@-]{1,128}$/.test(taskId)) return 'task_id must be 1-128 of [A-Za-z0-9_@-]';
    if (taskIds.has(taskId)) return 'task_id already used';
    const hl = card.horizontal_content_list;
    if (hl !== undefined && (!Array.isArray(hl) || hl.length > 6)) return 'horizontal_content_list at most 6';
    const buttons = card.button_list;
    if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 6) return 'button_list must have 1-6 buttons';
    const keys = new Set<string>();
    for (const b of buttons) {
      if (!isObject(b) || typeof b.text !== 'string' || typeof b.key !== 'string') return 'each button needs text and key';
      if (Buffer.byteLength(b.key) > 1024) return 'button key longer than 1024 bytes';
      if (keys.has(b.key)) return 'duplicate button key';
      keys.add(b.key);
      if (b.style !== undefined && ![1, 2, 3, 4].includes(b.style as number)) return 'button style must be 1-4';
    }
    taskIds.add(taskId);
    return undefined;
  }

  function checkTextOrMarkdown(body: Record<string, unknown>): string | undefined {
    const type = body.msgtype;
    if (type !== 'text' && type !== 'markdown') return `msgtype ${String(type)} not supported here`;
    const part = body[type];
    if (!isObject(part) || typeof part.content !== 'string' || !part.content) return `${type}.content required`;
    const max = type === 'markdown' ? MARKDOWN_MAX_BYTES : TEXT_MAX_BYTES;
    if (Buffer.byteLength(part.content) > max) return `${type}.content longer than ${max} bytes`;
    return undefined;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://standin');
        const path = url.pathname.replace(/^\/cgi-bin\//, '');
        const query = Object.fromEntries(url.searchParams);
        let body: unknown;
        if (chunks.length) {
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = Symbol.for('invalid-json');
          }
        }
        if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
        const out = answer(path, query, body);
        const errcode = typeof out.json?.errcode === 'number' ? out.json.errcode : undefined;
        const errmsg = typeof out.json?.errmsg === 'string' ? out.json.errmsg : undefined;
        calls.push({ path, query, body, status: out.status, ...(errcode !== undefined ? { errcode } : {}), ...(errmsg !== undefined ? { errmsg } : {}), ...(out.json ? { response: out.json } : {}), at: Date.now() });
        const text = out.json ? JSON.stringify(out.json) : '';
        res.writeHead(out.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...(out.headers ?? {}) });
        res.end(text);
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const norm = (p: string) => p.replace(/^\/?(cgi-bin\/)?/, '');

  return {
    url: `http://127.0.0.1:${port}/cgi-bin`,
    port,
    corpId,
    secret,
    calls,
    chats,
    callsOf(path) {
      const p = norm(path);
      return calls.filter((c) => c.path === p);
    },
    bodiesOf(path) {
      const p = norm(path);
      return calls.filter((c) => c.path === p && c.status === 200 && c.errcode === 0).map((c) => c.body as Record<string, unknown>);
    },
    expireToken() {
      for (const t of validTokens) expiredTokens.add(t);
      validTokens.clear();
    },
    rateLimitNext(path, retryAfterSeconds) {
      const p = norm(path);
      rateLimits.set(p, [...(rateLimits.get(p) ?? []), retryAfterSeconds]);
    },
    tokensExpireImmediately(on) {
      expireOnIssue = on;
    },
    frequencyLimitNext(path, times = 1) {
      frequencyLimits.set(norm(path), times);
    },
    issueResponseCode(taskId) {
      void taskId;
      return issueCode();
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function ok(extra: Record<string, unknown>): { status: number; json: Record<string, unknown> } {
  return { status: 200, json: { errcode: 0, errmsg: 'ok', ...extra } };
}

function err(errcode: number, errmsg: string): { status: number; json: Record<string, unknown> } {
  return { status: 200, json: { errcode, errmsg } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- encrypted callbacks ----------------------------------------------------------------------

export interface EncryptedCallback {
  /** msg_signature, timestamp, nonce */
  query: { msg_signature: string; timestamp: string; nonce: string };
  /** The same, URL-encoded, without the leading "?". */
  queryString: string;
  /** The XML body WeCom POSTs. */
  body: string;
  /** The Encrypt value. */
  encrypted: string;
}

/** A POST callback as WeCom sends it: innerXml encrypted for corpId, signed with token. */
export function encryptCallback(options: { token: string; aesKey: string; corpId: string; innerXml: string; timestamp?: number | string; nonce?: string; agentId?: number }): EncryptedCallback {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = options.nonce ?? String(Math.floor(Math.random() * 1e9));
  const encrypted = encrypt(options.aesKey, options.innerXml, options.corpId);
  const msg_signature = getSignature(options.token, timestamp, nonce, encrypted);
  const query = { msg_signature, timestamp, nonce };
  const body = `<xml><ToUserName><![CDATA[${options.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[${options.agentId ?? 1000002}]]></AgentID></xml>`;
  return { query, queryString: new URLSearchParams(query).toString(), body, encrypted };
}

/** A GET URL-verification query: echo encrypted for corpId as echostr. */
export function encryptEchostr(options: { token: string; aesKey: string; corpId: string; echo: string; timestamp?: number | string; nonce?: string }): {
  query: { msg_signature: string; timestamp: string; nonce: string; echostr: string };
  queryString: string;
} {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = options.nonce ?? String(Math.floor(Math.random() * 1e9));
  const echostr = encrypt(options.aesKey, options.echo, options.corpId);
  const query = { msg_signature: getSignature(options.token, timestamp, nonce, echostr), timestamp, nonce, echostr };
  return { query, queryString: new URLSearchParams(query).toString() };
}

/** CDATA that survives a "]]>" inside the text. */
function cdata(s: string): string {
  return `<![CDATA[${s.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/** The decrypted XML of a text message from a member to the app. */
export function textMessageXml(options: { fromUser: string; content: string; msgId?: string; createTime?: number; corpId?: string; agentId?: number }): string {
  const createTime = options.createTime ?? Math.floor(Date.now() / 1000);
  const msgId = options.msgId ?? `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  return [
    '<xml>',
    `<ToUserName>${cdata(options.corpId ?? WECOM_SAMPLE.corpId)}</ToUserName>`,
    `<FromUserName>${cdata(options.fromUser)}</FromUserName>`,
    `<CreateTime>${createTime}</CreateTime>`,
    `<MsgType>${cdata('text')}</MsgType>`,
    `<Content>${cdata(options.content)}</Content>`,
    `<MsgId>${msgId}</MsgId>`,
    `<AgentID>${options.agentId ?? 1000002}</AgentID>`,
    '</xml>',
  ].join('');
}

/** The decrypted XML of a click on a button of a template card. */
export function templateCardEventXml(options: { fromUser: string; eventKey: string; taskId: string; responseCode: string; createTime?: number; corpId?: string; agentId?: number; cardType?: string }): string {
  const createTime = options.createTime ?? Math.floor(Date.now() / 1000);
  return [
    '<xml>',
    `<ToUserName>${cdata(options.corpId ?? WECOM_SAMPLE.corpId)}</ToUserName>`,
    `<FromUserName>${cdata(options.fromUser)}</FromUserName>`,
    `<CreateTime>${createTime}</CreateTime>`,
    `<MsgType>${cdata('event')}</MsgType>`,
    `<Event>${cdata('template_card_event')}</Event>`,
    `<EventKey>${cdata(options.eventKey)}</EventKey>`,
    `<TaskId>${cdata(options.taskId)}</TaskId>`,
    `<CardType>${cdata(options.cardType ?? 'button_interaction')}</CardType>`,
    `<ResponseCode>${cdata(options.responseCode)}</ResponseCode>`,
    `<AgentID>${options.agentId ?? 1000002}</AgentID>`,
    '</xml>',
  ].join('');
}

/** The decrypted XML of another event (enter_agent, subscribe…). */
export function eventXml(options: { fromUser: string; event: string; createTime?: number; corpId?: string; agentId?: number }): string {
  const createTime = options.createTime ?? Math.floor(Date.now() / 1000);
  return `<xml><ToUserName>${cdata(options.corpId ?? WECOM_SAMPLE.corpId)}</ToUserName><FromUserName>${cdata(options.fromUser)}</FromUserName><CreateTime>${createTime}</CreateTime><MsgType>${cdata('event')}</MsgType><Event>${cdata(options.event)}</Event><EventKey>${cdata('')}</EventKey><AgentID>${options.agentId ?? 1000002}</AgentID></xml>`;
}
