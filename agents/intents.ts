import type { SystemRow } from '../tools/oncall/systems.js';
import { systemsMentioned } from '../tools/oncall/systems.js';

/**
 * Deterministic reading of a question: which tool answers it and with what input. Used by the
 * offline agent, and by the LLM agent as a fallback. Patterns describe how people ask, in Chinese
 * and English; they are not tied to any data set.
 */
export type Intent =
  | { kind: 'changes'; system?: SystemRow; days: number; includeNeighbours: boolean }
  | { kind: 'oncall'; system?: SystemRow; role?: string }
  | { kind: 'incidents'; system?: SystemRow }
  | { kind: 'systems' }
  | { kind: 'runbook'; systems: SystemRow[] }
  | { kind: 'fpga'; card?: number };

const CN_DIGITS: Record<string, number> = { 一: 1, 两: 2, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9, 十: 10 };

function parseCount(raw: string): number | undefined {
  if (/^\d+$/.test(raw)) return Number(raw);
  if (raw === '十') return 10;
  if (raw.length === 2 && raw[0] === '十') return 10 + (CN_DIGITS[raw[1]!] ?? 0);
  if (raw.length === 2 && raw[1] === '十') return (CN_DIGITS[raw[0]!] ?? 0) * 10;
  return CN_DIGITS[raw];
}

/** "最近3个交易日", "过去五个交易日", "last 5 trading days", "this week" → a number of trading days. */
export function parseTradingDays(text: string, fallback: number): number {
  const zh = text.match(/(?:最近|过去|近|前)?\s*([0-9]+|[一二两三四五六七八九十]{1,2})\s*(?:个)?\s*(?:交易日|工作日|天)/);
  if (zh) {
    const n = parseCount(zh[1]!);
    if (n && n >= 1 && n <= 30) return n;
  }
  const en = text.match(/(?:last|past|previous)\s+(\d+)\s+(?:trading\s+|business\s+|working\s+)?days?/i);
  if (en) {
    const n = Number(en[1]);
    if (n >= 1 && n <= 30) return n;
  }
  if (/一周|本周|这周|上周|(?:this|last|past)\s+week/i.test(text)) return 5;
  if (/昨天|yesterday/i.test(text)) return 1;
  return fallback;
}

const CHANGE = /变更|改动|变动|上线|发布|升级|改了|动了|操作记录|change|deploy|release|rollout|upgrade|modif|what\s+changed/i;
const ONCALL = /值班|on[\s-]?call|谁负责|负责人|联系谁|找谁|who\s+(?:is|'s)\s+(?:on|responsible|in charge)/i;
const INCIDENTS = /故障|事件|事故|现在什么情况|什么情况|怎么样了|incident|outage|what(?:'s| is) (?:going on|open|happening)|status/i;
const SYSTEMS = /系统列表|哪些系统|所有系统|有什么系统|list (?:the )?systems|which systems|what systems|^systems$/i;
// "How do I…" and "what do I do about…": the answer is in the runbooks, whatever else is named.
const HOWTO = /怎么办|怎么处理|怎么处置|怎么恢复|怎么排查|怎么切|如何|怎样|处置|应急|预案|手册|排查步骤|how (?:do|to|should|can)|what (?:should|do) (?:i|we)|runbook|playbook|steps? to|troubleshoot/i;
// "Is the FPGA decoder healthy?", "FPGA 行情卡正常吗": the card's status, read from its status block.
const FPGA = /fpga|行情卡|解码卡|硬件行情|md decoder|market[- ]data decoder/i;
// Asked as a question about its health, not a symptom told ("行情卡的登录状态看着也没毛病" is a symptom: runbooks).
const HEALTH = /(?:正常|健康|好|异常|问题)(?:吗|么|嘛|不|没有?)|有没有(?:问题|异常)|怎么样|如何了?|(?:什么|啥)状态|状态\s*[?？]?\s*$|\b(?:healthy|health|status|ok|okay|working|alive|up)\b/i;
const NEIGHBOURS = /上下游|上游|下游|邻居|关联系统|依赖|neighbo|upstream|downstream|dependenc/i;

export function readIntent(text: string, systems: SystemRow[], defaultDays: number): Intent {
  const mentioned = systemsMentioned(systems, text);
  const system = mentioned[0];
  if (HOWTO.test(text)) return { kind: 'runbook', systems: mentioned };
  if (CHANGE.test(text)) {
    return { kind: 'changes', system, days: parseTradingDays(text, defaultDays), includeNeighbours: NEIGHBOURS.test(text) };
  }
  if (ONCALL.test(text)) return { kind: 'oncall', system };
  if (SYSTEMS.test(text.trim())) return { kind: 'systems' };
  if (FPGA.test(text) && HEALTH.test(text)) {
    const card = parseCardNumber(text);
    return card === undefined ? { kind: 'fpga' } : { kind: 'fpga', card };
  }
  if (INCIDENTS.test(text)) return { kind: 'incidents', system };
  // Anything else is most likely a symptom or a pasted log line: look it up in the runbooks.
  return { kind: 'runbook', systems: mentioned };
}

/** "card 1", "卡 1", "1号卡", "#1", or a bare "1" → 1; undefined when no card is named. */
export function parseCardNumber(text: string): number | undefined {
  const m = /(?:card|卡)\s*#?\s*(\d{1,2})\b|(\d{1,2})\s*号\s*卡|^\s*#?(\d{1,2})\s*$/i.exec(text);
  const n = m ? Number(m[1] ?? m[2] ?? m[3]) : NaN;
  return Number.isInteger(n) ? n : undefined;
}
