import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/db.js';
import { toVectorLiteral } from '../../db/db.js';
import { appendAudit, verifyAuditChain } from '../../db/audit.js';
import { loadMigrations, migrate } from '../../db/migrate.js';
import { drivers } from '../helpers/db.js';

for (const driver of drivers) describe.skipIf(!driver.enabled)(`store on ${driver.name}`, () => {
  let db: Db;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await driver.open());
  });
  afterAll(async () => close?.());

  it('has run every migration once, and running them again changes nothing', async () => {
    const versions = (await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version);
    expect(versions).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
  });

  it('has pgvector: CREATE EXTENSION vector and cosine distance work', async () => {
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
    const ext = await db.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
    expect(ext[0]?.extversion).toMatch(/^\d+\.\d+/);
    const rows = await db.query<{ d: number }>('SELECT $1::vector <=> $2::vector AS d', [toVectorLiteral([1, 0, 0]), toVectorLiteral([0, 1, 0])]);
    expect(rows[0]?.d).toBeCloseTo(1, 6);
  });

  it('rolls a failed transaction back completely', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO systems (id, name) VALUES ('tx-test', 'tx')");
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.query("SELECT id FROM systems WHERE id = 'tx-test'")).toEqual([]);
  });

  it('keeps the audit log append-only and chained', async () => {
    await appendAudit(db, { actor: 'alice', action: 'tool:change_lookup', outcome: 'success', detail: { input: { system: 'jzjy' } } });
    await appendAudit(db, { actor: 'bob', action: 'approve', target: 'ACT-1', outcome: 'approved' });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: 2 });
    await expect(db.query("UPDATE audit_log SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(db.exec('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
  });

  it('verifies entries whose detail is not plain JSON (undefined in arrays, dates) as jsonb stores them', async () => {
    await appendAudit(db, { actor: 'carol', action: 'tool:x', outcome: 'success', detail: { list: [1, undefined, 'a'], at: new Date('2026-11-23T01:31:00Z'), skip: undefined } });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: 3 });
  });

  it('detects an edit made behind the triggers', async () => {
    // A superuser can disable triggers; the hash chain still shows the edit.
    await db.exec('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await db.query("UPDATE audit_log SET outcome = 'rejected' WHERE actor = 'bob'");
    await db.exec('ALTER TABLE audit_log ENABLE TRIGGER USER');
    const v = await verifyAuditChain(db);
    expect(v.ok).toBe(false);
    expect(v.brokenAt).toBeGreaterThan(0);
  });
});
