/**
 * Secrets out of anything that is stored or shown: the audit log's details, `warroom audit tail`.
 * Pure and idempotent (redacting twice gives the same result), so it can run on the way in and
 * again on the way out, and rows written before it existed are shown redacted too.
 */

export const REDACTED = '[redacted]';

/** A key whose value is a secret, whatever the value looks like. */
const SECRET_KEY = /password|passwd|passphrase|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|authorization|cookie/i;
/**
 * "session" alone is a word of this trade (a trading session, the TOE sessions of a decoder card,
 * a FIX session): only a session id or key (`session`, `sessionId`, `JSESSIONID`, `session_key`) is a secret.
 */
const SESSION_KEY = /^session$|session[_-]?(?:id|key)$/i;
/** A number under a secret-looking key that only counts or times something (`maxTokens`, `tokenTtl`) is kept. */
const AMOUNT_KEY = /(?:count|tokens|length|size|ttl|timeout|ms|seconds|expires[_-]?(?:in|at))$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || SESSION_KEY.test(key);
}

const KEY_WORDS = 'password|passwd|passphrase|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|authorization|cookie';

/** Patterns of secrets inside free text, each with what replaces the match. */
const TEXT_RULES: Array<[RegExp, (match: string, ...groups: string[]) => string]> = [
  // PEM private keys, whole blocks (or to the end of the text when the END line is missing).
  [/-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END ([A-Z0-9]+ )*PRIVATE KEY-----|$)/g, () => '[redacted private key]'],
  // user:password@ in a URL: the password goes, the user and host stay (they say where).
  [/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#]*):([^\s@/?#]+)@/gi, (_m, scheme, user) => `${scheme}${user}:${REDACTED}@`],
  // `password=…`, `--api-key=…`, `access_token=…&`, `"token": "…"`, `Authorization: Bearer …`.
  [
    new RegExp(`([A-Za-z0-9_.-]*(?:${KEY_WORDS})[A-Za-z0-9_.-]*["']?)(\\s*[=:]\\s*)((?:Bearer|Basic)\\s+[^\\s"',;&]+|"[^"]*"|'[^']*'|[^\\s&;,"']+)`, 'gi'),
    (m, key, sep, value) => {
      const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
      return value === `${quote}${REDACTED}${quote}` ? m : `${key}${sep}${quote}${REDACTED}${quote}`;
    },
  ],
  // Chinese labels: 密码：…, 口令是 …, 密钥=…
  [/(密码|口令|密钥|秘钥|令牌)(\s*(?:[:：=]|是|为)\s*)(?!\[redacted\])([^\s，。,;；、)）"']+)/g, (_m, key, sep) => `${key}${sep}${REDACTED}`],
  // Passwords on command lines pasted from a terminal: sqlplus user/pass@db, mysql -pPASS, redis-cli -a PASS.
  [/\b((?:sqlplus|jdbc:oracle:thin:|conn(?:ect)?)\s*:?\s*[A-Za-z0-9_$#]+)\/(?!\[redacted\])([^\s/@]+)@/gi, (_m, head) => `${head}/${REDACTED}@`],
  [/\b(mysql(?:dump|admin)?\b[^\n]*?\s-p)(?!\[redacted\])([^\s-]\S*)/g, (_m, head) => `${head}${REDACTED}`],
  [/\b(redis-cli\b[^\n]*?\s-a\s+)(?!\[redacted\])(\S+)/g, (_m, head) => `${head}${REDACTED}`],
  // Authorization header values anywhere.
  [/\bBearer\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}/g, () => `Bearer ${REDACTED}`],
  [/\bBasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/g, (m, b64) => (Buffer.from(b64, 'base64').toString('utf8').includes(':') ? `Basic ${REDACTED}` : m)],
  // Slack tokens (bot, user, app-level, legacy), keeping the prefix so a reader knows what it was.
  [/\b(xox[abposre]-|xapp-)[A-Za-z0-9-]{8,}/g, (_m, prefix) => `${prefix}${REDACTED}`],
  // OpenAI-, Anthropic- and Stripe-style API keys: random mixed case with digits, so a host named
  // sk-trade-gateway-01 stays.
  [/\b(sk[-_](?:proj-|ant-|live_|test_)?)(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}/g, (_m, prefix) => `${prefix}${REDACTED}`],
  // GitHub tokens and AWS access key ids.
  [/\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}/g, (_m, prefix) => `${prefix}${REDACTED}`],
  [/\bAKIA[0-9A-Z]{16}\b/g, () => `AKIA${REDACTED}`],
  // JSON Web Tokens.
  [/\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, () => REDACTED],
];

/** `text` with the secrets it carries replaced in place; the rest is kept. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replace] of TEXT_RULES) {
    pattern.lastIndex = 0;
    out = out.replace(pattern, replace);
  }
  return out;
}

function redactUnder(key: string | undefined, value: unknown, seen: WeakSet<object>): unknown {
  if (key !== undefined && isSecretKey(key) && value !== null && value !== undefined && typeof value !== 'boolean') {
    if (typeof value === 'number' && AMOUNT_KEY.test(key)) return value;
    return REDACTED;
  }
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => redactUnder(undefined, v, seen));
    // Only plain objects are walked; a Date or a Buffer is left for JSON to serialise as usual.
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactUnder(k, v, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * A copy of `value` with secrets redacted: values under secret-looking keys (password, token,
 * api_key, authorization, cookie, session id, …; nested objects and arrays too) become
 * "[redacted]", and secrets inside strings (Bearer tokens, Slack and API keys, PEM private keys,
 * passwords in URLs, `password=…`) are replaced in place.
 */
export function redactSecrets<T>(value: T): T {
  return redactUnder(undefined, value, new WeakSet()) as T;
}
