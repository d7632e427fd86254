import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { WarroomError } from './errors.js';
import { shippedHolidaysFile } from './paths.js';
import { addDays, localParts, weekdayOf, zonedTime } from './time.js';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

/** The holiday file: either the shipped shape (per year) or a plain `{"closed": [...]}` list. */
const holidayFileSchema = z.union([
  z.object({
    years: z.record(
      z.string().regex(/^\d{4}$/),
      z.object({ status: z.enum(['published', 'provisional']).default('published'), source: z.string().optional(), closed: z.array(isoDate) }),
    ),
  }),
  z.object({ closed: z.array(isoDate), replace: z.boolean().optional() }),
]);

export type TradingSession =
  | 'non_trading_day'
  | 'pre_open'
  | 'call_auction'
  | 'morning_session'
  | 'lunch_break'
  | 'afternoon_session'
  | 'post_close';

export interface TradingWindow {
  /** Start of the earliest of the trading days counted. */
  from: Date;
  /** The moment asked about. */
  to: Date;
  /** The N trading days before the day of `to`, oldest first (YYYY-MM-DD, exchange time). */
  tradingDays: string[];
  /** Whether the day of `to` is itself a trading day (its changes up to `to` are in the window too). */
  includesToday: boolean;
}

export interface TradingCalendarOptions {
  timeZone?: string;
  /** Extra closures, or a whole replacement when `replace` is set. */
  holidaysFile?: string;
}

/**
 * Shanghai/Shenzhen trading calendar: weekdays minus exchange holidays, sessions in exchange time.
 * Years with a provisional holiday list are reported through `provisionalYears` so callers can warn.
 */
export class TradingCalendar {
  readonly timeZone: string;
  private readonly closed = new Set<string>();
  readonly provisionalYears = new Set<string>();
  readonly knownYears = new Set<string>();

  constructor(options: TradingCalendarOptions = {}) {
    this.timeZone = options.timeZone ?? 'Asia/Shanghai';
    this.load(readHolidayFile(shippedHolidaysFile), false);
    if (options.holidaysFile) this.load(readHolidayFile(options.holidaysFile), true);
  }

  private load(file: z.infer<typeof holidayFileSchema>, isOverride: boolean): void {
    if ('years' in file) {
      for (const [year, entry] of Object.entries(file.years)) {
        // A year given in an override file replaces the shipped list for that year.
        if (isOverride) for (const d of [...this.closed]) if (d.startsWith(`${year}-`)) this.closed.delete(d);
        for (const d of entry.closed) this.closed.add(d);
        this.knownYears.add(year);
        if (entry.status === 'provisional') this.provisionalYears.add(year);
        else this.provisionalYears.delete(year);
      }
    } else {
      if (file.replace) this.closed.clear();
      for (const d of file.closed) {
        this.closed.add(d);
        this.knownYears.add(d.slice(0, 4));
      }
    }
  }

  isTradingDay(date: string): boolean {
    const wd = weekdayOf(date);
    return wd !== 0 && wd !== 6 && !this.closed.has(date);
  }

  /** The exchange-local date of an instant. */
  dateOf(at: Date): string {
    return localParts(at, this.timeZone).date;
  }

  /** The `n` trading days strictly before `date`, oldest first. */
  tradingDaysBefore(date: string, n: number): string[] {
    const days: string[] = [];
    let d = date;
    // Bounded: even a long holiday leaves a trading day within a few weeks.
    for (let guard = 0; days.length < n && guard < 366 * 2; guard++) {
      d = addDays(d, -1);
      if (this.isTradingDay(d)) days.unshift(d);
    }
    return days;
  }

  /**
   * The window "the last N trading days before T": from the start of the N-th trading day before
   * T's date up to T itself, so weekends and holidays in between (and today's changes so far) count.
   */
  lastTradingDays(n: number, at: Date): TradingWindow {
    const today = this.dateOf(at);
    const tradingDays = this.tradingDaysBefore(today, n);
    const first = tradingDays[0] ?? today;
    return { from: zonedTime(first, 0, 0, this.timeZone), to: at, tradingDays, includesToday: this.isTradingDay(today) };
  }

  /** Which part of the trading day `at` falls in (Shanghai/Shenzhen equity sessions). */
  sessionAt(at: Date): TradingSession {
    const p = localParts(at, this.timeZone);
    if (!this.isTradingDay(p.date)) return 'non_trading_day';
    const minutes = p.hour * 60 + p.minute;
    if (minutes < 9 * 60 + 15) return 'pre_open';
    if (minutes < 9 * 60 + 30) return 'call_auction';
    if (minutes < 11 * 60 + 30) return 'morning_session';
    if (minutes < 13 * 60) return 'lunch_break';
    if (minutes < 15 * 60) return 'afternoon_session';
    return 'post_close';
  }

  /** Whether trading is live at `at` (call auction or continuous trading): risky actions need care. */
  isTradingHours(at: Date): boolean {
    const s = this.sessionAt(at);
    return s === 'call_auction' || s === 'morning_session' || s === 'afternoon_session';
  }
}

function readHolidayFile(path: string): z.infer<typeof holidayFileSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new WarroomError('holidays_unreadable', `Cannot read the holiday file ${path}: ${(err as Error).message}`, {
      hint: 'WARROOM_HOLIDAYS_FILE must name a JSON file like {"closed": ["2027-01-01", ...]}.',
    });
  }
  const parsed = holidayFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WarroomError(
      'holidays_invalid',
      `Invalid holiday file ${path}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown error'}`,
      { hint: 'Expected {"closed": ["YYYY-MM-DD", ...]} or {"years": {"2027": {"closed": [...]}}}.' },
    );
  }
  return parsed.data;
}
