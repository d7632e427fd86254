/**
 * Wall-clock helpers for one IANA time zone (the exchange's, Asia/Shanghai by default), with no
 * dependency: Intl gives the local parts, and the offset is found by comparing them with UTC.
 */
export interface LocalParts {
  date: string; // YYYY-MM-DD
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function localParts(at: Date, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(at)) parts[p.type] = p.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    year,
    month,
    day,
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
  };
}

/** The instant at which the wall clock in `timeZone` shows `date` `hh:mm`. */
export function zonedTime(date: string, hour: number, minute: number, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d, hour, minute);
  // Two passes settle the offset even next to a DST change (not that the exchanges have one).
  let at = guess;
  for (let i = 0; i < 2; i++) {
    const p = localParts(new Date(at), timeZone);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    at += guess - shown;
  }
  return new Date(at);
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export function weekdayOf(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

/** ISO 8601 with the zone's offset, e.g. 2026-11-23T09:31:00+08:00, for people and exports. */
export function formatZoned(at: Date, timeZone: string): string {
  const p = localParts(at, timeZone);
  const offsetMin = Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at.getTime() / 1000) * 1000) / 60000);
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${p.date}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Short local form for chat: "11-20 (周五) 16:05". */
export function formatShort(at: Date, timeZone: string, lang: 'zh' | 'en' = 'zh'): string {
  const p = localParts(at, timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  const wd = lang === 'zh' ? ['周日', '周一', '周二', '周三', '周四', '周五', '周六'][p.weekday] : ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][p.weekday];
  return `${pad(p.month)}-${pad(p.day)} (${wd}) ${pad(p.hour)}:${pad(p.minute)}`;
}

/**
 * A clock that starts at `start` and runs on with the real one: the demo answers as of its story's
 * moment, and minutes still pass (stage timers, update reminders) as they would in a real incident.
 */
export function runningClock(start: Date, real: () => number = Date.now): () => Date {
  const origin = real();
  return () => new Date(start.getTime() + (real() - origin));
}

/**
 * A moment someone typed relative to `now`: "09:25" (exchange time, today, or yesterday when that
 * would be in the future) or ISO 8601 with an offset. Undefined when it is neither.
 */
export function parseTypedMoment(text: string, now: Date, timeZone: string): Date | undefined {
  const hm = /^([01]?\d|2[0-3])[:：]([0-5]\d)$/.exec(text.trim());
  if (hm) {
    const today = localParts(now, timeZone).date;
    const at = zonedTime(today, Number(hm[1]), Number(hm[2]), timeZone);
    return at > now ? zonedTime(addDays(today, -1), Number(hm[1]), Number(hm[2]), timeZone) : at;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text.trim())) return undefined;
  const at = new Date(text.trim());
  return Number.isNaN(at.getTime()) ? undefined : at;
}
