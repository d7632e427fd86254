import { applyStatusUpdate, parseStatusUpdate } from '../../tools/failover/status-update.js';
import { poolStatus } from '../../tools/failover/failover-status.js';
import { sendJson, type Route } from '../http.js';
import { requireIngestToken } from './ingest.js';

/**
 * POST /api/failover/status: the pools' monitoring reports node health, heartbeat, VIP holder and
 * role, and whether the arbiter is reachable. Partial: only the facts given change. Same access
 * rule as the other webhooks (WARROOM_INGEST_TOKEN, or this machine only).
 */
const statusRoute: Route = {
  method: 'POST',
  path: '/api/failover/status',
  async handler({ app, json, res }) {
    const update = parseStatusUpdate(await json());
    const pool = await applyStatusUpdate(app.db, update, app.clock());
    app.logger.info({ route: '/api/failover/status', pool: pool.id, nodes: update.nodes.length }, 'failover status');
    sendJson(res, 200, { ok: true, pool: poolStatus(pool, app.config.WARROOM_TIMEZONE) });
  },
};

export function failoverRoutes(): Route[] {
  return [statusRoute].map(requireIngestToken);
}
