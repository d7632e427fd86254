/**
 * The platform-neutral message types. Platform adapters turn their events into `IncomingMessage`
 * and render `OutgoingMessage` as Block Kit, WeCom cards, terminal text or the local web chat.
 */
export type Platform = 'cli' | 'local' | 'slack' | 'wecom';
export { t, type Lang } from '../core/lang.js';
import type { Lang } from '../core/lang.js';

export interface ChatUser {
  platform: Platform;
  /** The platform's user id (Slack U…, WeCom userid, local name). */
  id: string;
  name?: string;
  /** The Warroom person id, when the platform id is known in `people`. */
  personId?: string;
}

export interface ChatRoom {
  platform: Platform;
  id: string;
  kind: 'dm' | 'channel' | 'incident';
}

export interface IncomingMessage {
  user: ChatUser;
  room: ChatRoom;
  text: string;
  /** When the platform says it was sent; defaults to now. */
  at?: Date;
}

export interface MessageField {
  label: string;
  value: string;
}

export interface MessageButton {
  actionId: string;
  label: string;
  value: string;
  style?: 'primary' | 'danger';
}

export interface MessageSection {
  title?: string;
  lines: string[];
}

export interface OutgoingMessage {
  title?: string;
  text: string;
  fields?: MessageField[];
  sections?: MessageSection[];
  /** Small print: sources, windows, caveats. */
  context?: string[];
  buttons?: MessageButton[];
  lang?: Lang;
}

/**
 * The language to answer in. System names are often Chinese inside English questions
 * ("who is on call for 中登报盘?"), so weigh the Han text (about two characters a word) against
 * the Latin words rather than answering Chinese at the first Han character.
 */
export function detectLang(text: string): Lang {
  const han = (text.match(/[\u3400-\u9fff]/g) ?? []).length;
  if (han === 0) return 'en';
  const latinWords = (text.match(/[A-Za-z]{2,}/g) ?? []).length;
  return han / 2 >= latinWords ? 'zh' : 'en';
}

