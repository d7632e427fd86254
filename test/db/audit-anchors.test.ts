import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REDACTED } from '../../core/redact.js';
import { anchorAuditHead, readAuditAnchors, startAuditAnchoring } from '../../db/audit-anchors.js';
import { appendAudit, auditHead, auditTail, formatAuditHead, verifyAuditChain } from '../../db/audit.js';
import type { Db } from '../../db/db.js';
import { auditIds, behindTheTriggers, rewriteChainFrom } from '../helpers/audit.js';
import { drivers } from '../helpers/db.js';

const anchorsFile = () => join(mkdtempSync(join(tmpdir(), 'warroom-anchors-')), 'home', 'audit-anchors.jsonl');

async function appendRows(db: Db, n: number, from = 1): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await appendAudit(db, { actor: i % 2 ? 'xieping' : 'songkai', action: i % 3 ? 'tool:failover_status' : 'action.approve', target: `ACT-${i}`, outcome: i % 3 ? 'success' : 'approved', detail: { i } });
  }
}

function fileLines(file: string): Array<{ id: number; hash: string; at: string }> {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; hash: string; at: string });
}

for (const driver of drivers) describe.skipIf(!driver.enabled)(`audit anchors and verification on ${driver.name}`, () => {
  let opened: { db: Db; close(): Promise<void> } | undefined;
  const fresh = async () => (opened = await driver.open()).db;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  it('anchors each row once in an owner-only file outside the database, does nothing when nothing is new, and shows the head', async () => {
    const db = await fresh();
    const file = anchorsFile();
    expect(await anchorAuditHead(db, file)).toBeUndefined(); // empty log: nothing to anchor, no file
    expect(await auditHead(db)).toBeUndefined();
    await appendRows(db, 3);
    const ids = await auditIds(db);
    const head = await auditHead(db);
    expect(head?.id).toBe(ids[2]);
    expect(await anchorAuditHead(db, file, { now: () => new Date('2026-11-23T01:45:00Z') })).toEqual({ ...head, appended: 3 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = fileLines(file);
    expect(lines.map((l) => l.id)).toEqual(ids);
    expect(lines[2]).toEqual({ id: head!.id, hash: head!.hash, at: '2026-11-23T01:45:00.000Z' });
    // Nothing new: nothing written.
    expect(await anchorAuditHead(db, file)).toEqual({ ...head, appended: 0 });
    expect(fileLines(file)).toHaveLength(3);
    // Two more rows, anchored by calls racing each other in this process: each row once.
    await appendRows(db, 2, 4);
    const raced = await Promise.all([anchorAuditHead(db, file), anchorAuditHead(db, file), anchorAuditHead(db, file)]);
    expect(raced.map((r) => r?.appended).sort()).toEqual([0, 0, 2]);
    expect(fileLines(file).map((l) => l.id)).toEqual(await auditIds(db));
    expect(formatAuditHead((await auditHead(db))!)).toMatch(/^audit #\d+ [0-9a-f]{8}$/);

    const v = await verifyAuditChain(db, { anchorsFile: file });
    expect(v).toMatchObject({ ok: true, rows: 5, anchors: { checked: 5, file, unanchored: 0, invalidLines: [] } });
    expect(v.detail).toMatch(/^5 rows, hash chain intact \(head row \d+ [0-9a-f]{8}\); 5 anchors checked in /);
    await appendRows(db, 1, 6);
    expect((await verifyAuditChain(db, { anchorsFile: file })).detail).toContain('1 newer row is not anchored yet');
  });

  it('names a row edited behind the triggers, with its actor, action and time', async () => {
    const db = await fresh();
    const file = anchorsFile();
    await appendRows(db, 5);
    await anchorAuditHead(db, file);
    const ids = await auditIds(db);
    await behindTheTriggers(db, () => db.query("UPDATE audit_log SET outcome = 'rejected' WHERE id = $1", [ids[2]]));
    for (const v of [await verifyAuditChain(db), await verifyAuditChain(db, { anchorsFile: file })]) {
      expect(v).toMatchObject({ ok: false, rows: 3, brokenAt: ids[2], reason: 'hash' });
      expect(v.detail).toMatch(new RegExp(`^audit row ${ids[2]} does not match its hash \\(edited after it was written\\): actor xieping, action action\\.approve, target ACT-3, outcome rejected, at \\d{4}-\\d\\d-\\d\\dT`));
    }
  });

  it('a chain rewritten consistently after an edit passes the chain alone, and the anchors name the first rewritten row', async () => {
    const db = await fresh();
    const file = anchorsFile();
    await appendRows(db, 6);
    await anchorAuditHead(db, file);
    const ids = await auditIds(db);
    await rewriteChainFrom(db, ids[2]!, { outcome: 'rejected' });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: 6 }); // the chain alone is fooled
    const v = await verifyAuditChain(db, { anchorsFile: file });
    expect(v).toMatchObject({ ok: false, brokenAt: ids[2], reason: 'anchor-mismatch', anchors: { checked: 3 } });
    expect(v.detail).toMatch(new RegExp(`^audit row ${ids[2]} is not the row anchored at .*: the chain was rewritten from this row on, its hashes recomputed: actor xieping, action action\\.approve, target ACT-3, outcome rejected`));
    // Rows written after the rewrite are anchored as usual; the rewrite stays caught.
    await appendRows(db, 1, 7);
    await anchorAuditHead(db, file);
    expect(await verifyAuditChain(db, { anchorsFile: file })).toMatchObject({ ok: false, brokenAt: ids[2], reason: 'anchor-mismatch' });
  });

  it('rows deleted from the end pass the chain alone; the anchors say the log was cut short, from which row', async () => {
    const db = await fresh();
    const file = anchorsFile();
    await appendRows(db, 5);
    await anchorAuditHead(db, file);
    const ids = await auditIds(db);
    await behindTheTriggers(db, () => db.query('DELETE FROM audit_log WHERE id >= $1', [ids[3]]));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: 3 });
    const v = await verifyAuditChain(db, { anchorsFile: file });
    expect(v).toMatchObject({ ok: false, rows: 3, brokenAt: ids[3], reason: 'missing-row', anchors: { checked: 3 } });
    expect(v.detail).toContain(`audit row ${ids[3]} is missing: it was anchored at `);
    expect(v.detail).toContain(`the log has no row ${ids[3]} now (the row before it is ${ids[2]}). The log was cut short: all 2 anchored rows from ${ids[3]} to ${ids[4]} are gone.`);
    // The application writes on after the deletion (its next row follows the new end): still caught.
    await appendRows(db, 1, 6);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
    await anchorAuditHead(db, file);
    const after = await verifyAuditChain(db, { anchorsFile: file });
    expect(after).toMatchObject({ ok: false, brokenAt: ids[3], reason: 'missing-row' });
    expect(after.detail).toMatch(/Rows were deleted before row \d+\.$/);
  });

  it('a row deleted from the middle: the chain names the next row, the anchors the deleted one', async () => {
    const db = await fresh();
    const file = anchorsFile();
    await appendRows(db, 4);
    await anchorAuditHead(db, file);
    const ids = await auditIds(db);
    await behindTheTriggers(db, () => db.query('DELETE FROM audit_log WHERE id = $1', [ids[1]]));
    const chain = await verifyAuditChain(db);
    expect(chain).toMatchObject({ ok: false, brokenAt: ids[2], reason: 'link' });
    expect(chain.detail).toContain(`audit row ${ids[2]} does not follow row ${ids[0]} (its prev_hash is not that row's hash): a row between them was deleted`);
    expect(await verifyAuditChain(db, { anchorsFile: file })).toMatchObject({ ok: false, brokenAt: ids[1], reason: 'missing-row' });
  });

  it('stores and shows details with their secrets redacted, and the chain verifies what is stored', async () => {
    const db = await fresh();
    const slackToken = ['xoxb', '123456789012', 'AbCdEfGhIjKlMnOp'].join('-');
    await appendAudit(db, {
      actor: 'songkai',
      action: 'tool:failover_switch',
      target: 'postgres://ops:hunter2@db1/warroom',
      outcome: 'started',
      detail: { input: { pool: 'zdbp', driver: { kind: 'script', env: { DB_PASSWORD: 'hunter2', SLACK_TOKEN: slackToken }, steps: [{ run: 'vipctl acquire --api-key=K123 10.1.2.3' }] } }, reason: `notify with ${slackToken}` },
    });
    const [stored] = await db.query<{ detail: unknown; target: string }>('SELECT detail, target FROM audit_log');
    expect(stored).toEqual({
      target: `postgres://ops:${REDACTED}@db1/warroom`,
      detail: { input: { pool: 'zdbp', driver: { kind: 'script', env: { DB_PASSWORD: REDACTED, SLACK_TOKEN: REDACTED }, steps: [{ run: `vipctl acquire --api-key=${REDACTED} 10.1.2.3` }] } }, reason: `notify with xoxb-${REDACTED}` },
    });
    expect(JSON.stringify(await db.query('SELECT * FROM audit_log'))).not.toMatch(/hunter2|K123|AbCdEfGh/);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: 1 });
    // A row written before redaction existed (here: put in behind the triggers) is redacted when shown.
    await behindTheTriggers(db, () => db.query(`UPDATE audit_log SET detail = '{"password":"old-secret","note":"Bearer abcdefgh12345678"}'::jsonb`));
    const [tail] = await auditTail(db, 5);
    expect(tail?.detail).toEqual({ password: REDACTED, note: `Bearer ${REDACTED}` });
  });

  it('a torn last line (a crash mid-write) is reported, not fatal, and the next anchoring starts on a new line', async () => {
    const db = await fresh();
    const file = anchorsFile();
    await appendRows(db, 2);
    await anchorAuditHead(db, file);
    appendFileSync(file, '{"id":99,"ha');
    await appendRows(db, 1, 3);
    expect((await anchorAuditHead(db, file))?.appended).toBe(1);
    const read = await readAuditAnchors(file);
    expect(read.anchors.map((a) => a.id)).toEqual(await auditIds(db));
    expect(read.invalidLines).toEqual([3]);
    const v = await verifyAuditChain(db, { anchorsFile: file });
    expect(v).toMatchObject({ ok: true, anchors: { checked: 3, invalidLines: [3] } });
    expect(v.detail).toContain('1 line(s) of the anchors file are not anchors (line 3)');
  });

  it('with no anchors file yet, verify checks the chain and says nothing was anchored', async () => {
    const db = await fresh();
    const file = anchorsFile();
    await appendRows(db, 2);
    const v = await verifyAuditChain(db, { anchorsFile: file });
    expect(v).toMatchObject({ ok: true, rows: 2, anchors: { checked: 0, absent: true, unanchored: 2 } });
    expect(v.detail).toContain('no anchors yet');
    // An anchors file for rows this database never had (another database, or all rows deleted).
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ id: 1000, hash: 'a'.repeat(64), at: '2026-11-23T01:00:00.000Z' })}\n`);
    expect(await verifyAuditChain(db, { anchorsFile: file })).toMatchObject({ ok: false, brokenAt: 1000, reason: 'missing-row' });
  });

  it('anchors on a timer, and once more when stopped', async () => {
    const db = await fresh();
    const file = anchorsFile();
    const errors: unknown[] = [];
    const anchoring = startAuditAnchoring(db, file, { intervalMs: 20, onError: (e) => errors.push(e) });
    await appendRows(db, 2);
    await expect.poll(() => readAuditAnchors(file).then((r) => r.anchors.length), { timeout: 5000 }).toBe(2);
    await appendRows(db, 1, 3);
    await anchoring.stop();
    expect((await readAuditAnchors(file)).anchors.map((a) => a.id)).toEqual(await auditIds(db));
    expect(errors).toEqual([]);
  });
});
