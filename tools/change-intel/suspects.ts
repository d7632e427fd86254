import type { TradingCalendar } from '../../core/calendar.js';
import { addDays, formatZoned, zonedTime } from '../../core/time.js';
import { tokenize } from '../../knowledge/tokenize.js';
import { translations } from '../../knowledge/glossary.js';
import { isProdEnvironment } from './change-flags.js';

/**
 * Which changes could have caused what is happening, ranked the way an SRE reasons: a small scoring
 * model whose weights are written down here, each signal shown on the card as a reason in both
 * languages. Changes that cannot have caused it (never touched production, never executed, rolled
 * back before, made after the onset) are not scored at all: they are set aside, with the reason,
 * and listed apart so nobody wonders where they went. The ranking is a hint for people.
 *
 * score = time + where + relevance + risk + flags + past cause + snapshots (+ small status terms)
 */
export const WEIGHTS = {
  /**
   * Time: WEIGHTS.recency / (1 + d), d = trading-day closes between the change going live and the
   * onset. A change made after the close or on a non-trading day goes live at the next open, so
   * Friday evening and Saturday work both count as "straight into Monday's open" (d = 0); a change
   * that lived through a whole trading day without trouble scores half.
   */
  recency: 0.25,
  /** Time unknown (no operation event, no planned start): a little, not nothing. */
  recencyUnknown: 0.05,
  /** Where: on the failing system itself. */
  self: 0.25,
  /** Where: on a system the failing one depends on (upstream): failure flows from it to the system. */
  upstream: 0.18,
  /** Where: on a consumer of the failing system (downstream): failure rarely flows back up. */
  downstream: 0.02,
  /** Where: any other system (not a direct neighbour). */
  elsewhere: 0.02,
  /**
   * Relevance to the symptom, × r in [0, 1]: the change touched what the alerts and the symptom
   * name. The strongest single signal: a log-level change does not explain TLS handshake failures.
   */
  relevance: 0.35,
  /** r: a host, path, channel, route… that an alert label names and the change touched; more of them add a little. */
  relevanceEntity: 0.4,
  relevanceEntityMore: 0.1,
  relevanceEntityMax: 0.6,
  /** r: per distinct word (component, parameter, object) shared with the alerts or symptom, synonyms in either language included. */
  relevanceTerm: 0.3,
  relevanceTermMax: 0.9,
  /** r: a word found only in the ticket's title, not in its objects, description or events, counts this share. */
  relevanceTitleOnly: 0.5,
  /** r is multiplied by this for a change that only touched monitoring (alert rules, thresholds, dashboards): it alters what is seen, not what runs. */
  monitoringOnly: 0.3,
  /**
   * r is multiplied by this for a change that only touched logging (log level, access-log sampling,
   * log format), unless the symptom is about logs, disks or IO (DEBUG logging can fill a disk):
   * a log-level change does not explain TLS handshake failures or 403s.
   */
  loggingOnly: 0.5,
  /** Risk as rated on the ticket (high 1, medium 0.6, low 0.3, unrated 0.5); kept small: risky is not guilty. */
  risk: 0.1,
  /** Per attention flag (key-param-change, no-reviewer, …), at most `flagMax` of them. */
  flag: 0.02,
  flagMax: 3,
  /** A similar change caused a past incident; full weight when that incident looked like this one, half otherwise. */
  similarCause: 0.12,
  /** Perception-factor snapshots attached: there is a before/after diff to check. */
  snapshot: 0.03,
  /** An operation event without a ticket: nobody reviewed it. */
  ticketless: 0.08,
  /** The change failed: it may have left half-done state behind. */
  failed: 0.04,
  /** Rolled back after the onset: someone already suspected it. */
  rolledBackAfterOnset: 0.04,
  /** Ticket still "scheduled" and no operation recorded: it may not have run yet. */
  unconfirmed: -0.08,
} as const;

const RISK_LEVEL: Record<string, number> = { high: 1, medium: 0.6, low: 0.3 };

/** Word overlap (Jaccard) from which a past incident "looked like" the current alerts and symptom. */
const SIMILAR_SYMPTOM_MIN = 0.08;

export interface SuspectEvent {
  id: string;
  at: Date;
  system: string;
  environment: string | null;
  scene: string | null;
  action: string;
  object: string;
  changeId: string | null;
  host?: string | null;
  detail?: string | null;
  flags: string[];
}

export interface SuspectChange {
  id: string;
  title: string;
  system: string;
  risk: string | null;
  status: string | null;
  plannedStart: Date | null;
  plannedEnd: Date | null;
  objects: string[];
  flags: string[];
  description?: string | null;
  /** Fields the import kept apart (environment, cancelledAt, rolledBackAt…), when present. */
  extra?: Record<string, unknown>;
  /** Its operation events known up to the card's moment, any time. */
  events: SuspectEvent[];
}

export interface SymptomAlert {
  id: string;
  system: string;
  title: string;
  labels: Record<string, unknown>;
}

/** A change that caused a past incident, with that incident's words (to tell a look-alike from a real match). */
export interface PastCause {
  changeId: string;
  title: string;
  objects: string[];
  incidentId: string;
  incidentText: string;
}

