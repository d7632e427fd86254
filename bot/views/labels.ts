import type { Lang } from '../messages.js';

const roles: Record<string, [string, string]> = {
  'incident-commander': ['事件指挥官', 'incident commander'],
  'communications-lead': ['沟通负责人', 'communications lead'],
  'operations-lead': ['运维负责人', 'operations lead'],
  scribe: ['记录员', 'scribe'],
  'duty-manager': ['值班经理', 'duty manager'],
  ops: ['运维', 'ops'],
  dba: ['DBA', 'DBA'],
  dev: ['开发', 'dev'],
  network: ['网络', 'network'],
  'security-compliance': ['安全合规', 'security & compliance'],
  manager: ['经理', 'manager'],
};

export function roleLabel(role: string, lang: Lang): string {
  const r = roles[role];
  return r ? (lang === 'zh' ? r[0] : r[1]) : role;
}

const risks: Record<string, [string, string]> = { high: ['高风险', 'high risk'], medium: ['中风险', 'medium risk'], low: ['低风险', 'low risk'] };
export function riskLabel(risk: string | null, lang: Lang): string {
  if (!risk) return lang === 'zh' ? '风险未定' : 'risk unset';
  const r = risks[risk];
  return r ? (lang === 'zh' ? r[0] : r[1]) : risk;
}

const statuses: Record<string, [string, string]> = {
  investigating: ['排查中', 'investigating'],
  identified: ['已定位', 'identified'],
  mitigated: ['已缓解', 'mitigated'],
  resolved: ['已恢复', 'resolved'],
};
export function statusLabel(status: string, lang: Lang): string {
  const s = statuses[status];
  return s ? (lang === 'zh' ? s[0] : s[1]) : status;
}

export function durationLabel(minutes: number, lang: Lang): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (lang === 'zh') return h ? `${h} 小时 ${m} 分钟` : `${m} 分钟`;
  return h ? `${h} h ${m} min` : `${m} min`;
}

const changeFlagLabels: Record<string, [string, string]> = {
  'high-risk': ['高风险', 'high risk'],
  'restart-in-trading-hours': ['盘中重启/切换', 'restart in trading hours'],
  'prod-data-maintenance': ['生产数据维护', 'prod data maintenance'],
  'key-param-change': ['关键参数变更', 'key parameter change'],
  'no-ticket': ['无变更单', 'no ticket'],
  'no-reviewer': ['无复核人', 'no reviewer'],
  'in-trading-hours': ['盘中操作', 'during trading hours'],
};
/** Labels of the change highlight flags (codes in tools/change-flags.ts). */
export function changeFlagLabel(flag: string, lang: Lang): string {
  const l = changeFlagLabels[flag];
  return l ? (lang === 'zh' ? l[0] : l[1]) : flag;
}
