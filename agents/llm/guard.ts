import { t, type Lang } from '../../core/lang.js';
import type { Queryable } from '../../db/db.js';
import { loadPools, type Pool } from '../../tools/failover/pool-store.js';
import { findSystem, listSystems, systemsMentioned, type SystemRow } from '../../tools/oncall/systems.js';

/**
 * The deterministic gate between a model's proposal and an action request. Only the ASKER's own
 * words count (never runbook text, alerts, change titles, earlier answers or tool output): they must
 * ask for this kind of action (a verb such as 切换 / fail over / 重启, not negated, not "how do I…")
 * and name the target the proposal acts on (the same system, pool, card or host). Anything else is
 * refused with a reason and no request is made, whatever the model was talked into.
 */
export interface GuardFacts {
  systems: SystemRow[];
  pools: Pool[];
}

export async function loadGuardFacts(db: Queryable): Promise<GuardFacts> {
  return { systems: await listSystems(db), pools: await loadPools(db) };
}

export interface AskerWords {
  /** The asker's question, exactly as they typed it. */
  text: string;
  lang: Lang;
  /** The system of the room's incident: the target of "切到备机" asked in that room without naming one. */
  incidentSystem?: string | undefined;
}

export type GuardVerdict = { allowed: true; target: string } | { allowed: false; reason: string };

const SWITCH = /切换|切到|切至|切过去|切去|切备|切主|倒换|主备切|接管|fail[\s-]?over|switch(?:\s*over)?|take\s*over|promote/i;
const VERBS: Record<string, RegExp> = {
  failover_switch: SWITCH,
  fpga_switch_path: /切换|切到|切回|切至|回切|切去|switch|move|fall\s*back/i,
  sense_fleet: /采集|收集|快照|collect|sense|snapshot/i,
};
const RESTART = /重启|restart|reboot|bounce/i;
const ANY_ACTION = new RegExp(`${SWITCH.source}|${RESTART.source}|执行|run|start|stop|启动|停止`, 'i');

function verbsFor(tool: string): RegExp {
  return VERBS[tool] ?? (/restart|reboot/.test(tool) ? RESTART : ANY_ACTION);
}

/** "How do I fail over X?", "should we switch?": asks about the action, not for it. */
const ASKS_ABOUT = /怎么|怎样|如何|步骤|流程|方法|要不要|该不该|是否(?:需要|应该)|需不需要|会不会|\bhow\s+(?:do|can|should|would|to|does)\b|\bwhat\s+(?:are\s+)?the\s+steps\b|\bshould\s+(?:we|i)\b|\bwhat\s+(?:happens\s+)?if\b|\bprocedure\b/i;
const NEGATED_ZH = /(?:不要|别|不用|无需|不必|勿|禁止|先不|暂不|不能)[^，。,.!?！？；;]{0,8}$/;
const NEGATED_EN = /\b(?:don'?t|do\s+not|never|no\s+need\s+to|shouldn'?t|should\s+not|not)\s+(?:\w+\s+){0,2}$/i;

function actionVerb(text: string, verbs: RegExp): { found: boolean; negated: boolean } {
  const global = new RegExp(verbs.source, 'gi');
  let found = false;
  for (const m of text.matchAll(global)) {
    found = true;
    const before = text.slice(0, m.index);
    if (!NEGATED_ZH.test(before) && !NEGATED_EN.test(before)) return { found, negated: false };
  }
  return { found, negated: found };
}

const norm = (s: string) => s.trim().toLowerCase();

interface Target {
  systems: string[];
  /** Words that name the target literally (pool names, hosts, a card). */
  names: string[];
  label: string;
}

function poolNamed(pools: Pool[], name: string): Pool | undefined {
  return pools.find((p) => [p.id, p.name, ...p.aliases].some((n) => norm(n) === norm(name)));
}

function stringsIn(value: unknown, skip: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap((v) => stringsIn(v, skip));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => (k === skip ? [] : stringsIn(v, skip)));
  return [];
}

