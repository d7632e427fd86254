import { randomBytes } from 'node:crypto';
import { WarroomError } from '../../core/errors.js';
import { t, type MessageButton, type OutgoingMessage } from '../messages.js';
import type { WeComTemplateCard, WeComTemplateCardButton } from '../platforms/wecom-client.js';

/**
 * OutgoingMessage → WeCom markdown and WeCom button_interaction template cards.
 *
 * Limits (WeCom's documentation for message/send, appchat/send and template cards):
 * - markdown content ≤ 2048 bytes UTF-8 for app messages (message/send) and group chats
 *   (appchat/send). The 4096-byte figure often quoted is the group-robot webhook's, not the app's.
 * - button_interaction: main_title required (title ≈36 chars, desc ≈44 chars recommended),
 *   sub_title_text ≈160 chars recommended, horizontal_content_list ≤ 6 (keyname ≈5 chars and
 *   value ≈30 chars recommended), button_list 1–6 (text ≈10 chars recommended), button key
 *   ≤ 1024 bytes and unique, task_id ≤ 128 bytes of [A-Za-z0-9_@-] and unique per app.
 * The "recommended" lengths are display limits: the client cuts longer text with an ellipsis, so
 * they are enforced here with a visible "…" rather than left to the client; hard limits throw.
 */

export const WECOM_MARKDOWN_MAX_BYTES = 2048;
export const WECOM_CARD_LIMITS = {
  titleChars: 36,
  descChars: 44,
  subTitleChars: 160,
  horizontalItems: 6,
  /** WeCom recommends 5; labels like "Commander" or "影响范围" read badly cut at 5, so 16. */
  keynameChars: 16,
  valueChars: 30,
  buttons: 6,
  buttonTextChars: 10,
  buttonKeyBytes: 1024,
  taskIdBytes: 128,
} as const;

const TASK_ID_RE = /^[A-Za-z0-9_@-]{1,128}$/;

// ---- markdown -------------------------------------------------------------------------------

export interface WeComMarkdownOptions {
  /** Default 2048 (app messages and group chats). */
  maxBytes?: number;
  /**
   * How to show buttons, which markdown cannot carry: 'hints' shows buttons whose value is a
   * command as a line of commands to type and the others as a note; 'omit' leaves them out
   * (the caller sends a card instead).
   */
  buttons?: 'hints' | 'omit';
  /** A marker line put first, e.g. "（更新）" when a group message is posted again as updated. */
  banner?: string;
}

export function renderWeComMarkdown(msg: OutgoingMessage, options: WeComMarkdownOptions = {}): string {
  const lang = msg.lang ?? 'zh';
  const maxBytes = options.maxBytes ?? WECOM_MARKDOWN_MAX_BYTES;
  const lines = markdownLines(msg, options);
  // The small print (sources, the tools an answer used, caveats) stays when the body is cut.
  const small = msg.context?.length ?? 0;
  const body = small ? lines.slice(0, -small) : lines;
  const tail = small ? lines.slice(-small) : [];
  return fitMarkdown(body, maxBytes, t(lang, '<font color="comment">…（内容过长，已截断）</font>', '<font color="comment">… (truncated: too long for WeCom)</font>'), tail);
}

/**
 * The same markdown in as many messages as it takes (the incident card is longer than one WeCom
 * message): split at line boundaries, each part within the byte limit, later parts marked as continued.
 */
