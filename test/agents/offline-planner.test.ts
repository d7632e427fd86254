import { describe, expect, it } from 'vitest';
import type { Db } from '../../db/db.js';
import { storeSnapshots } from '../../tools/change-intel/snapshots-store.js';
import type { App } from '../../tools/services.js';
import { createTestApp, useDemoApp } from '../helpers/app.js';
import { snap } from '../diff/helpers.js';
import { ask, calls } from './offline-helpers.js';

describe('the offline planner over the demo (Monday 2026-11-23 09:40)', () => {
  let db: Db;
  let app: App;
  useDemoApp((d, a) => {
    db = d;
    app = a;
  });

  describe('changes and who made them', () => {
    it('"上周谁动过中登报盘" names the people and what they did, last calendar week', async () => {
      const { answer, text } = await ask(app, '上周谁动过中登报盘');
      expect(answer).toMatchObject({ intent: 'changes', system: 'zd-bp' });
      expect(text).toContain('中登报盘 的变更（2026-11-16 00:00 – 2026-11-23 00:00）');
      expect(text.split('\n')[1]).toBe('动过的人：黄涛（huangtao）、孙强（sunqiang）（详见下方「谁动过」）。');
      expect(text).toMatch(/谁动过\n\s+• 黄涛（huangtao）：操作 3 次（3 次无变更单）/);
      expect(text).toContain('孙强（sunqiang）：执行 CAB-20261121-003');
      expect(text).toContain('EV-20261121-0009'); // the ticketless pool config edit
    });

    it('"who changed the CSDC link last week" answers the same in English', async () => {
      const { text } = await ask(app, 'who changed the CSDC link last week');
      expect(text).toContain('Made by: 黄涛 (huangtao), 孙强 (sunqiang)');
      expect(text).toContain('Changes to 中登报盘 (2026-11-16 00:00 – 2026-11-23 00:00)');
      expect(text).toContain('黄涛 (huangtao): 3 operations (3 without a ticket)');
      expect(text).toContain('孙强 (sunqiang): executed CAB-20261121-003');
    });

    it('"since 9:30" is today from 09:30 to now; a typo in the system name still resolves', async () => {
      const since = await ask(app, 'what changed on jzjy since 9:30');
      expect(since.text).toContain('Window: 2026-11-23 09:30 – 2026-11-23 09:40');
      expect(since.text).toContain('No change tickets or change operation events in the window.');
      const typo = await ask(app, '最近3个交易日jzyj有什么变更');
      expect(typo.answer.system).toBe('jzjy');
      expect(typo.text).toContain('集中交易 最近 3 个交易日的变更');
      expect(typo.text).toContain('赵磊（zhaolei）：执行 CAB-20261121-004、CAB-20261121-001、CAB-20261120-003');
    });

    it('"上周二" and "last Tuesday" are Tuesday 2026-11-17 only', async () => {
      for (const q of ['上周二 集中交易有什么变更', 'what changed on jzjy last Tuesday']) {
        const { text } = await ask(app, q);
        expect(text).toContain('2026-11-17 00:00 – 2026-11-18 00:00');
        expect(text).toContain('CAB-20261117-001');
        expect(text).not.toContain('CAB-20261118-002');
      }
    });
  });

  describe('alerts', () => {
    it('"融资融券 最近有什么告警" lists the margin alert still firing, with host and id', async () => {
      const { answer, text } = await ask(app, '融资融券 最近有什么告警');
      expect(calls(answer)).toEqual(['recent_alerts:success']);
      expect(text).toContain('两融 的告警（1）');
      expect(text).toContain('两融信用委托失败率升高 · 11-23 (周一) 09:34 起，仍在告警 · rzrq-app-01 (ALT-20261123-0010)');
    });

    it('"alerts on margin today" in English; "critical" filters by severity', async () => {
      expect((await ask(app, 'alerts on margin today')).text).toContain('since 11-23 (Mon) 09:34, still firing');
      const critical = await ask(app, '集中交易今天的紧急告警');
      expect(critical.text).toContain('委托失败率 > 5%');
      expect(critical.text).not.toContain('数据库连接池使用率');
    });
  });

  describe('runbooks', () => {
    it('"how do I fail over the market data gateway?" puts the market-data failover runbook first, not Kafka', async () => {
      const { answer, text } = await ask(app, 'how do I fail over the market data gateway?');
      expect(answer.citations[0]!.runbookId).toBe('rb-md-switch-software-path');
      const firstPassage = text.split('\n').find((l) => l.includes('§'));
      expect(firstPassage).toContain('[rb-md-switch-software-path §');
      expect(answer.citations.findIndex((c) => c.runbookId === 'rb-md-kafka-lag')).not.toBe(0);
    });

    it('"行情网关怎么切换" finds it in Chinese too', async () => {
      const { answer } = await ask(app, '行情网关怎么切换');
      expect(answer.citations[0]!.runbookId).toBe('rb-md-switch-software-path');
    });

    it('a question nothing answers gets the closest runbooks and an honest line, not an invented answer', async () => {
      const { answer, text } = await ask(app, '公司食堂几点开门');
      expect(answer.intent).toBe('runbook');
      expect(text).toContain('没有找到能直接回答这个问题的数据，以下是最接近的运行手册');
      expect(text).toContain('我能直接回答：变更与操作人、告警');
    });
  });

  describe('tools by name', () => {
    it('"定位一下集中交易" and "localize jzjy" show the localization card', async () => {
      expect((await ask(app, '定位一下集中交易')).text).toContain('故障定位：集中交易');
      const en = await ask(app, 'localize jzjy');
      expect(calls(en.answer)).toEqual(['localize:success']);
      expect(en.text).toContain('CAB-20261120-003');
    });

    it('"CAB-20261121-004 前后有什么变化" diffs the host of the change once its snapshots exist', async () => {
      const before = await ask(app, 'CAB-20261121-004 前后有什么变化');
      expect(before.answer.toolCalls.map((c) => c.input)).toEqual([{ host: 'trd-app-03', changeId: 'CAB-20261121-004', maxItems: 20 }]);
      expect(before.text).toContain('No "after" snapshot of trd-app-03 for CAB-20261121-004');
      const sshd = (sha: string) => ({ 'file.hash': [{ key: '/etc/ssh/sshd_config', value: { sha256: sha.repeat(64), mode: '0600', owner: 'root' } }] });
      await db.transaction((tx) =>
        storeSnapshots(tx, [
          snap('trd-app-03', sshd('a'), { takenAt: '2026-11-21T14:58:00+08:00', label: 'before', changeId: 'CAB-20261121-004' }),
          snap('trd-app-03', sshd('b'), { takenAt: '2026-11-21T16:02:00+08:00', label: 'after', changeId: 'CAB-20261121-004' }),
        ]),
      );
      const after = await ask(app, 'CAB-20261121-004 前后有什么变化');
      expect(calls(after.answer)).toEqual(['diff_snapshots:success']);
      expect(after.text).toContain('/etc/ssh/sshd_config');
    });

    it('the diff command finds the change id anywhere in "对比 trd-app-03 在 CAB-… 前后的感知因子"', async () => {
      const { say } = await import('../helpers/app.js');
      const { text } = await say(app, '对比 trd-app-03 在 CAB-20261121-004 前后的感知因子');
      expect(text).toContain('/etc/ssh/sshd_config');
      expect(text).not.toContain('No snapshot of 在');
    });

    it('"中登报盘池化状态" shows the pool; an ask to switch points to /failover and proposes nothing', async () => {
      const status = await ask(app, '中登报盘池化状态');
      expect(status.answer.toolCalls.map((c) => c.input)).toEqual([{ pool: 'zd-baopan' }]);
      expect(status.text).toContain('zdbp-01');
      const sw = await ask(app, '把中登报盘切到备机');
      expect(sw.text).toContain('`/failover switch zd-baopan [--to <节点>] [原因]`，需两人审批后才执行');
      expect(sw.answer.proposedActions).toEqual([]);
      expect(await db.query('SELECT id FROM action_requests')).toEqual([]);
    });

    it('"谁在值班" with no system and no context lists everyone on call now, system by system', async () => {
      const { answer, text } = await ask(app, '谁在值班');
      expect(answer.toolCalls.map((c) => [c.tool, c.status, c.input])).toEqual([['who_is_oncall', 'success', {}]]);
      expect(text).toContain('当前值班（全部系统）');
      // Every system with someone on call at the demo's moment shows, with that person's name.
      const now = app.clock().toISOString();
      const rows = await db.query<{ system: string; person: string }>(
        `SELECT s.name AS system, p.name AS person FROM oncall o JOIN systems s ON s.id = o.system JOIN people p ON p.id = o.person
          WHERE (o.starts_at IS NULL OR o.starts_at <= $1) AND (o.ends_at IS NULL OR o.ends_at > $1)`,
        [now],
      );
      expect(rows.length).toBeGreaterThan(3);
      for (const r of rows) expect(text).toMatch(new RegExp(`${r.system}：.*${r.person}`));
    });

    it('"集中交易依赖哪些系统" / "what does 两融 depend on?" show the dependencies both ways, by name', async () => {
      const zh = await ask(app, '集中交易依赖哪些系统');
      expect(zh.answer.toolCalls.map((c) => c.input)).toEqual([{ system: 'jzjy' }]);
      const jzjy = (await db.query<{ depends_on: string[] }>("SELECT depends_on FROM systems WHERE id = 'jzjy'"))[0]!;
      const names = new Map((await db.query<{ id: string; name: string }>('SELECT id, name FROM systems')).map((r) => [r.id, r.name]));
      expect(jzjy.depends_on.length).toBeGreaterThan(0);
      const upstream = zh.text.split('\n').find((l) => l.includes('依赖（上游）'))!;
      for (const id of jzjy.depends_on) expect(upstream).toContain(`${names.get(id)} (${id})`);
      const en = await ask(app, 'what does 两融 depend on?');
      expect(en.text).toContain('Depends on (upstream)');
      expect(en.text).toContain('Used by (downstream)');
    });

    it('"现在有哪些降噪规则" lists the noise rules; it never adds one', async () => {
      const { answer } = await ask(app, '现在有哪些降噪规则？');
      expect(calls(answer)).toEqual([expect.stringMatching(/^noise_rules:(success|no_data)$/)]);
    });

    it('"who is on call for 两融" resolves the Chinese alias inside English', async () => {
      const { text } = await ask(app, 'who is on call for 两融');
      expect(text).toContain('On call for 两融');
      expect(text).toMatch(/Incident commander\s+谢平/);
    });
  });

  describe('what Warroom is, and what it is not', () => {
    it('"你是谁？能用大模型回答吗" is an honest capabilities answer, not a runbook', async () => {
      const { answer, text } = await ask(app, '你是谁？能用大模型回答吗');
      expect(answer.toolCalls).toEqual([]);
      expect(text).toContain('我是 Warroom');
      expect(text).toContain('当前没有配置大模型（设置 WARROOM_LLM_MODEL');
      expect(text).toContain('上周谁动过中登报盘');
      expect((await ask(app, 'what can you do?')).text).toContain('no chat model is configured');
    });

    it.each([
      ['帮我下单', 'Warroom 不能下单或交易'],
      ['book a meeting room for the postmortem', 'Warroom cannot book meeting rooms'],
      ['send an email to the CSRC', 'Warroom cannot send emails (regulatory reports included)'],
    ])('"%s" says plainly it cannot', async (q, expected) => {
      const { answer, text } = await ask(app, q);
      expect(answer.intent).toBe('unsupported');
      expect(answer.toolCalls).toEqual([]);
      expect(text).toContain(expected);
    });
  });

  describe('follow-ups from the asker\'s previous turn', () => {
    it('"那上周六呢" keeps the system and the kind of question, with the new window', async () => {
      const { answer, text } = await ask(app, '那上周六呢', { history: [{ question: '上周谁动过中登报盘', intent: 'changes', system: 'zd-bp', at: '2026-11-23T09:39:00+08:00' }] });
      expect(answer).toMatchObject({ intent: 'changes', system: 'zd-bp' });
      expect(text).toContain('2026-11-21 00:00 – 2026-11-22 00:00');
      expect(text).toContain('黄涛（huangtao）');
    });

    it('"who did it?" keeps the system and the window of the question before', async () => {
      const { text } = await ask(app, 'who did it?', { history: [{ question: 'what changed on 中登报盘 last week', intent: 'changes', system: 'zd-bp', at: '2026-11-23T09:39:00+08:00' }] });
      expect(text).toContain('Who made them');
      expect(text).toContain('2026-11-16 00:00 – 2026-11-23 00:00');
    });

    it('"那集中交易呢" after an alerts question asks about the new system\'s alerts', async () => {
      const { answer, text } = await ask(app, '那集中交易呢', { history: [{ question: '两融今天有什么告警', intent: 'alerts', system: 'margin', at: '2026-11-23T09:39:00+08:00' }] });
      expect(answer).toMatchObject({ intent: 'alerts', system: 'jzjy' });
      expect(text).toContain('委托失败率 > 5%');
    });
  });

  it('windows move with the clock: the same words on Friday 2026-11-20 17:10 mean other days', async () => {
    const friday = await createTestApp(db, { now: new Date('2026-11-20T17:10:00+08:00') });
    const since = await ask(friday, '集中交易 16:30以来有什么变更');
    expect(since.text).toContain('窗口：2026-11-20 16:30 – 2026-11-20 17:10');
    expect(since.text).toContain('CAB-20261120-003');
    expect(since.text).not.toContain('EV-20261120-0002'); // 10:15 that morning
    const lastWeek = await ask(friday, '上周谁动过中登报盘');
    expect(lastWeek.text).toContain('2026-11-09 00:00 – 2026-11-16 00:00');
    expect(lastWeek.text).not.toContain('黄涛');
    const recent = await ask(friday, 'what changed on jzjy in the last 3 trading days');
    expect(recent.text).toContain('the last 3 trading days (2026-11-17, 2026-11-18, 2026-11-19) and today');
    expect(recent.text).not.toContain('CAB-20261121-004'); // Saturday's, still to come
  });
});
