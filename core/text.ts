import { WarroomError } from './errors.js';
import { t, type Lang } from './lang.js';

/**
 * Text that people and other systems hand to Warroom: which characters it may hold and how long
 * it may be. One place for both, used by every entry point (the HTTP JSON bodies, chat events,
 * imports) and by the incident flows.
 *
 * Refused characters (a 400, or a clear chat reply; never cleaned silently, so what is stored is
 * what was sent):
 * - NUL (U+0000): PostgreSQL refuses it in text and jsonb, so it would fail an insert half-way;
 * - the other C0 control characters except tab, line feed and carriage return (U+0001–U+001F),
 *   DEL (U+007F) and the C1 controls (U+0080–U+009F): they have no business in a title or a note
 *   and can rewrite a terminal line (ESC) or hide text;
 * - lone UTF-16 surrogates (U+D800–U+DFFF not in a pair, e.g. the JSON escape "\ud800"): they are
 *   not characters, cannot be encoded as UTF-8 and PostgreSQL's jsonb refuses them.
 */

/** Length caps, in characters (code points), for text people give to Warroom. */
export const TEXT_LIMITS = {
  /** Incident titles. */
  title: 200,
  /** Timeline notes, impact, root cause, follow-ups, status updates and resolutions. */
  note: 2000,
  /** Names, roles and ids a person types (a person to assign, a system name). */
  name: 100,
} as const;

export type TextLimit = keyof typeof TEXT_LIMITS;

export interface InvalidText {
  /** Where in the value: `text`, `changes[3].title`, `labels["a\u0000"]` (a key); '' for the value itself. */
  path: string;
  /** Index (UTF-16) of the first bad character in that string. */
  index: number;
  /** The bad character, as U+XXXX. */
  codePoint: string;
  /** What it is, for people: "a NUL character", "a lone surrogate", "a control character". */
  what: string;
  /** True when the bad character is in an object key rather than a value. */
  inKey: boolean;
}

function hex(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The first character of `s` that Warroom refuses, or undefined when it is clean. */
export function firstInvalidChar(s: string): { index: number; codePoint: string; what: string } | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue; // printable ASCII: the common case
    if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c === 0) return { index: i, codePoint: hex(c), what: 'a NUL character' };
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) return { index: i, codePoint: hex(c), what: 'a control character' };
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { index: i, codePoint: hex(c), what: 'a lone surrogate' };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { index: i, codePoint: hex(c), what: 'a lone surrogate' };
  }
  return undefined;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENT.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

/**
 * The first refused character anywhere in a parsed JSON value (strings, and object keys), with
 * its path. `root` names the value itself (e.g. '' for a request body, 'changes' for an array).
 */
export function findInvalidText(value: unknown, root = ''): InvalidText | undefined {
  // Iterative, so a deeply nested body cannot overflow the stack.
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const bad = firstInvalidChar(v);
      if (bad) return { path, ...bad, inKey: false };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], childPath(path, i)]);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i]!;
        const badKey = firstInvalidChar(k);
        // A key with a bad character cannot be shown as a path: name its parent and say it is a key.
        if (badKey) return { path, ...badKey, inKey: true };
        stack.push([child, childPath(path, k)]);
      }
    }
  }
  return undefined;
}

/** "text" / "changes[3].title" / "the body", as a message names it. */
function fieldLabel(path: string, inKey: boolean, whole: string): string {
  const where = path ? `"${path}"` : whole;
  return inKey ? `a key of ${where}` : where;
}

const CHAR_HINT = 'Remove NUL, control characters (other than tab and line breaks) and unpaired surrogates, and send it again; nothing was stored.';

/**
 * A 400 when any string (or key) in a parsed JSON body holds a refused character; the message
 * and the `field` detail name where. `whole` is how the value itself is called ("the request body").
 */
export function requireCleanJson(value: unknown, whole = 'the request body'): void {
  const bad = findInvalidText(value);
  if (!bad) return;
  throw new WarroomError('invalid_characters', `${capitalize(fieldLabel(bad.path, bad.inKey, whole))} contains ${bad.what} (${bad.codePoint}) at position ${bad.index}.`, {
    status: 400,
    hint: CHAR_HINT,
    details: { field: bad.path || null },
  });
}

/** The same check for chat text, with a message in the person's language. */
export function requireCleanChatText(value: unknown, lang: Lang): void {
  const bad = findInvalidText(value);
  if (!bad) return;
  const what = bad.what === 'a NUL character' ? t(lang, 'NUL 字符', bad.what) : bad.what.startsWith('a lone') ? t(lang, '不成对的代理字符（无效 Unicode）', bad.what) : t(lang, '控制字符', bad.what);
  throw new WarroomError('invalid_characters', t(lang, `消息中含有${what}（${bad.codePoint}），未处理，也未记录。`, `The message contains ${what} (${bad.codePoint}); it was not acted on and nothing was recorded.`), {
    hint: t(lang, '去掉这些字符（常见于从别处粘贴的文本）后重新发送。', 'Remove it (it often comes with pasted text) and send the message again.'),
  });
}

/** Length in characters (code points), as people count them. */
export function charLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const LIMIT_NAMES: Record<TextLimit, { zh: string; en: string }> = {
  title: { zh: '标题', en: 'title' },
  note: { zh: '内容', en: 'text' },
  name: { zh: '名称', en: 'name' },
};

/**
 * Refuse text longer than its cap with a message that says the cap and the length. Returns the
 * text, so `const title = requireWithin(input, 'title', lang)`. `label` overrides the field's name.
 */
export function requireWithin(text: string, limit: TextLimit, lang: Lang, label?: { zh: string; en: string }): string {
  const max = TEXT_LIMITS[limit];
  const length = charLength(text);
  if (length <= max) return text;
  const name = label ?? LIMIT_NAMES[limit];
  throw new WarroomError('text_too_long', t(lang, `${name.zh}太长：${length} 个字符，上限 ${max}。未做任何记录。`, `The ${name.en} is too long: ${length} characters; the limit is ${max}. Nothing was recorded.`), {
    hint: t(lang, `请缩短到 ${max} 个字符以内；详细内容可随后用 /incident note 记入时间线。`, `Shorten it to at most ${max} characters; details can go on the timeline with /incident note.`),
    details: { field: name.en, limit: max, length },
  });
}

/** At most `max` characters, the last one "…" when cut (for machine text such as alert summaries). */
export function clipText(text: string, max: number): string {
  if (charLength(text) <= max) return text;
  return `${[...text].slice(0, max - 1).join('')}…`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
