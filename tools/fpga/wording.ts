import { t, type Lang } from '../../core/lang.js';
import { formatShort, localParts } from '../../core/time.js';
import type { FpgaFinding } from './diagnose.js';

/**
 * What a finding means, in plain words, in Chinese or English. One pure function: the tool's JSON
 * (`problems`, `problemsZh`), the chat view and the CLI all say the same thing.
 */
export interface WordingOptions {
  timeZone: string;
  /** The moment of the snapshot: a `since` on the same exchange day is shown as 09:14:05, another day with its date. */
  reference: Date;
}

/** "09:14:05" on the reference's day, else "11-20 (周五) 16:05". */
export function formatSince(at: Date, lang: Lang, o: WordingOptions): string {
  const p = localParts(at, o.timeZone);
  if (p.date !== localParts(o.reference, o.timeZone).date) return formatShort(at, o.timeZone, lang);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** 38 s · 38–41 s · 5 min · up to 5 min · 2.5 h. */
export function formatSeconds(min: number, max: number, lang: Lang): string {
  const one = (s: number) =>
    s < 120 ? t(lang, `${s} 秒`, `${s} s`) : s < 7200 ? t(lang, `${Math.round(s / 60)} 分钟`, `${Math.round(s / 60)} min`) : t(lang, `${Math.round(s / 360) / 10} 小时`, `${Math.round(s / 360) / 10} h`);
  if (one(min) === one(max)) return one(max);
  if (max < 120) return t(lang, `${min}–${max} 秒`, `${min}–${max} s`);
  return t(lang, `最长 ${one(max)}`, `up to ${one(max)}`);
}

/** "channels 2011 and 2012" / "通道 2011、2012"; long lists are cut ("and 5 more"). */
export function channelList(channels: number[], lang: Lang, limit = 6): string {
  const shown = channels.slice(0, limit).map(String);
  const more = channels.length - shown.length;
  if (lang === 'zh') return `通道 ${shown.join('、')}${more > 0 ? ` 等 ${channels.length} 个通道` : ''}`;
  const noun = channels.length === 1 ? 'channel' : 'channels';
  if (more > 0) return `${noun} ${shown.join(', ')} and ${more} more`;
  return shown.length <= 1 ? `${noun} ${shown.join('')}` : `${noun} ${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

const since = (f: FpgaFinding, lang: Lang, o: WordingOptions) => (f.since ? t(lang, `，自 ${formatSince(f.since, lang, o)} 起`, ` since ${formatSince(f.since, lang, o)}`) : '');

export function describeFinding(f: FpgaFinding, lang: Lang, o: WordingOptions): string {
  switch (f.kind) {
    case 'mdgw-down':
      return t(lang, `MDGW TCP 连接断开${since(f, lang, o)}：该卡全部通道停止输出`, `MDGW TCP session down${since(f, lang, o)}: every channel of the card stops`);
    case 'mdgw-connecting':
      return t(lang, `MDGW TCP 一直连不上${since(f, lang, o)}`, `MDGW TCP session not established${since(f, lang, o)} (still connecting)`);
    case 'login-rejected': {
      const code = f.rejectCode !== undefined ? t(lang, `（拒绝码 ${f.rejectCode}）`, ` (code ${f.rejectCode})`) : '';
      return t(lang, `MDGW 登录被拒${code}${since(f, lang, o)}`, `MDGW login rejected${code}${since(f, lang, o)}`);
    }
    case 'logged-out':
      return t(lang, `已连上 MDGW 但没有登录${since(f, lang, o)}`, `connected to the MDGW but not logged in${since(f, lang, o)}`);
    case 'logging-in':
      return t(lang, `MDGW 登录一直没有完成${since(f, lang, o)}`, `MDGW login not completing${since(f, lang, o)}`);
    case 'multicast-down':
      return t(lang, '组播输出链路中断：该卡后面的所有接收端都收不到行情', 'multicast output down: no receiver behind the card gets market data');
    case 'stale-channels': {
      const silent = new Set(f.silentChannels ?? []);
      const heard = (f.channels ?? []).filter((c) => !silent.has(c));
      const parts: string[] = [];
      if (heard.length && f.staleSeconds) parts.push(t(lang, `${channelList(heard, lang)} 行情陈旧 ${formatSeconds(f.staleSeconds.min, f.staleSeconds.max, lang)}`, `${channelList(heard, lang)} stale for ${formatSeconds(f.staleSeconds.min, f.staleSeconds.max, lang)}`));
      else if (heard.length) parts.push(t(lang, `${channelList(heard, lang)} 行情陈旧`, `${channelList(heard, lang)} stale`));
      if (silent.size) parts.push(t(lang, `${channelList([...silent], lang)} 本时段还没有收到任何行情`, `${channelList([...silent], lang)} ${silent.size === 1 ? 'has' : 'have'} had no message at all`));
      return parts.join(t(lang, '；', '; '));
    }
    case 'checksum-burst':
      return t(lang, `${channelList(f.channels ?? [], lang)} 校验和错误激增（每秒 ${f.perSecond ?? 0} 个）：报文被丢弃，下游出现缺口`, `checksum errors bursting on ${channelList(f.channels ?? [], lang)} (${f.perSecond ?? 0}/s): messages are dropped and consumers see gaps`);
    case 'toe-near-limit': {
      const share = f.limit ? Math.round(((f.used ?? 0) / f.limit) * 100) : 0;
      return f.used !== undefined && f.limit !== undefined && f.used >= f.limit
        ? t(lang, `TOE 会话已用满（${f.used}/${f.limit}）：新的 MDGW 会话无法建立`, `TOE sessions exhausted (${f.used} of ${f.limit}): no new MDGW session can open`)
        : t(lang, `TOE 会话已用 ${f.used}/${f.limit}（${share}%），接近上限：多半是重连后旧会话没有释放`, `TOE sessions near the limit: ${f.used} of ${f.limit} in use (${share}%), usually old sessions not released after reconnects`);
    }
    case 'software-path':
      return t(lang, '正运行在软件备用路径上：下游拿到的是软件解码的行情（延迟更高，数据完整）', 'running on the software fallback path: consumers get software-decoded market data (slower, complete)');
    case 'card-not-updating':
      return t(lang, `控制面已有 ${formatSeconds(f.seconds ?? 0, f.seconds ?? 0, lang)} 没有更新该卡的状态：以上数字可能已过时`, `the control plane has not updated this card's record for ${formatSeconds(f.seconds ?? 0, f.seconds ?? 0, lang)}: these figures may be old`);
  }
}

/** "card 0" / "卡 0". */
export function cardName(card: number, lang: Lang): string {
  return t(lang, `卡 ${card}`, `card ${card}`);
}
