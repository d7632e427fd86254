import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TradingCalendar } from '../../core/calendar.js';

const cal = new TradingCalendar();
const at = (s: string) => new Date(s);

describe('trading calendar', () => {
  it('treats weekends and exchange holidays as non-trading days', () => {
    expect(cal.isTradingDay('2026-11-20')).toBe(true); // Friday
    expect(cal.isTradingDay('2026-11-21')).toBe(false); // Saturday
    expect(cal.isTradingDay('2026-11-22')).toBe(false); // Sunday
    expect(cal.isTradingDay('2026-10-01')).toBe(false); // National Day
    expect(cal.isTradingDay('2026-10-07')).toBe(false);
    expect(cal.isTradingDay('2026-10-08')).toBe(true);
    expect(cal.isTradingDay('2026-02-23')).toBe(false); // Spring Festival, a Monday
    expect(cal.isTradingDay('2026-01-01')).toBe(false);
  });

  it('counts the last N trading days over a weekend', () => {
    const w = cal.lastTradingDays(3, at('2026-11-23T09:31:00+08:00'));
    expect(w.tradingDays).toEqual(['2026-11-18', '2026-11-19', '2026-11-20']);
    expect(w.from.toISOString()).toBe('2026-11-17T16:00:00.000Z'); // 2026-11-18 00:00 in Shanghai
    expect(w.includesToday).toBe(true);
  });

  it('counts the last N trading days over a holiday week', () => {
    // Thursday after the National Day week: the days before are in September.
    expect(cal.lastTradingDays(3, at('2026-10-08T10:00:00+08:00')).tradingDays).toEqual(['2026-09-28', '2026-09-29', '2026-09-30']);
    // The Monday after Spring Festival's extra closed Monday.
    expect(cal.lastTradingDays(2, at('2026-02-24T10:00:00+08:00')).tradingDays).toEqual(['2026-02-12', '2026-02-13']);
  });

  it('on a non-trading day, the window still ends at the moment asked', () => {
    const w = cal.lastTradingDays(1, at('2026-11-22T20:00:00+08:00'));
    expect(w.tradingDays).toEqual(['2026-11-20']);
    expect(w.includesToday).toBe(false);
  });

  it('uses exchange time, not UTC, for the date', () => {
    // 2026-11-23 01:00 in Shanghai is still Sunday in UTC.
    expect(cal.dateOf(at('2026-11-22T17:00:00Z'))).toBe('2026-11-23');
    expect(cal.sessionAt(at('2026-11-22T17:00:00Z'))).toBe('pre_open');
  });

  it('names the session at each boundary', () => {
    const s = (t: string) => cal.sessionAt(at(`2026-11-23T${t}:00+08:00`));
    expect(s('09:14')).toBe('pre_open');
    expect(s('09:15')).toBe('call_auction');
    expect(s('09:29')).toBe('call_auction');
    expect(s('09:30')).toBe('morning_session');
    expect(s('11:29')).toBe('morning_session');
    expect(s('11:30')).toBe('lunch_break');
    expect(s('13:00')).toBe('afternoon_session');
    expect(s('14:59')).toBe('afternoon_session');
    expect(s('15:00')).toBe('post_close');
    expect(cal.sessionAt(at('2026-11-21T10:00:00+08:00'))).toBe('non_trading_day');
    expect(cal.sessionAt(at('2026-10-05T10:00:00+08:00'))).toBe('non_trading_day');
    expect(cal.isTradingHours(at('2026-11-23T10:00:00+08:00'))).toBe(true);
    expect(cal.isTradingHours(at('2026-11-23T12:00:00+08:00'))).toBe(false);
  });

  it('takes extra closures from an override file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wr-cal-'));
    const file = join(dir, 'h.json');
    writeFileSync(file, JSON.stringify({ closed: ['2026-11-20'] }));
    const custom = new TradingCalendar({ holidaysFile: file });
    expect(custom.isTradingDay('2026-11-20')).toBe(false);
    expect(custom.lastTradingDays(3, at('2026-11-23T09:31:00+08:00')).tradingDays).toEqual(['2026-11-17', '2026-11-18', '2026-11-19']);
  });

  it('lets a year in an override file replace the shipped list for that year', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wr-cal-'));
    const file = join(dir, 'h.json');
    writeFileSync(file, JSON.stringify({ years: { '2027': { status: 'published', closed: ['2027-01-01', '2027-02-10'] } } }));
    const custom = new TradingCalendar({ holidaysFile: file });
    expect(custom.isTradingDay('2027-02-10')).toBe(false);
    expect(custom.isTradingDay('2027-02-09')).toBe(true); // provisional shipped closure replaced
    expect(custom.provisionalYears.has('2027')).toBe(false);
  });

  it('rejects a malformed override file with the field named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wr-cal-'));
    const file = join(dir, 'h.json');
    writeFileSync(file, JSON.stringify({ closed: ['2026/11/20'] }));
    expect(() => new TradingCalendar({ holidaysFile: file })).toThrow(/closed\.0.*YYYY-MM-DD/);
  });
});
