import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { startHttpServer } from '../../server/http.js';
import { ingestRoutes } from '../../server/routes/ingest.js';
import { formatSnapshot } from '../../tools/change-intel/snapshot.js';
import { createTestApp } from '../helpers/app.js';
import { drivers } from '../helpers/db.js';

const change = (id: string, extra: Record<string, unknown> = {}) => ({ id, title: '集中交易数据库连接池参数调整', system: 'jzjy', risk: 'high', plannedStart: '2026-11-20T16:30:00+08:00', ...extra });
const event = (id: string, extra: Record<string, unknown> = {}) => ({ id, at: '2026-11-20T16:42:00+08:00', operator: 'zhaolei', system: 'jzjy', environment: 'prod', action: 'update-config', object: 'file:/opt/jzjy/conf/dbpool.properties', ...extra });
const snapshot = (host: string, takenAt = '2026-11-21T15:00:00+08:00') => ({ host, takenAt, label: 'before', changeId: 'CAB-20261121-004', factors: { 'os.listen': [{ key: 'tcp 0.0.0.0:22 sshd', value: { user: 'root' } }] } });

for (const driver of drivers) describe.skipIf(!driver.enabled)(`webhooks on ${driver.name}`, () => {
  let db: Db;
  let close: () => Promise<void>;
  let app: App;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  const post = async (path: string, body: unknown, raw = false) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { message?: string; error?: string } };
  };

  beforeAll(async () => {
    ({ db, close } = await driver.open());
    app = await createTestApp(db);
    server = await startHttpServer(app, { port: 0, routes: ingestRoutes(), maxBodyBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await server.close();
    await close();
  });

  it('POST /api/changes takes one change or an array: 201 when new, 200 when already known', async () => {
    const one = await post('/api/changes', change('CAB-20261120-003'));
    expect(one.status).toBe(201);
    expect(one.body).toMatchObject({ ok: true, changes: { inserted: 1, updated: 0, unchanged: 0 } });
    expect(one.body.warnings).toEqual(['changes[0].system: unknown system "jzjy"']);
    const many = await post('/api/changes', [change('CAB-20261120-003'), change('CAB-20261120-004', { risk: 'medium' })]);
    expect(many.status).toBe(201);
    expect(many.body).toMatchObject({ changes: { inserted: 1, updated: 0, unchanged: 1 } });
    const again = await post('/api/changes', { changes: [change('CAB-20261120-004', { risk: 'medium' })] });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ changes: { inserted: 0, unchanged: 1 } });
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM changes'))[0]!.n).toBe(2);
  });

  it('rejects an invalid change with 400 naming the field, and stores nothing from that body', async () => {
    const r = await post('/api/changes', [change('CAB-X-1'), change('CAB-X-2', { risk: 'extreme', plannedStart: 'friday' })]);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('import_invalid');
    expect(r.body.message).toContain('changes[1].risk');
    expect(r.body.message).toContain('changes[1].plannedStart: expected an ISO 8601 time');
    expect((await db.query("SELECT id FROM changes WHERE id LIKE 'CAB-X-%'")).length).toBe(0);
    const missing = await post('/api/changes', { title: 'no id' });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/changes\[0\]\.id: Required[\s\S]*changes\[0\]\.system: Required/);
  });

  it('POST /api/change-events takes events from CD, bastion hosts and ITSM', async () => {
    const r = await post('/api/change-events', [event('EV-1', { changeId: 'CAB-20261120-003', source: 'cd-platform' }), event('EV-2', { source: 'bastion', host: 'trd-app-01' })]);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ ok: true, changeEvents: { inserted: 2 } });
    const rows = await db.query<{ id: string; extra: Record<string, unknown> }>("SELECT id, extra FROM change_events WHERE id = 'EV-2'");
    expect(rows[0]!.extra).toEqual({ host: 'trd-app-01' });
    const bad = await post('/api/change-events', event('EV-3', { at: undefined, operator: '' }));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/changeEvents\[0\]\.at: Required[\s\S]*changeEvents\[0\]\.operator: must not be empty/);
  });

  it('answers bodies that are not JSON, not objects, empty or too large', async () => {
    expect((await post('/api/changes', '{"id": ', true)).body).toMatchObject({ error: 'invalid_json' });
    const num = await post('/api/change-events', 42);
    expect(num.status).toBe(400);
    expect(num.body.message).toContain('Expected a change event object or an array of them, got number');
    expect((await post('/api/changes', [])).status).toBe(400);
    const big = await post('/api/changes', [change('CAB-BIG', { rollbackPlan: 'x'.repeat(100 * 1024) })]);
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: 'body_too_large' });
    expect((await db.query("SELECT id FROM changes WHERE id = 'CAB-BIG'")).length).toBe(0);
    const get = await fetch(`http://127.0.0.1:${server.port}/api/changes`);
    expect(get.status).toBe(405);
  });

  it('POST /api/snapshots stores one snapshot, a fleet or an array, idempotently', async () => {
    const single = await post('/api/snapshots', snapshot('trd-app-03'));
    expect(single.status).toBe(201);
    expect(single.body).toMatchObject({ ok: true, snapshots: { inserted: 1 }, ids: ['trd-app-03@2026-11-21T07:00:00.000Z'] });
    const fleet = await post('/api/snapshots', { snapshots: [snapshot('trd-app-03'), snapshot('trd-app-04')] });
    expect(fleet.body).toMatchObject({ snapshots: { inserted: 1, unchanged: 1 } });
    // What `warroom sense` writes can be posted as it is.
    const asWritten = await fetch(`http://127.0.0.1:${server.port}/api/snapshots`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: formatSnapshot({ ...snapshot('trd-app-05'), label: 'after' }) });
    expect(asWritten.status).toBe(201);
    const rows = await db.query<{ host: string; label: string; change_id: string; factors: Record<string, unknown[]> }>('SELECT host, label, change_id, factors FROM snapshots ORDER BY host');
    expect(rows.map((r) => [r.host, r.label, r.change_id])).toEqual([
      ['trd-app-03', 'before', 'CAB-20261121-004'],
      ['trd-app-04', 'before', 'CAB-20261121-004'],
      ['trd-app-05', 'after', 'CAB-20261121-004'],
    ]);
    expect(rows[0]!.factors['os.listen']).toEqual([{ key: 'tcp 0.0.0.0:22 sshd', value: { user: 'root' } }]);
  });

  it('rejects an invalid snapshot with 400 naming the field', async () => {
    const r = await post('/api/snapshots', { snapshots: [snapshot('ok'), { ...snapshot('bad'), takenAt: 'now', factors: { 'os.listen': [{ key: 'tcp 0.0.0.0:22 sshd' }], Listen: [] } }] });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('snapshot_invalid');
    expect(r.body.message).toContain('snapshots[1].takenAt: expected an ISO 8601 time');
    expect(r.body.message).toContain('snapshots[1].factors.os.listen[0].value: is required');
    expect(r.body.message).toContain('snapshots[1].factors.Listen: expected a dotted sensor id');
    expect((await db.query("SELECT id FROM snapshots WHERE host = 'ok'")).length).toBe(0);
  });
});
