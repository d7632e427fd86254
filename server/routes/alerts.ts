import type { IncidentService } from '../../bot/incidents/service.js';
import type { Config } from '../../core/config.js';
import { sendJson, type Route } from '../http.js';
import { requireIngestToken } from './ingest.js';

const mib = (bytes: number) => (bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`);

/**
 * POST /api/alerts: alerting systems push alerts (Warroom's format or Alertmanager's webhook).
 * Each is stored and deduplicated by fingerprint; those at or above WARROOM_ALERT_MIN_SEVERITY
 * open an incident room. A batch is all or nothing: one bad alert is a 400 naming it and nothing
 * is stored; more than WARROOM_ALERTS_MAX_ITEMS alerts or WARROOM_ALERTS_MAX_BYTES of body is a
 * 413. The answer says what happened to each, so the sender can log it.
 */
export function alertRoutes(incidents: IncidentService, config: Pick<Config, 'WARROOM_ALERTS_MAX_BYTES' | 'WARROOM_ALERTS_MAX_ITEMS'>): Route[] {
  const route: Route = {
    method: 'POST',
    path: '/api/alerts',
    bodyLimit: {
      bytes: config.WARROOM_ALERTS_MAX_BYTES,
      hint: `The limit for POST /api/alerts is ${mib(config.WARROOM_ALERTS_MAX_BYTES)} (WARROOM_ALERTS_MAX_BYTES) and at most ${config.WARROOM_ALERTS_MAX_ITEMS} alerts (WARROOM_ALERTS_MAX_ITEMS); nothing was stored. Split the batch into smaller requests, or raise the limit.`,
    },
    async handler({ app, json, res }) {
      const results = await incidents.ingestAlerts(await incidents.parseAlerts(await json()));
      const counts: Record<string, number> = {};
      for (const r of results) counts[r.action] = (counts[r.action] ?? 0) + 1;
      app.logger.info({ route: '/api/alerts', alerts: results.length, ...counts }, 'alerts received');
      sendJson(res, 202, { ok: true, counts, results });
    },
  };
  return [requireIngestToken(route)];
}