export interface SuspectInput {
  system: { id: string; name: string; aliases: string[] };
  upstream: string[];
  downstream: string[];
  /** The moment counted back from: the onset, or the time asked when there is none. */
  reference: Date;
  /** How the reference was found, for the reasons' wording. */
  referenceKind: 'given' | 'alert' | 'asked';
  calendar: TradingCalendar;
  timeZone: string;
  changes: SuspectChange[];
  /** Operation events without a ticket. */
  events: SuspectEvent[];
  /** The alerts that make up the symptom (the failing system's episode, upstream alerts from before it). */
  alerts: SymptomAlert[];
  symptom?: string;
  pastCauses: PastCause[];
  /** Perception-factor snapshots per change id. */
  snapshots?: Map<string, number>;
}

export interface Scored {
  id: string;
  score: number;
  reasons: string[];
  reasonsZh: string[];
}

export interface SetAsideItem {
  id: string;
  kind: 'change' | 'event';
  title: string;
  system: string;
  reason: string;
  reasonZh: string;
}

export interface SuspectRanking {
  /** Tickets, most suspicious first. */
  changes: Scored[];
  /** Ticketless operation events, most suspicious first. */
  events: Scored[];
  setAside: SetAsideItem[];
}

/** Reasons in both languages: the card is read in Chinese and English rooms alike. */
export class Reasons {
  readonly en: string[] = [];
  readonly zh: string[] = [];
  add(en: string, zh: string): void {
    this.en.push(en);
    this.zh.push(zh);
  }
}

// ---------------------------------------------------------------------------------------------
// Time in trading terms.

/** Trading-day closes (15:00 exchange time) in (from, to]: the sessions a change lived through before the onset. */
export function tradingClosesBetween(calendar: TradingCalendar, from: Date, to: Date): number {
  if (to <= from) return 0;
  let n = 0;
  const last = calendar.dateOf(to);
  for (let d = calendar.dateOf(from), guard = 0; d <= last && guard < 400; d = addDays(d, 1), guard++) {
    if (!calendar.isTradingDay(d)) continue;
    const close = zonedTime(d, 15, 0, calendar.timeZone);
    if (close > from && close <= to) n++;
  }
  return n;
}

/** When a change made at `at` first meets trading: `at` itself during a session, else the next session start (09:15 or 13:00). */
export function liveFrom(calendar: TradingCalendar, at: Date): Date {
  if (calendar.isTradingHours(at)) return at;
  for (let d = calendar.dateOf(at), guard = 0; guard < 60; d = addDays(d, 1), guard++) {
    if (!calendar.isTradingDay(d)) continue;
    for (const [h, m] of [[9, 15], [13, 0]] as const) {
      const start = zonedTime(d, h, m, calendar.timeZone);
      if (start >= at) return start;
    }
  }
  return at;
}

// ---------------------------------------------------------------------------------------------
// Status and environment.

type StatusKind = 'cancelled' | 'not-executed' | 'scheduled' | 'rolled-back' | 'failed' | 'normal';

function statusKind(status: string | null): StatusKind {
  const s = (status ?? '').trim().toLowerCase().replace(/[\s_]+/g, '-');
  if (/^(cancell?ed|cancel|withdrawn|revoked|已取消|取消|撤销|作废)/.test(s)) return 'cancelled';
  if (/^(not-?executed|unexecuted|skipped|not-?run|未执行|未实施)/.test(s)) return 'not-executed';
  if (/^(scheduled|planned|approved|pending|draft|submitted|open|待执行|已排期|计划|待审批|已审批)/.test(s)) return 'scheduled';
  if (/^(rolled-?back|rollback|reverted|已回退|已回滚|回退|回滚)/.test(s)) return 'rolled-back';
  if (/^(failed|failure|aborted|partial|失败|部分成功|中止)/.test(s)) return 'failed';
  return 'normal';
}

