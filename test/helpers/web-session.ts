import { expect } from 'vitest';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A signed-in web chat client, as a browser is: it opened a sign-in link (minted through the same
 * code path `warroom start` prints it with), keeps the session cookie, and sends its posts as JSON
 * with the server's own Origin. `person` is who the session acts as (POST /chat/api/session).
 */
export interface WebClient {
  base: string;
  /** The raw `Cookie` header value, `warroom_session=…`. */
  cookie: string;
  /** The Set-Cookie header the sign-in answered with. */
  setCookie: string;
  get(path: string, params?: Record<string, string>): Promise<{ status: number; body: Json; headers: Headers; text: string }>;
  post(path: string, body: unknown, method?: 'POST' | 'DELETE'): Promise<{ status: number; body: Json }>;
  /** Rebind the session to another person. */
  actAs(person: string): Promise<void>;
}

/** A sign-in link (path or URL) from `chat.signInLink()` or `warroom.signInLink()`. */
export type MintLink = () => Promise<{ path: string } | { url: string }>;

export async function openSignInLink(base: string, mint: MintLink): Promise<Response> {
  const link = await mint();
  return fetch(new URL('url' in link ? link.url : link.path, base), { redirect: 'manual' });
}

export async function signIn(base: string, mint: MintLink, person?: string): Promise<WebClient> {
  const res = await openSignInLink(base, mint);
  expect(res.status, await res.clone().text()).toBe(303);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = /^(warroom_session=[^;]+)/.exec(setCookie)?.[1];
  expect(cookie, setCookie).toBeDefined();
  const client: WebClient = {
    base,
    cookie: cookie!,
    setCookie,
    async get(path, params = {}) {
      const q = new URLSearchParams(params).toString();
      const r = await fetch(`${base}${path}${q ? `?${q}` : ''}`, { headers: { cookie: cookie! } });
      const text = await r.text();
      let body: Json = {};
      try {
        body = JSON.parse(text) as Json;
      } catch {
        /* not JSON */
      }
      return { status: r.status, body, headers: r.headers, text };
    },
    async post(path, body, method = 'POST') {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', origin: base, cookie: cookie! },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await r.text();
      let parsed: Json = {};
      try {
        parsed = JSON.parse(text) as Json;
      } catch {
        /* not JSON */
      }
      return { status: r.status, body: parsed };
    },
    async actAs(who) {
      const r = await client.post('/chat/api/session', { person: who });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    },
  };
  if (person) await client.actAs(person);
  return client;
}

/** Signed-in clients by person, each with its own session (one browser per person). */
export function webClients(base: () => string, mint: MintLink): (person: string) => Promise<WebClient> {
  const clients = new Map<string, Promise<WebClient>>();
  return (person) => {
    let c = clients.get(person);
    if (!c) {
      c = signIn(base(), mint, person);
      clients.set(person, c);
    }
    return c;
  };
}
