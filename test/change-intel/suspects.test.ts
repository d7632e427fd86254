import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { App } from '../../tools/services.js';
import { toolContext } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { importJson } from '../../db/import.js';
import type { localizationCardSchema } from '../../tools/change-intel/localize.js';
import { localizationView } from '../../bot/views/localization-view.js';
import { renderText } from '../../bot/render/text.js';
import { liveFrom, tradingClosesBetween, WEIGHTS } from '../../tools/change-intel/suspects.js';
import { TradingCalendar } from '../../core/calendar.js';
import { createTestApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

type Card = z.output<typeof localizationCardSchema>;

/**
 * One signal at a time: in each scenario the culprit and the decoy are alike in everything but the
 * signal under test, and the decoy's id sorts first, so a ranker blind to that signal puts (or ties)
 * the decoy on top. Each scenario has its own systems, so they share one database.
 */
let db: Db;
let app: App;
beforeAll(async () => {
  db = await createTestPglite();
  app = await createTestApp(db);
});
afterAll(async () => db?.close());

async function localize(system: string, at = '2026-11-23T09:45:00+08:00', extra: { onset?: string; symptom?: string } = {}): Promise<Card> {
  const r = await app.tools.invoke<Card>('localize', { system, at, ...extra }, toolContext(app, 'test'));
  if (r.status === 'error') throw new Error(r.error);
  return r.data!;
}

const ranked = (card: Card) => [...card.changes, ...card.changeEvents].sort((a, b) => b.score - a.score).map((x) => x.id);
const aside = (card: Card, id: string) => card.setAside.find((a) => a.id === id);
const show = (card: Card, lang: 'zh' | 'en') => renderText(localizationView(card, lang, 'Asia/Shanghai'));

/** The same post-close change on Friday 11-20, on `system`, with one update-config event. */
function fridayChange(id: string, system: string, over: Record<string, unknown> = {}) {
  return { id, title: '交易中间件参数调整', system, risk: 'medium', status: 'completed', plannedStart: '2026-11-20T16:30:00+08:00', plannedEnd: '2026-11-20T17:30:00+08:00', executor: 'ops1', reviewer: 'ops2', objects: ['file:/opt/app/conf/app.properties'], ...over };
}
function fridayEvent(id: string, system: string, changeId: string | null, over: Record<string, unknown> = {}) {
  return { id, at: '2026-11-20T16:40:00+08:00', scene: '盘后', operator: 'ops1', system, environment: 'prod', action: 'update-config', object: 'file:/opt/app/conf/app.properties', ...(changeId ? { changeId } : {}), source: 'automation', ...over };
}
const mondayAlert = (id: string, system: string, title = '委托失败率升高', labels: Record<string, string> = {}) => ({ id, system, severity: 'critical', title, startsAt: '2026-11-23T09:31:00+08:00', labels: { env: 'prod', ...labels } });

describe('environment: a change that never touched production is set aside', () => {
  it('sets aside a change whose events all ran in UAT, and a ticketless event in test, with the reason in both languages', async () => {
    await importJson(db, {
      systems: [{ id: 'env-sys', name: '环境系统' }],
      changes: [fridayChange('A-UAT', 'env-sys'), fridayChange('B-PROD', 'env-sys')],
      changeEvents: [
        fridayEvent('EV-A1', 'env-sys', 'A-UAT', { environment: 'uat', at: '2026-11-20T16:50:00+08:00' }),
        fridayEvent('EV-B1', 'env-sys', 'B-PROD'),
        fridayEvent('EV-T1', 'env-sys', null, { environment: 'test', at: '2026-11-20T16:55:00+08:00', action: 'restart', object: 'host:env-test-01' }),
      ],
      alerts: [mondayAlert('AL-ENV', 'env-sys')],
    });
    const card = await localize('env-sys');
    expect(ranked(card)).toEqual(['B-PROD']);
    expect(aside(card, 'A-UAT')).toMatchObject({ kind: 'change', reason: 'events only in UAT: never touched production', reasonZh: '仅在 UAT 环境执行，未触及生产' });
    expect(aside(card, 'EV-T1')).toMatchObject({ kind: 'event', reason: expect.stringMatching(/only in TEST/), reasonZh: expect.stringMatching(/仅在 TEST 环境执行/) });
    // Listed apart on the card, in the reader's language.
    const en = show(card, 'en');
    expect(en).toContain('Set aside (2)');
    expect(en).toMatch(/A-UAT \[env-sys\] 交易中间件参数调整 — events only in UAT/);
    expect(show(card, 'zh')).toMatch(/已排除（2）[\s\S]*A-UAT[^\n]*仅在 UAT 环境执行/);
  });
});

describe('status: cancelled, never executed, scheduled for later, rolled back before the onset', () => {
  it('sets aside cancelled and not-executed tickets (no events), keeps the executed one', async () => {
    await importJson(db, {
      systems: [{ id: 'st-sys', name: '状态系统' }],
      changes: [
        fridayChange('A-CANCEL', 'st-sys', { status: 'cancelled' }),
        fridayChange('A-NOTRUN', 'st-sys', { status: 'not-executed' }),
        fridayChange('A-CANCEL2', 'st-sys', { status: 'cancelled', cancelledAt: '2026-11-19T10:00:00+08:00' }),
        fridayChange('B-DONE', 'st-sys'),
      ],
      changeEvents: [fridayEvent('EV-ST1', 'st-sys', 'B-DONE')],
      alerts: [mondayAlert('AL-ST', 'st-sys')],
    });
    const card = await localize('st-sys');
    expect(ranked(card)).toEqual(['B-DONE']);
    expect(aside(card, 'A-CANCEL')!.reason).toBe('cancelled (planned 11-20), never executed');
    expect(aside(card, 'A-CANCEL2')!.reason).toBe('cancelled 11-19, never executed');
    expect(aside(card, 'A-CANCEL2')!.reasonZh).toBe('11-19 已取消，未执行');
    expect(aside(card, 'A-NOTRUN')!.reason).toBe('not executed (planned 11-20)');
  });

  it('sets aside a ticket scheduled for after the onset', async () => {
    await importJson(db, {
      systems: [{ id: 'sch-sys', name: '排期系统' }],
      changes: [fridayChange('A-LATER', 'sch-sys', { status: 'scheduled', plannedStart: '2026-11-23T10:00:00+08:00', plannedEnd: '2026-11-23T10:30:00+08:00' }), fridayChange('B-DONE', 'sch-sys')],
      changeEvents: [fridayEvent('EV-SCH1', 'sch-sys', 'B-DONE')],
      alerts: [mondayAlert('AL-SCH', 'sch-sys')],
    });
    const card = await localize('sch-sys', '2026-11-23T10:40:00+08:00');
    expect(ranked(card)).toEqual(['B-DONE']);
    expect(aside(card, 'A-LATER')!.reason).toBe('scheduled for 11-23 10:00, after the onset of the alerts');
  });

  it('sets aside a change rolled back before the onset and names the rollback event; a failed one stays a suspect', async () => {
    await importJson(db, {
      systems: [{ id: 'rb-sys', name: '回退系统' }],
      changes: [fridayChange('A-ROLLED', 'rb-sys', { status: 'rolled-back' }), fridayChange('B-FAILED', 'rb-sys', { status: 'failed' })],
      changeEvents: [
        fridayEvent('EV-RB1', 'rb-sys', 'A-ROLLED'),
        fridayEvent('EV-RB2', 'rb-sys', 'A-ROLLED', { at: '2026-11-20T17:10:00+08:00', action: 'rollback', detail: '验证不通过，恢复 app.properties 备份' }),
        fridayEvent('EV-RB3', 'rb-sys', 'B-FAILED'),
      ],
      alerts: [mondayAlert('AL-RB', 'rb-sys')],
    });
    const card = await localize('rb-sys');
    expect(ranked(card)).toEqual(['B-FAILED']);
    expect(aside(card, 'A-ROLLED')!.reason).toBe('rolled back 11-20 17:10 (EV-RB2: rollback file:/opt/app/conf/app.properties), before the onset of the alerts');
    expect(aside(card, 'A-ROLLED')!.reasonZh).toMatch(/^已于 11-20 17:10 回退（EV-RB2/);
    expect(card.changes[0]!.reasons.join('; ')).toMatch(/failed: 1 operation\(s\) ran in production, state may be left behind/);
  });

  it('keeps a change rolled back after the onset as a suspect, saying so', async () => {
    await importJson(db, {
      systems: [{ id: 'rb2-sys', name: '回退系统二' }],
      changes: [fridayChange('B-LATE-RB', 'rb2-sys', { status: 'rolled-back' })],
      changeEvents: [fridayEvent('EV-RB21', 'rb2-sys', 'B-LATE-RB'), fridayEvent('EV-RB22', 'rb2-sys', 'B-LATE-RB', { at: '2026-11-23T09:50:00+08:00', action: 'rollback' })],
      alerts: [mondayAlert('AL-RB2', 'rb2-sys')],
    });
    const card = await localize('rb2-sys', '2026-11-23T10:00:00+08:00');
    expect(ranked(card)).toEqual(['B-LATE-RB']);
    expect(card.changes[0]!.reasons.join('; ')).toContain('rolled back 11-23 09:50 (EV-RB22), after the onset of the alerts');
  });
});

describe('dependency direction: failure flows from what a system depends on', () => {
  it('ranks a change on an upstream system above the same change on a downstream consumer', async () => {
    await importJson(db, {
      systems: [
        { id: 'dep-core', name: '核心', dependsOn: ['dep-up'] },
        { id: 'dep-up', name: '上游库' },
        { id: 'dep-down', name: '下游应用', dependsOn: ['dep-core'] },
      ],
      changes: [fridayChange('A-DOWN', 'dep-down', { risk: 'high' }), fridayChange('B-UP', 'dep-up')],
      changeEvents: [fridayEvent('EV-D1', 'dep-down', 'A-DOWN'), fridayEvent('EV-D2', 'dep-up', 'B-UP')],
      alerts: [mondayAlert('AL-DEP', 'dep-core')],
    });
    const card = await localize('dep-core');
    expect(ranked(card)).toEqual(['B-UP', 'A-DOWN']);
    const [up, down] = [card.changes.find((c) => c.id === 'B-UP')!, card.changes.find((c) => c.id === 'A-DOWN')!];
    expect(up.reasons).toContain('upstream: dep-core depends on dep-up');
    expect(down.reasons).toContain('consumer of dep-core: downstream, rarely the cause');
    expect(down.reasonsZh.join('；')).toContain('dep-down 是 dep-core 的下游');
    expect(up.score - down.score).toBeGreaterThan(0.1);
  });

});

describe('relevance to the symptom: what the change touched against what the alerts name', () => {
  it('ranks a certificate change above a log-level change for TLS handshake failures', async () => {
    await importJson(db, {
      systems: [{ id: 'tls-gw', name: '对外网关' }],
      changes: [
        fridayChange('A-LOG', 'tls-gw', { title: '网关日志级别调整为 DEBUG', objects: ['file:/opt/gw/conf/logback.xml'] }),
        fridayChange('B-CERT', 'tls-gw', { title: '网关对外证书续期', objects: ['cert:gw-public/example.com'] }),
      ],
      changeEvents: [fridayEvent('EV-TLS1', 'tls-gw', 'A-LOG', { object: 'file:/opt/gw/conf/logback.xml' }), fridayEvent('EV-TLS2', 'tls-gw', 'B-CERT', { object: 'cert:gw-public/example.com' })],
      alerts: [mondayAlert('AL-TLS', 'tls-gw', 'TLS handshake failures > 5%')],
    });
    const card = await localize('tls-gw');
    expect(ranked(card)).toEqual(['B-CERT', 'A-LOG']);
    expect(card.changes[0]!.reasons.join('; ')).toMatch(/touched 证书[^;]* named in the alerts/);
    expect(card.changes[0]!.reasonsZh.join('；')).toMatch(/涉及告警中提到的 证书/);
    expect(card.changes[1]!.reasons).toContain('nothing in common with the alerts');
  });

  it('matches a pool parameter written as HikariCP maximumPoolSize to 连接池 alerts, not a search-cluster rebalance', async () => {
    await importJson(db, {
      systems: [{ id: 'pool-sys', name: '交易中间件' }],
      changes: [
        fridayChange('A-SEARCH', 'pool-sys', { title: '搜索集群分片参数调整', objects: ['cluster:search-01'] }),
        fridayChange('B-POOL', 'pool-sys', { title: '中间件参数调整', objects: ['file:/opt/mw/conf/datasource.yml'] }),
      ],
      changeEvents: [
        fridayEvent('EV-P1', 'pool-sys', 'A-SEARCH', { action: 'rebalance', object: 'cluster:search-01', detail: 'shard rebalance 24 → 32' }),
        fridayEvent('EV-P2', 'pool-sys', 'B-POOL', { object: 'file:/opt/mw/conf/datasource.yml', detail: 'HikariCP maximumPoolSize 50 → 10' }),
      ],
      alerts: [mondayAlert('AL-POOL', 'pool-sys', '数据库连接池等待超时')],
    });
    const card = await localize('pool-sys');
    expect(ranked(card)).toEqual(['B-POOL', 'A-SEARCH']);
    expect(card.changes[0]!.reasons.join('; ')).toMatch(/touched [^;]*maximumPoolSize[^;]* named in the alerts/);
  });

  it('ranks the change that touched the host an alert label names above the same change on another host', async () => {
    await importJson(db, {
      systems: [{ id: 'host-sys', name: '主机系统' }],
      changes: [fridayChange('A-H8', 'host-sys', { objects: ['host:hs-app-08'] }), fridayChange('B-H7', 'host-sys', { objects: ['host:hs-app-07'] })],
      changeEvents: [fridayEvent('EV-H1', 'host-sys', 'A-H8', { object: 'host:hs-app-08' }), fridayEvent('EV-H2', 'host-sys', 'B-H7', { object: 'host:hs-app-07' })],
      alerts: [mondayAlert('AL-HOST', 'host-sys', '进程异常退出', { host: 'hs-app-07', metric: 'proc_up' })],
    });
    const card = await localize('host-sys');
    expect(ranked(card)).toEqual(['B-H7', 'A-H8']);
    expect(card.changes[0]!.reasons).toContain('touched host hs-app-07 named in the alerts');
    expect(card.changes[0]!.reasonsZh).toContain('涉及告警中提到的 host hs-app-07');
  });

  it('does not take a monitoring change whose title repeats the alert for the cause', async () => {
    await importJson(db, {
      systems: [{ id: 'mon-sys', name: '监控例系统' }],
      changes: [
        fridayChange('A-RULE', 'mon-sys', { title: '连接池等待超时告警阈值调整', objects: ['alert-rule:pool-wait-timeout'] }),
        fridayChange('B-POOL2', 'mon-sys', { title: '中间件参数调整', objects: ['file:/opt/mw/conf/dbpool.properties'] }),
      ],
      changeEvents: [
        fridayEvent('EV-M1', 'mon-sys', 'A-RULE', { object: 'alert-rule:pool-wait-timeout', detail: 'threshold 500ms → 200ms' }),
        fridayEvent('EV-M2', 'mon-sys', 'B-POOL2', { object: 'file:/opt/mw/conf/dbpool.properties', detail: 'maxActive 100 → 30' }),
      ],
      alerts: [mondayAlert('AL-MON', 'mon-sys', '连接池等待超时')],
    });
    const card = await localize('mon-sys');
    expect(ranked(card)).toEqual(['B-POOL2', 'A-RULE']);
    expect(card.changes[1]!.reasons).toContain('monitoring only (alert rules, thresholds, dashboards): alters what is seen, not what runs');
  });

  it('sets aside read-only bastion work without a ticket; keeps bastion work that changed something', async () => {
    await importJson(db, {
      systems: [{ id: 'bas-sys', name: '堡垒机例系统' }],
      changeEvents: [
        fridayEvent('EV-A-LOOK', 'bas-sys', null, { source: 'bastion', action: 'query', object: 'host:bas-app-01', detail: 'tail -f app.log', at: '2026-11-23T09:00:00+08:00' }),
        fridayEvent('EV-B-EDIT', 'bas-sys', null, { source: 'bastion', action: 'run-command', object: 'host:bas-app-01', detail: 'sed -i 修改 app.properties' }),
      ],
      alerts: [mondayAlert('AL-BAS', 'bas-sys')],
    });
    const card = await localize('bas-sys');
    expect(ranked(card)).toEqual(['EV-B-EDIT']);
    expect(aside(card, 'EV-A-LOOK')).toMatchObject({ kind: 'event', reason: 'read-only action (query): changed nothing' });
  });

  it('takes a verification step or a clause that says "unchanged" for what it is: not what the change touched', async () => {
    await importJson(db, {
      systems: [{ id: 'neg-sys', name: '否定例系统' }],
      changes: [
        // The decoy's deploy detail and its verify step both name Redis, to say it was NOT touched.
        fridayChange('A-ENGINE', 'neg-sys', { title: '风控引擎版本升级', objects: ['app:neg-engine'], risk: 'high' }),
        fridayChange('B-AOF', 'neg-sys', { title: '缓存持久化策略调整', objects: ['file:/etc/redis/redis.conf'], risk: 'low' }),
      ],
      changeEvents: [
        fridayEvent('EV-N1', 'neg-sys', 'A-ENGINE', { action: 'deploy', object: 'app:neg-engine', detail: '仅升级引擎，Redis 客户端与连接配置未变更' }),
        fridayEvent('EV-N2', 'neg-sys', 'A-ENGINE', { action: 'verify', object: 'app:neg-engine', detail: '仿真通过，Redis 访问 p99 3ms', at: '2026-11-20T17:00:00+08:00' }),
        fridayEvent('EV-N3', 'neg-sys', 'B-AOF', { object: 'file:/etc/redis/redis.conf', detail: 'appendfsync everysec → always', at: '2026-11-20T16:30:00+08:00' }),
      ],
      alerts: [mondayAlert('AL-NEG', 'neg-sys', 'Redis 命令延迟 p99 > 50ms')],
    });
    const card = await localize('neg-sys');
    expect(ranked(card)).toEqual(['B-AOF', 'A-ENGINE']);
    expect(card.changes.find((c) => c.id === 'A-ENGINE')!.reasons).toContain('nothing in common with the alerts');
  });


  it('discounts a change that only touched logging when the symptom is not about logs, but not when it is', async () => {
    const data = (sys: string, title: string) => ({
      systems: [{ id: sys, name: `${sys} 系统` }],
      changes: [
        fridayChange(`A-LOG-${sys}`, sys, { title: '订单路由访问日志采样率调整', objects: ['route:/app/order', 'config:access-log-sampling'] }),
        fridayChange(`B-WAF-${sys}`, sys, { title: '防护规则集升级', objects: ['plugin:waf-rules'] }),
      ],
      changeEvents: [fridayEvent(`EV-L1-${sys}`, sys, `A-LOG-${sys}`, { object: 'config:access-log-sampling' }), fridayEvent(`EV-L2-${sys}`, sys, `B-WAF-${sys}`, { object: 'plugin:waf-rules' })],
      alerts: [mondayAlert(`AL-${sys}`, sys, title, { route: '/app/order', plugin: 'waf-rules' })],
    });
    await importJson(db, data('log-sys', '403 ratio > 8% on /app/order'));
    const card = await localize('log-sys');
    expect(ranked(card)).toEqual(['B-WAF-log-sys', 'A-LOG-log-sys']);
    expect(card.changes[1]!.reasons.join('; ')).toContain('logging only');
    await importJson(db, data('logd-sys', '日志盘写满 /app/order 响应变慢'));
    const disk = await localize('logd-sys');
    expect(disk.changes.find((c) => c.id === 'A-LOG-logd-sys')!.reasons.join('; ')).not.toContain('logging only');
  });

  it('reads the symptom the declarer gives when there are no alerts', async () => {
    await importJson(db, {
      systems: [{ id: 'sym-sys', name: '症状系统' }],
      changes: [fridayChange('A-OTHER', 'sym-sys', { title: '报表模板调整' }), fridayChange('B-MCAST', 'sym-sys', { title: '组播地址扩容' })],
      changeEvents: [fridayEvent('EV-S1', 'sym-sys', 'A-OTHER'), fridayEvent('EV-S2', 'sym-sys', 'B-MCAST')],
    });
    const card = await localize('sym-sys', '2026-11-23T09:45:00+08:00', { onset: '2026-11-23T09:31:00+08:00', symptom: 'multicast market data gaps' });
    expect(ranked(card)).toEqual(['B-MCAST', 'A-OTHER']);
    expect(card.changes[0]!.reasons).toContain('touched 组播 named in the symptom');
  });
});

describe('time: the onset, and distance counted in trading days', () => {
  it('sets aside a change made after the onset though nearer to the time asked', async () => {
    await importJson(db, {
      systems: [{ id: 'late-sys', name: '时间系统' }],
      changes: [fridayChange('A-AFTER', 'late-sys', { plannedStart: '2026-11-23T09:35:00+08:00', plannedEnd: '2026-11-23T09:40:00+08:00' }), fridayChange('B-BEFORE', 'late-sys')],
      changeEvents: [fridayEvent('EV-L1', 'late-sys', 'A-AFTER', { at: '2026-11-23T09:36:00+08:00' }), fridayEvent('EV-L2', 'late-sys', 'B-BEFORE')],
      alerts: [mondayAlert('AL-LATE', 'late-sys')],
    });
    const card = await localize('late-sys');
    expect(ranked(card)).toEqual(['B-BEFORE']);
    expect(aside(card, 'A-AFTER')!.reason).toBe('first ran in production 11-23 09:36, after the onset of the alerts');
  });

  it('counts a change before a long holiday as going live at the next open: it outranks a riskier one two trading days older', async () => {
    // National Day 2026: closed 10-01 to 10-07. Made 09-30 after the close, live from 10-08's open (8 calendar days, no trading day).
    await importJson(db, {
      systems: [{ id: 'hol-sys', name: '假期系统' }],
      changes: [
        fridayChange('A-OLDER', 'hol-sys', { risk: 'high', plannedStart: '2026-09-28T16:30:00+08:00', plannedEnd: '2026-09-28T17:00:00+08:00' }),
        fridayChange('B-PREHOL', 'hol-sys', { risk: 'low', plannedStart: '2026-09-30T16:30:00+08:00', plannedEnd: '2026-09-30T17:00:00+08:00' }),
      ],
      changeEvents: [fridayEvent('EV-HO1', 'hol-sys', 'A-OLDER', { at: '2026-09-28T16:40:00+08:00' }), fridayEvent('EV-HO2', 'hol-sys', 'B-PREHOL', { at: '2026-09-30T16:40:00+08:00' })],
      alerts: [{ ...mondayAlert('AL-HOL', 'hol-sys'), startsAt: '2026-10-08T09:31:00+08:00' }],
    });
    const card = await localize('hol-sys', '2026-10-08T09:45:00+08:00');
    expect(ranked(card)).toEqual(['B-PREHOL', 'A-OLDER']);
    expect(card.changes[0]!.reasons[0]).toBe('made after the close on 09-30, live from the open of 10-08: no trading day in between');
    expect(card.changes[1]!.reasons[0]).toBe('2 trading day(s) before the onset of the alerts');
  });

  it('ranks Friday-evening work above work done an hour earlier inside Friday’s session (which lived through a close)', async () => {
    await importJson(db, {
      systems: [{ id: 'ses-sys', name: '会话系统' }],
      changes: [fridayChange('A-INTRADAY', 'ses-sys', { plannedStart: '2026-11-20T14:30:00+08:00' }), fridayChange('B-EVENING', 'ses-sys', { plannedStart: '2026-11-20T15:30:00+08:00' })],
      changeEvents: [fridayEvent('EV-SE1', 'ses-sys', 'A-INTRADAY', { at: '2026-11-20T14:50:00+08:00' }), fridayEvent('EV-SE2', 'ses-sys', 'B-EVENING', { at: '2026-11-20T15:40:00+08:00' })],
      alerts: [mondayAlert('AL-SES', 'ses-sys')],
    });
    const card = await localize('ses-sys');
    expect(ranked(card)).toEqual(['B-EVENING', 'A-INTRADAY']);
    expect(card.changes[1]!.reasons[0]).toBe('1 trading day(s) before the onset of the alerts');
  });

  it('counts closes and next opens in exchange time', () => {
    const cal = new TradingCalendar();
    const d = (s: string) => new Date(s);
    expect(tradingClosesBetween(cal, d('2026-11-20T16:42:00+08:00'), d('2026-11-23T09:24:50+08:00'))).toBe(0);
    expect(tradingClosesBetween(cal, d('2026-11-20T10:15:00+08:00'), d('2026-11-23T09:24:50+08:00'))).toBe(1);
    expect(tradingClosesBetween(cal, d('2026-11-18T17:00:00+08:00'), d('2026-11-23T09:26:00+08:00'))).toBe(2);
    expect(liveFrom(cal, d('2026-11-21T15:05:00+08:00')).toISOString()).toBe(d('2026-11-23T09:15:00+08:00').toISOString());
    expect(liveFrom(cal, d('2026-11-20T12:10:00+08:00')).toISOString()).toBe(d('2026-11-20T13:00:00+08:00').toISOString());
    // The written-down weights keep their order of importance.
    expect(WEIGHTS.relevance).toBeGreaterThan(WEIGHTS.recency);
    expect(WEIGHTS.self).toBeGreaterThan(WEIGHTS.upstream);
    expect(WEIGHTS.upstream).toBeGreaterThan(WEIGHTS.downstream * 5);
    expect(WEIGHTS.risk).toBeLessThan(WEIGHTS.relevance / 3);
  });
});
