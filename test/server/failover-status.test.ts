import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../db/db.js';
import { importJson } from '../../db/import.js';
import { startHttpServer } from '../../server/http.js';
import { failoverRoutes } from '../../server/routes/failover.js';
import type { App } from '../../tools/services.js';
import { createTestApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

const TOKEN = 'pool-monitor-9c1e';
const pool = {
  id: 'zd-baopan',
  name: '中登报盘',
  system: 'zd-bp',
  vip: '10.20.30.15',
  nodes: [
    { id: 'zdbp-01', host: '10.20.30.11', role: 'primary', priority: 100, holdsVip: true },
    { id: 'zdbp-02', host: '10.20.30.12', role: 'standby', priority: 90 },
  ],
};

describe('POST /api/failover/status', () => {
  let db: Db;
  let app: App;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  const post = async (body: unknown, token: string | undefined = TOKEN) => {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/failover/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { message?: string; field?: string; hint?: string; pool?: Record<string, unknown> } };
  };
  const node = async (id: string) => (await db.query<Record<string, unknown>>('SELECT healthy, heartbeat_ok, holds_vip, role, last_seen FROM failover_nodes WHERE node = $1', [id]))[0]!;

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createTestApp(db, { env: { WARROOM_INGEST_TOKEN: TOKEN } });
    server = await startHttpServer(app, { port: 0, routes: failoverRoutes() });
  });
  beforeEach(async () => void (await importJson(db, { pools: [pool] })));
  afterAll(async () => {
    await server.close();
    await db.close();
  });

  it('applies a partial report: only the facts given change, the nodes named count as seen now', async () => {
    const r = await post({ pool: 'zd-baopan', arbiterReachable: false, nodes: [{ node: 'zdbp-01', healthy: false, heartbeat: false }] });
    expect(r.status).toBe(200);
    expect(r.body.pool).toMatchObject({ pool: 'zd-baopan', primary: 'zdbp-01', arbiterReachable: false, arbiterCheckedAt: '2026-11-23T09:40:00+08:00', flags: ['primary-unhealthy', 'arbiter-unreachable'] });
    expect(await node('zdbp-01')).toMatchObject({ healthy: false, heartbeat_ok: false, holds_vip: true, role: 'primary', last_seen: DEMO_NOW });
    expect(await node('zdbp-02')).toMatchObject({ healthy: true, heartbeat_ok: true, last_seen: null });
    // By name too, and a role and VIP report.
    const moved = await post({ pool: '中登报盘', nodes: [{ node: 'zdbp-01', role: 'standby', holdsVip: false }, { node: 'zdbp-02', role: 'primary', holdsVip: true }] });
    expect(moved.body.pool).toMatchObject({ primary: 'zdbp-02' });
  });

  it('answers 400 naming the bad field, and changes nothing', async () => {
    const wrongType = await post({ pool: 'zd-baopan', nodes: [{ node: 'zdbp-01', healthy: 'no' }] });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({ error: 'invalid_body', field: 'nodes[0].healthy' });
    expect(wrongType.body.message).toBe('nodes[0].healthy: Expected boolean, received string');
    const typo = await post({ pool: 'zd-baopan', nodes: [{ node: 'zdbp-01', helthy: false }] });
    expect(typo.status).toBe(400);
    expect(typo.body.field).toBe('nodes[0].helthy');
    expect(typo.body.message).toContain("Unrecognized key(s) in object: 'helthy'");
    const role = await post({ pool: 'zd-baopan', nodes: [{ node: 'zdbp-01', role: 'master' }] });
    expect(role.body.field).toBe('nodes[0].role');
    const empty = await post({ pool: 'zd-baopan' });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toBe('nodes: nothing to update: give arbiterReachable or nodes');
    const unknownNode = await post({ pool: 'zd-baopan', nodes: [{ node: 'zdbp-01', healthy: false }, { node: 'zdbp-09', healthy: true }] });
    expect(unknownNode.status).toBe(400);
    expect(unknownNode.body).toMatchObject({ field: 'nodes[1].node', message: 'nodes[1].node: zd-baopan has no node "zdbp-09".', hint: 'Its nodes: zdbp-01, zdbp-02.' });
    expect(await node('zdbp-01')).toMatchObject({ healthy: true, last_seen: null });
  });

  it('answers 404 for an unknown pool, listing the known ones', async () => {
    const r = await post({ pool: 'nope', arbiterReachable: true });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: 'unknown_pool', knownPools: ['zd-baopan'], hint: 'Known pools: 中登报盘 (zd-baopan).' });
  });

  it('needs the ingest token like the other webhooks', async () => {
    const r = await post({ pool: 'zd-baopan', arbiterReachable: false }, 'wrong');
    expect(r.status).toBe(401);
    expect((await db.query<{ a: boolean }>('SELECT arbiter_reachable AS a FROM failover_pools'))[0]!.a).toBe(true);
  });
});
