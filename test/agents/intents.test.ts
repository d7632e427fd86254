import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTradingDays, readIntent, type Intent } from '../../agents/intents.js';
import type { SystemRow } from '../../tools/oncall/systems.js';
import { withPoolNames } from '../../agents/offline/systems.js';

/** The demo's systems (names and aliases as people write them), straight from the demo file. */
const demo = JSON.parse(readFileSync(new URL('../../demo/warroom-demo.json', import.meta.url), 'utf8')) as {
  systems: Array<{ id: string; name: string; aliases?: string[]; tier?: string; dependsOn?: string[]; owners?: Record<string, string[]> }>;
  pools: Array<{ id: string; name: string; aliases: string[]; system: string }>;
};
// The planner reads failover pools' names as names of their systems ("market-data gateway" → soft-md).
const systems: SystemRow[] = withPoolNames(
  demo.systems.map((s) => ({ id: s.id, name: s.name, aliases: s.aliases ?? [], tier: s.tier ?? null, depends_on: s.dependsOn ?? [], owners: s.owners ?? {} })),
  demo.pools,
);
const DEFAULT_DAYS = 3;

/** An intent with systems by id, and only the fields its kind has. */
function summary(intent: Intent): Record<string, unknown> {
  switch (intent.kind) {
    case 'changes':
      return { kind: 'changes', system: intent.system?.id, days: intent.days, neighbours: intent.includeNeighbours };
    case 'oncall':
    case 'incidents':
      return { kind: intent.kind, system: intent.system?.id };
    case 'systems':
    case 'noise-rules':
      return { kind: intent.kind };
    case 'dependencies':
      return { kind: 'dependencies', system: intent.system?.id };
    case 'runbook':
      return { kind: 'runbook', systems: intent.systems.map((s) => s.id) };
    case 'fpga':
      return { kind: 'fpga', ...(intent.card !== undefined ? { card: intent.card } : {}) };
    case 'alerts':
    case 'localize':
      return { kind: intent.kind, system: intent.system?.id };
    case 'incident-status':
      return { kind: intent.kind, focus: intent.focus, ...(intent.incident ? { incident: intent.incident } : {}) };
    case 'diff':
      return { kind: 'diff', changeId: intent.changeId };
    case 'failover':
      return { kind: 'failover', system: intent.system?.id, switchAsked: intent.switchAsked };
    case 'capabilities':
      return { kind: 'capabilities' };
    case 'unsupported':
      return { kind: 'unsupported', feature: intent.feature };
  }
}

const changes = (system: string | undefined, days: number, neighbours = false) => ({ kind: 'changes', system, days, neighbours });
const oncall = (system?: string) => ({ kind: 'oncall', system });
const incidents = (system?: string) => ({ kind: 'incidents', system });
const runbook = (...ids: string[]) => ({ kind: 'runbook', systems: ids });
const SYSTEMS = { kind: 'systems' };

describe('reading a question (readIntent)', () => {
  it.each<[string, Record<string, unknown>]>([
    // Change questions: the system, the trading days (default 3), and whether its neighbours count.
    ['集中交易最近3个交易日有哪些变更', changes('jzjy', 3)],
    ['过去五个交易日中登报盘有什么改动', changes('zd-bp', 5)],
    ['集中交易最近两天有什么变更', changes('jzjy', 2)],
    ['最近二十个交易日清算有哪些变更', changes('clearing', 20)],
    ['两融系统本周有没有发布', changes('margin', 5)],
    ['银证转账昨天动了什么', changes('bank-transfer', 1)],
    ['集中交易及上下游最近十个交易日的变更', changes('jzjy', 10, true)],
    ['what changed on jzjy', changes('jzjy', DEFAULT_DAYS)],
    ['what changed on jzjy in the last 5 trading days', changes('jzjy', 5)],
    ['what changed on jzjy and its upstream dependencies', changes('jzjy', DEFAULT_DAYS, true)],
    ['any deploys to the API gateway this week?', changes('api-gw', 5)],
    ['past week changes on quant', changes('quant', 5)],
    ['changes to redis yesterday', changes('redis-cloud', 1)],
    // Out of range (1–30 trading days): the default.
    ['last 40 trading days changes on clearing', changes('clearing', DEFAULT_DAYS)],

    // On call.
    ['谁在值班', oncall()],
    ['集中交易现在谁负责', oncall('jzjy')],
    ['中登报盘找谁', oncall('zd-bp')],
    ['who is on call for 中登报盘?', oncall('zd-bp')],
    ["who's on call for margin", oncall('margin')],

    // Incidents and status.
    ['现在什么情况', incidents()],
    ['两融有什么故障', incidents('margin')],
    ['any incidents on clearing?', incidents('clearing')],
    ["what's going on?", incidents()],
    ['status', incidents()],

    // The list of systems.
    ['系统列表', SYSTEMS],
    ['有哪些系统', SYSTEMS],
    ['list systems', SYSTEMS],
    ['which systems are there', SYSTEMS],

    // Runbooks: how-to questions, symptoms and log lines.
    ['集中交易委托失败怎么办', runbook('jzjy')],
    ['中登报盘怎么切换到备用', runbook('zd-bp')],
    ['how do I fail over 中登报盘', runbook('zd-bp')],
    ['runbook for redis failover', runbook('redis-cloud')],
    ['连接池等待超时', runbook()],
    ['ORA-12519 TNS:no appropriate service handler found', runbook()],
  ])('%s', (text, expected) => {
    expect(summary(readIntent(text, systems, DEFAULT_DAYS))).toEqual(expected);
  });

  // A change word in a how-to question, or in a name, is not a change question.
  it.each<[string, Record<string, unknown>]>([
    ['集中交易变更后委托失败怎么处理', runbook('jzjy')],
    ['how to roll back a release on jzjy', runbook('jzjy')],
    ['发布通报的手册在哪', runbook()],
    ['what should we do after the jzjy upgrade failed', runbook('jzjy')],
    ['who is on call for 中登报盘', oncall('zd-bp')],
    ['今天有哪些故障', incidents()],
    ['ORA-12519 TNS:no appropriate service handler found', runbook()],
    ['集中交易依赖哪些系统', { kind: 'dependencies', system: 'jzjy' }],
    ['what does 两融 depend on?', { kind: 'dependencies', system: 'margin' }],
    ['现在有哪些降噪规则', { kind: 'noise-rules' }],
    ['which noise rules are active?', { kind: 'noise-rules' }],
  ])('not a change question: %s', (text, expected) => {
    const intent = readIntent(text, systems, DEFAULT_DAYS);
    expect(intent.kind).not.toBe('changes');
    expect(summary(intent)).toEqual(expected);
  });
});

