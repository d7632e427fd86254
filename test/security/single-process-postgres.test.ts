import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runProcess, type ProcessResult } from '../helpers/process.js';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import { verifyAuditChain } from '../../db/audit.js';
import { createTestPostgres, runPostgres } from '../helpers/db.js';

/**
 * Finding 7, the other store: on PostgreSQL (DATABASE_URL) several Warroom processes may share
 * the database — no store lock, no forwarding — and appending to the hash-chained audit log from
 * two processes at once must still give one unbroken chain (appendAudit serialises on an
 * advisory lock).
 */

const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const mod = (p: string) => JSON.stringify(pathToFileURL(join(packageRoot, p)).href);

/** A separate Node process appending `n` audit rows, eight at a time. */
const appender = `
const { createPostgresDb } = await import(${mod('db/postgres.ts')});
const { appendAudit } = await import(${mod('db/audit.ts')});
const db = createPostgresDb(process.env.TEST_DATABASE_URL, { max: 8 });
const n = Number(process.env.ROWS);
await Promise.all(Array.from({ length: 8 }, async (_, w) => {
  for (let i = w; i < n; i += 8) await appendAudit(db, { actor: process.env.ACTOR, action: 'test:concurrent', outcome: 'ok', detail: { i } });
}));
await db.close();
`;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return runProcess(process.execPath, args, { cwd: packageRoot, env: { ...process.env, ...env } });
}

describe.runIf(runPostgres)('several processes on one PostgreSQL', { timeout: 300_000 }, () => {
  it('two processes appending audit rows at once keep one unbroken chain', async () => {
    const t = await createTestPostgres();
    try {
      const rows = 150;
      const [a, b] = await Promise.all(
        ['alice', 'bob'].map((actor) => run(['--import', tsx, '--input-type=module', '-e', appender], { TEST_DATABASE_URL: t.url, ROWS: String(rows), ACTOR: actor })),
      );
      expect(a!.code, a!.stderr).toBe(0);
      expect(b!.code, b!.stderr).toBe(0);
      const v = await verifyAuditChain(t.db);
      expect(v).toMatchObject({ ok: true, rows: 2 * rows });
      // Both really ran at the same time: their rows interleave.
      const actors = (await t.db.query<{ actor: string }>('SELECT actor FROM audit_log ORDER BY id')).map((r) => r.actor);
      const switches = actors.filter((x, i) => i > 0 && x !== actors[i - 1]).length;
      expect(switches).toBeGreaterThan(1);
    } finally {
      await t.drop();
    }
  });

  it('takes no store lock and forwards nothing: `warroom` commands run beside each other', async () => {
    const t = await createTestPostgres();
    const home = mkdtempSync(join(tmpdir(), 'warroom-single-pg-'));
    try {
      const cli = (args: string[]) => run(['--import', tsx, join(packageRoot, 'cli', 'main.ts'), ...args], { DATABASE_URL: t.url, REDIS_URL: '', LOG_LEVEL: '', WARROOM_HOME: home });
      const results = await Promise.all([cli(['migrate']), cli(['noise', 'list']), cli(['audit', 'verify']), cli(['noise', 'list', '--json'])]);
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(home, 'store.lock'))).toBe(false);
      expect(existsSync(join(home, 'server.json'))).toBe(false);
      expect(await verifyAuditChain(t.db)).toMatchObject({ ok: true });
    } finally {
      await t.drop();
    }
  });
});
