import type { TradingCalendar } from '../../core/calendar.js';
import { addDays, localParts, zonedTime } from '../../core/time.js';
import { parseTradingDays } from '../intents.js';

/**
 * A time window in a question, read against the clock: "since 9:30", "9:30以来", "today", "昨天",
 * "上周", "上周二", "last Tuesday", "this week", "past 2 hours", "last 3 trading days"; none → the
 * default number of trading days. Exchange time, from the calendar's time zone.
 */
export type Window =
  | { kind: 'trading-days'; days: number }
  | { kind: 'range'; from: Date; to: Date; label: { zh: string; en: string } };

const ZH_WEEKDAYS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 0, 天: 0 };
const EN_WEEKDAYS: Record<string, number> = { sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sun: 0, mon: 1, tue: 2, tues: 2, wed: 3, thu: 4, thur: 4, thurs: 4, fri: 5, sat: 6 };
const ZH_WD_NAMES = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
const EN_WD_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Whether the text names a window at all (a follow-up like "那昨天呢" is mostly one). */
export const WINDOW_WORDS =
  /\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\b20\d{2}-\d{1,2}-\d{1,2}\b|今天|今日|昨天|昨日|前天|本周|这周|上周|上个?星期|上礼拜|星期[一二三四五六日天]|礼拜[一二三四五六日天]|周[一二三四五六日]|以来|之后|开盘后|(?:最近|过去|近)\s*[0-9一二两三四五六七八九十]+\s*(?:个)?\s*(?:交易日|工作日|天|小时)|\b(?:today|yesterday|this week|last week|since|past|last|previous)\b|\b(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\b/i;

export function parseWindow(text: string, now: Date, calendar: TradingCalendar, defaultDays: number): Window {
  const tz = calendar.timeZone;
  const today = localParts(now, tz).date;
  const dayStart = (date: string) => zonedTime(date, 0, 0, tz);
  // "since yesterday", "周二以来": from the start of that day up to now, not just that day.
  const untilNow = /\bsince\b|以来|至今|到现在|之后|以后/i.test(text);
  const range = (from: Date, to: Date, zh: string, en: string): Window => ({ kind: 'range', from, to: untilNow || to > now ? now : to, label: { zh, en } });

  // "since 9:30", "9:30以来", "9点半以来", "从 09:25 起", "after 13:00"
  const since =
    /(?:since|after|from)\s*([01]?\d|2[0-3])[:：.]([0-5]\d)/i.exec(text) ??
    /(?:从|自)?\s*([01]?\d|2[0-3])[:：]([0-5]\d)\s*(?:以来|之后|以后|起|开始|到现在|至今)/.exec(text) ??
    /(?:从|自)?\s*([01]?\d|2[0-3])\s*点\s*(半|[0-5]?\d\s*分?)?\s*(?:以来|之后|以后|起|开始|到现在|至今)/.exec(text);
  if (since) {
    const hour = Number(since[1]);
    const minute = since[2] === '半' ? 30 : since[2] ? Number(since[2].replace(/\D/g, '') || 0) : 0;
    let from = zonedTime(today, hour, minute, tz);
    if (from > now) from = zonedTime(addDays(today, -1), hour, minute, tz);
    const hm = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
    return range(from, now, `${hm} 以来`, `since ${hm}`);
  }

  // "past 2 hours", "最近3小时", "last hour"
  const hours = /(?:past|last|previous)\s+(\d{1,2})\s*h(?:ou)?rs?\b|(?:最近|过去|近)\s*(\d{1,2}|[一二两三四五六七八九十]{1,2})\s*(?:个)?\s*小时|\b(?:past|last) hour\b/i.exec(text);
  if (hours) {
    const n = hours[1] ? Number(hours[1]) : hours[2] ? parseTradingDays(`${hours[2]}天`, 1) : 1;
    return range(new Date(now.getTime() - n * 3600_000), now, `最近 ${n} 小时`, `the last ${n} hour${n > 1 ? 's' : ''}`);
  }

  // A date: "2026-11-20", "11月20日" (this year, or last year's when still to come).
  const ymd = /\b(20\d{2})-(\d{1,2})-(\d{1,2})\b/.exec(text);
  const md = /(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]/.exec(text);
  if (ymd || md) {
    const pad = (n: string) => n.padStart(2, '0');
    let date = ymd ? `${ymd[1]}-${pad(ymd[2]!)}-${pad(ymd[3]!)}` : `${today.slice(0, 4)}-${pad(md![1]!)}-${pad(md![2]!)}`;
    if (!ymd && date > today) date = `${Number(today.slice(0, 4)) - 1}${date.slice(4)}`;
    if (!Number.isNaN(Date.parse(`${date}T00:00:00Z`)) && date <= today) return range(dayStart(date), dayStart(addDays(date, 1)), date, date);
  }

  // A weekday: "上周二" / "last Tuesday" / "周二" / "this Tuesday".
  const zhWd = /(上|这|本)?\s*(?:个)?\s*(?:周|星期|礼拜)([一二三四五六日天])/.exec(text);
  const enWd = /\b(last|this|on)?\s*(sunday|monday|tuesday|wednesday|thursday|friday|saturday|sun|mon|tues?|wed|thu(?:rs?)?|fri|sat)\b/i.exec(text);
  if (zhWd || enWd) {
    const wd = zhWd ? ZH_WEEKDAYS[zhWd[2]!]! : EN_WEEKDAYS[enWd![2]!.toLowerCase()]!;
    const todayWd = localParts(now, tz).weekday;
    const monday = addDays(today, -((todayWd + 6) % 7));
    const offsetInWeek = (wd + 6) % 7;
    let date: string;
    if (zhWd?.[1] === '上') date = addDays(monday, offsetInWeek - 7);
    else if (zhWd?.[1] === '这' || zhWd?.[1] === '本' || enWd?.[1]?.toLowerCase() === 'this') date = addDays(monday, offsetInWeek);
    else if (enWd?.[1]?.toLowerCase() === 'last') {
      // "last Tuesday": the most recent Tuesday before today.
      date = addDays(today, -(((todayWd - wd + 7) % 7) || 7));
    } else {
      // A bare weekday: this week's, unless it is still to come (then last week's).
      date = addDays(monday, offsetInWeek);
      if (date > today) date = addDays(date, -7);
    }
    return range(dayStart(date), dayStart(addDays(date, 1)), `${date}（${ZH_WD_NAMES[wd]}）`, `${EN_WD_NAMES[wd]} ${date}`);
  }

  if (/今天|今日|\btoday\b/i.test(text)) return range(dayStart(today), now, `今天（${today}）`, `today (${today})`);
  if (/前天|day before yesterday/i.test(text)) {
    const d = addDays(today, -2);
    return range(dayStart(d), dayStart(addDays(d, 1)), `前天（${d}）`, `the day before yesterday (${d})`);
  }
  if (/昨天|昨日|\byesterday\b/i.test(text)) {
    const d = addDays(today, -1);
    return range(dayStart(d), dayStart(today), `昨天（${d}）`, `yesterday (${d})`);
  }
  const monday = addDays(today, -((localParts(now, tz).weekday + 6) % 7));
  if (/上周|上个?星期|上礼拜|\blast week\b/i.test(text)) {
    const from = addDays(monday, -7);
    return range(dayStart(from), dayStart(monday), `上周（${from} 至 ${addDays(monday, -1)}）`, `last week (${from} to ${addDays(monday, -1)})`);
  }
  if (/本周|这周|这个?星期|\bthis week\b/i.test(text)) return range(dayStart(monday), now, `本周（${monday} 起）`, `this week (since ${monday})`);

  return { kind: 'trading-days', days: parseTradingDays(text, defaultDays) };
}
