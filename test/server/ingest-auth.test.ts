import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import { ingestRoutes } from '../../server/routes/ingest.js';
import { startHttpServer } from '../../server/http.js';
import { createTestApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

const TOKEN = 'ingest-secret-7f3a';
const change = { id: 'CAB-20261123-009', title: '测试变更', system: 'jzjy', risk: 'low' };

describe('webhooks with WARROOM_INGEST_TOKEN', () => {
  let app: App;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  beforeAll(async () => {
    app = await createTestApp(await createTestPglite(), { env: { WARROOM_INGEST_TOKEN: TOKEN } });
    server = await startHttpServer(app, { port: 0, routes: ingestRoutes() });
  });
  afterAll(async () => {
    await server.close();
    await app.db.close();
  });

  const post = (headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${server.port}/api/changes`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(change) });

  it('refuses a missing or wrong token with 401 and stores nothing', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }];
    for (const headers of attempts) {
      const r = await post(headers);
      expect(r.status).toBe(401);
      const body = await r.text();
      expect(body).toContain('unauthorized');
      expect(body).not.toContain(TOKEN);
    }
    expect(await app.db.query('SELECT id FROM changes')).toEqual([]);
  });

  it('accepts the right token', async () => {
    const r = await post({ authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(201);
    expect((await app.db.query<{ id: string }>('SELECT id FROM changes')).map((x) => x.id)).toEqual(['CAB-20261123-009']);
  });
});
