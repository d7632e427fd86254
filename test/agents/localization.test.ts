import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { App } from '../../tools/services.js';
import { toolContext } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { importJson } from '../../db/import.js';
import type { localizationCardSchema } from '../../tools/change-intel/localize.js';
import { useDemoApp, createTestApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

type Card = z.output<typeof localizationCardSchema>;

async function localize(app: App, system: string, at: string): Promise<Card> {
  const r = await app.tools.invoke<Card>('localize', { system, at }, toolContext(app, 'test'));
  if (r.status === 'error') throw new Error(r.error);
  return r.data!;
}

describe('localization card on the demo incidents', () => {
  let db: Db;
  let app: App;
  useDemoApp((d, a) => {
    db = d;
    app = a;
  });

  it('puts the connection-pool change first for Monday’s 集中交易 order failures, with reasons, similar incident and runbook', async () => {
    const card = await localize(app, '集中交易', '2026-11-23T09:40:00+08:00');
    expect(Object.keys(card)).toEqual(expect.arrayContaining(['system', 'at', 'window', 'changes', 'changeEvents', 'alerts', 'health', 'similarIncidents', 'runbooks']));
    expect(card.window.tradingDays).toEqual(['2026-11-18', '2026-11-19', '2026-11-20']);
    expect(card.changes[0]!.id).toBe('CAB-20261120-003');
    expect(card.changes[0]!.reasons.join(' ')).toMatch(/no trading day in between/);
    expect(card.changes[0]!.reasons.join(' ')).toContain('IMS-20250303-004');
    expect(card.changes[0]!.reasonsZh).toHaveLength(card.changes[0]!.reasons.length);
    expect(card.changes.map((c) => c.id)).not.toContain('CAB-20261116-002'); // outside the window
    expect(card.changes.some((c) => c.system !== 'jzjy')).toBe(true); // neighbours are considered
    expect(card.similarIncidents[0]!.id).toBe('IMS-20250303-004');
    expect(card.runbooks[0]!.id).toBe('rb-jzjy-db-pool-open');
    expect(card.alerts.last2h).toBeGreaterThan(0);
    expect(card.health).toBeLessThan(100);
    expect(card.changeEvents.every((e) => e.changeId === null && e.reasons.includes('no change ticket'))).toBe(true);
  });

  it('puts the firmware change first for Thursday’s FPGA market-data alerts', async () => {
    const card = await localize(app, 'fpga-md', '2026-11-19T09:20:00+08:00');
    expect(card.changes[0]!.id).toBe('CAB-20261119-001');
    expect(card.runbooks.map((r) => r.id)).toContain('rb-fpga-mdgw-session');
  });

  it('shows the card in chat, saying it is a hint', async () => {
    const { say } = await import('../helpers/app.js');
    const r = await say(app, '定位 集中交易');
    expect(r.text).toContain('故障定位：集中交易');
    expect(r.text).toContain('CAB-20261120-003');
    expect(r.text).toContain('仅供参考，不是结论');
    expect(r.text).toMatch(/CAB-20261120-003[^\n]*本系统；高风险/); // reasons in the reader's language
    expect(r.text).not.toContain('on the system itself');
    const en = await say(app, 'localize jzjy');
    expect(en.text).toContain('a hint, not a verdict');
    expect(en.text).toMatch(/CAB-20261120-003[^\n]*on the system itself; high risk/);
  });
});

describe('localization ranking on a hand-made scenario', () => {
  it('ranks a change that went live just before the onset above an older riskier one, and a neighbour’s below the system’s own', async () => {
    const db = await createTestPglite();
    try {
      const app = await createTestApp(db);
      await importJson(db, {
        systems: [
          { id: 'oms', name: '订单系统', dependsOn: ['db1'] },
          { id: 'db1', name: '订单库' },
          { id: 'other', name: '无关系统' },
        ],
        changes: [
          { id: 'C-OLD', title: '订单系统大版本发布', system: 'oms', risk: 'high', plannedStart: '2026-11-18T17:00:00+08:00' },
          { id: 'C-NEW', title: '订单系统日志级别调整', system: 'oms', risk: 'low', plannedStart: '2026-11-20T17:00:00+08:00' },
          { id: 'C-NEIGH', title: '订单库参数调整', system: 'db1', risk: 'low', plannedStart: '2026-11-20T17:00:00+08:00' },
          { id: 'C-UNREL', title: '无关系统发布', system: 'other', risk: 'high', plannedStart: '2026-11-20T17:00:00+08:00' },
        ],
        alerts: [{ id: 'A1', system: 'oms', severity: 'critical', title: '下单失败率升高', startsAt: '2026-11-23T09:31:00+08:00' }],
      });
      const card = await localize(app, 'oms', '2026-11-23T09:45:00+08:00');
      const ids = card.changes.map((c) => c.id);
      expect(ids).not.toContain('C-UNREL');
      expect(ids.indexOf('C-NEW')).toBeLessThan(ids.indexOf('C-OLD'));
      expect(ids.indexOf('C-NEW')).toBeLessThan(ids.indexOf('C-NEIGH'));
      expect(card.onset).toBe('2026-11-23T09:31:00+08:00');
      expect(card.health).toBe(85);
    } finally {
      await db.close();
    }
  });

  describe('counts back from the onset, not from when someone asks', () => {
    // A post-close change on Wednesday; the trouble shows at Monday's open; someone asks on Tuesday.
    // Counted from Tuesday the window (Thu, Fri, Mon) would miss Wednesday; counted from the onset it does not.
    let db: Db;
    let app: App;
    const setup = async () => {
      db = await createTestPglite();
      app = await createTestApp(db);
      await importJson(db, {
        systems: [{ id: 'oms', name: '订单系统' }],
        changes: [
          { id: 'C-WED', title: '订单系统连接池参数调整', system: 'oms', risk: 'medium', plannedStart: '2026-11-18T17:00:00+08:00' },
          { id: 'C-TUE', title: '订单系统日志级别调整', system: 'oms', risk: 'low', plannedStart: '2026-11-24T08:00:00+08:00' },
        ],
        alerts: [
          // An old warning left firing, far apart from the episode: it must not drag the onset back.
          { id: 'A0', system: 'oms', severity: 'warning', title: '磁盘使用率 > 80%', startsAt: '2026-11-22T02:00:00+08:00' },
          { id: 'A1', system: 'oms', severity: 'warning', title: '连接池使用率 > 90%', startsAt: '2026-11-23T09:26:00+08:00' },
          { id: 'A2', system: 'oms', severity: 'critical', title: '下单失败率升高', startsAt: '2026-11-23T09:31:00+08:00' },
        ],
      });
    };

    it('finds the onset from the alerts a day later and still ranks the Wednesday change first', async () => {
      await setup();
      try {
        const card = await localize(app, 'oms', '2026-11-24T09:00:00+08:00');
        expect(card.onset).toBe('2026-11-23T09:26:00+08:00');
        expect(card.onsetSource).toBe('alert');
        expect(card.onsetAlert).toBe('A1');
        expect(card.window.tradingDays).toEqual(['2026-11-18', '2026-11-19', '2026-11-20']);
        expect(card.changes[0]!.id).toBe('C-WED');
        // A change made after the onset did not cause what began before it: set aside, with the reason.
        expect(card.changes.map((c) => c.id)).not.toContain('C-TUE');
        const later = card.setAside.find((c) => c.id === 'C-TUE')!;
        expect(later.reason).toMatch(/after the onset/);
        expect(later.reasonZh).toMatch(/晚于告警起始/);
        // Alerts from 2 hours before the onset until the time asked, not the last 2 hours before it.
        expect(card.alerts.from).toBe('2026-11-23T07:26:00+08:00');
        expect(card.alerts.items.map((a) => a.id)).toEqual(['A0', 'A1', 'A2']);
      } finally {
        await db.close();
      }
    });

    it('takes the onset the declarer gives over the alerts, and says so', async () => {
      await setup();
      try {
        const r = await app.tools.invoke<Card>('localize', { system: 'oms', at: '2026-11-24T09:00:00+08:00', onset: '2026-11-23T09:20:00+08:00' }, toolContext(app, 'test'));
        expect(r.data!.onset).toBe('2026-11-23T09:20:00+08:00');
        expect(r.data!.onsetSource).toBe('given');
        expect(r.data!.changes[0]!.id).toBe('C-WED');
        // The reasons name the moment as it was found: given, not an alert's.
        expect(r.data!.changes[0]!.reasons.join(' ')).toMatch(/before the onset(?! of the alerts)/);
        expect(r.data!.changes[0]!.reasonsZh.join(' ')).toMatch(/故障起始前/);
      } finally {
        await db.close();
      }
    });
  });
});
