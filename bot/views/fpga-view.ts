import type { z } from 'zod';
import type { TradingSession } from '../../core/calendar.js';
import type { FpgaCardStatus, FpgaStatus } from '../../tools/fpga/fpga-status.js';
import type { fpgaSwitchPathToolRef } from '../../tools/fpga/fpga-switch-path.js';
import { cardName, formatSince, formatSeconds } from '../../tools/fpga/wording.js';
import { t, type Lang, type MessageSection, type OutgoingMessage } from '../messages.js';

type SwitchData = z.output<(typeof fpgaSwitchPathToolRef)['output']>;

/** Chat stays readable with 4 cards × 64 channels: every channel with something to say, then a few, then a count. */
const CHANNELS_SHOWN = 4;

export function sessionLabel(s: TradingSession | string, lang: Lang): string {
  const labels: Record<TradingSession, [string, string]> = {
    non_trading_day: ['非交易日', 'not a trading day'],
    pre_open: ['盘前', 'before the open'],
    call_auction: ['集合竞价', 'call auction'],
    morning_session: ['上午连续竞价', 'morning session'],
    lunch_break: ['午间休市', 'lunch break'],
    afternoon_session: ['下午连续竞价', 'afternoon session'],
    post_close: ['收盘后', 'after the close'],
  };
  const l = labels[s as TradingSession];
  return l ? t(lang, l[0], l[1]) : s;
}

export function readerLabel(reader: 'addon' | 'typescript', lang: Lang): string {
  return reader === 'addon' ? t(lang, 'C++ 插件（addon）', 'the C++ addon') : t(lang, 'TypeScript 读取器（插件未编译，回退）', 'the TypeScript reader (fallback: the addon is not built)');
}

const pathLabel = (p: 'fpga' | 'software', lang: Lang) => (p === 'fpga' ? t(lang, 'FPGA 路径', 'FPGA path') : t(lang, '⚠ 软件备用路径', '⚠ software fallback path'));
const healthIcon = (h: FpgaCardStatus['health']) => (h === 'critical' ? '🔴' : h === 'warning' ? '⚠️' : '✅');

function mdgwLabel(c: FpgaCardStatus, lang: Lang): string {
  const tcp = { down: t(lang, '断开', 'down'), connecting: t(lang, '连接中', 'connecting'), established: t(lang, '已连接', 'connected') }[c.mdgw.tcp];
  const login = {
    'logged-out': t(lang, '未登录', 'logged out'),
    'logging-in': t(lang, '登录中', 'logging in'),
    'logged-in': t(lang, '已登录', 'logged in'),
    rejected: t(lang, `登录被拒${c.mdgw.rejectCode !== undefined ? `（${c.mdgw.rejectCode}）` : ''}`, `login rejected${c.mdgw.rejectCode !== undefined ? ` (${c.mdgw.rejectCode})` : ''}`),
  }[c.mdgw.login];
  return `MDGW ${tcp}${c.mdgw.tcp === 'established' ? t(lang, `，${login}`, `, ${login}`) : ''}`;
}

const num = (n: number | null) => (n === null ? '–' : n >= 100 ? String(Math.round(n)) : String(n));

function channelLine(ch: FpgaCardStatus['channels'][number], lang: Lang, words: { timeZone: string; reference: Date }): string {
  const last = ch.lastOrigTime
    ? t(lang, `最新 ${formatSince(new Date(ch.lastOrigTime), lang, words)}${ch.ageSeconds !== null ? `（${formatSeconds(ch.ageSeconds, ch.ageSeconds, lang)}前）` : ''}`, `last ${formatSince(new Date(ch.lastOrigTime), lang, words)}${ch.ageSeconds !== null ? ` (${formatSeconds(ch.ageSeconds, ch.ageSeconds, lang)} ago)` : ''}`)
    : t(lang, '尚无行情', 'no message yet');
  const stale = ch.stale ? t(lang, ` · ⚠ 陈旧${ch.staleSeconds !== undefined ? ` ${formatSeconds(ch.staleSeconds, ch.staleSeconds, lang)}` : ''}`, ` · ⚠ stale${ch.staleSeconds !== undefined ? ` ${formatSeconds(ch.staleSeconds, ch.staleSeconds, lang)}` : ''}`) : '';
  const errors = ch.checksumErrorsPerSecond ? t(lang, ` · ⚠ 校验错 ${ch.checksumErrorsPerSecond}/秒`, ` · ⚠ checksum errors ${ch.checksumErrorsPerSecond}/s`) : '';
  return `${ch.channel}${stale} · ${t(lang, `${num(ch.packetsPerSecond)} 包/秒 · ${num(ch.messagesPerSecond)} 条/秒`, `${num(ch.packetsPerSecond)} pkt/s · ${num(ch.messagesPerSecond)} msg/s`)}${errors} · ${last} · p99 ${ch.latencyP99Ns} ns`;
}

