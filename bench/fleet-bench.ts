/**
 * Fleet collection benchmark (issue 12, item 4): `sense_fleet` over the http driver against N local
 * agent endpoints served by a separate process (so the agents do not share Warroom's event loop),
 * each answering after a simulated sensor time with a ~20 KB snapshot (5 factors × 60 items).
 * Prints, per concurrency, the collect step's time and hosts/s and the store step's time.
 *
 *   node --import tsx bench/fleet-bench.ts [--hosts 1000] [--latency-ms 50]
 *
 * PGlite in memory always; PostgreSQL too when DATABASE_URL is set (a scratch database, dropped
 * afterwards). Prints figures; exits non-zero only if the benchmark could not run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../app/create-app.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import type { Db } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createPgliteDb } from '../db/pglite.js';
import { toolContext } from '../tools/services.js';
import type { StepRunner, ToolResult } from '../tools/tool.js';
import type { SenseFleetOutput } from '../tools/change-intel/sense-fleet.js';
import { withBenchDatabase } from './bench-db.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a whole number, got ${process.argv[i + 1] ?? 'nothing'}`);
  return v;
}

const HOSTS = arg('hosts', 1000);
const LATENCY = arg('latency-ms', 50);

/** The agents: one HTTP server in its own process answering /hosts/<host>/snapshot. */
const AGENTS = `
const http = require('node:http');
const items = (f) => Array.from({ length: 60 }, (_, i) => ({ key: f + ' key ' + String(i).padStart(3, '0'), value: { user: 'app', sha256: 'ab'.repeat(32), n: i } }));
const factors = Object.fromEntries(['os.process', 'os.listen', 'file.hash', 'os.package', 'os.sysctl'].map((f) => [f, items(f)]));
const server = http.createServer((req, res) => {
  const host = decodeURIComponent(/^\\/hosts\\/([^/]+)\\/snapshot$/.exec(req.url)[1]);
  const t = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ host, takenAt: '2026-11-23T09:45:00+08:00', factors })), ${LATENCY});
  res.on('close', () => clearTimeout(t));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

async function startAgents(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', AGENTS], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the agents' server exited with ${code}`)));
  });
  return { port, child };
}

async function run(label: string, db: Db, port: number): Promise<void> {
  const env = { WARROOM_HOME: mkdtempSync(join(tmpdir(), 'warroom-fleet-bench-')), WARROOM_FLEET_HTTP_URL: `http://127.0.0.1:${port}/hosts/{host}/snapshot`, LOG_LEVEL: 'silent' };
  const app = await createApp(loadConfig(env), { db, logger: createLogger('silent'), clock: () => new Date('2026-11-23T09:50:00+08:00') });
  const hosts = Array.from({ length: HOSTS }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
  for (const concurrency of [32, 128]) {
    const times: Record<string, number> = {};
    const steps: StepRunner = async (spec, fn) => {
      const t0 = performance.now();
      try {
        return await fn(() => undefined);
      } finally {
        times[spec.id] = performance.now() - t0;
      }
    };
    const t0 = performance.now();
    const r = (await app.tools.invoke('sense_fleet', { hosts, label: 'after', changeId: `CAB-BENCH-${concurrency}`, concurrency, timeoutSeconds: 30 }, toolContext(app, 'bench', { approvedActionId: `ACT-BENCH-${concurrency}`, steps }))) as ToolResult<SenseFleetOutput>;
    const total = performance.now() - t0;
    if (r.status !== 'success') throw new Error(`${label}: ${r.summary}`);
    const collect = times.collect ?? Number.NaN;
    console.log(
      `${label.padEnd(10)} ${HOSTS} hosts, concurrency ${String(concurrency).padStart(3)}, agent latency ${LATENCY} ms: ` +
        `collect ${(collect / 1000).toFixed(2)} s (${Math.round(HOSTS / (collect / 1000))} hosts/s, ideal ${Math.round((concurrency * 1000) / Math.max(1, LATENCY))}), ` +
        `store ${((times.store ?? Number.NaN) / 1000).toFixed(2)} s, total ${(total / 1000).toFixed(2)} s; ok ${r.data!.ok}, failed ${r.data!.failed}, timed out ${r.data!.timedOut}`,
    );
  }
}

const agents = await startAgents();
try {
  const pglite = await createPgliteDb();
  await migrate(pglite);
  await run('PGlite', pglite, agents.port);
  await pglite.close();
  if (process.env.DATABASE_URL) await withBenchDatabase(process.env.DATABASE_URL, (db) => run('PostgreSQL', db, agents.port));
  else console.log('(PostgreSQL skipped: DATABASE_URL is not set)');
} finally {
  agents.child.kill();
}