const ROLLBACK_ACTION = /roll-?back|revert|回滚|回退/i;
const ROLLBACK_DETAIL = /^\s*(roll(ed)?[- ]?back|revert(ed)?|回滚|回退|已回滚|已回退)/i;
/** An operation event that undoes its change: by its action, or a detail that opens with it (not "回退方案已备好" in passing). */
const isRollback = (e: { action: string; detail?: string | null }) => ROLLBACK_ACTION.test(e.action) || ROLLBACK_DETAIL.test(e.detail ?? '');
const MONITORING_OBJECT = /^(alert|alert-?rule|alarm|rule|dashboard|grafana|prometheus|alertmanager|monitor|monitoring|zabbix|probe)[:/]|prometheus|grafana|alertmanager|zabbix|alert[-_]?rule|监控|告警规则/i;
const MONITORING_TITLE = /(监控|告警)(阈值|规则|配置|面板|项|策略)|告警阈值|仪表盘|dashboard|alert(ing)? (rule|threshold)|monitoring (rule|threshold|config)/i;
const READ_ONLY_WORDS = 'read|query|select|check|inspect|view|show|list|get|describe|login|logon|ssh-?login|巡检|查询|查看|检查|登录';
const READ_ONLY_ACTION = new RegExp(`^(${READ_ONLY_WORDS})([-_ ]|$)`, 'i');
/** A step of a ticket that looked rather than changed (read-only, or verifying): its detail reports what was seen ("Redis 访问模式未变"), not what was touched. */
const OBSERVING_ACTION = new RegExp(`^(${READ_ONLY_WORDS}|verify|verification|validate|validation|confirm|test|smoke-?test|precheck|pre-?check|post-?check|snapshot|验证|确认|核对|测试|拨测)([-_ ]|$)`, 'i');
const LOGGING_OBJECT = /(^|[/:_.-])(log|logs|logging|log4j2?|logback|log4cpp|access-?log|accesslog|syslog|rsyslog|logrotate)([/:_.-]|$)|日志/i;
const LOCATION_OBJECT = /^(host|node|server|instance|route|path|url|endpoint|vip|ip|cluster)[:/]/i;
const LOG_SYMPTOM = new Set(['日志', 'log', 'logs', 'logging', '磁盘', 'disk', 'io', 'iowait', 'iops', 'full', '写满', 'space', 'inode', 'fsync', '刷盘']);
const NON_PROD_OBJECT = /(^|[^a-z])(test|uat|sit|dev|sim|staging)([^a-z]|$)|_test\b|_uat\b/i;
const NOT_PROD_TEXT = /不涉及生产|非生产|not production|non-production/i;

function envLabel(envs: Array<string | null>): string {
  const names = [...new Set(envs.map((e) => (e ?? '').trim()).filter(Boolean))];
  return names.map((e) => (e.length <= 4 ? e.toUpperCase() : e)).join('/') || 'test';
}

