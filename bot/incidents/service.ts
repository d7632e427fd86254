import { ingestAlerts, parseAlertBody, type AlertOutcome, type ParsedAlert } from './alerts.js';
import type { IncidentDeps } from './deps.js';
import { postmortemOf } from './postmortem.js';
import { requireIncident } from './store.js';

/**
 * The incident domain as entry points see it (webhook routes, the CLI): a few verbs, none of the
 * flows' internals. Chat commands and buttons go through the bot instead.
 */
export interface IncidentService {
  /** Validate an alert webhook body (Warroom's format or Alertmanager's), naming every bad field; 413 beyond WARROOM_ALERTS_MAX_ITEMS. */
  parseAlerts(body: unknown): Promise<ParsedAlert[]>;
  /** Store and deduplicate a batch of alerts (all or nothing), then open or join incidents as the policy says, in order. */
  ingestAlerts(alerts: ParsedAlert[]): Promise<AlertOutcome[]>;
  /** The postmortem of an incident: as stored at resolve, or drafted now while it is open. */
  postmortem(incidentId: string): Promise<string>;
}

export function incidentService(deps: IncidentDeps): IncidentService {
  return {
    parseAlerts: (body) => parseAlertBody(body, { now: deps.app.clock(), maxItems: deps.app.config.WARROOM_ALERTS_MAX_ITEMS }),
    ingestAlerts: (alerts) => ingestAlerts(deps, alerts),
    async postmortem(incidentId) {
      return postmortemOf(deps.app.db, await requireIncident(deps.app.db, incidentId), deps.app.config.WARROOM_TIMEZONE);
    },
  };
}

/** For one-shot entry points that have no platforms connected (the CLI). */
export function offlineIncidentService(app: IncidentDeps['app']): IncidentService {
  return incidentService({ app, platforms: new Map() });
}
