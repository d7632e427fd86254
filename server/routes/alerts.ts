import type { IncidentService } from '../../bot/incidents/service.js';
import { sendJson, type Route } from '../http.js';
import { requireIngestToken } from './ingest.js';

/**
 * POST /api/alerts: alerting systems push alerts (Warroom's format or Alertmanager's webhook).
 * Each is stored and deduplicated by fingerprint; those at or above WARROOM_ALERT_MIN_SEVERITY
 * open an incident room. The answer says what happened to each, so the sender can log it.
 */
export function alertRoutes(incidents: IncidentService): Route[] {
  const route: Route = {
    method: 'POST',
    path: '/api/alerts',
    async handler({ app, json, res }) {
      const results = await incidents.ingestAlerts(incidents.parseAlerts(await json()));
      app.logger.info({ route: '/api/alerts', alerts: results.length, declared: results.filter((r) => r.action === 'declared').length }, 'alerts received');
      sendJson(res, 202, { ok: true, results });
    },
  };
  return [requireIngestToken(route)];
}
