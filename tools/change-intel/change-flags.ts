import type { TradingCalendar } from '../../core/calendar.js';

/**
 * Highlights for change look-ups: which tickets and operation events deserve a second look. Each
 * flag is a stable code (for machines and tests) with a label in the views. The heuristics read
 * the six parts of an event (when, scene, who, where, action, object) and the ticket's title,
 * objects and description; they err on the side of flagging, since a flag only asks for attention.
 */
export const changeFlags = [
  'high-risk',
  'restart-in-trading-hours',
  'prod-data-maintenance',
  'key-param-change',
  'no-ticket',
  'no-reviewer',
  'in-trading-hours',
] as const;
export type ChangeFlag = (typeof changeFlags)[number];

const NON_PROD = /^(test|testing|uat|sit|dev|develop|staging|stage|sim|simulation|pre|preprod|qa|perf|drill|测试|仿真|开发|准生产|演练)/i;
const NON_PROD_OBJECT = /(^|[^a-z])(test|uat|sit|dev|sim|staging)([^a-z]|$)|_test\b|_uat\b/i;
const NON_PROD_TITLE = /测试|仿真|演练|UAT|不涉及生产/i;

const RESTART_ACTION = /restart|reboot|stop|kill|shutdown|switch-?over|failover|bounce|recycle/i;
const RESTART_TEXT = /重启|停机|切换|restart|reboot|failover|switch-?over/i;

const DATA_ACTION = /^(cleanup|clean|delete|purge|archive|truncate|drop|db[-_]?maintenance|maintenance|data[-_]?fix|fix[-_]?data|data[-_]?maintenance|update[-_]?data|migrate[-_]?data|restore[-_]?data|import[-_]?data|repair[-_]?data|dml)/i;
const DATA_OBJECT = /^(table|db|database|schema|partition|tablespace|index):/i;
const DATA_TEXT = /数据维护|归档|清理|删除|数据修复|数据订正|数据迁移|数据恢复|purge|archiv|clean-?up|data (fix|maintenance|repair)/i;

const PARAM_ACTION = /param|set-config|alter-system|sysctl/i;
const CONFIG_ACTION = /update-config|config-change|change-config|set-?param/i;
const PARAM_TABLE = /^table:.*(param|_cfg|config|ratio|rule|limit|restrict|quota|fee|threshold|margin)/i;
const PARAM_CONFIG = /^(config|param|sysctl|parameter):/i;
const PARAM_FILE = /^file:(.*\/etc\/sysctl|.*(pool|flowctl|flow|limit|param|threshold|risk|mdgw|binary|gateway|cluster|sysctl)[^/]*\.(properties|cfg|conf|xml|ya?ml|ini|json|toml)$)/i;
const PARAM_TEXT = /参数|阈值|限流|连接池|折算率|保证金比例|集中度|限额|parameter|threshold|rate limit|connection pool/i;

export function isProdEnvironment(env: string | null | undefined): boolean {
  // Unknown environment counts as production: a flag that asks for a look is cheaper than a miss.
  return !env || !NON_PROD.test(env.trim());
}

function isKeyParamObject(object: string): boolean {
  return PARAM_TABLE.test(object) || PARAM_CONFIG.test(object) || PARAM_FILE.test(object);
}

/** Whether any moment in [start, end] falls in trading hours, checked every 5 minutes. */
function touchesTradingHours(calendar: TradingCalendar, start: Date, end: Date | null): boolean {
  const last = end && end.getTime() > start.getTime() ? Math.min(end.getTime(), start.getTime() + 3 * 24 * 3600_000) : start.getTime();
  for (let t = start.getTime(); t <= last; t += 5 * 60_000) if (calendar.isTradingHours(new Date(t))) return true;
  return calendar.isTradingHours(new Date(last));
}

function ordered(flags: Set<ChangeFlag>): ChangeFlag[] {
  return changeFlags.filter((f) => flags.has(f));
}

export interface EventForFlags {
  at: Date;
  environment: string | null;
  action: string;
  object: string;
  changeId: string | null;
  detail?: string | null;
}

export function flagEvent(e: EventForFlags, calendar: TradingCalendar, linkedRisk: string | null | undefined): ChangeFlag[] {
  const flags = new Set<ChangeFlag>();
  const prod = isProdEnvironment(e.environment);
  const trading = calendar.isTradingHours(e.at);
  if (!e.changeId) flags.add('no-ticket');
  if (prod && trading) flags.add('in-trading-hours');
  if (prod && trading && RESTART_ACTION.test(e.action)) flags.add('restart-in-trading-hours');
  if (prod && (DATA_ACTION.test(e.action) && (DATA_OBJECT.test(e.object) || /truncate|purge|drop|dml|data/i.test(e.action)))) flags.add('prod-data-maintenance');
  if (PARAM_ACTION.test(e.action) || (CONFIG_ACTION.test(e.action) && isKeyParamObject(e.object)) || (isKeyParamObject(e.object) && !/^(read|query|check|verify)/i.test(e.action))) {
    flags.add('key-param-change');
  }
  // A key parameter changed in production without a ticket, or while trading, is as risky as a high-risk ticket.
  const riskyParam = prod && flags.has('key-param-change') && (flags.has('no-ticket') || flags.has('in-trading-hours'));
  if (linkedRisk === 'high' || flags.has('restart-in-trading-hours') || flags.has('prod-data-maintenance') || riskyParam) flags.add('high-risk');
  return ordered(flags);
}

export interface ChangeForFlags {
  title: string;
  risk: string | null;
  plannedStart: Date | null;
  plannedEnd: Date | null;
  executor: string | null;
  reviewer: string | null;
  objects: string[];
  description?: string | null;
}

export function flagChange(c: ChangeForFlags, calendar: TradingCalendar): ChangeFlag[] {
  const flags = new Set<ChangeFlag>();
  const text = `${c.title} ${c.description ?? ''}`;
  const prod = !NON_PROD_TITLE.test(c.title) && !(c.objects.length > 0 && c.objects.every((o) => NON_PROD_OBJECT.test(o)));
  if (c.risk === 'high') flags.add('high-risk');
  if (!c.reviewer || c.reviewer === c.executor) flags.add('no-reviewer');
  const trading = prod && c.plannedStart !== null && touchesTradingHours(calendar, c.plannedStart, c.plannedEnd);
  if (trading) flags.add('in-trading-hours');
  if (trading && RESTART_TEXT.test(text)) flags.add('restart-in-trading-hours');
  if (prod && DATA_TEXT.test(text) && c.objects.some((o) => DATA_OBJECT.test(o))) flags.add('prod-data-maintenance');
  if (c.objects.some(isKeyParamObject) || PARAM_TEXT.test(c.title)) flags.add('key-param-change');
  return ordered(flags);
}
