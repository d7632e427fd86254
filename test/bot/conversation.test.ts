import { describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { importJson } from '../../db/import.js';
import { useDemoApp, createTestApp, say } from '../helpers/app.js';

describe('conversation over the demo data (Monday 2026-11-23 09:40)', () => {
  let db: Db;
  let app: App;
  useDemoApp((d, a) => {
    db = d;
    app = a;
  });

  it('answers help in Chinese and English', async () => {
    const zh = await say(app, '帮助');
    expect(zh.text).toContain('Warroom 命令');
    expect(zh.text).toContain('变更 <系统>');
    const en = await say(app, 'help');
    expect(en.text).toContain('Warroom commands');
    expect(en.text).toContain('changes <system>');
  });

  it('lists the systems with their dependencies', async () => {
    const r = await say(app, 'systems');
    expect(r.text).toMatch(/Systems \(\d+\)/);
    expect(r.text).toContain('集中交易 (jzjy)');
    expect(r.text).toMatch(/集中交易 \(jzjy\)[^\n]*depends on [^\n]*exch-bp/);
  });

  it('answers "集中交易最近3个交易日有哪些变更" with the changes of Wed–Fri and the weekend, not older ones', async () => {
    const r = await say(app, '集中交易最近3个交易日有哪些变更');
    expect(r.text).toContain('2026-11-18、2026-11-19、2026-11-20');
    expect(r.text).toContain('CAB-20261120-003');
    expect(r.text).toContain('CAB-20261118-002');
    expect(r.text).toContain('CAB-20261121-004'); // weekend work before Monday's open is inside the window
    expect(r.text).not.toContain('CAB-20261116-002'); // Monday of the week before: outside
    expect(r.text).not.toContain('CAB-20261117-001');
    expect(r.text).toContain('无变更单'); // an event without a ticket is flagged
    const [change] = await db.query<{ executor: string; name: string }>(
      "SELECT c.executor, p.name FROM changes c JOIN people p ON p.id = c.executor WHERE c.id = 'CAB-20261120-003'",
    );
    expect(r.text).toContain(`执行 ${change!.name}`); // people by name, not by id
  });

  it('widens the window when asked in English for 5 trading days', async () => {
    const r = await say(app, 'what changed on jzjy in the last 5 trading days?');
    expect(r.text).toContain('the last 5 trading days (2026-11-16, 2026-11-17, 2026-11-18, 2026-11-19, 2026-11-20)');
    expect(r.text).toContain('CAB-20261116-002');
  });

  it('includes neighbours on request', async () => {
    const own = await say(app, 'changes jzjy 3');
    const withNeighbours = await say(app, 'changes jzjy 3 --neighbours');
    expect(own.text).not.toContain('[exch-bp]');
    expect(withNeighbours.text).toContain('[exch-bp]');
    expect(withNeighbours.text).toContain('and its neighbours');
  });

  it('tells who is on call by role at the time asked', async () => {
    const r = await say(app, 'oncall 集中交易');
    expect(r.text).toContain('集中交易 当前值班');
    expect(r.text).toMatch(/故障指挥\s+\S+/);
    const monday = r.messages[0]!.fields!.find((f) => f.label === '故障指挥')!.value;
    const friday = await createTestApp(db, { now: new Date('2026-11-20T10:00:00+08:00') });
    const before = (await say(friday, 'oncall jzjy')).messages[0]!.fields!.find((f) => f.label === 'Incident commander')!.value;
    expect(before).not.toEqual(monday); // the weekly rotation handed over at Monday 00:00
  });

  it('answers natural on-call questions', async () => {
    const r = await say(app, 'who is on call for 中登报盘?');
    expect(r.text).toContain('On call for 中登报盘');
    expect(r.messages[0]!.fields!.length).toBeGreaterThanOrEqual(3);
  });

  it('lists open incidents, and says so when there are none', async () => {
    expect((await say(app, '故障')).text).toContain('当前没有未恢复的故障');
    await importJson(db, { incidents: [{ id: 'INC-20261123-001', title: '开盘委托大量失败', system: 'jzjy', severity: 'P1', openedAt: '2026-11-23T09:33:00+08:00' }] });
    const r = await say(app, 'incidents');
    expect(r.text).toContain('P1 INC-20261123-001 开盘委托大量失败');
    expect(r.text).toContain('open for 7 min');
  });

  it('gives a clear error for an unknown command and an unknown system', async () => {
    expect((await say(app, '/deploy everything')).text).toContain('Unknown command "deploy"');
    const r = await say(app, '变更 不存在的系统');
    expect(r.text).toContain('No system matches "不存在的系统"');
    expect(r.text).toContain('Did you mean');
  });

  it('asks which system when a change question names none', async () => {
    const r = await say(app, '最近有哪些变更');
    expect(r.text).toContain('哪个系统的变更');
  });

  it('records every tool call in the audit log with who asked', async () => {
    await say(app, 'changes zd-bp', 'U04SLACKZZ', 'slack');
    const rows = await db.query<{ actor: string; action: string; outcome: string }>("SELECT actor, action, outcome FROM audit_log WHERE action = 'tool:change_lookup' ORDER BY id DESC LIMIT 1");
    expect(rows[0]).toMatchObject({ action: 'tool:change_lookup', outcome: 'success' });
    expect(rows[0]!.actor).toBe('slack:U04SLACKZZ');
  });

  it('maps a known Slack user to the person', async () => {
    const people = await db.query<{ id: string; slack: string }>('SELECT id, slack FROM people WHERE slack IS NOT NULL LIMIT 1');
    await say(app, 'systems', people[0]!.slack, 'slack');
    const rows = await db.query<{ actor: string }>("SELECT actor FROM audit_log WHERE action = 'tool:list_systems' ORDER BY id DESC LIMIT 1");
    expect(rows[0]!.actor).toBe(people[0]!.id);
  });
});
