import { readFileSync } from 'node:fs';
import type { TradingCalendar } from '../core/calendar.js';
import { demoDataFile } from '../core/paths.js';
import { addDays, formatZoned, localParts, zonedTime } from '../core/time.js';
import type { Db } from './db.js';
import { importJson, type ImportReport } from './import.js';

/** The demo data is written around this Monday; loading moves it to a recent week. */
export const DEMO_ANCHOR_MONDAY = '2026-11-23';
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DATED_ID = /\b([A-Z]{2,4})-(\d{4})(\d{2})(\d{2})(?=-)/g;

/**
 * How many whole weeks to move the demo so that its "current" Monday morning is the latest one at
 * or before `now` whose week shape (Wed–Fri before, and the Monday itself, trading days) is intact.
 * Whole weeks keep every weekday and trading session as written.
 */
export function demoShiftWeeks(now: Date, calendar: TradingCalendar): number {
  const today = localParts(now, calendar.timeZone).date;
  const anchor = Date.parse(`${DEMO_ANCHOR_MONDAY}T00:00:00Z`);
  const todayMs = Date.parse(`${today}T00:00:00Z`);
  let weeks = Math.floor((todayMs - anchor) / (7 * 86400000));
  // The scenario's alerts start at 09:31 on the Monday: keep that in the past.
  if (now < zonedTime(addDays(DEMO_ANCHOR_MONDAY, weeks * 7), 10, 0, calendar.timeZone)) weeks--;
  for (let tries = 0; tries < 12; tries++, weeks--) {
    const monday = addDays(DEMO_ANCHOR_MONDAY, weeks * 7);
    const needed = [monday, addDays(monday, -3), addDays(monday, -4), addDays(monday, -5)];
    if (needed.every((d) => calendar.isTradingDay(d))) return weeks;
  }
  return weeks;
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
  currentMonday: string;
}

/** Load the shipped demo data through the ordinary import path. */
export async function loadDemo(db: Db, calendar: TradingCalendar, options: { now?: Date; shift?: boolean } = {}): Promise<DemoLoadResult> {
  const raw = JSON.parse(readFileSync(demoDataFile, 'utf8')) as unknown;
  const weeks = options.shift === false ? 0 : demoShiftWeeks(options.now ?? new Date(), calendar);
  const doc = shiftDemo(raw, weeks * 7, calendar.timeZone);
  const report = await importJson(db, doc, 'demo data');
  return { report, shiftedDays: weeks * 7, currentMonday: addDays(DEMO_ANCHOR_MONDAY, weeks * 7) };
}
