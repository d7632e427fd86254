import type { Config } from '../../core/config.js';
import type { Queryable } from '../../db/db.js';
import { parseStageLimits, parseUpdateIntervals, STAGES, type Stage, type StageLimits, type UpdateIntervals } from './policy.js';
import { rolesOf, updatesOf, type IncidentRow, type RoleRow, type UpdateRow } from './store.js';

/** The incident policy from configuration: stage limits and update intervals per severity. */
export interface IncidentPolicy {
  limits: StageLimits;
  intervals: UpdateIntervals;
}

const cache = new WeakMap<Config, IncidentPolicy>();

export function incidentPolicy(config: Config): IncidentPolicy {
  let p = cache.get(config);
  if (!p) {
    p = { limits: parseStageLimits(config.WARROOM_STAGE_LIMITS), intervals: parseUpdateIntervals(config.WARROOM_UPDATE_INTERVALS) };
    cache.set(config, p);
  }
  return p;
}

/** What a manager wants to know about one incident, computed from stored facts only. */
export interface IncidentFacts {
  incident: IncidentRow;
  roles: RoleRow[];
  /** When the trouble began (stage "discover": the first alert, or the time the declarer gave); timing counts from it. */
  onset: Date;
  /** Minutes from the onset to now (or to the resolution). */
  elapsedMinutes: number;
  /** The stage being worked on (the first not reached), or 'review' once recovered. */
  stage: Stage | 'review';
  /** Minutes from the onset by which the current stage should be reached. */
  stageLimit: number | null;
  stageOverdue: boolean;
  /** Minutes from the onset to each stage reached. */
  stageMinutes: Partial<Record<Stage, number>>;
  lastUpdate: UpdateRow | null;
  /** When the next status update is due (null when none is expected). */
  nextUpdateDue: Date | null;
  /** Minutes between status updates at this severity (0 = none). */
  updateInterval: number;
}

export function minutesBetween(from: Date, to: Date): number {
  return Math.max(0, Math.round((to.getTime() - from.getTime()) / 60000));
}

export async function incidentFacts(db: Queryable, incident: IncidentRow, now: Date, policy: IncidentPolicy): Promise<IncidentFacts> {
  const [roles, updates] = await Promise.all([rolesOf(db, incident.id), updatesOf(db, incident.id)]);
  const opened = incident.opened_at;
  const onset = onsetOf(incident);
  const end = incident.resolved_at ?? now;
  const stageMinutes: Partial<Record<Stage, number>> = {};
  for (const s of STAGES) {
    const at = incident.stages[s];
    if (at) stageMinutes[s] = minutesBetween(onset, new Date(at));
  }
  const current = STAGES.find((s) => !incident.stages[s]);
  const elapsedMinutes = minutesBetween(onset, end);
  const stageLimit = current ? policy.limits[incident.severity][current] : null;
  const posted = updates.filter((u) => u.status === 'posted');
  const lastUpdate = posted.length ? posted[posted.length - 1]! : null;
  const interval = policy.intervals[incident.severity];
  const nextUpdateDue =
    incident.status === 'resolved' || interval <= 0 ? null : new Date((lastUpdate?.posted_at ?? opened).getTime() + interval * 60000);
  return {
    incident,
    roles,
    onset,
    elapsedMinutes,
    stage: current ?? 'review',
    stageLimit,
    stageOverdue: stageLimit !== null && incident.status !== 'resolved' && elapsedMinutes > stageLimit,
    stageMinutes,
    lastUpdate,
    nextUpdateDue,
    updateInterval: interval,
  };
}

/** The onset of an incident: its "discover" stage, never after the declaration. */
export function onsetOf(incident: IncidentRow): Date {
  const d = incident.stages.discover ? new Date(incident.stages.discover) : undefined;
  return d && d < incident.opened_at ? d : incident.opened_at;
}
