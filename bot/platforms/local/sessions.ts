import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../../db/db.js';

/**
 * Sign-in for the web chat (tables from migration 007_web_sessions.sql). A sign-in token is 32
 * random bytes, printed once in a link by `warroom start` / `warroom demo`; it works once and
 * expires. Redeeming it makes a session: another 32 random bytes that live only in the browser's
 * cookie. The database keeps SHA-256 hashes of both, never the values. The person a session acts as
 * is chosen by whoever signed in (the operator of this machine) and is the only identity the chat API uses.
 */

/** How long a printed sign-in link works. */
export const SIGN_IN_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a session lasts after signing in. */
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface WebSession {
  /** The hash of the session id (the key in the database). */
  idHash: string;
  person: string | null;
  expiresAt: Date;
}

export interface WebSessions {
  /** A new sign-in token (the value to put in the link; only its hash is stored). */
  mintSignInToken(): Promise<{ token: string; expiresAt: Date }>;
  /** Redeem a sign-in token once: a new session id (the cookie value) or undefined when used, expired or unknown. */
  redeem(token: string, person?: string | null): Promise<{ sessionId: string; expiresAt: Date } | undefined>;
  /** The live session for a cookie value, if any. */
  find(sessionId: string): Promise<WebSession | undefined>;
  /** Act as another person from now on. */
  bind(session: WebSession, person: string): Promise<void>;
  end(session: WebSession): Promise<void>;
}

const hash = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');
const token = (): string => randomBytes(32).toString('base64url');
/** What a token or session id looks like (43 base64url characters); anything else is not looked up. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function createWebSessions(options: { db: () => Db; now: () => Date }): WebSessions {
  const { db, now } = options;
  return {
    async mintSignInToken() {
      const at = now();
      const value = token();
      const expiresAt = new Date(at.getTime() + SIGN_IN_TTL_MS);
      await db().transaction(async (tx) => {
        // Old links and sessions go when new ones are made; there is no other clean-up to run.
        await tx.query('DELETE FROM web_sign_in_tokens WHERE expires_at <= $1', [at]);
        await tx.query('DELETE FROM web_sessions WHERE expires_at <= $1', [at]);
        await tx.query('INSERT INTO web_sign_in_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)', [hash(value), at, expiresAt]);
      });
      return { token: value, expiresAt };
    },

    async redeem(value, person = null) {
      if (!TOKEN_SHAPE.test(value)) return undefined;
      const at = now();
      const sessionId = token();
      const expiresAt = new Date(at.getTime() + SESSION_TTL_MS);
      const made = await db().transaction(async (tx) => {
        // One statement marks it used, so two tabs opening the same link cannot both get a session.
        const used = await tx.query<{ token_hash: string }>(
          'UPDATE web_sign_in_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING token_hash',
          [hash(value), at],
        );
        if (!used[0]) return false;
        await tx.query('INSERT INTO web_sessions (id_hash, person, created_at, expires_at) VALUES ($1, $2, $3, $4)', [hash(sessionId), person, at, expiresAt]);
        return true;
      });
      return made ? { sessionId, expiresAt } : undefined;
    },

    async find(sessionId) {
      if (!TOKEN_SHAPE.test(sessionId)) return undefined;
      const [row] = await db().query<{ id_hash: string; person: string | null; expires_at: Date | string }>(
        'SELECT id_hash, person, expires_at FROM web_sessions WHERE id_hash = $1 AND expires_at > $2',
        [hash(sessionId), now()],
      );
      return row ? { idHash: row.id_hash, person: row.person, expiresAt: new Date(row.expires_at) } : undefined;
    },

    async bind(session, person) {
      await db().query('UPDATE web_sessions SET person = $2 WHERE id_hash = $1', [session.idHash, person]);
      session.person = person;
    },

    async end(session) {
      await db().query('DELETE FROM web_sessions WHERE id_hash = $1', [session.idHash]);
    },
  };
}
