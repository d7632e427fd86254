import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import { createRedis } from '../../core/redis.js';
import { startHttpServer } from '../../server/http.js';
import { createTestApp } from '../helpers/app.js';
import { createTestPglite, createTestPostgres, requireEnv, runPostgres, runRedis } from '../helpers/db.js';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met in time');
}

describe('HTTP server on the embedded database', () => {
  let app: App;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  beforeAll(async () => {
    app = await createTestApp(await createTestPglite());
    server = await startHttpServer(app, { port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await app.db.close();
  });

  it('reports health of the database, and Redis as not configured', async () => {
    const r = await get(server.port, '/healthz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ status: 'ok', checks: { database: { ok: true, kind: 'pglite' }, redis: { configured: false } } });
  });

  it('serves Prometheus metrics, counting requests', async () => {
    await get(server.port, '/healthz');
    const r = await get(server.port, '/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/warroom_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(r.body).toContain('warroom_process_cpu_seconds_total');
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await get(server.port, '/nope')).status).toBe(404);
    const r = await fetch(`http://127.0.0.1:${server.port}/healthz`, { method: 'POST' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
  });
});

describe('health with a Redis that is down', () => {
  it('returns 503 naming Redis', async () => {
    const app = await createTestApp(await createTestPglite(), { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    const redis = createRedis('redis://127.0.0.1:1');
    redis.on('error', () => {});
    const server = await startHttpServer(app, { port: 0, redis });
    try {
      const r = await get(server.port, '/healthz');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).checks.redis.ok).toBe(false);
    } finally {
      redis.disconnect();
      await server.close();
      await app.db.close();
    }
  });
});

describe.skipIf(!runRedis)('health with real Redis, through a Redis restart', () => {
  it('is healthy, unhealthy while Redis is stopped, and healthy again after it starts', async () => {
    const url = requireEnv('REDIS_URL');
    const app = await createTestApp(await createTestPglite(), { env: { REDIS_URL: url } });
    const redis = createRedis(url);
    redis.on('error', () => {});
    const server = await startHttpServer(app, { port: 0, redis });
    try {
      expect((await get(server.port, '/healthz')).status).toBe(200);
      const cmd = process.env.WARROOM_TEST_REDIS_CMD;
      if (!cmd) return; // restart wrapper only exists under `npm run test:all`
      execFileSync(cmd, ['stop']);
      await waitFor(async () => (await get(server.port, '/healthz')).status === 503);
      execFileSync(cmd, ['start']);
      await waitFor(async () => (await get(server.port, '/healthz')).status === 200);
    } finally {
      redis.disconnect();
      await server.close();
      await app.db.close();
    }
  });
});

describe.skipIf(!runPostgres)('health with real PostgreSQL, through a PostgreSQL restart', () => {
  it('reports the outage and recovers without restarting Warroom', async () => {
    const pg = await createTestPostgres();
    const app = await createTestApp(pg.db);
    const server = await startHttpServer(app, { port: 0 });
    try {
      const ok = JSON.parse((await get(server.port, '/healthz')).body);
      expect(ok.checks.database).toMatchObject({ ok: true, kind: 'postgres' });
      const ctl = process.env.WARROOM_TEST_PG_CTL;
      if (!ctl) return;
      execFileSync(ctl, ['restart', '-m', 'fast']);
      // The pool's old connections died with the server; the next checks must get new ones.
      await waitFor(async () => (await get(server.port, '/healthz')).status === 200);
      expect((await pg.db.query<{ n: number }>('SELECT 1 AS n'))[0]?.n).toBe(1);
    } finally {
      await server.close();
      await pg.drop();
    }
  });
});
