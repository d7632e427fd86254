import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { App } from '../../tools/services.js';
import { toolContext } from '../../tools/services.js';
import { TradingCalendar } from '../../core/calendar.js';
import type { Db } from '../../db/db.js';
import { flagChange, flagEvent } from '../../tools/change-intel/change-flags.js';
import type { changeLookupTool } from '../../tools/change-intel/change-lookup.js';
import { useDemoApp, say } from '../helpers/app.js';

const calendar = new TradingCalendar();
const at = (s: string) => new Date(s);

describe('change highlight flags', () => {
  it('flags events: no ticket, restarts while trading, prod data maintenance, key parameters', () => {
    const ev = (e: Partial<Parameters<typeof flagEvent>[0]>) => ({ at: at('2026-11-20T16:42:00+08:00'), environment: 'prod', action: 'update-config', object: 'file:/etc/motd', changeId: 'CAB-1', ...e });
    expect(flagEvent(ev({}), calendar, 'low')).toEqual([]);
    expect(flagEvent(ev({ changeId: null }), calendar, undefined)).toEqual(['no-ticket']);
    // Thursday 10:35, continuous trading: a restart is flagged and counts as high risk.
    expect(flagEvent(ev({ at: at('2026-11-12T10:35:00+08:00'), action: 'restart', object: 'service:bkfront-abc' }), calendar, 'medium')).toEqual(['high-risk', 'restart-in-trading-hours', 'in-trading-hours']);
    // The same restart in a test environment, or at lunch, is not.
    expect(flagEvent(ev({ at: at('2026-11-12T10:35:00+08:00'), action: 'restart', environment: 'uat' }), calendar, 'low')).toEqual([]);
    expect(flagEvent(ev({ at: at('2026-11-12T12:10:00+08:00'), action: 'restart' }), calendar, 'low')).toEqual([]);
    expect(flagEvent(ev({ action: 'db-maintenance', object: 'table:tbl_order_his' }), calendar, 'low')).toEqual(['high-risk', 'prod-data-maintenance']);
    expect(flagEvent(ev({ action: 'cleanup', object: 'dir:/opt/jzjy/log/archive' }), calendar, 'low')).toEqual([]);
    expect(flagEvent(ev({ action: 'update-config', object: 'file:/opt/jzjy/conf/dbpool.properties' }), calendar, 'low')).toEqual(['key-param-change']);
    // A key parameter changed without a ticket while trading is as risky as it gets.
    expect(flagEvent(ev({ at: at('2026-11-20T10:15:00+08:00'), action: 'update-param-table', object: 'table:t_fee_template', changeId: null }), calendar, undefined)).toEqual([
      'high-risk',
      'key-param-change',
      'no-ticket',
      'in-trading-hours',
    ]);
    expect(flagEvent(ev({}), calendar, 'high')).toEqual(['high-risk']);
  });

  it('flags tickets: high risk, missing second reviewer, windows in trading hours, data maintenance, parameters', () => {
    const ch = (c: Partial<Parameters<typeof flagChange>[0]>) => ({ title: '报表模板调整', risk: 'low', plannedStart: at('2026-11-18T17:30:00+08:00'), plannedEnd: at('2026-11-18T18:00:00+08:00'), executor: 'a', reviewer: 'b', objects: ['file:/opt/x/report.xml'], ...c });
    expect(flagChange(ch({}), calendar)).toEqual([]);
    expect(flagChange(ch({ reviewer: 'a' }), calendar)).toEqual(['no-reviewer']);
    expect(flagChange(ch({ risk: 'high', reviewer: null }), calendar)).toEqual(['high-risk', 'no-reviewer']);
    expect(flagChange(ch({ title: '银证转账农业银行前置盘中应急切换与重启', plannedStart: at('2026-11-12T10:18:00+08:00'), plannedEnd: at('2026-11-12T10:40:00+08:00') }), calendar)).toEqual(['restart-in-trading-hours', 'in-trading-hours']);
    // A window that starts after the close but ends in the next morning's session still touches trading hours.
    expect(flagChange(ch({ plannedStart: at('2026-11-18T21:00:00+08:00'), plannedEnd: at('2026-11-19T09:45:00+08:00') }), calendar)).toEqual(['in-trading-hours']);
    expect(flagChange(ch({ title: '集中交易历史委托库归档清理', objects: ['db:JZJYDB', 'table:tbl_order_his'] }), calendar)).toEqual(['prod-data-maintenance']);
    expect(flagChange(ch({ title: '周末测试：集中交易 UAT 环境生产数据脱敏恢复', objects: ['db:JZJYDB_UAT', 'host:trd-uat-01'] }), calendar)).toEqual([]);
    expect(flagChange(ch({ title: '两融担保品折算率参数表更新', objects: ['table:rzrq_collateral_ratio'] }), calendar)).toEqual(['key-param-change']);
  });
});

