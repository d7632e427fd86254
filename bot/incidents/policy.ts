import { WarroomError } from '../../core/errors.js';
import { INCIDENT_ROLES, POLICY_SEVERITIES } from '../../core/policy-file.js';

/** Incident facts that every part of the incident flow shares: severities, statuses, stages, roles, and reading them from what people type. Their words are in bot/views/vocabulary.ts. */
export const SEVERITIES = POLICY_SEVERITIES;
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = ['investigating', 'identified', 'mitigated', 'resolved'] as const;
export type Status = (typeof STATUSES)[number];

/** Stages after discovery, in order; each has a time limit from declaration, per severity. */
export const STAGES = ['respond', 'localize', 'recover'] as const;
export type Stage = (typeof STAGES)[number];

/** Who may hold, take or give them is the policy file's `incidents` section (bot/incidents/permissions.ts). */
export const ROLES = INCIDENT_ROLES;
export type Role = (typeof ROLES)[number];

const ROLE_ALIASES: Record<string, Role> = {
  ic: 'incident-commander',
  commander: 'incident-commander',
  'incident-commander': 'incident-commander',
  指挥: 'incident-commander',
  指挥官: 'incident-commander',
  故障指挥: 'incident-commander',
  comms: 'communications-lead',
  communications: 'communications-lead',
  'communications-lead': 'communications-lead',
  cl: 'communications-lead',
  沟通: 'communications-lead',
  沟通负责人: 'communications-lead',
  ops: 'operations-lead',
  operations: 'operations-lead',
  'operations-lead': 'operations-lead',
  ol: 'operations-lead',
  处置: 'operations-lead',
  处置负责人: 'operations-lead',
  运维负责人: 'operations-lead',
  scribe: 'scribe',
  记录: 'scribe',
  记录员: 'scribe',
};

export function parseRole(word: string): Role | undefined {
  return ROLE_ALIASES[word.trim().toLowerCase()];
}

const STATUS_ALIASES: Record<string, Status> = {
  investigating: 'investigating',
  调查中: 'investigating',
  处理中: 'investigating',
  identified: 'identified',
  已定位: 'identified',
  定位: 'identified',
  mitigated: 'mitigated',
  已缓解: 'mitigated',
  缓解: 'mitigated',
  已恢复: 'mitigated',
  resolved: 'resolved',
  已解决: 'resolved',
};

export function parseStatus(word: string): Status | undefined {
  return STATUS_ALIASES[word.trim().toLowerCase()];
}

export function parseSeverity(word: string): Severity | undefined {
  const w = word.trim().toUpperCase();
  return (SEVERITIES as readonly string[]).includes(w) ? (w as Severity) : undefined;
}

/** The stage a status change reaches: identified → localize, mitigated/resolved → recover. */
export function stageReachedBy(status: Status): Stage | undefined {
  if (status === 'identified') return 'localize';
  if (status === 'mitigated' || status === 'resolved') return 'recover';
  return undefined;
}

export type StageLimits = Record<Severity, Record<Stage, number>>;
export type UpdateIntervals = Record<Severity, number>;

/** "P0=5/15/30,P1=10/30/60,…": minutes from declaration by which each stage should be reached. */
export function parseStageLimits(spec: string): StageLimits {
  const out: Partial<StageLimits> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(P[0-3])\s*=\s*(\d+)\/(\d+)\/(\d+)$/i.exec(part);
    if (!m) throw new WarroomError('config_invalid', `WARROOM_STAGE_LIMITS: cannot read "${part}".`, { hint: 'Write it like P0=5/15/30,P1=10/30/60 (minutes to respond/localize/recover).' });
    const [respond, localize, recover] = [Number(m[2]), Number(m[3]), Number(m[4])];
    if (!(respond <= localize && localize <= recover)) throw new WarroomError('config_invalid', `WARROOM_STAGE_LIMITS: "${part}" must not decrease (respond ≤ localize ≤ recover).`);
    out[m[1]!.toUpperCase() as Severity] = { respond, localize, recover };
  }
  const missing = SEVERITIES.filter((s) => !out[s]);
  if (missing.length) throw new WarroomError('config_invalid', `WARROOM_STAGE_LIMITS has no limits for ${missing.join(', ')}.`, { hint: 'Give all of P0–P3, e.g. P0=5/15/30,P1=10/30/60,P2=30/120/240,P3=60/480/1440.' });
  return out as StageLimits;
}

/** "P0=15,P1=30,P2=60,P3=0": minutes between drafted status updates; 0 means none. */
export function parseUpdateIntervals(spec: string): UpdateIntervals {
  const out: Partial<UpdateIntervals> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(P[0-3])\s*=\s*(\d+)$/i.exec(part);
    if (!m) throw new WarroomError('config_invalid', `WARROOM_UPDATE_INTERVALS: cannot read "${part}".`, { hint: 'Write it like P0=15,P1=30,P2=60,P3=0 (minutes; 0 = no drafts).' });
    out[m[1]!.toUpperCase() as Severity] = Number(m[2]);
  }
  const missing = SEVERITIES.filter((s) => out[s] === undefined);
  if (missing.length) throw new WarroomError('config_invalid', `WARROOM_UPDATE_INTERVALS has no interval for ${missing.join(', ')}.`);
  return out as UpdateIntervals;
}

/** Alert severities, weakest first; alerts at or above the configured one open a room. */
export const ALERT_SEVERITIES = ['warning', 'minor', 'major', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export function alertRank(severity: string): number {
  const s = severity.toLowerCase();
  const aliases: Record<string, AlertSeverity> = { info: 'warning', low: 'warning', medium: 'minor', high: 'major', error: 'major', page: 'critical', fatal: 'critical', disaster: 'critical' };
  const normal = (ALERT_SEVERITIES as readonly string[]).includes(s) ? (s as AlertSeverity) : aliases[s];
  return normal ? ALERT_SEVERITIES.indexOf(normal) : -1;
}

/** The incident severity an automatically declared alert gets: critical → P1, major → P2, else P3. P0 is a human call. */
export function severityForAlert(severity: string): Severity {
  const rank = alertRank(severity);
  return rank >= 3 ? 'P1' : rank === 2 ? 'P2' : 'P3';
}
