import type { types as SlackTypes } from '@slack/bolt';
import type { MessageButton, OutgoingMessage } from '../messages.js';

export type KnownBlock = SlackTypes.KnownBlock;

/** Slack's Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const blockKitLimits = {
  blocksPerMessage: 50,
  headerChars: 150,
  sectionTextChars: 3000,
  fieldsPerSection: 10,
  fieldChars: 2000,
  contextElements: 10,
  contextElementChars: 2000,
  buttonsPerActions: 25,
  buttonTextChars: 75,
  buttonValueChars: 2000,
  actionIdChars: 255,
  /** Top-level `text` is the notification and screen-reader fallback; Slack truncates past 40 000. */
  fallbackChars: 3000,
} as const;

/** Escape the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * `action_id` must be unique within a message, so button i gets `${actionId}#${i}`.
 * This strips the suffix again; ids without one come back unchanged.
 */
export function parseActionId(actionIdWithSuffix: string): string {
  return actionIdWithSuffix.replace(/#\d+$/, '');
}

/** Cut at `max` UTF-16 units, never inside a surrogate pair or an `&amp;`-style entity. */
function safeCut(text: string, max: number): number {
  let cut = Math.min(max, text.length);
  if (cut < text.length && cut > 0) {
    const code = text.charCodeAt(cut);
    if (code >= 0xdc00 && code <= 0xdfff) cut -= 1;
    const amp = text.lastIndexOf('&', cut - 1);
    if (amp >= 0 && cut - amp < 6 && !text.slice(amp, cut).includes(';') && /^&(amp|lt|gt);/.test(text.slice(amp, amp + 5))) cut = amp;
  }
  return Math.max(cut, 1);
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, safeCut(text, max - 1))}…`;
}

/** Split text into chunks of at most `max` characters, preferring line breaks. */
export function splitText(text: string, max: number): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut <= 0) cut = safeCut(rest, max);
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  if (rest.length) chunks.push(rest);
  return chunks;
}

function mrkdwnSections(text: string): KnownBlock[] {
  return splitText(text, blockKitLimits.sectionTextChars)
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => ({ type: 'section', text: { type: 'mrkdwn', text: chunk } }));
}

function buttonElement(button: MessageButton, index: number): SlackTypes.Button {
  if (button.value.length > blockKitLimits.buttonValueChars) {
    // A cut value would make the button do something else; fail loudly where it was built.
    throw new Error(`Button "${button.actionId}" has a value of ${button.value.length} characters; Slack allows ${blockKitLimits.buttonValueChars}. Put an id in the value, not the data.`);
  }
  const suffix = `#${index}`;
  return {
    type: 'button',
    action_id: `${button.actionId.slice(0, blockKitLimits.actionIdChars - suffix.length)}${suffix}`,
    text: { type: 'plain_text', text: truncate(button.label || button.actionId, blockKitLimits.buttonTextChars), emoji: true },
    value: button.value,
    ...(button.style ? { style: button.style } : {}),
  };
}

/** A plain notification text: the title and the text, escaped for mrkdwn. */
function fallbackText(msg: OutgoingMessage): string {
  const parts = [msg.title, msg.text].filter((p): p is string => Boolean(p && p.trim()));
  if (!parts.length) parts.push(msg.sections?.[0]?.title ?? msg.sections?.[0]?.lines[0] ?? msg.fields?.[0]?.label ?? ' ');
  return truncate(escapeMrkdwn(parts.join('\n')), blockKitLimits.fallbackChars);
}

/**
 * The neutral message as Slack Block Kit: header, text, fields, sections, context, buttons.
 * Every limit Slack enforces is kept here, so a long answer is split, never rejected.
 */
export function renderBlockKit(msg: OutgoingMessage): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [];
  if (msg.title?.trim()) {
    blocks.push({ type: 'header', text: { type: 'plain_text', text: truncate(msg.title.trim(), blockKitLimits.headerChars), emoji: true } });
  }
  if (msg.text) blocks.push(...mrkdwnSections(escapeMrkdwn(msg.text)));

  const fields = (msg.fields ?? []).map((f) => ({
    type: 'mrkdwn' as const,
    text: truncate(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, blockKitLimits.fieldChars),
  }));
  for (let i = 0; i < fields.length; i += blockKitLimits.fieldsPerSection) {
    blocks.push({ type: 'section', fields: fields.slice(i, i + blockKitLimits.fieldsPerSection) });
  }

  for (const section of msg.sections ?? []) {
    const lines = [
      ...(section.title ? [`*${escapeMrkdwn(section.title)}*`] : []),
      ...section.lines.map((line) => `• ${escapeMrkdwn(line)}`),
    ];
    if (lines.length) blocks.push(...mrkdwnSections(lines.join('\n')));
  }

  const context = (msg.context ?? []).filter((c) => c.trim() !== '');
  for (let i = 0; i < context.length; i += blockKitLimits.contextElements) {
    blocks.push({
      type: 'context',
      elements: context
        .slice(i, i + blockKitLimits.contextElements)
        .map((c) => ({ type: 'mrkdwn' as const, text: truncate(escapeMrkdwn(c), blockKitLimits.contextElementChars) })),
    });
  }

  const buttons = (msg.buttons ?? []).map(buttonElement);
  const actionBlocks: KnownBlock[] = [];
  for (let i = 0; i < buttons.length; i += blockKitLimits.buttonsPerActions) {
    actionBlocks.push({ type: 'actions', elements: buttons.slice(i, i + blockKitLimits.buttonsPerActions) });
  }

  // Buttons are what a person acts on: keep them, and shorten the body if the message is too long.
  const room = blockKitLimits.blocksPerMessage - actionBlocks.length;
  if (blocks.length > room) {
    const omitted = blocks.length - (room - 1);
    blocks.length = room - 1;
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `… ${omitted} more block(s) omitted (Slack shows at most ${blockKitLimits.blocksPerMessage}).` }] });
  }
  blocks.push(...actionBlocks);
  return { text: fallbackText(msg), blocks };
}