function cardSection(c: FpgaCardStatus, lang: Lang, words: { timeZone: string; reference: Date }): MessageSection {
  const problems = (lang === 'zh' ? c.problemsZh : c.problems).map((p, i) => `${c.findings[i]?.severity === 'critical' ? '🔴' : '⚠️'} ${p}`);
  const notable = c.channels.filter((ch) => ch.stale || (ch.checksumErrorsPerSecond ?? 0) > 0);
  const quiet = c.channels.filter((ch) => !notable.includes(ch));
  const shown = [...notable, ...quiet.slice(0, Math.max(0, CHANNELS_SHOWN - notable.length))];
  const rest = c.channels.filter((ch) => !shown.includes(ch));
  const restLine = rest.length
    ? [t(lang, `其余 ${rest.length} 个通道正常，合计 ${num(rest.reduce((s, ch) => s + (ch.packetsPerSecond ?? 0), 0))} 包/秒`, `${rest.length} more channel(s) fine, ${num(rest.reduce((s, ch) => s + (ch.packetsPerSecond ?? 0), 0))} pkt/s together`)]
    : [];
  const toe = `TOE ${c.toeSessions}/${c.toeLimit}`;
  const multicast = c.multicast === 'up' ? t(lang, '组播正常', 'multicast up') : t(lang, '组播中断', 'multicast DOWN');
  return {
    title: `${healthIcon(c.health)} ${cardName(c.card, lang)} · ${pathLabel(c.activePath, lang)} · ${mdgwLabel(c, lang)} · ${multicast} · ${toe} · ${c.firmware} / ${c.bitstream}`,
    lines: [...problems, ...shown.sort((a, b) => a.channel - b.channel).map((ch) => channelLine(ch, lang, words)), ...restLine],
  };
}

/** The decoder's status: one section per card (problems first, then channels), the runbooks, and how it was read. */
export function fpgaStatusView(d: FpgaStatus, lang: Lang, timeZone: string): OutgoingMessage {
  const words = { timeZone, reference: new Date(d.takenAt) };
  const bad = d.cards.filter((c) => c.health !== 'ok');
  const title = !d.cards.length
    ? t(lang, 'FPGA 行情卡：状态块里没有卡', 'FPGA decoder: no card in the status block')
    : bad.length
      ? t(lang, `FPGA 行情卡：${bad.map((c) => cardName(c.card, lang)).join('、')} 有问题`, `FPGA decoder: problems on ${bad.map((c) => cardName(c.card, lang)).join(', ')}`)
      : t(lang, `FPGA 行情卡：${d.cards.length} 张卡均正常`, `FPGA decoder: ${d.cards.length === 1 ? 'the card is' : `all ${d.cards.length} cards are`} healthy`);
  const sections: MessageSection[] = d.cards.map((c) => cardSection(c, lang, words));
  if (d.citations.length) {
    sections.push({ title: t(lang, '相关手册', 'Runbooks'), lines: d.citations.map((c) => `${c.title} [${c.runbookId} § ${c.section}] (${c.source})`) });
  }
  const freshness = d.freshnessJudged
    ? t(lang, `${sessionLabel(d.session, lang)}：通道超过 ${d.staleAfterSeconds} 秒没有新行情即为陈旧`, `${sessionLabel(d.session, lang)}: a channel with nothing newer than ${d.staleAfterSeconds} s is stale`)
    : t(lang, `${sessionLabel(d.session, lang)}：交易所此时不推送或很少推送，通道安静不算陈旧`, `${sessionLabel(d.session, lang)}: exchanges push little or nothing now, so quiet channels are not stale`);
  return {
    lang,
    title,
    text: '',
    sections,
    context: [
      t(lang, `读取方式：${readerLabel(d.reader, lang)} · 状态块 ${d.file} · 两次读取间隔 ${(d.intervalMs / 1000).toFixed(1)} 秒${d.retries ? `，因写入中重试 ${d.retries} 次` : ''}`, `Read by ${readerLabel(d.reader, lang)} · block ${d.file} · two reads ${(d.intervalMs / 1000).toFixed(1)} s apart${d.retries ? `, ${d.retries} retr${d.retries === 1 ? 'y' : 'ies'} while the writer was mid-update` : ''}`),
      freshness,
    ],
  };
}

/** A path switch that took effect (a failed one is an error, shown as one). */
export function fpgaSwitchPathView(d: SwitchData, lang: Lang): OutgoingMessage {
  const path = (p: 'fpga' | 'software') => (p === 'fpga' ? t(lang, 'FPGA 路径', 'the FPGA path') : t(lang, '软件路径', 'the software path'));
  const post = d.postCheck;
  const postLines = !post.freshnessJudged
    ? [t(lang, `${sessionLabel(post.session, lang)}：不判断通道新鲜度`, `${sessionLabel(post.session, lang)}: channel freshness not judged`)]
    : post.stale.length
      ? (lang === 'zh' ? post.problemsZh : post.problems).map((p) => `⚠️ ${p}`)
      : [t(lang, `${post.fresh.length} 个通道行情新鲜`, `${post.fresh.length} channel(s) fresh`)];
  return {
    lang,
    title: t(lang, `${cardName(d.card, lang)} 已切换：${path(d.from)} → ${path(d.to)}`, `${cardName(d.card, lang)} switched: ${path(d.from)} → ${path(d.to)}`),
    text: t(lang, `状态块已确认（${d.verifiedAt.slice(11, 19)}，切换后 ${(d.verifyMs / 1000).toFixed(1)} 秒）。`, `Confirmed in the status block (${d.verifiedAt.slice(11, 19)}, ${(d.verifyMs / 1000).toFixed(1)} s after the switch).`),
    sections: [{ title: t(lang, '切换后检查', 'Post-check'), lines: postLines }, ...(d.notes.length ? [{ title: t(lang, '注意', 'Notes'), lines: d.notes }] : [])],
    context: [t(lang, `驱动：${d.driver} · 读取方式：${readerLabel(d.reader, lang)}`, `Driver: ${d.driver} · read by ${readerLabel(d.reader, lang)}`)],
  };
}
