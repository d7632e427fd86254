import { readFileSync } from 'node:fs';
import type { TradingCalendar } from '../core/calendar.js';
import { demoDataFile } from '../core/paths.js';
import { addDays, formatZoned, localParts, zonedTime } from '../core/time.js';
import type { Db } from './db.js';
import { importJson, type ImportReport } from './import.js';

/** The demo data is written around this Monday; loading moves it to a recent week. */
export const DEMO_ANCHOR_MONDAY = '2026-11-23';
/** The story's moment on that Monday (exchange time): ten minutes after the open, alerts firing, nothing declared. */
export const DEMO_STORY_TIME = { hour: 9, minute: 40 } as const;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DATED_ID = /\b([A-Z]{2,4})-(\d{4})(\d{2})(\d{2})(?=-)/g;
const SETTING_KEY = 'demo';

/**
 * How many whole weeks to move the demo so that its story Monday is the latest one whose story
 * moment is not after `now` and whose week shape (Wed–Fri before, and the Monday itself, trading
 * days) is intact. Whole weeks keep every weekday and trading session as written.
 */
export function demoShiftWeeks(now: Date, calendar: TradingCalendar): number {
  const today = localParts(now, calendar.timeZone).date;
  const anchor = Date.parse(`${DEMO_ANCHOR_MONDAY}T00:00:00Z`);
  const todayMs = Date.parse(`${today}T00:00:00Z`);
  let weeks = Math.floor((todayMs - anchor) / (7 * 86400000));
  // Before the story's moment on a Monday, that Monday's story has not happened yet.
  if (now < demoMomentOf(weeks, calendar)) weeks--;
  for (let tries = 0; tries < 12; tries++, weeks--) {
    const monday = addDays(DEMO_ANCHOR_MONDAY, weeks * 7);
    const needed = [monday, addDays(monday, -3), addDays(monday, -4), addDays(monday, -5)];
    if (needed.every((d) => calendar.isTradingDay(d))) return weeks;
  }
  return weeks;
}

/** The story's moment once the demo is moved by `weeks`. */
export function demoMomentOf(weeks: number, calendar: TradingCalendar): Date {
  return zonedTime(addDays(DEMO_ANCHOR_MONDAY, weeks * 7), DEMO_STORY_TIME.hour, DEMO_STORY_TIME.minute, calendar.timeZone);
}

/** Move every time and every date inside an id (CAB-20261120-003) by `days`. */
export function shiftDemo(value: unknown, days: number, timeZone: string): unknown {
  if (days === 0) return value;
  if (typeof value === 'string') {
    if (ISO_TIME.test(value)) return formatZoned(new Date(Date.parse(value) + days * 86400000), timeZone);
    return value.replace(DATED_ID, (_m, prefix: string, y: string, mo: string, d: string) => `${prefix}-${addDays(`${y}-${mo}-${d}`, days).replaceAll('-', '')}`);
  }
  if (Array.isArray(value)) return value.map((v) => shiftDemo(v, days, timeZone));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shiftDemo(v, days, timeZone)]));
  }
  return value;
}

export interface DemoLoadResult {
  report: ImportReport;
  shiftedDays: number;
  /** The story's Monday, as loaded (YYYY-MM-DD). */
  currentMonday: string;
  /** The moment the story is told as of: that Monday 09:40 exchange time. */
  moment: Date;
  /** True when the store already held the demo and it was reloaded in the same week. */
  reused: boolean;
}

export interface LoadDemoOptions {
  /** The real time: picks the week to move the demo to (default: the system clock). */
  now?: Date;
  /** false: keep the dates as written (the week of 2026-11-23). */
  shift?: boolean;
}

/**
 * Load the shipped demo data through the ordinary import path, moved to a recent week. The week is
 * remembered in the store: loading again later updates the same records rather than adding a copy
 * of the whole story in another week (which would double every past incident and change).
 */
export async function loadDemo(db: Db, calendar: TradingCalendar, options: LoadDemoOptions = {}): Promise<DemoLoadResult> {
  const raw = JSON.parse(readFileSync(demoDataFile, 'utf8')) as unknown;
  const stored = options.shift === false ? undefined : await storedDemoWeeks(db);
  const weeks = options.shift === false ? 0 : (stored ?? demoShiftWeeks(options.now ?? new Date(), calendar));
  const doc = shiftDemo(raw, weeks * 7, calendar.timeZone);
  const report = await importJson(db, doc, 'demo data');
  if (options.shift !== false) {
    await db.query(
      `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [SETTING_KEY, JSON.stringify({ weeks })],
    );
  }
  return { report, shiftedDays: weeks * 7, currentMonday: addDays(DEMO_ANCHOR_MONDAY, weeks * 7), moment: demoMomentOf(weeks, calendar), reused: stored !== undefined };
}

async function storedDemoWeeks(db: Db): Promise<number | undefined> {
  const [row] = await db.query<{ value: { weeks?: unknown } }>('SELECT value FROM settings WHERE key = $1', [SETTING_KEY]);
  const weeks = row?.value.weeks;
  return typeof weeks === 'number' && Number.isInteger(weeks) ? weeks : undefined;
}
