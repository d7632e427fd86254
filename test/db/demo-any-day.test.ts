import { afterAll, describe, expect, it } from 'vitest';
import { toolContext, type App } from '../../tools/services.js';
import { TradingCalendar } from '../../core/calendar.js';
import { addDays, formatZoned, runningClock } from '../../core/time.js';
import type { Db } from '../../db/db.js';
import { DEMO_ANCHOR_MONDAY, demoMomentOf, demoShiftWeeks, loadDemo } from '../../db/demo.js';
import type { localizationCardSchema } from '../../tools/change-intel/localize.js';
import type { z } from 'zod';
import { createTestApp, say } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

type Card = z.output<typeof localizationCardSchema>;
const calendar = new TradingCalendar();
const at = (date: string, hm: string) => new Date(`${date}T${hm}:00+08:00`);

/** The story's ids moved like the data: CAB-20261120-003 for the week of 11-23, CAB-20261127-003 a week later. */
const shiftedId = (id: string, weeks: number) => id.replace(/(\d{4})(\d{2})(\d{2})/, (_m, y: string, mo: string, d: string) => addDays(`${y}-${mo}-${d}`, weeks * 7).replaceAll('-', ''));

// A plain week (Mon 12-07 … Sun 12-13), then the days around exchange holidays in the shipped
// calendar: National Day 2026 (10-01 … 10-07, with 09-25 closed too) and New Year 2027 (01-01).
const days = [
  '2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11', '2026-12-12', '2026-12-13',
  '2026-09-30', '2026-10-01', '2026-10-08', '2026-10-09',
  '2026-12-31', '2027-01-01', '2027-01-04',
];
const moments = days.flatMap((d) => ['08:00', '10:00', '22:00'].map((hm) => at(d, hm)));

describe('the demo tells its story whatever the day and hour', () => {
  // One store per week the demo lands in (moments of the same week share it).
  const stores = new Map<number, Promise<{ db: Db }>>();
  const storeFor = (weeks: number, real: Date) => {
    let s = stores.get(weeks);
    if (!s) {
      s = (async () => {
        const db = await createTestPglite();
        const app = await createTestApp(db, { now: real });
        const loaded = await loadDemo(db, app.calendar, { now: real });
        expect(loaded.shiftedDays).toBe(weeks * 7);
        return { db };
      })();
      stores.set(weeks, s);
    }
    return s;
  };
  afterAll(async () => {
    for (const s of stores.values()) await (await s).db.close();
  });

  it.each(moments.map((m) => [formatZoned(m, 'Asia/Shanghai'), m] as const))('as of %s', async (_label, real) => {
    const weeks = demoShiftWeeks(real, calendar);
    const moment = demoMomentOf(weeks, calendar);
    const monday = addDays(DEMO_ANCHOR_MONDAY, weeks * 7);
    // The story's Monday morning has happened, is recent, and its week is whole: Wed–Fri and the Monday trade.
    expect(moment.getTime()).toBeLessThanOrEqual(real.getTime());
    expect(real.getTime() - moment.getTime()).toBeLessThan(21 * 86400_000);
    for (const d of [monday, addDays(monday, -3), addDays(monday, -4), addDays(monday, -5)]) expect(calendar.isTradingDay(d), d).toBe(true);

    const { db } = await storeFor(weeks, real);
    // The demo's clock: the story's moment, a few minutes on.
    const app: App = await createTestApp(db, { clock: runningClock(new Date(moment.getTime() + 3 * 60_000)) });

    // The README's first example lists the culprit, and nothing from before the window.
    const changes = await say(app, '集中交易最近3个交易日有哪些变更');
    expect(changes.text).toContain(shiftedId('CAB-20261120-003', weeks));
    expect(changes.text).toContain('数据库连接池参数调整');
    expect(changes.text).not.toContain(shiftedId('CAB-20261116-002', weeks));
    expect(changes.text).not.toContain('窗口内没有');

    // The card ranks the culprit first; its onset is the first jzjy alert of the morning and every
    // alert it shows is from 2 hours before the onset until now.
    const r = await app.tools.invoke('localize', { system: 'jzjy', symptom: '开盘委托大量失败' }, toolContext(app, 'songkai'));
    const card = r.data as Card;
    expect(card.changes[0]!.id).toBe(shiftedId('CAB-20261120-003', weeks));
    expect(card.onsetAlert).toBe(shiftedId('ALT-20261123-0001', weeks));
    const now = app.clock().getTime();
    expect(card.alerts.items.length).toBeGreaterThan(0);
    for (const a of card.alerts.items) {
      expect(Date.parse(a.startsAt)).toBeGreaterThanOrEqual(Date.parse(card.onset!) - 2 * 3600_000);
      expect(Date.parse(a.startsAt)).toBeLessThanOrEqual(now);
    }

    // The on-call rota covers the moment: the story's commander is on duty.
    const oncall = await say(app, 'oncall jzjy');
    expect(oncall.text).toMatch(/谢平/);
  });
});
