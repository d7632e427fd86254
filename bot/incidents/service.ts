import { ingestAlert, parseAlertBody, type AlertOutcome } from './alerts.js';
import type { IncidentDeps } from './deps.js';
import { postmortemOf } from './postmortem.js';
import { requireIncident } from './store.js';

/**
 * The incident domain as entry points see it (webhook routes, the CLI): a few verbs, none of the
 * flows' internals. Chat commands and buttons go through the bot instead.
 */
export interface IncidentService {
  /** Validate an alert webhook body (Warroom's format or Alertmanager's), naming the bad field. */
  parseAlerts(body: unknown): ReturnType<typeof parseAlertBody>;
  /** Store and deduplicate alerts in order, opening or joining incidents as the policy says. */
  ingestAlerts(alerts: ReturnType<typeof parseAlertBody>): Promise<AlertOutcome[]>;
  /** The postmortem of an incident: as stored at resolve, or drafted now while it is open. */
  postmortem(incidentId: string): Promise<string>;
}

export function incidentService(deps: IncidentDeps): IncidentService {
  return {
    parseAlerts: parseAlertBody,
    async ingestAlerts(alerts) {
      const results: AlertOutcome[] = [];
      // In order: a repeat in the same body must see the alert stored just before it.
      for (const a of alerts) results.push(await ingestAlert(deps, a));
      return results;
    },
    async postmortem(incidentId) {
      return postmortemOf(deps.app.db, await requireIncident(deps.app.db, incidentId), deps.app.config.WARROOM_TIMEZONE);
    },
  };
}

/** For one-shot entry points that have no platforms connected (the CLI). */
export function offlineIncidentService(app: IncidentDeps['app']): IncidentService {
  return incidentService({ app, platforms: new Map() });
}