export function renderWeComMarkdownParts(msg: OutgoingMessage, options: WeComMarkdownOptions & { maxParts?: number } = {}): string[] {
  const lang = msg.lang ?? 'zh';
  const maxBytes = options.maxBytes ?? WECOM_MARKDOWN_MAX_BYTES;
  const maxParts = options.maxParts ?? 4;
  const cont = t(lang, '<font color="comment">（续）</font>', '<font color="comment">(continued)</font>');
  const parts: string[][] = [[]];
  let used = 0;
  for (const raw of markdownLines(msg, options)) {
    const line = utf8Bytes(raw) > maxBytes - 64 ? truncateBytes(raw, maxBytes - 64) : raw;
    const cost = utf8Bytes(line) + 1;
    if (used + cost > maxBytes && parts[parts.length - 1]!.length) {
      parts.push([cont]);
      used = utf8Bytes(cont) + 1;
    }
    parts[parts.length - 1]!.push(line);
    used += cost;
  }
  if (parts.length <= maxParts) return parts.map((p) => p.join('\n'));
  const kept = parts.slice(0, maxParts - 1).map((p) => p.join('\n'));
  const rest = parts.slice(maxParts - 1).flat();
  kept.push(fitMarkdown(rest, maxBytes, t(lang, '<font color="comment">…（内容过长，已截断）</font>', '<font color="comment">… (truncated: too long for WeCom)</font>')));
  return kept;
}

/** Zero-width space: splits a markup token so it shows as typed and does nothing. */
const ZWSP = '\u200b';

/**
 * Message text (which holds what people typed: titles, notes, causes, names, queries echoed back)
 * made inert for WeCom markdown, shown as typed: `<` cannot open a tag (`<@all>`, `<@userid>`,
 * `<font …>`), `](` cannot make a link (`[click](http://evil)`), and a line cannot start a heading
 * or a quote. A zero-width space goes between the characters that would form the token; WeCom
 * markdown has no escape character. Backticks (inline code) are left alone: harmless, and Warroom
 * uses them for commands to type. Every string of a message goes through this once, here; the
 * renderer's own markup (bold titles, grey context, bullets) is added around the escaped text.
 */
