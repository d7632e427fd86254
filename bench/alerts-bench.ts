/**
 * Alert batch benchmark (issue 11, finding 5: 100,000 alerts took 100 s and /healthz timed out).
 *
 * End to end, in one process: Warroom started with `startWarroom` (timers off) over the demo data,
 * one POST /api/alerts of N valid alerts (distinct fingerprints, below every threshold, so each is
 * stored: the ordinary flood), while /healthz is asked every 100 ms. Prints the request's time and
 * rate, /healthz latency (p50 / max), the event loop's delay (p99 / max), and then the phases measured
 * in-process on a fresh batch (JSON.parse, validation, store + incident logic). A second, smaller run
 * repeats a batch onto stored alerts (every alert a repeat: the update path).
 *
 *   node --import tsx bench/alerts-bench.ts [--alerts 100000]
 *
 * PGlite in memory always; PostgreSQL too when DATABASE_URL is set (a scratch database, dropped
 * afterwards). Prints figures; exits non-zero only if the benchmark could not run.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createApp } from '../app/create-app.js';
import { startWarroom } from '../app/warroom.js';
import { incidentService } from '../bot/incidents/service.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import type { Db } from '../db/db.js';
import { loadDemo } from '../db/demo.js';
import { migrate } from '../db/migrate.js';
import { createPgliteWorkerDb } from '../db/pglite-worker.js';
import { withBenchDatabase } from './bench-db.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive whole number, got ${process.argv[i + 1] ?? 'nothing'}`);
  return v;
}

const N = arg('alerts', 100_000);
/** The demo's "current" moment; the bench clock runs on from it. */
const DEMO_NOW = new Date('2026-11-23T09:40:00+08:00');

const ms = (x: number) => `${Math.round(x)} ms`;
function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

function alerts(n: number, tag: string): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    system: 'quant',
    severity: 'warning',
    title: `量化柜台 ${tag} 告警 ${i}`,
    startsAt: new Date(DEMO_NOW.getTime() - (60 - (i % 60)) * 60_000).toISOString(),
    labels: { host: `quant-${i % 500}`, seq: String(i) },
  }));
}

async function run(db: Db, kind: string): Promise<void> {
  const started = Date.now();
  const clock = () => new Date(DEMO_NOW.getTime() + (Date.now() - started));
  const config = loadConfig({ WARROOM_HOME: '/nonexistent', WARROOM_ALERTS_MAX_ITEMS: String(Math.max(N, 10_000)), WARROOM_ALERTS_MAX_BYTES: String(256 * 1024 * 1024) });
  const app = await createApp(config, { db, logger: createLogger('silent'), clock });
  await loadDemo(db, app.calendar, { shift: false });
  const warroom = await startWarroom(app, { port: 0, timers: false });
  const base = `http://127.0.0.1:${warroom.port}`;
  console.log(`alerts bench: ${kind}; ${N.toLocaleString('en')} alerts in one POST /api/alerts`);
  try {
    const post = async (body: string) => {
      const res = await fetch(`${base}/api/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, body: (await res.json()) as { counts?: Record<string, number>; message?: string } };
    };
    const end = async (label: string, body: string) => {
      const health: number[] = [];
      const healthFailures: string[] = [];
      let done = false;
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const t0 = performance.now();
      const request = post(body).finally(() => {
        done = true;
      });
      const probe = (async () => {
        while (!done) {
          const s = performance.now();
          try {
            const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(30_000) });
            const answer: unknown = await res.json();
            if (res.status !== 200) healthFailures.push(`HTTP ${res.status}: ${JSON.stringify(answer)}`);
          } catch (err) {
            healthFailures.push(String(err));
          }
          health.push(performance.now() - s);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const r = await request;
      const took = performance.now() - t0;
      await probe;
      loop.disable();
      health.sort((a, b) => a - b);
      if (r.status !== 202) throw new Error(`${label}: POST /api/alerts answered ${r.status}: ${r.body.message}`);
      console.log(
        `${label.padEnd(28)} ${ms(took)} (${Math.round((N / took) * 1000).toLocaleString('en')} alerts/s; ${Object.entries(r.body.counts ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')});` +
          ` /healthz ${health.length}× p50 ${ms(percentile(health, 50))}, max ${ms(health.at(-1) ?? Number.NaN)}${healthFailures.length ? `, ${healthFailures.length} FAILED (${healthFailures.join('; ')})` : ''};` +
          ` event loop delay p99 ${ms(loop.percentile(99) / 1e6)}, max ${ms(loop.max / 1e6)}`,
      );
    };
    const first = JSON.stringify(alerts(N, 'a'));
    console.log(`body ${(Buffer.byteLength(first) / 1024 / 1024).toFixed(1)} MiB`);
    await end('new alerts, end to end', first);
    await end('same again (all repeats)', first);

    // The phases, in-process, on a fresh batch.
    const incidents = incidentService(warroom.bot);
    const body = JSON.stringify(alerts(N, 'b'));
    let t = performance.now();
    const parsed = JSON.parse(body) as unknown;
    const tParse = performance.now() - t;
    t = performance.now();
    const checked = await incidents.parseAlerts(parsed);
    const tCheck = performance.now() - t;
    t = performance.now();
    await incidents.ingestAlerts(checked);
    const tIngest = performance.now() - t;
    console.log(`phases (new alerts)          JSON.parse ${ms(tParse)}, validation ${ms(tCheck)}, store + incident logic ${ms(tIngest)}`);
  } finally {
    await warroom.close();
  }
}

async function main(): Promise<void> {
  // As `warroom start` opens the embedded store: PGlite in a worker thread (db/open.ts).
  const pglite = await createPgliteWorkerDb();
  try {
    await migrate(pglite);
    await run(pglite, 'PGlite in a worker thread (in memory), as warroom start opens it');
  } finally {
    await pglite.close();
  }
  const url = process.env.DATABASE_URL;
  if (url) await withBenchDatabase(url, (db) => run(db, `PostgreSQL (scratch database on ${new URL(url).host}, dropped afterwards)`));
  else console.log('(set DATABASE_URL, or run `npm run bench`, for PostgreSQL too)');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