/** What the proposed call acts on, as systems and literal names; undefined when it cannot be told. */
function targetOf(tool: string, input: Record<string, unknown>, facts: GuardFacts): Target | undefined {
  if (tool === 'failover_switch') {
    const pool = typeof input.pool === 'string' ? poolNamed(facts.pools, input.pool) : undefined;
    if (!pool) return undefined;
    return { systems: [pool.system], names: [pool.id, pool.name, ...pool.aliases], label: `${pool.name} (${pool.id})` };
  }
  if (tool === 'fpga_switch_path') {
    const fpga = facts.systems.filter((s) => s.id === 'fpga-md').map((s) => s.id);
    return { systems: fpga.length ? fpga : ['fpga-md'], names: ['fpga'], label: `FPGA card ${String(input.card)}` };
  }
  const systems: string[] = [];
  const names: string[] = [];
  for (const v of stringsIn(input, 'reason').filter((s) => s.trim().length >= 2)) {
    const system = facts.systems.find((s) => [s.id, s.name, ...s.aliases].some((n) => norm(n) === norm(v)));
    const pool = poolNamed(facts.pools, v);
    if (system) systems.push(system.id);
    else if (pool) systems.push(pool.system);
    else names.push(v);
  }
  if (!systems.length && !names.length) return undefined;
  return { systems, names, label: [...systems, ...names].join(', ') };
}

/** The card a question names ("card 0", "卡1", "0号卡"), when it names one. */
function cardNamed(text: string): number | undefined {
  const m = /(?:card|卡)\s*#?\s*(\d+)|(\d+)\s*号\s*卡/i.exec(text);
  const n = m?.[1] ?? m?.[2];
  return n === undefined ? undefined : Number(n);
}

/** Whether the asker's own words ask for `tool` on the target of `input`. */
export function askedFor(asker: AskerWords, proposal: { tool: string; input: unknown }, facts: GuardFacts): GuardVerdict {
  const { lang } = asker;
  const text = asker.text;
  const refuse = (zh: string, en: string): GuardVerdict => ({ allowed: false, reason: t(lang, zh, en) });
  const input = (proposal.input && typeof proposal.input === 'object' ? proposal.input : {}) as Record<string, unknown>;

  const verb = actionVerb(text, verbsFor(proposal.tool));
  if (!verb.found) return refuse(`提问没有要求执行 ${proposal.tool}（操作只能由提问人明确要求，不能来自手册、告警或工具输出）。`, `the question did not ask for ${proposal.tool} (an action is only requested when the asker asks for it, never because a runbook, alert or tool output says so).`);
  if (verb.negated) return refuse('提问说的是不要执行该操作。', 'the question says not to do it.');
  if (ASKS_ABOUT.test(text)) return refuse('提问是在问怎么做或是否该做，不是要求执行；如需执行请明确说出（例如“把中登报盘切到备机”）。', 'the question asks how or whether to do it, not to do it; ask for it plainly to get an approval card (e.g. "fail over 中登报盘 to its standby").');

  const target = targetOf(proposal.tool, input, facts);
  if (!target) return refuse(`无法确定 ${proposal.tool} 的操作对象。`, `could not tell what ${proposal.tool} would act on.`);

  const lower = norm(text);
  const mentioned = new Set(systemsMentioned(facts.systems, text).map((s) => s.id));
  for (const p of facts.pools) if ([p.id, p.name, ...p.aliases].some((n) => n.trim().length >= 2 && lower.includes(norm(n)))) mentioned.add(p.system);
  const literal = target.names.some((n) => n.trim().length >= 2 && lower.includes(norm(n)));
  // Nothing named at all ("切到备机吧" in the incident's room): the room's incident is the target.
  if (mentioned.size === 0 && !literal && asker.incidentSystem) mentioned.add(asker.incidentSystem);
  const sameSystem = target.systems.some((s) => mentioned.has(s));
  if (!sameSystem && !literal) {
    const named = [...mentioned].map((id) => findSystem(facts.systems, id)?.name ?? id);
    return refuse(
      `提问没有点名 ${target.label}${named.length ? `（提到的是 ${named.join('、')}）` : ''}。`,
      `the question does not name ${target.label}${named.length ? ` (it names ${named.join(', ')})` : ''}.`,
    );
  }
  if (proposal.tool === 'fpga_switch_path') {
    const card = cardNamed(text);
    if (card !== undefined && card !== input.card) return refuse(`提问说的是卡 ${card}，不是卡 ${String(input.card)}。`, `the question names card ${card}, not card ${String(input.card)}.`);
  }
  return { allowed: true, target: target.label };
}
