import type { SystemRow } from '../tools/oncall/systems.js';
import { mentionedSystems } from './offline/systems.js';

/**
 * Deterministic reading of a question: which tool answers it and with what input. Used by the
 * offline agent, and by the LLM agent as a fallback. Patterns describe how people ask, in Chinese
 * and English; they are not tied to any data set.
 */
export type Intent =
  /** `who`: the asker wants to know who made them ("上周谁动过中登报盘"). */
  | { kind: 'changes'; system?: SystemRow; days: number; includeNeighbours: boolean; who?: boolean }
  | { kind: 'alerts'; system?: SystemRow; minSeverity?: 'warning' | 'minor' | 'major' | 'critical'; firingOnly?: boolean }
  | { kind: 'oncall'; system?: SystemRow; role?: string }
  | { kind: 'incidents'; system?: SystemRow }
  /** One incident's recorded facts; `focus` is what was asked first (its expected recovery, its impact). */
  | { kind: 'incident-status'; focus: 'status' | 'impact' | 'eta'; incident?: string; system?: SystemRow }
  | { kind: 'systems' }
  | { kind: 'dependencies'; system?: SystemRow }
  | { kind: 'noise-rules' }
  /** `fallback`: nothing else fitted; the runbooks are the closest answer there is. */
  | { kind: 'runbook'; systems: SystemRow[]; fallback?: boolean }
  | { kind: 'fpga'; card?: number }
  | { kind: 'localize'; system?: SystemRow }
  | { kind: 'diff'; changeId?: string; host?: string; system?: SystemRow }
  /** `switchAsked`: the asker wants a switch, which only the /failover command requests (approval needed). */
  | { kind: 'failover'; system?: SystemRow; switchAsked: boolean }
  | { kind: 'capabilities' }
  /** An ask for something Warroom does not do: `feature` says which. */
  | { kind: 'unsupported'; feature: UnsupportedFeature };

export type UnsupportedFeature = 'trading' | 'meeting' | 'email' | 'phone' | 'travel' | 'weather' | 'other';

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

