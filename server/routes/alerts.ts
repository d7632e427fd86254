import type { Bot } from '../../bot/bot.js';
import { ingestAlert, parseAlertBody, type AlertOutcome } from '../../bot/incidents/alerts.js';
import { sendJson, type Route } from '../http.js';
import { requireIngestToken } from './ingest.js';

/**
 * POST /api/alerts: alerting systems push alerts (Warroom's format or Alertmanager's webhook).
 * Each is stored and deduplicated by fingerprint; those at or above WARROOM_ALERT_MIN_SEVERITY
 * open an incident room. The answer says what happened to each, so the sender can log it.
 */
export function alertRoutes(bot: Bot): Route[] {
  const route: Route = {
    method: 'POST',
    path: '/api/alerts',
    async handler({ app, json, res }) {
      const alerts = parseAlertBody(await json());
      const results: AlertOutcome[] = [];
      // In order: a repeat in the same body must see the alert stored just before it.
      for (const a of alerts) results.push(await ingestAlert(bot, a));
      app.logger.info({ route: '/api/alerts', alerts: results.length, declared: results.filter((r) => r.action === 'declared').length }, 'alerts received');
      sendJson(res, 202, { ok: true, results });
    },
  };
  return [requireIngestToken(route)];
}
