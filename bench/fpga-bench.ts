/**
 * FPGA status block benchmark (issue 13, "Measured"): snapshot read time through the C++ addon and
 * through the TypeScript reader for 4 cards × 64 channels, and the torn-read retry rate under a
 * writer at 100k updates/s in another process.
 *
 *   idle:        a simulated block (simulatorFrame), read N times on an open handle: the whole call
 *                (consistent copy + decode + the FpgaSnapshot model with its Dates), the raw copy +
 *                decode alone, and readFpgaStatus() (open, map, read, close) per call;
 *   under load:  tools/fpga/stress.ts writes card records at 100k/s (cards taking turns; the addon's
 *                writer where it built) in a child process while each reader takes snapshots for
 *                a few seconds; every snapshot is checked for a torn record (checkStressCard).
 *                Retry rate = retries / card-record copies tried.
 *
 *   node --import tsx bench/fpga-bench.ts [--reads 20000] [--seconds 3] [--rate 100000]
 *
 * Needs no database. Percentiles are nearest-rank. Exits non-zero only if it could not run or saw a torn snapshot.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { packageRoot } from '../core/paths.js';
import { loadFpgaAddon } from '../native/addon.js';
import { simulatorFrame } from '../tools/fpga/simulator.js';
import { addonStatus, createFpgaStatusBlock, openFpgaStatus, readFpgaStatus, type FpgaReaderKind } from '../tools/fpga/status-block.js';
import { checkStressCard, stressCard, type StressResult } from '../tools/fpga/stress.js';
import { openTsReader } from '../tools/fpga/ts-reader.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) throw new Error(`--${name} needs a positive number, got ${process.argv[i + 1] ?? 'nothing'}`);
  return v;
}
const READS = arg('reads', 20_000);
const SECONDS = arg('seconds', 3);
const RATE = arg('rate', 100_000);
const CARDS = 4;
const CHANNELS = 64;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
const us = (x: number) => `${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x)} µs`;
function spread(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  return `p50 ${us(percentile(s, 50))}, p99 ${us(percentile(s, 99))}`;
}
/** Time `fn` `n` times (after a warm-up), in µs per call. */
function timed(n: number, fn: () => void): number[] {
  for (let i = 0; i < Math.min(500, n); i++) fn();
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    fn();
    out[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'warroom-fpga-bench-'));
const addon = addonStatus();
const readers: FpgaReaderKind[] = addon.loaded ? ['addon', 'typescript'] : ['typescript'];
console.log(`FPGA status block: ${CARDS} cards × ${CHANNELS} channels; addon ${addon.loaded ? 'loaded' : `NOT loaded (${addon.error})`}`);

// ---------------------------------------------------------------------------------------------
// Idle block
// ---------------------------------------------------------------------------------------------
const idle = join(dir, 'idle.status');
const at = new Date('2026-11-23T09:40:00+08:00');
createFpgaStatusBlock(idle, {
  cards: simulatorFrame({ cards: CARDS, channels: CHANNELS, faults: [], startedAt: at }, new Date(at.getTime() + 60_000)),
  channelSlots: CHANNELS,
});
console.log(`\nSnapshot read time, idle block (${READS} reads each):`);
for (const reader of readers) {
  const h = openFpgaStatus(idle, { prefer: reader });
  const whole = timed(READS, () => void h.read());
  h.close();
  const raw = reader === 'addon' ? (loadFpgaAddon() as { loaded: true; addon: { openReader(p: string): { read(n: number): unknown; close(): void } } }).addon.openReader(idle) : openTsReader(idle);
  const copy = timed(READS, () => void raw.read(1000));
  raw.close();
  const oneShot = timed(Math.min(READS, 5000), () => void readFpgaStatus(idle, { prefer: reader }));
  console.log(`  ${reader.padEnd(10)} snapshot ${spread(whole)} · copy + decode only ${spread(copy)} · readFpgaStatus (open, read, close) ${spread(oneShot)}`);
}

// ---------------------------------------------------------------------------------------------
// Under a writer in another process
// ---------------------------------------------------------------------------------------------
async function underLoad(reader: FpgaReaderKind): Promise<boolean> {
  const file = join(dir, `load-${reader}.status`);
  createFpgaStatusBlock(file, { cards: [0, 1, 2, 3].map((c) => stressCard(0, c, CHANNELS)), channelSlots: CHANNELS });
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'tools', 'fpga', 'stress.ts'), JSON.stringify({ file, rate: RATE, durationMs: (SECONDS + 1) * 1000 })], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  while (!out.startsWith('ready\n')) {
    if (child.exitCode !== null) throw new Error(`the stress writer exited early: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const h = openFpgaStatus(file, { prefer: reader });
  const times: number[] = [];
  let snapshots = 0;
  let retries = 0;
  let retried = 0;
  let torn = 0;
  const counters = new Set<number>();
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    const t = process.hrtime.bigint();
    const s = h.read();
    times.push(Number(process.hrtime.bigint() - t) / 1000);
    snapshots++;
    retries += s.retries;
    if (s.retries) retried++;
    for (const c of s.cards) {
      if (checkStressCard(c)) torn++;
      counters.add(c.channels[0]!.packetsIn / 64);
    }
    if (snapshots % 100 === 0) await yieldToLoop();
  }
  h.close();
  await exited;
  const w = JSON.parse(out.slice(out.indexOf('{'))) as StressResult;
  const copies = snapshots * CARDS + retries;
  console.log(
    `  ${reader.padEnd(10)} ${snapshots} snapshots (${counters.size} distinct updates seen): ${retries} retries = ${((100 * retries) / copies).toFixed(2)}% of ${copies} record copies; ` +
      `${((100 * retried) / snapshots).toFixed(1)}% of snapshots retried; ${torn} torn; read ${spread(times)} (writer: ${w.writer}, ${Math.round(w.rate).toLocaleString('en')} updates/s achieved)`,
  );
  return torn === 0;
}

console.log(`\nUnder a writer at ${RATE.toLocaleString('en')} card-record updates/s in another process (${SECONDS} s per reader):`);
let ok = true;
for (const reader of readers) ok = (await underLoad(reader)) && ok;
rmSync(dir, { recursive: true, force: true });
if (!ok) {
  console.error('TORN SNAPSHOTS SEEN');
  process.exit(1);
}