type Lookup = z.output<(typeof changeLookupTool)['output']>;

describe('change look-up with highlights on the demo data (Monday 2026-11-23 09:40)', () => {
  let db: Db;
  let app: App;
  useDemoApp((d, a) => {
    db = d;
    app = a;
  });

  it('gives every change and event its flags and lists the highlights, keeping the existing fields', async () => {
    const r = await app.tools.invoke<Lookup>('change_lookup', { system: 'jzjy', days: 3 }, toolContext(app, 'songkai'));
    const data = r.data!;
    const change = (id: string) => data.changes.find((c) => c.id === id)!;
    const event = (id: string) => data.events.find((e) => e.id === id)!;
    expect(change('CAB-20261120-003')).toMatchObject({ risk: 'high', executorName: expect.any(String), eventCount: 5, flags: ['high-risk', 'key-param-change'] });
    expect(change('CAB-20261118-002').flags).toEqual([]);
    expect(event('EV-20261120-0002')).toMatchObject({ changeId: null, flags: ['high-risk', 'key-param-change', 'no-ticket', 'in-trading-hours'] });
    expect(event('EV-20261120-0009')).toMatchObject({ action: 'restart', flags: ['high-risk'] }); // after the close, but part of a high-risk ticket
    expect(data.highlights.map((h) => h.flag)).toEqual(['high-risk', 'key-param-change', 'no-ticket', 'in-trading-hours']);
    expect(data.highlights.find((h) => h.flag === 'no-ticket')).toEqual({ flag: 'no-ticket', changes: [], events: ['EV-20261120-0002'] });
    expect(r.summary).toContain('flagged for attention');
  });

  it('flags restarts during trading sessions and prod data maintenance on other systems', async () => {
    const bank = await app.tools.invoke<Lookup>('change_lookup', { system: 'bank-transfer', days: 10 }, toolContext(app, 'songkai'));
    expect(bank.data!.events.find((e) => e.id === 'EV-20261112-0002')!.flags).toContain('restart-in-trading-hours');
    expect(bank.data!.changes.find((c) => c.id === 'CAB-20261112-004')!.flags).toContain('restart-in-trading-hours');
    const jzjy = await app.tools.invoke<Lookup>('change_lookup', { system: 'jzjy', days: 10 }, toolContext(app, 'songkai'));
    expect(jzjy.data!.changes.find((c) => c.id === 'CAB-20261117-001')!.flags).toContain('prod-data-maintenance');
    expect(jzjy.data!.events.find((e) => e.id === 'EV-20261117-0004')!.flags).toContain('prod-data-maintenance');
  });

  it('shows the flags in Chinese and English', async () => {
    const zh = await say(app, '集中交易最近3个交易日有哪些变更');
    expect(zh.text).toContain('⚠ 无变更单');
    expect(zh.text).toMatch(/t_fee_template[^\n]*⚠ 高风险 ⚠ 关键参数变更 ⚠ 盘中操作/);
    expect(zh.text).toContain('需要关注');
    expect(zh.text).toMatch(/高风险：CAB-20261120-003/);
    expect(zh.messages[0]!.sections![0]!.title).toContain('变更单');
    const en = await say(app, 'changes jzjy 3');
    expect(en.text).toMatch(/CAB-20261120-003 [^\n]*high risk[^\n]*⚠ key parameter change/);
    expect(en.text).toContain('Needs attention');
    expect(en.text).toMatch(/no ticket: EV-20261120-0002/);
  });
});