// "你是谁", "what can you do", "能用大模型回答吗": what Warroom is and what it answers.
const CAPABILITIES = /你是谁|你是什么|你能做什么|你会做?什么|能做些?什么|能干什么|有什么功能|怎么用你|你能回答|大模型|语言模型|\bllm\b|chatgpt|\bgpt\b|\bai\b.{0,12}\?|who are you|what are you|what can you (?:do|answer)|what do you (?:do|know)|are you (?:an? )?(?:ai|bot|llm|human|model|chat ?bot|language model)|(?:language|chat) model|how (?:do|can) i use you|what (?:questions|kinds? of questions) can/i;
// Asks for things Warroom does not do: say so plainly instead of searching the runbooks.
const UNSUPPORTED: Array<[UnsupportedFeature, RegExp]> = [
  ['trading', /帮我(?:下单|买|卖|委托|申购|撤单)|替我(?:下单|买|卖)|(?:买入|卖出|买进)\s*\d+\s*(?:股|手)|\b(?:place|submit) (?:an? |my )?(?:buy |sell )?order\b|\b(?:buy|sell) \d+ (?:shares|lots)\b|\bbuy (?:some )?(?:shares|stocks?)\b/i],
  ['meeting', /(?:订|预订|预约|定)\s*(?:个|一个|一间)?\s*会议室|会议室.{0,6}(?:订|预订|预约)|\bbook (?:a |the )?(?:meeting )?room\b|\b(?:schedule|book|set up) a meeting\b/i],
  ['email', /发(?:一封|个|封)?\s*(?:邮件|email|e-mail)|(?:邮件|email).{0,4}发给|\bsend (?:an? )?(?:e-?mail|mail)\b|\be-?mail (?:to )?the\b/i],
  ['phone', /打(?:个)?电话给|给.{1,12}打(?:个)?电话|\b(?:phone|ring) (?:him|her|them|the)\b|\bmake a (?:phone )?call\b/i],
  ['travel', /订(?:机票|酒店|火车票|高铁票)|\bbook (?:a )?(?:flight|hotel|train)\b/i],
  ['weather', /天气|\bweather\b/i],
];
// "什么时候能恢复", "when will it be fixed", "ETA": the incident's recorded expected recovery.
const ETA = /什么时候(?:能|可以|会)?(?:恢复|修好|好|解决)|多久(?:能|可以|才能)?(?:恢复|修好|好|解决)|(?:预计|预期)(?:什么时候|何时|多久)?.{0,4}(?:恢复|解决)|恢复时间|何时(?:能|可以)?恢复|\beta\b|when (?:will|would|can|do we expect) (?:it|this|that|the \w+|things?|service|trading|orders?) (?:be )?(?:fixed|back|resolved|restored|recover|recovered|up|working)|when (?:is|will) (?:it|this|that) (?:be )?(?:fixed|back|resolved|restored)|expected recovery|time to recover|how long (?:until|till|before) (?:it'?s|it is|we'?re|things are)? ?(?:fixed|back|resolved|restored)/i;
// "这个故障影响多大", "what's the impact": the recorded impact.
const IMPACT = /影响(?:多大|有多大|大不大|范围|面|了多少|了哪些|到哪些|多少|如何|怎么样|严重吗)|有(?:什么|哪些|多大)影响|影响(?:到)?(?:哪些|多少)(?:客户|用户|业务)?|波及|what(?:'s| is) the impact|\bimpact\b|how bad is|how many (?:customers|clients|users|orders) (?:are|were)? ?affected|who is affected|blast radius/i;
// "INC-… 怎么样了", "故障进展", "incident status": one incident's status.
const INCIDENT_ID = /\b(INC-\d{8}-\d{3,})\b/i;
const INCIDENT_STATUS = /(?:这个|该|本)?故障(?:现在)?(?:进展|怎么样|处理到|到哪)|进展如何|处理(?:到|得)(?:哪|怎么样)|到哪一步|incident status|status of (?:the |this )?incident|how(?:'s| is) the incident|where are we/i;
// "定位一下集中交易", "localize jzjy": the localization card.
const LOCALIZE = /定位|定界|localiz|localis|localization card|suspicious changes|可疑变更/i;
// "CAB-20261121-004 前后有什么变化": the perception-factor diff around a change.
const CHANGE_ID = /\b(CAB-\d{8}-\d{3,})\b/i;
const DIFF = /前后|变化|差异|对比|比对|\bdiff\b|before and after|before\/after|compare|感知因子|perception/i;
// "融资融券 最近有什么告警", "alerts on margin today".
const ALERTS = /告警|报警|预警|\balerts?\b|\balarms?\b|\bfiring\b/i;
const FIRING_ONLY = /还在|仍在|未恢复|没恢复|正在|当前|\bstill\b|\bfiring\b|\bopen\b|\bactive\b/i;
const SEVERITY_WORDS: Array<['warning' | 'minor' | 'major' | 'critical', RegExp]> = [
  ['critical', /紧急|严重|致命|\bcritical\b|\bsev(?:erity)?\s*1\b/i],
  ['major', /重要|\bmajor\b/i],
];
// "上周谁动过中登报盘", "who changed the CSDC link": changes, with the people who made them.
const WHO_CHANGED = /谁(?:动|改|碰|操作|变更|发布|上线|部署|重启)(?:过|了|的)?|(?:是)?谁(?:干|做)的|who (?:changed|touched|modified|deployed|restarted|released|made|did)|who did (?:it|that|this)/i;
// "谁是指挥", "who is the incident commander for jzjy": who holds (or is on call for) a role.
const ROLE_ASK = /谁是(?:故障)?(?:指挥|指挥官|沟通负责人|处置负责人|记录员)|(?:指挥|指挥官|沟通负责人|处置负责人|记录员)是谁|who(?:'s| is) (?:the )?(?:incident )?(?:commander|ic|comms lead|communications lead|operations lead|ops lead|scribe)\b/i;
// Pooled failover: its state, or an ask to switch.
const FAILOVER = /(?<!连接|线程|资源|内存|存储)池(?:化|状态|子)|主备|备机|仲裁|\bvip\b|\bpools?\b|\bfailover\b|\bfail over\b|\bstandby\b|\barbiter\b|切换|\bswitch(?:over)?\b/i;
const FAILOVER_STATUS = /状态|情况|正常|健康|怎么样|\bstatus\b|\bstate\b|\bhealth/i;
const FAILOVER_ASK = /(?:请|帮我|帮忙|马上|立即|现在|给我)?.{0,8}(?:切换|切到|切至|倒换)|^(?:please )?(?:fail ?over|switch(?: over)?)\b|\b(?:fail|switch) (?:it |\S+ )?over to\b|\bplease (?:fail ?over|switch)/i;

// "集中交易依赖哪些系统", "what does jzjy depend on", "两融的上下游是什么": the dependency graph.
const DEPENDS_ASK = /依赖(?:了)?(?:哪些|什么|谁)|(?:哪些|什么)(?:系统)?(?:依赖|调用)|被(?:哪些|什么|谁)(?:系统)?(?:依赖|调用)|上下游(?:是|有)?(?:哪些|什么|是谁)|(?:上游|下游)(?:是|有)(?:哪些|什么|谁)|\bdepends? on\b|\bdependenc(?:y|ies)\b|\bupstream\b|\bdownstream\b|\bneighbou?rs\b/i;
// "现在有哪些降噪规则", "which noise rules are active": the diff's noise rules (reading them; adding one is a command).
const NOISE_RULES = /降噪|噪声规则|噪音规则|过滤规则|\bnoise(?:[- ]rules?| filters?)\b|\bdenois/i;

export function readIntent(text: string, systems: SystemRow[], defaultDays: number): Intent {
  const mentioned = mentionedSystems(systems, text);
  const system = mentioned[0];
  if (CAPABILITIES.test(text)) return { kind: 'capabilities' };
  const unsupported = UNSUPPORTED.find(([, re]) => re.test(text));
  if (unsupported) return { kind: 'unsupported', feature: unsupported[0] };
  const incident = INCIDENT_ID.exec(text)?.[1]?.toUpperCase();
  const inc = (focus: 'status' | 'impact' | 'eta'): Intent => ({ kind: 'incident-status', focus, ...(incident ? { incident } : {}), ...(system ? { system } : {}) });
  if (ETA.test(text)) return inc('eta');
  if (INCIDENT_STATUS.test(text) || (incident && !HOWTO.test(text) && !IMPACT.test(text))) return inc('status');
  // "影响如何" asks for the impact, although "如何" also starts how-to questions.
  if (IMPACT.test(text) && !/怎么办|怎么处理|怎么处置|怎么降低|怎么减少|\bhow (?:do|to|should|can)\b/i.test(text)) return inc('impact');
  if (HOWTO.test(text)) return { kind: 'runbook', systems: mentioned };
  // In an incident's room "谁是指挥" is about its roles; elsewhere about the rota (below).
  if (ROLE_ASK.test(text) && !system && !ONCALL.test(text)) return { kind: 'oncall', role: 'incident-commander' };
  if (NOISE_RULES.test(text)) return { kind: 'noise-rules' };
  const changeId = CHANGE_ID.exec(text)?.[1]?.toUpperCase();
  if (changeId && DIFF.test(text)) return { kind: 'diff', changeId, ...(system ? { system } : {}) };
  if (LOCALIZE.test(text)) return { kind: 'localize', system };
  if (ALERTS.test(text)) {
    const minSeverity = SEVERITY_WORDS.find(([, re]) => re.test(text))?.[0];
    return { kind: 'alerts', system, ...(minSeverity ? { minSeverity } : {}), ...(FIRING_ONLY.test(text) ? { firingOnly: true } : {}) };
  }
  if (WHO_CHANGED.test(text)) return { kind: 'changes', system, days: parseTradingDays(text, defaultDays), includeNeighbours: NEIGHBOURS.test(text), who: true };
  if (CHANGE.test(text)) {
    return { kind: 'changes', system, days: parseTradingDays(text, defaultDays), includeNeighbours: NEIGHBOURS.test(text) };
  }
  if (DEPENDS_ASK.test(text)) return { kind: 'dependencies', system };
  if (ONCALL.test(text) || ROLE_ASK.test(text)) return { kind: 'oncall', system };
  if (SYSTEMS.test(text.trim())) return { kind: 'systems' };
  if (FPGA.test(text) && HEALTH.test(text)) {
    const card = parseCardNumber(text);
    return card === undefined ? { kind: 'fpga' } : { kind: 'fpga', card };
  }
  if (FAILOVER.test(text) && !FPGA.test(text)) {
    if (FAILOVER_STATUS.test(text)) return { kind: 'failover', system, switchAsked: false };
    if (FAILOVER_ASK.test(text)) return { kind: 'failover', system, switchAsked: true };
  }
  if (INCIDENTS.test(text)) return { kind: 'incidents', system };
  // Anything else is most likely a symptom or a pasted log line: look it up in the runbooks.
  return { kind: 'runbook', systems: mentioned, fallback: true };
}

/** "card 1", "卡 1", "1号卡", "#1", or a bare "1" → 1; undefined when no card is named. */
export function parseCardNumber(text: string): number | undefined {
  const m = /(?:card|卡)\s*#?\s*(\d{1,2})\b|(\d{1,2})\s*号\s*卡|^\s*#?(\d{1,2})\s*$/i.exec(text);
  const n = m ? Number(m[1] ?? m[2] ?? m[3]) : NaN;
  return Number.isInteger(n) ? n : undefined;
}