function dateText(iso: string): string {
  return iso.slice(5, 10);
}
function dateTimeText(iso: string): string {
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

function extraDate(extra: Record<string, unknown> | undefined, keys: string[]): Date | undefined {
  for (const k of keys) {
    const v = extra?.[k];
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return new Date(v);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Relevance to the symptom.

// Words every change or alert carries: they tell nothing about which change touched the failing path.
const RELEVANCE_STOP = new Set([
  '调整', '更新', '升级', '变更', '新增', '修改', '优化', '版本', '发布', '上线', '部署', '操作', '例行', '临时', '策略', '参数', '配置', '数据', '系统',
  '服务', '服务器', '主机', '监控', '告警', '时间', '交易日', '同期', '上一', '较', '盘前', '盘后', '盘中', '周末', '夜间', '维护', '应急', '测试', '生产', '环境', '完成', '验证', '恢复', '备份',
  'update', 'config', 'configuration', 'change', 'set', 'new', 'add', 'deploy', 'release', 'version', 'upgrade', 'prod', 'production', 'test', 'file', 'opt',
  'etc', 'conf', 'cfg', 'properties', 'xml', 'yaml', 'yml', 'json', 'ini', 'toml', 'usr', 'var', 'home', 'app', 'ms', 'sec', 'rate', 'ratio', 'count', 'total',
  'time', 'max', 'min', 'size', 'value', 'old', 'service', 'server', 'host', 'param', 'parameter', 'data', 'info', 'status', 'state', 'metric',
  // Pieces of identifiers (sys_trade_calendar, tbl_order) and statistics (p99 of anything): they name no component.
  'sys', 'tbl', 'tab', 'desc', 'p50', 'p90', 'p95', 'p99', 'p999', 'avg', 'mean', '检查', 'check',
]);

/**
 * Names of one component in the words changes and alerts use (ops vocabulary, both languages), on
 * top of the knowledge glossary: a pool change says maxPoolSize or HikariCP, its alert says 连接池.
 */
const COMPONENT_GROUPS: string[][] = [
  ['连接池', 'pool', 'hikari', 'hikaricp', 'hikaripool', 'druid', 'dbcp', 'c3p0', 'maxactive', 'maxpoolsize', 'maximumpoolsize', 'maxtotal', 'minidle', 'dbpool', 'connectionpool'],
  ['证书', 'tls', 'ssl', 'cert', 'certificate', '握手', 'handshake', 'cipher', '密码套件', 'keystore', 'truststore', 'pfx', 'jks', 'https'],
  ['日志', 'log', 'logs', 'log4j', 'logback', 'log4cpp', 'loglevel', 'logrotate', '日志级别'],
  ['数据库', 'db', 'database', 'oracle', 'mysql', 'jdbc', 'sql', 'goldendb', 'tdsql', 'postgresql'],
  ['缓存', 'redis', 'cache', 'sentinel', '哨兵', 'maxclients'],
  ['注册中心', 'zookeeper', 'zk', 'nacos', 'registry'],
  ['组播', 'multicast', 'mcast', '多播'],
  ['时钟', 'clock', 'ntp', 'chrony', 'chronyc', '校时', '对时', 'ptp'],
  ['心跳', 'heartbeat', 'heartbtint', 'keepalive'],
  ['内存', 'memory', 'heap', 'oom', 'xmx', 'jvm', 'gc'],
  ['线程', '线程池', 'thread', 'threads', 'threadpool', 'worker', 'workers'],
  ['限流', 'flowctl', 'throttle', 'ratelimit', '流控'],
  ['磁盘', 'disk', 'mount', '挂载', 'tablespace', '表空间', 'datafile', 'filesystem', 'inode'],
  ['网卡', 'nic', 'bond', 'bond0', 'bond1', 'eth0', 'eth1'],
  ['内核', 'kernel', 'sysctl'],
  ['登录', 'login', 'logon', '登陆'],
  ['行情', 'market', 'quote', 'mdgw', 'snapshot', '快照'],
  ['报盘', 'gateway', 'pbu', 'binary', 'step'],
  ['索引', 'index', 'stats', '统计信息'],
  ['防火墙', 'firewall', 'acl', 'iptables', '白名单', 'whitelist'],
  ['域名', 'dns', 'resolv', '解析'],
  ['负载均衡', 'lb', 'nginx', 'haproxy', 'f5', 'slb', 'upstream'],
  ['消息队列', 'mq', 'kafka', 'rocketmq', 'rabbitmq', 'topic', 'queue', '队列'],
  ['搜索', 'search', 'elasticsearch', 'es', '检索'],
];

const groupIndex = new Map<string, Set<string>>();
for (const g of COMPONENT_GROUPS) for (const a of g) for (const b of g) if (a !== b) (groupIndex.get(a) ?? groupIndex.set(a, new Set()).get(a)!).add(b);

function expand(token: string): Set<string> {
  return new Set([token, ...translations(token), ...(groupIndex.get(token) ?? [])]);
}

// Host-like names (trd-app-01, fpga-sz-01): matched whole as entities; their pieces (trd, app, sz) mean nothing alone.
// Lower case only: HikariPool-1 or ORA-12519 are words worth matching, not host names.
const HOSTLIKE = /(?<![A-Za-z0-9])[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*[-_]\d+[a-z0-9]*(?![A-Za-z0-9])/g;

/** Meaningful words of a text for matching: no stop words, no bare numbers, no identifiers with separators (those are entities). */
function words(text: string, drop: Set<string>): string[] {
  return tokenize(text.replace(HOSTLIKE, ' ')).filter((t) => t.length >= 2 && !RELEVANCE_STOP.has(t) && !drop.has(t) && !/^\d+$/.test(t) && !/[-/:.]/.test(t));
}

// Alert labels that say where or how the alert was collected, not what is failing.
const LABEL_SKIP = new Set(['env', 'environment', 'source', 'severity', 'metric', 'alertname', 'job', 'team', 'prometheus', 'receiver', 'fingerprint']);
const GENERIC_VALUE = new Set(['all', 'prod', 'production', 'true', 'false', 'none', 'null', 'yes', 'no', 'unknown']);

interface Entity {
  key: string;
  value: string;
}

/** What the symptom names: words (with where they came from) and entities (hosts, paths, channels, routes…). */
export interface SymptomProfile {
  words: Set<string>;
  entities: Entity[];
  fromAlerts: boolean;
}

export function symptomProfile(alerts: SymptomAlert[], symptom: string | undefined, drop: Set<string>): SymptomProfile {
  const ws = new Set<string>();
  const entities: Entity[] = [];
  const seen = new Set<string>();
  const addEntity = (key: string, raw: string) => {
    const value = raw.trim().toLowerCase();
    if (value.length < 3 || GENERIC_VALUE.has(value) || seen.has(value)) return;
    seen.add(value);
    entities.push({ key, value });
  };
  for (const a of alerts) {
    for (const w of words(a.title, drop)) ws.add(w);
    for (const [k, v] of Object.entries(a.labels)) {
      if (LABEL_SKIP.has(k) || (typeof v !== 'string' && typeof v !== 'number')) continue;
      addEntity(k, String(v));
      // An instance label (10.0.0.5:9100, trd-app-01:8080) names a host with a port.
      const host = String(v).match(/^([\w.-]+):\d+$/);
      if (host) addEntity(k, host[1]!);
      for (const w of words(String(v), drop)) ws.add(w);
    }
    // A metric name says what is failing (db_pool_wait_ms) even though it is not an entity.
    const metric = a.labels.metric;
    if (typeof metric === 'string') for (const w of words(metric, drop)) ws.add(w);
  }
  if (symptom) {
    for (const w of words(symptom, drop)) ws.add(w);
    for (const m of symptom.matchAll(/[A-Za-z0-9][A-Za-z0-9_.]*[-/_][A-Za-z0-9_./-]+/g)) if (/[a-z]/i.test(m[0])) addEntity('symptom', m[0]);
  }
  return { words: ws, entities, fromAlerts: alerts.length > 0 };
}

/** What a change touched, in the words of its ticket and its operation events. */
interface Touched {
  /** The ticket's title ('' for an event): a word only the title shares with the alerts counts less than one in what was touched. */
  title: string;
  text: string;
  entities: string[];
}

function stripKind(object: string): string {
  return object.replace(/^[a-z][a-z0-9_-]*:(?!\/\/)/i, '').trim().toLowerCase();
}

// A clause that says what was NOT touched ("普通委托模块 jzjy-order 未变更", "Redis access pattern unchanged").
const NEGATED_CLAUSE = /未变|未改|未动|没变|没改|没动|不涉及|未涉及|无变化|无改动|不影响|未受影响|unchanged|not changed|not touched|untouched|no change|not affected|unaffected/i;

/** The clauses of a free text that affirm something: those that deny a change are dropped. */
function affirmed(text: string | null | undefined): string {
  if (!text) return '';
  return text
    .split(/[，。；;！!？?\n]|,\s|\.\s/)
    .filter((clause) => !NEGATED_CLAUSE.test(clause))
    .join(' ');
}

function touchedByChange(c: SuspectChange, events: SuspectEvent[]): Touched {
  const parts = [c.title, affirmed(c.description), ...c.objects.map(stripKind)];
  const entities = c.objects.map(stripKind);
  for (const e of events) {
    if (OBSERVING_ACTION.test(e.action)) continue;
    parts.push(e.action, stripKind(e.object), e.scene ?? '', affirmed(e.detail));
    entities.push(stripKind(e.object));
    if (e.host) entities.push(e.host.toLowerCase());
  }
  return { title: c.title, text: parts.join(' '), entities: [...new Set(entities.filter(Boolean))] };
}

function touchedByEvent(e: SuspectEvent): Touched {
  return { title: '', text: [e.action, stripKind(e.object), e.scene ?? '', affirmed(e.detail)].join(' '), entities: [stripKind(e.object), ...(e.host ? [e.host.toLowerCase()] : [])].filter(Boolean) };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function entityMatches(entity: Entity, touched: Touched): boolean {
  const v = entity.value;
  for (const ce of touched.entities) {
    if (ce === v) return true;
    if (ce.startsWith(`${v}/`) || v.startsWith(`${ce}/`)) return true;
    if (ce.split(/[/:,\s]+/).includes(v)) return true;
  }
  // Named in the ticket's or events' words ("通道 2011/2013", "trd-app-01~04"): only for values specific enough.
  if (/\d|[-_/]/.test(v) || v.length >= 5) {
    return new RegExp(`(^|[^a-z0-9_-])${escapeRe(v)}([^a-z0-9_]|$)`, 'i').test(touched.text);
  }
  return false;
}

/** How a matched word appears in the change's own text: maxPoolSize rather than pool. */
function shownWord(token: string, text: string): string {
  if (/[\u3400-\u9fff]/.test(token)) return token;
  for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9_]*/g)) if (m[0].toLowerCase() === token || tokenize(m[0]).includes(token)) return m[0];
  return token;
}

export interface Relevance {
  r: number;
  entities: Entity[];
  words: string[];
}

export function relevanceOf(touched: Touched, profile: SymptomProfile, drop: Set<string>): Relevance {
  const entities = profile.entities.filter((e) => entityMatches(e, touched));
  const named = new Set(entities.map((e) => e.value));
  const matched = [...new Set(words(touched.text, drop))].filter((w) => !named.has(w) && [...expand(w)].some((x) => profile.words.has(x)));
  // One word per idea: 据库 inside 数据库 goes; maxPoolSize is shown beside its synonym 连接池 and counts once.
  const whole = matched.filter((w) => !matched.some((m) => m !== w && m.includes(w)));
  whole.sort((a, b) => Number(profile.words.has(b)) - Number(profile.words.has(a)) || b.length - a.length);
  const kept: Array<{ word: string; also: string[] }> = [];
  for (const w of whole) {
    const k = kept.find((x) => expand(x.word).has(w) || expand(w).has(x.word));
    if (k) k.also.push(w);
    else kept.push({ word: w, also: [] });
  }
  const eScore = entities.length ? Math.min(WEIGHTS.relevanceEntityMax, WEIGHTS.relevanceEntity + WEIGHTS.relevanceEntityMore * (entities.length - 1)) : 0;
  const body = new Set(words(touched.title ? touched.text.replace(touched.title, ' ') : touched.text, drop));
  const wScore = Math.min(WEIGHTS.relevanceTermMax, kept.reduce((sum, k) => sum + WEIGHTS.relevanceTerm * ([k.word, ...k.also].some((w) => body.has(w)) ? 1 : WEIGHTS.relevanceTitleOnly), 0));
  const r = Math.min(1, eScore + wScore);
  const displayed = new Set<string>();
  const shown = kept.flatMap((k) => {
    const word = shownWord(k.word, touched.text);
    if (displayed.has(word)) return [];
    displayed.add(word);
    const also = [...new Set(k.also.map((w) => shownWord(w, touched.text)))].filter((w) => !displayed.has(w)).slice(0, 2);
    for (const w of also) displayed.add(w);
    return [also.length ? `${word} (${also.join(', ')})` : word];
  });
  return { r, entities, words: shown };
}

function relevanceReason(rel: Relevance, profile: SymptomProfile, reasons: Reasons): void {
  if (!profile.words.size && !profile.entities.length) return;
  const where = profile.fromAlerts ? { en: 'the alerts', zh: '告警' } : { en: 'the symptom', zh: '故障描述' };
  if (rel.r === 0) {
    reasons.add(`nothing in common with ${where.en}`, `与${where.zh}内容无关联`);
    return;
  }
  const items = [
    ...rel.entities.slice(0, 3).map((e) => `${e.key === 'symptom' ? '' : `${e.key} `}${e.value}`),
    ...rel.words.slice(0, 3),
  ];
  reasons.add(`touched ${items.join(', ')} named in ${where.en}`, `涉及${where.zh}中提到的 ${items.join('、')}`);
}

// ---------------------------------------------------------------------------------------------
// The ranking.

function tokensOf(text: string): Set<string> {
  return new Set(tokenize(text));
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (!a.size || !b.size) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function rankSuspects(input: SuspectInput): SuspectRanking {
  const { calendar, reference: ref, timeZone } = input;
  const z8 = (d: Date) => formatZoned(d, timeZone);
  const refName = { given: 'the onset', alert: 'the onset of the alerts', asked: 'the time asked' }[input.referenceKind];
  const refNameZh = { given: '故障起始', alert: '告警起始', asked: '查询时刻' }[input.referenceKind];
  const setAside: SetAsideItem[] = [];

  // The failing system's own names are on every one of its changes and alerts: they separate nothing.
  const drop = new Set(tokenize([input.system.id, input.system.name, ...input.system.aliases].join(' ')));
  const profile = symptomProfile(input.alerts, input.symptom, drop);
  const now = tokensOf([input.symptom ?? '', ...input.alerts.map((a) => a.title)].join(' '));

  const scoreTime = (when: Date | null, reasons: Reasons): number => {
    if (!when) {
      reasons.add('time unknown', '时间未知');
      return WEIGHTS.recencyUnknown;
    }
    const d = tradingClosesBetween(calendar, when, ref);
    const live = liveFrom(calendar, when);
    const session = calendar.sessionAt(when);
    const offDay = session === 'non_trading_day';
    const made = offDay
      ? { en: `made on a non-trading day (${dateText(z8(when))})`, zh: `${dateText(z8(when))} 非交易日操作` }
      : session === 'post_close'
        ? { en: `made after the close on ${dateText(z8(when))}`, zh: `${dateText(z8(when))} 收盘后操作` }
        : undefined;
    if (d === 0) {
      if (made && live <= ref && calendar.dateOf(live) !== calendar.dateOf(when)) {
        reasons.add(`${made.en}, live from the open of ${dateText(z8(live))}: no trading day in between`, `${made.zh}，${dateText(z8(live))} 开盘起生效，与${refNameZh}之间没有交易日`);
      } else {
        const minutes = Math.round((ref.getTime() - when.getTime()) / 60_000);
        const span = minutes < 60 ? { en: `${minutes} min`, zh: `${minutes} 分钟` } : { en: `${Math.round(minutes / 6) / 10} h`, zh: `${Math.round(minutes / 6) / 10} 小时` };
        reasons.add(`${span.en} before ${refName}, no trading day in between`, `${refNameZh}前 ${span.zh}，中间没有交易日`);
      }
    } else if (offDay) {
      reasons.add(`${made!.en}, live from ${dateText(z8(live))}: ${d} trading day(s) before ${refName}`, `${made!.zh}，${dateText(z8(live))} 起生效：${refNameZh}前 ${d} 个交易日`);
    } else {
      reasons.add(`${d} trading day(s) before ${refName}`, `${refNameZh}前 ${d} 个交易日`);
    }
    return WEIGHTS.recency / (1 + d);
  };

  const scoreWhere = (system: string, reasons: Reasons): number => {
    if (system === input.system.id) {
      reasons.add('on the system itself', '本系统');
      return WEIGHTS.self;
    }
    if (input.upstream.includes(system)) {
      reasons.add(`upstream: ${input.system.id} depends on ${system}`, `上游：${input.system.id} 依赖 ${system}`);
      return WEIGHTS.upstream;
    }
    if (input.downstream.includes(system)) {
      reasons.add(`consumer of ${input.system.id}: downstream, rarely the cause`, `${system} 是 ${input.system.id} 的下游（调用方），通常不是原因`);
      return WEIGHTS.downstream;
    }
    reasons.add(`on ${system}, not a direct neighbour`, `${system} 非直接关联系统`);
    return WEIGHTS.elsewhere;
  };

  const scoreFlags = (flags: string[], reasons: Reasons): number => {
    const shown = [...new Set(flags)].filter((f) => f !== 'no-ticket');
    if (!shown.length) return 0;
    reasons.add(`flags: ${shown.join(', ')}`, `风险标记：${shown.join(', ')}`);
    return WEIGHTS.flag * Math.min(WEIGHTS.flagMax, shown.length);
  };

  const changes: Scored[] = [];
  for (const c of input.changes) {
    const kind = statusKind(c.status);
    const events = [...c.events].sort((a, b) => a.at.getTime() - b.at.getTime());
    const prod = events.filter((e) => isProdEnvironment(e.environment));
    const prodBefore = prod.filter((e) => e.at <= ref);
    const aside = (en: string, zh: string) => setAside.push({ id: c.id, kind: 'change', title: c.title, system: c.system, reason: en, reasonZh: zh });
    const planned = c.plannedStart ? dateText(z8(c.plannedStart)) : '?';

    // Never executed: cancelled, or marked not executed, with no operation in production before the onset.
    if ((kind === 'cancelled' || kind === 'not-executed') && !prodBefore.length) {
      const at = extraDate(c.extra, ['cancelledAt', 'canceledAt', 'cancelled_at']);
      if (kind === 'cancelled') aside(`cancelled ${at ? dateText(z8(at)) : `(planned ${planned})`}, never executed`, `${at ? `${dateText(z8(at))} 已取消` : `已取消（原计划 ${planned}）`}，未执行`);
      else aside(`not executed (planned ${planned})`, `未执行（原计划 ${planned}）`);
      continue;
    }
    // Environment: every operation in a test/UAT environment, or (no events) only test objects.
    const envExtra = typeof c.extra?.environment === 'string' ? c.extra.environment : typeof c.extra?.env === 'string' ? c.extra.env : null;
    if (events.length && !prod.length) {
      const env = envLabel(events.map((e) => e.environment));
      aside(`events only in ${env}: never touched production`, `仅在 ${env} 环境执行，未触及生产`);
      continue;
    }
    if (!events.length && ((envExtra && !isProdEnvironment(envExtra)) || (c.objects.length > 0 && c.objects.every((o) => NON_PROD_OBJECT.test(o))) || NOT_PROD_TEXT.test(`${c.title} ${c.description ?? ''}`))) {
      const env = envExtra ? envLabel([envExtra]) : 'test';
      aside(`only ${env} objects: never touched production`, `仅涉及 ${env} 环境对象，未触及生产`);
      continue;
    }
    // Time: what began before a change cannot have been caused by it.
    if (prod.length && !prodBefore.length) {
      aside(`first ran in production ${dateTimeText(z8(prod[0]!.at))}, after ${refName}`, `${dateTimeText(z8(prod[0]!.at))} 才在生产执行，晚于${refNameZh}`);
      continue;
    }
    if (!events.length && c.plannedStart && c.plannedStart > ref) {
      const word = kind === 'scheduled' ? { en: 'scheduled for', zh: '计划于' } : { en: 'planned', zh: '计划' };
      aside(`${word.en} ${dateTimeText(z8(c.plannedStart))}, after ${refName}`, `${word.zh} ${dateTimeText(z8(c.plannedStart))}，晚于${refNameZh}`);
      continue;
    }
    // Rolled back before the onset: the state it made was gone when the trouble began. The rollback itself is named.
    const rollbackEvent = [...prod].reverse().find((e) => isRollback(e));
    // Without a rollback event or date, a rolled-back ticket is taken as rolled back in its own window.
    const rolledBackAt =
      rollbackEvent?.at ?? extraDate(c.extra, ['rolledBackAt', 'rollbackAt', 'rolled_back_at']) ?? (kind === 'rolled-back' ? (c.plannedEnd ?? prod.at(-1)?.at ?? undefined) : undefined);
    if (rolledBackAt && rolledBackAt <= ref && !prodBefore.some((e) => e.at > rolledBackAt && !isRollback(e))) {
      const ev = rollbackEvent && rollbackEvent.at <= ref ? `${rollbackEvent.id}: ${rollbackEvent.action} ${rollbackEvent.object}` : '';
      aside(`rolled back ${dateTimeText(z8(rolledBackAt))}${ev ? ` (${ev})` : ''}, before ${refName}`, `已于 ${dateTimeText(z8(rolledBackAt))} 回退${ev ? `（${ev}）` : ''}，早于${refNameZh}`);
      continue;
    }

    const reasons = new Reasons();
    const applied = prodBefore.filter((e) => !isRollback(e));
    const when = applied.at(-1)?.at ?? prodBefore.at(-1)?.at ?? c.plannedStart;
    let score = scoreTime(when, reasons);
    score += scoreWhere(c.system, reasons);
    score += WEIGHTS.risk * (RISK_LEVEL[c.risk ?? ''] ?? 0.5);
    reasons.add(`${c.risk ?? 'unrated'} risk`, { high: '高风险', medium: '中风险', low: '低风险' }[c.risk ?? ''] ?? '风险未评级');
    const rel = relevanceOf(touchedByChange(c, prodBefore), profile, drop);
    const objects = [...c.objects, ...prodBefore.map((e) => e.object)];
    const monitoringOnly = objects.length ? objects.every((o) => MONITORING_OBJECT.test(o)) : MONITORING_TITLE.test(c.title);
    if (monitoringOnly) rel.r *= WEIGHTS.monitoringOnly;
    // Hosts and routes say where; what was changed there is in the other objects (or the title).
    const what = objects.filter((o) => !LOCATION_OBJECT.test(o));
    const loggingOnly = !monitoringOnly && (what.length ? what.every((o) => LOGGING_OBJECT.test(o)) : LOGGING_OBJECT.test(c.title)) && ![...profile.words].some((w) => LOG_SYMPTOM.has(w));
    if (loggingOnly) rel.r *= WEIGHTS.loggingOnly;
    score += WEIGHTS.relevance * rel.r;
    relevanceReason(rel, profile, reasons);
    if (monitoringOnly) reasons.add('monitoring only (alert rules, thresholds, dashboards): alters what is seen, not what runs', '仅涉及监控/告警配置：改变的是看到的，不是运行的');
    if (loggingOnly) reasons.add('logging only (log level, access log): changes what is written down, and the symptom is not about logs or disks', '仅涉及日志配置：改变的是记录什么，而故障与日志、磁盘无关');
    if (kind === 'failed') {
      score += WEIGHTS.failed;
      reasons.add(`failed${prodBefore.length ? `: ${prodBefore.length} operation(s) ran in production, state may be left behind` : ''}`, `变更失败${prodBefore.length ? `：已在生产执行 ${prodBefore.length} 步，可能留下中间状态` : ''}`);
    } else if ((kind === 'cancelled' || kind === 'not-executed') && prodBefore.length) {
      reasons.add(`marked ${c.status}, yet ${prodBefore.length} operation(s) ran in production`, `标记为「${c.status}」，但已在生产执行 ${prodBefore.length} 步`);
    } else if (kind === 'scheduled' && !prodBefore.length) {
      score += WEIGHTS.unconfirmed;
      reasons.add(`still ${c.status}: no operation recorded`, `状态仍为「${c.status}」，未见操作记录`);
    }
    if (rolledBackAt && rolledBackAt > ref) {
      score += WEIGHTS.rolledBackAfterOnset;
      reasons.add(`rolled back ${dateTimeText(z8(rolledBackAt))}${rollbackEvent ? ` (${rollbackEvent.id})` : ''}, after ${refName}`, `${dateTimeText(z8(rolledBackAt))} 已回退${rollbackEvent ? `（${rollbackEvent.id}）` : ''}，晚于${refNameZh}`);
    }
    score += scoreFlags([...c.flags, ...prodBefore.flatMap((e) => e.flags)], reasons);
    const diffs = input.snapshots?.get(c.id);
    if (diffs) {
      score += WEIGHTS.snapshot;
      reasons.add(`${diffs} perception-factor snapshot(s) attached: compare with \`diff\``, `已关联 ${diffs} 份感知因子快照，可用「对比」查看差异`);
    }
    const mine = tokensOf(`${c.title} ${c.objects.join(' ')}`);
    const similar = input.pastCauses
      .filter((k) => k.changeId !== c.id)
      .map((k) => ({ k, s: jaccard(mine, tokensOf(`${k.title} ${k.objects.join(' ')}`)) }))
      .filter((x) => x.s >= 0.3)
      .sort((a, b) => b.s - a.s)[0];
    if (similar) {
      // A look-alike change whose incident looked nothing like this one counts half.
      const alike = jaccard(now, tokensOf(similar.k.incidentText)) >= SIMILAR_SYMPTOM_MIN;
      score += WEIGHTS.similarCause * Math.min(1, similar.s * 1.5) * (alike ? 1 : 0.5);
      reasons.add(
        `a similar change (${similar.k.changeId}) caused ${similar.k.incidentId}${alike ? ', with a similar symptom' : ', with a different symptom'}`,
        `类似变更 ${similar.k.changeId} 曾引发 ${similar.k.incidentId}${alike ? '（症状相近）' : '（症状不同）'}`,
      );
    }
    changes.push({ id: c.id, score: round(score), reasons: reasons.en, reasonsZh: reasons.zh });
  }
  changes.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));

  // Operation events without a ticket are suspects of their own (nobody reviewed them), unless they cannot be.
  const events: Scored[] = [];
  for (const e of input.events) {
    const title = `${e.action} ${e.object}`;
    if (!isProdEnvironment(e.environment)) {
      const env = envLabel([e.environment]);
      setAside.push({ id: e.id, kind: 'event', title, system: e.system, reason: `ran only in ${env}: never touched production`, reasonZh: `仅在 ${env} 环境执行，未触及生产` });
      continue;
    }
    if (READ_ONLY_ACTION.test(e.action)) {
      setAside.push({ id: e.id, kind: 'event', title, system: e.system, reason: `read-only action (${e.action}): changed nothing`, reasonZh: `只读操作（${e.action}），未做修改` });
      continue;
    }
    if (e.at > ref) {
      setAside.push({ id: e.id, kind: 'event', title, system: e.system, reason: `${dateTimeText(z8(e.at))}, after ${refName}`, reasonZh: `${dateTimeText(z8(e.at))} 操作，晚于${refNameZh}` });
      continue;
    }
    const reasons = new Reasons();
    reasons.add('no change ticket', '无变更单');
    let score = WEIGHTS.ticketless + scoreTime(e.at, reasons) + scoreWhere(e.system, reasons);
    score += WEIGHTS.risk * (e.flags.includes('high-risk') ? 1 : 0.5);
    const rel = relevanceOf(touchedByEvent(e), profile, drop);
    score += WEIGHTS.relevance * rel.r;
    relevanceReason(rel, profile, reasons);
    if (isRollback(e)) reasons.add('a rollback', '回退操作');
    score += scoreFlags(e.flags, reasons);
    events.push({ id: e.id, score: round(score), reasons: reasons.en, reasonsZh: reasons.zh });
  }
  events.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));

  return { changes, events, setAside };
}