describe('the asks the offline planner answers beyond changes and on-call', () => {
  it.each<[string, Record<string, unknown>]>([
    ['上周谁动过中登报盘', changes('zd-bp', 5)],
    ['who changed the CSDC link last week', changes('zd-bp', 5)],
    ['融资融券 最近有什么告警', { kind: 'alerts', system: 'margin' }],
    ['alerts on margin today', { kind: 'alerts', system: 'margin' }],
    ['什么时候能恢复', { kind: 'incident-status', focus: 'eta' }],
    ['when will it be fixed?', { kind: 'incident-status', focus: 'eta' }],
    ['这个故障影响多大', { kind: 'incident-status', focus: 'impact' }],
    ["what's the impact?", { kind: 'incident-status', focus: 'impact' }],
    ['INC-20261123-001 进展如何', { kind: 'incident-status', focus: 'status', incident: 'INC-20261123-001' }],
    ['定位一下集中交易', { kind: 'localize', system: 'jzjy' }],
    ['localize jzjy', { kind: 'localize', system: 'jzjy' }],
    ['CAB-20261121-004 前后有什么变化', { kind: 'diff', changeId: 'CAB-20261121-004' }],
    ['中登报盘池化状态', { kind: 'failover', system: 'zd-bp', switchAsked: false }],
    ['把中登报盘切到备机', { kind: 'failover', system: 'zd-bp', switchAsked: true }],
    ['how do I fail over the market data gateway?', runbook('soft-md')],
    ['你是谁？能用大模型回答吗', { kind: 'capabilities' }],
    ['what can you do?', { kind: 'capabilities' }],
    ['帮我下单', { kind: 'unsupported', feature: 'trading' }],
    ['book a meeting room', { kind: 'unsupported', feature: 'meeting' }],
    ['send an email to the CSRC', { kind: 'unsupported', feature: 'email' }],
    ['连接池等待超时怎么办', runbook()],
  ])('%s', (text, expected) => {
    expect(summary(readIntent(text, systems, DEFAULT_DAYS))).toEqual(expected);
  });
});

describe('questions about the FPGA decoder', () => {
  // Its health, asked: the card's status block answers. A symptom told, or a how-to: the runbooks.
  it.each<[string, Record<string, unknown>]>([
    ['is the FPGA decoder healthy?', { kind: 'fpga' }],
    ['FPGA 行情卡正常吗', { kind: 'fpga' }],
    ['行情卡现在什么状态', { kind: 'fpga' }],
    ['fpga card 1 ok?', { kind: 'fpga', card: 1 }],
    ['1号卡 FPGA 有没有问题', { kind: 'fpga', card: 1 }],
    ['FPGA 卡 MDGW 登录失败怎么办', runbook('fpga-md')],
    ['深市有十几只票的价格半天不跳，沪市都正常，行情卡的登录状态看着也没毛病', runbook()],
    ['fpga-md 最近3个交易日有什么变更', changes('fpga-md', 3)],
    ['who is on call for fpga', oncall('fpga-md')],
  ])('%s', (text, expected) => {
    expect(summary(readIntent(text, systems, DEFAULT_DAYS))).toEqual(expected);
  });
});

describe('trading days in a question (parseTradingDays)', () => {
  it.each<[string, number]>([
    ['最近3个交易日', 3],
    ['过去五个交易日', 5],
    ['近十二个交易日', 12],
    ['前两个工作日', 2],
    ['最近 7 天', 7],
    ['本周', 5],
    ['上周有什么变更', 5],
    ['昨天', 1],
    ['last 5 trading days', 5],
    ['past 2 business days', 2],
    ['previous 10 days', 10],
    ['this week', 5],
    ['yesterday', 1],
    ['最近31个交易日', DEFAULT_DAYS],
    ['last 0 days', DEFAULT_DAYS],
    ['集中交易有什么变更', DEFAULT_DAYS],
    ['what changed on jzjy', DEFAULT_DAYS],
  ])('%s → %i', (text, days) => expect(parseTradingDays(text, DEFAULT_DAYS)).toBe(days));
});
