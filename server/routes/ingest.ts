import { timingSafeEqual } from 'node:crypto';
import { isWarroomError, WarroomError } from '../../core/errors.js';
import { fromThisMachine } from '../../core/hosts.js';
import { importJson, type ImportReport } from '../../db/import.js';
import { storeSnapshots } from '../../tools/change-intel/snapshots-store.js';
import { parseSnapshotDocument } from '../../tools/change-intel/snapshot.js';
import { sendJson, type Route, type RouteContext } from '../http.js';

/**
 * Webhooks for the systems that know about changes: CD platforms, bastion hosts and ITSM push
 * change tickets and change operation events; hosts push perception-factor snapshots. Bodies are
 * one item or an array of items in the import format; each is validated, and a bad field rejects
 * the whole body with 400 naming it (`changes[3].risk: …`), so nothing half-arrives.
 */

type Kind = 'changes' | 'changeEvents';

/** One item, an array, or the import document itself ({"changes": [...]}). */
function asDocument(body: unknown, kind: Kind): Record<Kind, unknown[]> {
  if (Array.isArray(body)) return { [kind]: body } as Record<Kind, unknown[]>;
  if (typeof body === 'object' && body !== null) {
    if (Array.isArray((body as Record<string, unknown>)[kind]) && Object.keys(body).length === 1) return body as Record<Kind, unknown[]>;
    return { [kind]: [body] } as Record<Kind, unknown[]>;
  }
  const noun = kind === 'changes' ? 'change' : 'change event';
  throw new WarroomError('invalid_body', `Expected a ${noun} object or an array of them, got ${body === null ? 'null' : typeof body}.`, { status: 400 });
}

function importRoute(path: string, kind: Kind): Route {
  return {
    method: 'POST',
    path,
    async handler({ app, json, res }: RouteContext) {
      const doc = asDocument(await json(), kind);
      if (doc[kind].length === 0) throw new WarroomError('invalid_body', 'The array is empty: nothing to import.', { status: 400 });
      let report: ImportReport;
      try {
        report = await importJson(app.db, doc, 'request body');
      } catch (err) {
        // The import's own hint speaks of files; a webhook caller resends a request.
        if (isWarroomError(err) && err.code === 'import_invalid') {
          throw new WarroomError(err.code, err.message, { status: 400, hint: 'Fix the fields named above and send the request again; nothing from this body was stored. The fields are described in README.md ("Import format").' });
        }
        throw err;
      }
      const counts = report.counts[kind] ?? { inserted: 0, updated: 0, unchanged: 0 };
      app.logger.info({ route: path, ...counts, warnings: report.warnings.length }, 'webhook import');
      sendJson(res, counts.inserted > 0 ? 201 : 200, { ok: true, [kind]: counts, warnings: report.warnings });
    },
  };
}

const snapshotsRoute: Route = {
  method: 'POST',
  path: '/api/snapshots',
  async handler({ app, json, res }) {
    const body = await json();
    // A bare array of snapshots is accepted too, as {"snapshots": [...]}.
    const doc = Array.isArray(body) ? { snapshots: body } : body;
    const { snapshots } = parseSnapshotDocument(doc, 'request body');
    if (snapshots.length === 0) throw new WarroomError('invalid_body', 'No snapshots in the body.', { status: 400 });
    const counts = await app.db.transaction((tx) => storeSnapshots(tx, snapshots));
    app.logger.info({ route: '/api/snapshots', inserted: counts.inserted, updated: counts.updated, unchanged: counts.unchanged }, 'snapshots stored');
    sendJson(res, counts.inserted > 0 ? 201 : 200, { ok: true, snapshots: { inserted: counts.inserted, updated: counts.updated, unchanged: counts.unchanged }, ids: counts.ids });
  },
};

/**
 * With WARROOM_INGEST_TOKEN set, every webhook needs `Authorization: Bearer <token>`; the comparison
 * takes the same time whatever the guess, and the token never appears in a response or a log.
 * Without it the webhooks are open only while the server is reachable from this machine alone: bound
 * to loopback and with no public host name (core/hosts.ts); beyond loopback they are refused, even
 * when `warroom start --allow-remote` let the server listen there.
 */
export function requireIngestToken(route: Route): Route {
  return {
    ...route,
    async handler(ctx) {
      const expected = ctx.app.config.WARROOM_INGEST_TOKEN;
      if (expected) {
        const given = /^Bearer\s+(.+)$/i.exec(ctx.req.headers.authorization ?? '')?.[1] ?? '';
        const a = Buffer.from(given);
        const b = Buffer.from(expected);
        if (a.length !== b.length || !timingSafeEqual(a, b)) {
          throw new WarroomError('unauthorized', 'Missing or wrong bearer token for this webhook.', { status: 401, hint: 'Send `Authorization: Bearer <WARROOM_INGEST_TOKEN>`.' });
        }
      } else if (ctx.server.beyondLoopback || !fromThisMachine({ remoteAddress: ctx.req.socket.remoteAddress, headers: ctx.req.headers })) {
        // Without a token only this machine may post: not another host, and not a reverse proxy in
        // front (which connects from loopback, but forwards someone else's request).
        throw new WarroomError('ingest_token_required', `${route.path} is closed: this request did not come from this machine (or the server is reachable beyond loopback) and WARROOM_INGEST_TOKEN is not set.`, {
          status: 401,
          hint: 'Set WARROOM_INGEST_TOKEN on the server and send `Authorization: Bearer <token>` (see "Configuration" in README.md).',
        });
      }
      return route.handler(ctx);
    },
  };
}

export function ingestRoutes(): Route[] {
  return [importRoute('/api/changes', 'changes'), importRoute('/api/change-events', 'changeEvents'), snapshotsRoute].map(requireIngestToken);
}
