import type { Severity, Stage, Status, Role } from '../incidents/policy.js';
import type { Lang } from '../messages.js';

/**
 * The one vocabulary of Warroom's replies: the words for incident statuses, roles, stages,
 * severities, change risks and durations, in Chinese and English. Every view, card, postmortem,
 * status reply and command reply takes its labels from here, so the pinned card, the buttons, the
 * timeline, the on-call answer and the incident list say the same thing. Reading what people type
 * (parseRole, parseStatus, parseSeverity) stays in bot/incidents/policy.ts.
 */
export interface Label {
  zh: string;
  en: string;
}

const say = (label: Label | undefined, lang: Lang, fallback: string): string => (label ? label[lang] : fallback);

/** Incident statuses: the words of the card, its buttons and the status changes in the room. */
export const STATUS_LABELS: Record<Status, Label> = {
  investigating: { zh: '调查中', en: 'investigating' },
  identified: { zh: '已定位', en: 'identified' },
  mitigated: { zh: '已缓解', en: 'mitigated' },
  resolved: { zh: '已解决', en: 'resolved' },
};

/** The incident roles, the same in the room and in the on-call answer. */
export const INCIDENT_ROLE_LABELS: Record<Role, Label> = {
  'incident-commander': { zh: '故障指挥', en: 'Incident commander' },
  'communications-lead': { zh: '沟通负责人', en: 'Communications lead' },
  'operations-lead': { zh: '处置负责人', en: 'Operations lead' },
  scribe: { zh: '记录员', en: 'Scribe' },
};

/** Every role a person can be on call for: the incident roles and the teams' own. */
export const ROLE_LABELS: Record<string, Label> = {
  ...INCIDENT_ROLE_LABELS,
  'duty-manager': { zh: '值班经理', en: 'duty manager' },
  ops: { zh: '运维', en: 'ops' },
  dba: { zh: 'DBA', en: 'DBA' },
  dev: { zh: '开发', en: 'dev' },
  network: { zh: '网络', en: 'network' },
  'security-compliance': { zh: '安全合规', en: 'security & compliance' },
  manager: { zh: '经理', en: 'manager' },
};

/** Stages: discovery, the timed stages, and the review once recovered. */
export const STAGE_LABELS: Record<Stage | 'discover' | 'review', Label> = {
  discover: { zh: '发现', en: 'discover' },
  respond: { zh: '响应', en: 'respond' },
  localize: { zh: '定位', en: 'localize' },
  recover: { zh: '恢复', en: 'recover' },
  review: { zh: '复盘', en: 'review' },
};

/** Severities: the rooms say P0–P3 in both languages. */
export const SEVERITY_LABELS: Record<Severity, Label> = {
  P0: { zh: 'P0', en: 'P0' },
  P1: { zh: 'P1', en: 'P1' },
  P2: { zh: 'P2', en: 'P2' },
  P3: { zh: 'P3', en: 'P3' },
};

/** Change risks as the change tickets record them. */
export const RISK_LABELS: Record<'high' | 'medium' | 'low', Label> = {
  high: { zh: '高风险', en: 'high risk' },
  medium: { zh: '中风险', en: 'medium risk' },
  low: { zh: '低风险', en: 'low risk' },
};
const RISK_UNSET: Label = { zh: '风险未定', en: 'risk unset' };

/** The change highlight flags (codes in tools/change-flags.ts). */
export const CHANGE_FLAG_LABELS: Record<string, Label> = {
  'high-risk': RISK_LABELS.high,
  'restart-in-trading-hours': { zh: '盘中重启/切换', en: 'restart in trading hours' },
  'prod-data-maintenance': { zh: '生产数据维护', en: 'prod data maintenance' },
  'key-param-change': { zh: '关键参数变更', en: 'key parameter change' },
  'no-ticket': { zh: '无变更单', en: 'no ticket' },
  'no-reviewer': { zh: '无复核人', en: 'no reviewer' },
  'in-trading-hours': { zh: '盘中操作', en: 'during trading hours' },
};

export function statusLabel(status: string, lang: Lang): string {
  return say(STATUS_LABELS[status as Status], lang, status);
}

/** An incident role or any on-call role; an unknown role is shown as stored. */
export function roleLabel(role: string, lang: Lang): string {
  return say(ROLE_LABELS[role], lang, role);
}

export function stageLabel(stage: string, lang: Lang): string {
  return say(STAGE_LABELS[stage as keyof typeof STAGE_LABELS], lang, stage);
}

export function severityLabel(severity: string, lang: Lang): string {
  return say(SEVERITY_LABELS[severity as Severity], lang, severity);
}

export function riskLabel(risk: string | null, lang: Lang): string {
  if (!risk) return RISK_UNSET[lang];
  return say(RISK_LABELS[risk as keyof typeof RISK_LABELS], lang, risk);
}

export function changeFlagLabel(flag: string, lang: Lang): string {
  return say(CHANGE_FLAG_LABELS[flag], lang, flag);
}

/** A count of minutes as minutes: "46 分钟" / "46 min" (stage limits, postmortem stage times). */
export function minutesLabel(minutes: number, lang: Lang): string {
  return lang === 'zh' ? `${minutes} 分钟` : `${minutes} min`;
}

/** How long something has lasted: "46 分钟" / "46 min" under an hour, "1 小时 5 分钟" / "1 h 05 min" from an hour. */
export function durationLabel(minutes: number, lang: Lang): string {
  if (minutes < 60) return minutesLabel(minutes, lang);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return lang === 'zh' ? `${h} 小时 ${m} 分钟` : `${h} h ${String(m).padStart(2, '0')} min`;
}