export function escapeWeComMarkdown(text: string): string {
  return text
    .replace(/</g, `<${ZWSP}`)
    .replace(/\]\(/g, `]${ZWSP}(`)
    .replace(/^([ \t]*)([#>])/gm, `$1${ZWSP}$2`);
}

const esc = escapeWeComMarkdown;

function markdownLines(msg: OutgoingMessage, options: WeComMarkdownOptions): string[] {
  const lang = msg.lang ?? 'zh';
  const lines: string[] = [];
  if (options.banner) lines.push(`<font color="warning">${esc(options.banner)}</font>`);
  if (msg.title) lines.push(`**${esc(oneLine(msg.title))}**`);
  if (msg.text) lines.push(esc(msg.text));
  for (const f of msg.fields ?? []) lines.push(`${esc(f.label)}：${esc(f.value)}`);
  for (const s of msg.sections ?? []) {
    if (s.title) lines.push(`**${esc(oneLine(s.title))}**`);
    for (const line of s.lines) lines.push(`- ${esc(line)}`);
  }
  if (msg.buttons?.length && (options.buttons ?? 'hints') === 'hints') lines.push(...buttonHints(msg.buttons, lang));
  for (const c of msg.context ?? []) lines.push(`<font color="comment">${esc(c)}</font>`);
  return lines;
}

/** Group chats cannot carry button cards: commands to type, or a note that the buttons live elsewhere. */
export function buttonHints(buttons: MessageButton[], lang: 'zh' | 'en'): string[] {
  const commands = buttons.filter((b) => isCommandValue(b.value));
  const others = buttons.filter((b) => !isCommandValue(b.value));
  const out: string[] = [];
  if (commands.length) {
    // The command itself is code to copy, so it is not escaped (button values are Warroom's own).
    out.push(t(lang, '可回复命令：', 'Reply with a command: ') + commands.map((b) => `\`${oneLine(b.value)}\`（${esc(oneLine(b.label))}）`).join('  '));
  }
  if (others.length) {
    const labels = others.map((b) => `「${esc(oneLine(b.label))}」`).join('');
    out.push(`<font color="comment">${t(lang, `按钮${labels}请在与 Warroom 的私聊卡片中操作。`, `Buttons ${labels} are available on the card in your direct chat with Warroom.`)}</font>`);
  }
  return out;
}

/** A button value that is itself something to type: "/incident ack INC-1", "warroom help". */
export function isCommandValue(value: string): boolean {
  return /^\/?(incident|warroom)\s+\S/i.test(value.trim()) || /^\/\S/.test(value.trim());
}

/**
 * Join lines, and when over the byte budget cut at a line boundary (or a character) and add the note.
 * `tail` lines come after everything and are kept when cutting, if they take at most a third of the budget.
 */
function fitMarkdown(lines: string[], maxBytes: number, note: string, tail: string[] = []): string {
  const whole = [...lines, ...tail].join('\n');
  if (utf8Bytes(whole) <= maxBytes) return whole;
  const tailBytes = tail.length ? utf8Bytes(tail.join('\n')) + 1 : 0;
  const keptTail = tailBytes <= maxBytes / 3 ? tail : [];
  if (!keptTail.length) lines = [...lines, ...tail];
  const budget = maxBytes - utf8Bytes(note) - 1 - (keptTail.length ? tailBytes : 0);
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const cost = utf8Bytes(line) + (kept.length ? 1 : 0);
    if (used + cost <= budget) {
      kept.push(line);
      used += cost;
      continue;
    }
    // Cut inside this line only when nothing fits yet or a good part of the budget is left,
    // and never in the middle of a <font> tag.
    const room = budget - used - (kept.length ? 1 : 0);
    if (room > 64 && !/<font/.test(line)) kept.push(truncateBytes(line, room));
    break;
  }
  kept.push(note, ...keptTail);
  return kept.join('\n');
}

// ---- template cards -------------------------------------------------------------------------

export interface WeComCardOptions {
  /** A task id to use (must be unique per app); one is generated when absent. */
  taskId?: string;
}

/**
 * A button_interaction card: main_title from the title (or the text's first line), horizontal
 * content from the fields (≤ 6; the rest go to the sub-title), sub_title_text from the text and
 * sections, buttons ≤ 6 with key `${actionId}|${value}`. Needs at least one button.
 */
export function renderWeComTemplateCard(msg: OutgoingMessage, options: WeComCardOptions = {}): WeComTemplateCard & { task_id: string } {
  const lang = msg.lang ?? 'zh';
  const buttons = msg.buttons ?? [];
  if (!buttons.length) throw new WarroomError('wecom_card_without_buttons', 'A WeCom button_interaction card needs at least one button; send markdown instead.');
  const taskId = options.taskId ?? newTaskId();
  if (!TASK_ID_RE.test(taskId)) {
    throw new WarroomError('wecom_bad_task_id', `WeCom task ids are 1–128 characters of A-Z a-z 0-9 _ @ -; "${taskId}" is not.`);
  }

  const textLines = msg.text ? msg.text.split('\n').filter((l) => l.trim()) : [];
  const title = msg.title ?? textLines.shift() ?? t(lang, 'Warroom', 'Warroom');
  const fields = msg.fields ?? [];
  const shownFields = fields.slice(0, WECOM_CARD_LIMITS.horizontalItems);
  const overflowFields = fields.slice(WECOM_CARD_LIMITS.horizontalItems);

  const seenKeys = new Set<string>();
  const buttonList: WeComTemplateCardButton[] = [];
  const leftOver: MessageButton[] = [];
  for (const b of buttons) {
    const key = encodeButtonKey(b.actionId, b.value);
    if (seenKeys.has(key)) continue; // WeCom refuses duplicate keys; the same action twice is one button
    if (buttonList.length >= WECOM_CARD_LIMITS.buttons) {
      leftOver.push(b);
      continue;
    }
    seenKeys.add(key);
    buttonList.push({ type: 0, text: clip(b.label, WECOM_CARD_LIMITS.buttonTextChars), style: buttonStyle(b.style), key });
  }

  const sub: string[] = [...textLines];
  for (const s of msg.sections ?? []) {
    if (s.title) sub.push(`${s.title}:`);
    sub.push(...s.lines.map((l) => `· ${l}`));
  }
  sub.push(...overflowFields.map((f) => `${f.label}：${f.value}`));
  // A card holds 6 buttons: the rest become commands to type where they are commands, or are named.
  const commandsLeft = leftOver.filter((b) => isCommandValue(b.value));
  const othersLeft = leftOver.filter((b) => !isCommandValue(b.value));
  if (commandsLeft.length) sub.push(...buttonHints(commandsLeft, lang));
  if (othersLeft.length) {
    const labels = othersLeft.map((b) => `「${oneLine(b.label)}」`).join('');
    sub.push(t(lang, `卡片最多 6 个按钮，未显示：${labels}`, `Not shown (a WeCom card holds 6 buttons): ${labels}`));
  }

  const card: WeComTemplateCard & { task_id: string } = {
    card_type: 'button_interaction',
    main_title: {
      title: clip(oneLine(title), WECOM_CARD_LIMITS.titleChars),
      ...(msg.context?.length ? { desc: clip(oneLine(msg.context.join(' · ')), WECOM_CARD_LIMITS.descChars) } : {}),
    },
    ...(sub.length ? { sub_title_text: clip(sub.join('\n'), WECOM_CARD_LIMITS.subTitleChars) } : {}),
    ...(shownFields.length
      ? {
          horizontal_content_list: shownFields.map((f) => ({
            keyname: clip(oneLine(f.label), WECOM_CARD_LIMITS.keynameChars),
            value: clip(oneLine(f.value), WECOM_CARD_LIMITS.valueChars),
          })),
        }
      : {}),
    task_id: taskId,
    button_list: buttonList,
  };
  return card;
}

/**
 * WeCom documents styles 1–4 without naming colours (1 is the default). Warroom uses 1 for
 * primary, 3 for danger and 2 for the plain buttons.
 */
export function buttonStyle(style: MessageButton['style']): 1 | 2 | 3 {
  return style === 'primary' ? 1 : style === 'danger' ? 3 : 2;
}

/** A fresh task id: "wr-card-<time>-<random>", 29 characters of [a-z0-9-]. */
export function newTaskId(): string {
  return `wr-card-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

export function isWarroomTaskId(id: string): boolean {
  return /^wr-card-[0-9a-z]+-[0-9a-f]{12}$/.test(id);
}

/** `${actionId}|${value}`: the action id must not contain "|"; the value may. ≤ 1024 bytes. */
export function encodeButtonKey(actionId: string, value: string): string {
  if (!actionId || actionId.includes('|')) {
    throw new WarroomError('wecom_bad_action_id', `A button action id must be non-empty and without "|" to fit a WeCom button key; got "${actionId}".`);
  }
  const key = `${actionId}|${value}`;
  const bytes = utf8Bytes(key);
  if (bytes > WECOM_CARD_LIMITS.buttonKeyBytes) {
    throw new WarroomError('wecom_button_key_too_long', `The WeCom button key for action "${actionId}" is ${bytes} bytes; WeCom allows ${WECOM_CARD_LIMITS.buttonKeyBytes}.`, {
      hint: 'Put an id in the button value and look the details up when the button is pressed.',
    });
  }
  return key;
}

/** The inverse of encodeButtonKey; a key without "|" is an action id with an empty value. */
export function decodeButtonKey(key: string): { actionId: string; value: string } {
  const bar = key.indexOf('|');
  return bar < 0 ? { actionId: key, value: '' } : { actionId: key.slice(0, bar), value: key.slice(bar + 1) };
}

// ---- text helpers ---------------------------------------------------------------------------

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** At most `maxBytes` UTF-8 bytes, cut on a character boundary, with "…" when cut. */
export function truncateBytes(s: string, maxBytes: number): string {
  if (utf8Bytes(s) <= maxBytes) return s;
  const ellipsis = '…';
  const budget = maxBytes - utf8Bytes(ellipsis);
  let out = '';
  let used = 0;
  for (const ch of s) {
    const b = utf8Bytes(ch);
    if (used + b > budget) break;
    out += ch;
    used += b;
  }
  return out + ellipsis;
}

/** At most `maxChars` characters (code points), with "…" as the last one when cut. */
export function clip(s: string, maxChars: number): string {
  const chars = [...s];
  return chars.length <= maxChars ? s : `${chars.slice(0, maxChars - 1).join('')}…`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
