import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TradingCalendar } from '../../core/calendar.js';
import { formatZoned } from '../../core/time.js';
import { mentionedSystems, withPoolNames } from '../../agents/offline/systems.js';
import { parseWindow } from '../../agents/offline/windows.js';
import type { SystemRow } from '../../tools/oncall/systems.js';

const calendar = new TradingCalendar();
const MONDAY = new Date('2026-11-23T09:40:00+08:00');
const THURSDAY = new Date('2026-11-26T14:05:00+08:00');

/** A window as people read it: exchange time, minutes. */
function seen(text: string, now: Date): string {
  const w = parseWindow(text, now, calendar, 3);
  if (w.kind === 'trading-days') return `${w.days} trading days`;
  const z = (d: Date) => formatZoned(d, calendar.timeZone).slice(0, 16).replace('T', ' ');
  return `${z(w.from)} – ${z(w.to)}`;
}

describe('time windows in a question, against the clock', () => {
  it.each<[string, string, string]>([
    ['since 9:30', '2026-11-23 09:30 – 2026-11-23 09:40', '2026-11-26 09:30 – 2026-11-26 14:05'],
    ['9:30以来', '2026-11-23 09:30 – 2026-11-23 09:40', '2026-11-26 09:30 – 2026-11-26 14:05'],
    ['9点半以来', '2026-11-23 09:30 – 2026-11-23 09:40', '2026-11-26 09:30 – 2026-11-26 14:05'],
    // A time still to come today means yesterday's.
    ['since 13:00', '2026-11-22 13:00 – 2026-11-23 09:40', '2026-11-26 13:00 – 2026-11-26 14:05'],
    ['今天', '2026-11-23 00:00 – 2026-11-23 09:40', '2026-11-26 00:00 – 2026-11-26 14:05'],
    ['yesterday', '2026-11-22 00:00 – 2026-11-23 00:00', '2026-11-25 00:00 – 2026-11-26 00:00'],
    ['上周', '2026-11-16 00:00 – 2026-11-23 00:00', '2026-11-16 00:00 – 2026-11-23 00:00'],
    ['this week', '2026-11-23 00:00 – 2026-11-23 09:40', '2026-11-23 00:00 – 2026-11-26 14:05'],
    ['上周二', '2026-11-17 00:00 – 2026-11-18 00:00', '2026-11-17 00:00 – 2026-11-18 00:00'],
    ['last Tuesday', '2026-11-17 00:00 – 2026-11-18 00:00', '2026-11-24 00:00 – 2026-11-25 00:00'],
    ['周二', '2026-11-17 00:00 – 2026-11-18 00:00', '2026-11-24 00:00 – 2026-11-25 00:00'],
    ['since yesterday', '2026-11-22 00:00 – 2026-11-23 09:40', '2026-11-25 00:00 – 2026-11-26 14:05'],
    ['周二以来', '2026-11-17 00:00 – 2026-11-23 09:40', '2026-11-24 00:00 – 2026-11-26 14:05'],
    ['11月20日', '2026-11-20 00:00 – 2026-11-21 00:00', '2026-11-20 00:00 – 2026-11-21 00:00'],
    ['on 2026-11-19', '2026-11-19 00:00 – 2026-11-20 00:00', '2026-11-19 00:00 – 2026-11-20 00:00'],
    ['past 2 hours', '2026-11-23 07:40 – 2026-11-23 09:40', '2026-11-26 12:05 – 2026-11-26 14:05'],
    ['最近3个交易日', '3 trading days', '3 trading days'],
    ['last 5 trading days', '5 trading days', '5 trading days'],
    ['有什么变更', '3 trading days', '3 trading days'],
  ])('%s', (text, monday, thursday) => {
    expect(seen(text, MONDAY)).toBe(monday);
    expect(seen(text, THURSDAY)).toBe(thursday);
  });
});

const demo = JSON.parse(readFileSync(new URL('../../demo/warroom-demo.json', import.meta.url), 'utf8')) as {
  systems: Array<{ id: string; name: string; aliases?: string[] }>;
  pools: Array<{ id: string; name: string; aliases: string[]; system: string }>;
};
const systems: SystemRow[] = withPoolNames(
  demo.systems.map((s) => ({ id: s.id, name: s.name, aliases: s.aliases ?? [], tier: null, depends_on: [], owners: {} })),
  demo.pools,
);

describe('system names in free text', () => {
  it.each<[string, string[]]>([
    ['最近3个交易日jzyj有什么变更', ['jzjy']], // a swapped pair of letters
    ['what changed on Centralised Trading', ['jzjy']], // British spelling, one letter off
    ['JZJY alerts', ['jzjy']],
    ['who changed the CSDC link last week', ['zd-bp']],
    ['how do I fail over the market data gateway?', ['soft-md']], // a pool's alias names its system
    ['中登报盘池化状态', ['zd-bp']],
    ['两融和集中交易', ['margin', 'jzjy']],
    ['alerts on margin today', ['margin']],
    ['what changed clearly today', []], // a common word near "clearing" is not a name
    ['status', []],
  ])('%s', (text, ids) => {
    expect(mentionedSystems(systems, text).map((s) => s.id)).toEqual(ids);
  });
});
