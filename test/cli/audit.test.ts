import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runForwardedCommand } from '../../cli/serve.js';
import { REDACTED } from '../../core/redact.js';
import { anchorAudit, auditAnchorsPath } from '../../db/audit-anchors.js';
import { appendAudit } from '../../db/audit.js';
import type { Db } from '../../db/db.js';
import type { App } from '../../tools/services.js';
import { auditIds, behindTheTriggers, rewriteChainFrom } from '../helpers/audit.js';
import { createTestApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

/**
 * `warroom audit verify` and `audit tail` as they run when forwarded to the server that owns the
 * embedded store (the same command definitions as in a terminal; a command that is not forwardable
 * is refused there, so this also shows both are).
 */
describe('warroom audit verify / tail', () => {
  let db: Db;
  let app: App;
  let file: string;
  const run = (...argv: string[]) => runForwardedCommand(app, { argv, cwd: tmpdir(), user: 'songkai' });

  beforeAll(async () => {
    db = await createTestPglite();
    file = join(mkdtempSync(join(tmpdir(), 'warroom-audit-cli-')), 'anchors.jsonl');
    app = await createTestApp(db, { env: { WARROOM_AUDIT_ANCHORS_FILE: file } });
    const slackToken = ['xoxb', '123456789012', 'AbCdEfGhIjKlMnOp'].join('-');
    await appendAudit(db, { actor: 'xieping', action: 'action.request', target: 'ACT-20261123-001', outcome: 'pending', detail: { tool: 'failover_switch', input: { pool: 'zdbp' } } });
    await appendAudit(db, { actor: 'songkai', action: 'action.approve', target: 'ACT-20261123-001', outcome: 'approved', detail: { approvals: 1 } });
    await appendAudit(db, { actor: 'wangfang', action: 'action.approve', target: 'ACT-20261123-001', outcome: 'approved', detail: { approvals: 2, webhook: { url: 'https://hooks.example/x?token=abc123', auth: { password: 'hunter2' } }, note: `posted with ${slackToken}` } });
    await appendAudit(db, { actor: 'worker', action: 'action.step', target: 'ACT-20261123-001', outcome: 'succeeded', detail: { step: 'release-vip', of: 5 } });
  });
  afterAll(async () => db?.close());

  it('tail shows the latest rows oldest first, with at, actor, action, target, outcome and a short detail, secrets redacted, and the head', async () => {
    expect(auditAnchorsPath(app.config)).toBe(file);
    const r = await run('audit', 'tail', '-n', '3');
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^#2\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00\s+songkai\s+action\.approve\s+ACT-20261123-001\s+approved\s+\{"approvals":1\}$/);
    expect(lines[1]).toMatch(/^#3 .* wangfang\s+action\.approve\s+ACT-20261123-001\s+approved\s+\{"approvals":2,"note":"posted with xoxb-\[redacted\]","webhook":\{"auth":\{"password":"\[redacted\]"\},"ur…$/);
    expect(lines[2]).toMatch(/^#4 .* worker\s+action\.step\s+ACT-20261123-001\s+succeeded\s+\{"of":5,"step":"release-vip"\}$/);
    expect(lines[3]).toMatch(/^head: audit #4 [0-9a-f]{8}$/);
    expect(r.stdout).not.toMatch(/hunter2|abc123|AbCdEfGh/);

    const json = await run('audit', 'tail', '--json', '-n', '2');
    expect(json.exitCode, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<{ id: number; actor: string; detail: Record<string, unknown>; hash: string }>;
    expect(rows.map((x) => [x.id, x.actor])).toEqual([
      [3, 'wangfang'],
      [4, 'worker'],
    ]);
    expect(rows[0]!.detail).toEqual({ approvals: 2, webhook: { url: `https://hooks.example/x?token=${REDACTED}`, auth: { password: REDACTED } }, note: `posted with xoxb-${REDACTED}` });

    const bad = await run('audit', 'tail', '-n', 'lots');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('-n must be a whole number from 1 to 10000, not "lots"');
  });

  it('verify passes and says how many anchors it checked; after an edit behind the triggers it exits non-zero naming the row and why', async () => {
    const none = await run('audit', 'verify');
    expect(none.exitCode, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/^Audit log intact: 4 rows, hash chain intact \(head row 4 [0-9a-f]{8}\); no anchors yet \(.*anchors\.jsonl does not exist\)/);

    expect(await anchorAudit(db, app.config)).toMatchObject({ id: 4, appended: 4 });
    const ok = await run('audit', 'verify');
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`Audit log intact: 4 rows, hash chain intact (head row 4 ${/head row 4 ([0-9a-f]{8})/.exec(ok.stdout)?.[1]}); 4 anchors checked in ${file}.\n`);

    const [, second] = await auditIds(db);
    await behindTheTriggers(db, () => db.query("UPDATE audit_log SET actor = 'mallory' WHERE id = $1", [second]));
    const broken = await run('audit', 'verify');
    expect(broken.exitCode).toBe(2);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^warroom: Audit log broken: audit row 2 does not match its hash \(edited after it was written\): actor mallory, action action\.approve, target ACT-20261123-001, outcome approved, at \d{4}-/);
    expect(broken.stderr).toContain('\nChecked 2 rows and 1 anchor (');
    expect(broken.stderr).toContain('Investigate before trusting the log');

    const asJson = await run('audit', 'verify', '--json');
    expect(asJson.exitCode).toBe(2);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ ok: false, brokenAt: 2, reason: 'hash', row: { id: 2, actor: 'mallory' }, anchors: { file } });
  });

  it('verify names the first row of a chain rewritten consistently, which the chain alone cannot see', async () => {
    await rewriteChainFrom(db, 2, { actor: 'mallory' }); // the edit above, hashes recomputed from row 2 on
    const r = await run('audit', 'verify');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^warroom: Audit log broken: audit row 2 is not the row anchored at \S+ \(hash [0-9a-f]{16}…, anchored [0-9a-f]{16}…\): the chain was rewritten from this row on, its hashes recomputed: actor mallory, action action\.approve/);
    expect(r.stderr).toContain('Checked 2 rows and 2 anchors (');
    expect(r.stderr).toContain('replaced and their hashes recomputed');
    // Against an anchors file that does not exist, the rewrite is invisible, and verify says why.
    const elsewhere = await run('audit', 'verify', '--anchors', join(tmpdir(), 'no-such-dir', 'anchors.jsonl'));
    expect(elsewhere.exitCode).toBe(0);
    expect(elsewhere.stdout).toContain('no anchors yet');
    expect(elsewhere.stdout).toContain('a rewritten chain would not show');
  });
});
