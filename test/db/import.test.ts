import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Db } from '../../db/db.js';
import { exportDocument, importJson } from '../../db/import.js';
import { demoDataFile } from '../../core/paths.js';
import { drivers } from '../helpers/db.js';

const small = {
  systems: [
    { id: 'jzjy', name: '集中交易', aliases: ['centralized trading'], tier: 'S', dependsOn: ['exch-bp'], owners: { ops: ['lihua'] }, cmdbKey: 'CI-0001' },
    { id: 'exch-bp', name: '交易所报盘', tier: 'S' },
  ],
  people: [{ id: 'lihua', name: '李华', slack: 'U01LIHUA', wecom: 'lihua', roles: ['ops'] }],
  oncall: [{ system: 'jzjy', role: 'operations-lead', person: 'lihua', from: '2026-11-09T00:00:00+08:00', to: '2026-11-30T00:00:00+08:00' }],
  changes: [{ id: 'CAB-20261120-003', title: '连接池参数调整', system: 'jzjy', risk: 'high', plannedStart: '2026-11-20T16:30:00+08:00', executor: 'lihua', reviewer: 'x', objects: ['file:/opt/a.conf'] }],
  changeEvents: [{ id: 'EV-1', at: '2026-11-20T16:45:00+08:00', operator: 'lihua', system: 'jzjy', environment: 'prod', action: 'update-config', object: 'file:/opt/a.conf', changeId: 'CAB-20261120-003', host: 'trd-app-01' }],
  alerts: [{ id: 'ALT-1', system: 'jzjy', severity: 'critical', title: '委托失败率升高', startsAt: '2026-11-23T09:31:00+08:00', labels: { host: 'trd-app-01' } }],
  incidents: [{ id: 'IMS-20250303-004', title: '开盘连接池耗尽', system: 'jzjy', severity: 'P1', openedAt: '2025-03-03T09:31:00+08:00', resolvedAt: '2025-03-03T10:05:00+08:00', changeIds: ['CAB-20250228-004'] }],
};

async function countAll(db: Db): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM systems) + (SELECT count(*) FROM people) + (SELECT count(*) FROM oncall) + (SELECT count(*) FROM changes)
          + (SELECT count(*) FROM change_events) + (SELECT count(*) FROM alerts) + (SELECT count(*) FROM incidents) AS n`,
  );
  return Number(rows[0]?.n);
}

for (const driver of drivers) describe.skipIf(!driver.enabled)(`import and export on ${driver.name}`, () => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await driver.open());
  });
  afterAll(async () => close?.());

  it('rejects a malformed file naming array, index and field, and writes nothing', async () => {
    const bad = structuredClone(small) as Record<string, unknown[]>;
    (bad.changes![0] as Record<string, unknown>).risk = 'critical';
    (bad.changeEvents![0] as Record<string, unknown>).at = '2026-11-20 16:45';
    bad.incidents!.push({ id: 'IMS-X', title: 't', system: 'jzjy', severity: 'P5', openedAt: '2025-01-01T00:00:00+08:00' });
    const err = await importJson(db, bad, 'bad.json').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain('bad.json');
    expect(msg).toContain('changes[0].risk');
    expect(msg).toContain('changeEvents[0].at');
    expect(msg).toContain('incidents[1].severity');
    expect(msg).toContain('nothing was imported');
    expect(await countAll(db)).toBe(0);
  });

  it('rejects unknown arrays and duplicate ids', async () => {
    await expect(importJson(db, { sytems: [] })).rejects.toThrow(/sytems: unknown array/);
    await expect(importJson(db, { people: [{ id: 'a', name: 'A' }, { id: 'a', name: 'B' }] })).rejects.toThrow(/people\[1\]: duplicates people\[0\]/);
    expect(await countAll(db)).toBe(0);
  });

  it('imports, and importing the same file again changes nothing', async () => {
    const first = await importJson(db, small);
    expect(first.counts.systems).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
    expect(first.counts.changeEvents).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    const before = await db.query('SELECT id, updated_at FROM changes ORDER BY id');
    const second = await importJson(db, small);
    for (const c of Object.values(second.counts)) expect(c).toMatchObject({ inserted: 0, updated: 0 });
    expect(await db.query('SELECT id, updated_at FROM changes ORDER BY id')).toEqual(before);
  });

  it('updates a changed record in place', async () => {
    const changed = { changes: [{ ...small.changes[0]!, status: 'completed' }] };
    const r = await importJson(db, changed);
    expect(r.counts.changes).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    const rows = await db.query<{ status: string }>("SELECT status FROM changes WHERE id = 'CAB-20261120-003'");
    expect(rows[0]?.status).toBe('completed');
  });

  it('marks imported incidents with resolvedAt as resolved', async () => {
    const rows = await db.query<{ status: string }>("SELECT status FROM incidents WHERE id = 'IMS-20250303-004'");
    expect(rows[0]?.status).toBe('resolved');
  });

  it('warns about references to unknown systems without rejecting', async () => {
    const r = await importJson(db, { alerts: [{ id: 'ALT-2', system: 'no-such', severity: 'minor', title: 't', startsAt: '2026-11-23T09:00:00+08:00' }] });
    expect(r.counts.alerts?.inserted).toBe(1);
    expect(r.warnings.join('\n')).toContain('alerts[0].system: unknown system "no-such"');
  });

  it('exports the import format, keeping extra fields, and round-trips', async () => {
    const doc = await exportDocument(db);
    const sys = doc.systems?.find((s) => s.id === 'jzjy');
    expect(sys).toMatchObject({ name: '集中交易', cmdbKey: 'CI-0001', dependsOn: ['exch-bp'], owners: { ops: ['lihua'] } });
    expect(doc.changeEvents?.[0]).toMatchObject({ at: '2026-11-20T16:45:00+08:00', host: 'trd-app-01' });
    const again = await importJson(db, JSON.parse(JSON.stringify(doc)));
    for (const c of Object.values(again.counts)) expect(c).toMatchObject({ inserted: 0, updated: 0 });
  });
});

describe('the shipped demo data', () => {
  it('is valid import format and round-trips through export', async () => {
    const { db, close } = await drivers[0]!.open();
    try {
      const raw = JSON.parse(readFileSync(demoDataFile, 'utf8'));
      const r = await importJson(db, raw, 'demo');
      expect(r.warnings).toEqual([]);
      expect(r.counts.systems!.inserted).toBeGreaterThanOrEqual(10);
      expect(r.counts.incidents!.inserted).toBeGreaterThanOrEqual(12);
      const doc = await exportDocument(db);
      for (const kind of Object.keys(raw)) expect(doc[kind as keyof typeof doc]?.length).toBe(raw[kind].length);
      const again = await importJson(db, JSON.parse(JSON.stringify(doc)));
      for (const c of Object.values(again.counts)) expect(c).toMatchObject({ inserted: 0, updated: 0 });
    } finally {
      await close();
    }
  });
});
