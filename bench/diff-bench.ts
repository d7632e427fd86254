/**
 * Perception-factor diff benchmark, against the parse floor.
 *
 * Default (`npm run bench -- diff`): the issue's shape, 10,000 hosts × 10 factors × 10 items
 * (1 M items a side), with a small fraction of real changes and some noise (restarted processes
 * with new PIDs, re-picked ephemeral ports, restart timestamps), written as the SAME data in three
 * layouts: compact (one line, as JSON.stringify writes it), pretty (JSON.stringify(x, null, 2)) and
 * Warroom's line layout (`warroom fleet`); plus a small fleet (200 hosts, ≈ 1 MB) in the same three.
 * For each layout, in child processes: the parse floor (read + JSON.parse of both files), the diff
 * exactly as `warroom diff` runs it, their peak RSS, diff / floor, peak RSS / one file's size, and
 * whether exactly the injected changes were found.
 *
 * `--big`: the realistic fleet instead, 10,000 hosts × 10 factors of 50–300 items (1.7 GB per
 * file, line layout only: a whole-file JSON.parse of it does not fit in a V8 string), diffed with
 * the default worker threads and with one.
 *
 *   node --import tsx bench/diff-bench.ts [--hosts 10000] [--items 10] [--small-hosts 200]
 *   node --import tsx bench/diff-bench.ts --big [--hosts 10000] [--noise-rate 0.2] [--change-rate 0.01] [--keep] [--cli]
 *
 * Every measurement runs in its own child process so that its peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { diffSnapshotFiles } from '../tools/change-intel/diff/files.js';
import { NoiseRules } from '../tools/change-intel/diff/noise.js';
import { FACTORS_TAIL, FLEET_HEAD, FLEET_TAIL, formatSnapshot, type Snapshot } from '../tools/change-intel/snapshot.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith('--') ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

// ---------------------------------------------------------------------------------------------
// Measure mode (child): diff two files exactly as the CLI does, report time, peak RSS, results.

/** CPU time of this process so far (every thread, the garbage collector's included). */
function cpuMs(): number {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1000;
}

if (process.argv[2] === '--measure') {
  const [before, after] = [process.argv[3]!, process.argv[4]!];
  const t0 = performance.now();
  const startCpuMs = cpuMs();
  let entries = 0;
  const hosts = new Set<string>();
  const result = await diffSnapshotFiles(before, after, {
    rules: new NoiseRules([]),
    ...(process.argv[5] ? { workers: Number(process.argv[5]) } : {}),
    onHost(d) {
      hosts.add(d.host);
      for (const f of d.factors) entries += f.added.length + f.removed.length + f.modified.length;
    },
  });
  const ms = performance.now() - t0;
  process.stdout.write(
    JSON.stringify({
      ms: Math.round(ms),
      cpuMs: Math.round(cpuMs() - startCpuMs),
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      entries,
      hostsChanged: hosts.size,
      hostsCompared: result.tally.hostsCompared,
      suppressed: result.tally.suppressed,
      unmatched: result.unmatched.before.length + result.unmatched.after.length,
    }),
  );
  process.exit(0);
}

// Floor mode (child): what Node needs just to read and JSON.parse both files.

if (process.argv[2] === '--floor') {
  const t0 = performance.now();
  const startCpuMs = cpuMs();
  for (const p of [process.argv[3]!, process.argv[4]!]) JSON.parse(readFileSync(p, 'utf8'));
  const ms = performance.now() - t0;
  const u = process.resourceUsage();
  process.stdout.write(JSON.stringify({ ms: Math.round(ms), cpuMs: Math.round((u.userCPUTime + u.systemCPUTime) / 1000 - startCpuMs), maxRssMb: Math.round(u.maxRSS / 1024) }));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Generation

const HOSTS = Number(arg('hosts', '10000'));
const NOISE_RATE = Number(arg('noise-rate', '0.2'));
const CHANGE_RATE = Number(arg('change-rate', '0.01'));
const ROLES = 20;

/** Deterministic PRNG (mulberry32), so every run generates the same fleet. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

type Item = { key: string; value: unknown };
type Factors = Record<string, Item[]>;

/** Items per factor: 50–300, about what a trading application host has. */
const FACTOR_SIZES: Record<string, number> = {
  'file.hash': 280,
  'os.cron': 60,
  'os.listen': 80,
  'os.mount': 60,
  'os.netconn': 180,
  'os.package': 300,
  'os.process': 250,
  'os.service': 200,
  'os.sysctl': 120,
  'os.user': 120,
};
const FACTOR_IDS = Object.keys(FACTOR_SIZES).sort();

function roleTemplate(role: number): Factors {
  const r = rng(1000 + role);
  const n = (id: string) => Math.round(FACTOR_SIZES[id]! * (0.9 + r() * 0.2));
  const f: Factors = {};
  const range = (id: string) => Array.from({ length: n(id) }, (_, i) => i);
  f['file.hash'] = range('file.hash').map((i) => ({
    key: `/etc/app/conf.d/${String(i).padStart(3, '0')}-r${role}.conf`,
    value: { group: 'root', mode: '0644', owner: 'root', sha256: sha(`r${role}f${i}`), size: 200 + i, type: 'file' },
  }));
  f['os.cron'] = range('os.cron').map((i) => ({ key: `root */${(i % 59) + 1} * * * * /opt/jobs/job${i}.sh --role r${role}`, value: { source: `/etc/cron.d/job${i}` } }));
  f['os.listen'] = range('os.listen').map((i) => ({ key: `tcp 0.0.0.0:${8000 + i} svc${i}`, value: { user: 'app' } }));
  f['os.mount'] = range('os.mount').map((i) => ({ key: `/data/vol${String(i).padStart(2, '0')}`, value: { fstype: 'xfs', options: 'rw,noatime', source: `/dev/mapper/vg-data${i}`, superOptions: 'rw,attr2,inode64,logbufs=8,logbsize=32k,noquota' } }));
  f['os.netconn'] = range('os.netconn').map((i) => ({ key: `out tcp 10.20.${role}.${i}:${[1521, 6379, 9092, 5432][i % 4]} svc${i % 40}`, value: { user: 'app' } }));
  f['os.package'] = range('os.package').map((i) => ({ key: `deb:lib${['ssl', 'crypto', 'xml', 'curl', 'z', 'pcre', 'systemd', 'gnutls'][i % 8]}${i}:amd64`, value: { version: `${1 + (i % 5)}.${i % 13}.${i % 7}-${1 + (i % 3)}+deb12u${i % 4}` } }));
  f['os.process'] = range('os.process').map((i) => ({
    key: `/opt/app${i % 30}/bin/svc${i} --config /opt/app${i % 30}/conf/svc${i}.yaml --port ${8000 + i} --role r${role}`,
    value: { exe: `/opt/app${i % 30}/bin/svc${i}`, instances: 1 + (i % 3 === 0 ? 1 : 0), user: i % 5 ? 'app' : 'root' },
  }));
  f['os.service'] = range('os.service').map((i) => ({ key: `svc${String(i).padStart(3, '0')}.service`, value: { state: 'active', sub: i % 9 ? 'running' : 'exited' } }));
  f['os.sysctl'] = range('os.sysctl').map((i) => ({ key: `net.ipv4.param_${String(i).padStart(2, '0')}`, value: `${4096 * (1 + (i % 4))} ${87380 + i} ${6291456 + role}` }));
  f['os.user'] = range('os.user').map((i) => ({ key: `user${String(i).padStart(3, '0')}`, value: { gid: 1000 + i, home: `/home/user${i}`, shell: '/bin/bash', uid: 1000 + i } }));
  for (const id of FACTOR_IDS) f[id]!.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return f;
}

const templates = Array.from({ length: ROLES }, (_, r) => roleTemplate(r));
/** Factor lines that no host varies: stringified once per role (generation speed only; the diff still reads every byte). */
const cachedLines = templates.map((t) => Object.fromEntries(FACTOR_IDS.map((id) => [id, JSON.stringify(t[id])])));

interface Expect {
  changes: number;
  noisyHosts: number;
}

/** Host-specific values: /etc/hostname and /etc/hosts hash differently on every host. */
function hostItems(host: string, role: number): Item[] {
  const base = templates[role]!['file.hash']!;
  const own: Item[] = [
    { key: '/etc/hostname', value: { group: 'root', mode: '0644', owner: 'root', sha256: sha(host), size: host.length + 1, type: 'file' } },
    { key: '/etc/hosts', value: { group: 'root', mode: '0644', owner: 'root', sha256: sha(`hosts ${host}`), size: 400, type: 'file' } },
  ];
  return [...own, ...base].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function replaceValue(items: Item[], index: number, value: unknown): Item[] {
  const copy = items.slice();
  copy[index] = { key: copy[index]!.key, value };
  return copy;
}

function writeLines(fd: number, host: string, takenAt: string, label: string, lines: Record<string, string>, first: boolean): void {
  const header = `${JSON.stringify({ host, takenAt, label }).slice(0, -1)}${FACTORS_TAIL}`;
  const body = FACTOR_IDS.map((id, i) => `${JSON.stringify(id)}:${lines[id]}${i < FACTOR_IDS.length - 1 ? ',' : ''}`).join('\n');
  writeSync(fd, `${first ? '' : ',\n'}${header}\n${body}\n}}`);
}

function generate(dir: string): Expect {
  const beforePath = join(dir, 'before.json');
  const afterPath = join(dir, 'after.json');
  const fb = openSync(beforePath, 'w');
  const fa = openSync(afterPath, 'w');
  writeSync(fb, `${FLEET_HEAD}\n`);
  writeSync(fa, `${FLEET_HEAD}\n`);
  const expect: Expect = { changes: 0, noisyHosts: 0 };
  for (let h = 0; h < HOSTS; h++) {
    const r = rng(h + 1);
    const host = `trd-${String(h).padStart(5, '0')}`;
    const role = h % ROLES;
    const t = templates[role]!;
    const before: Record<string, string> = { ...cachedLines[role]! };
    const after: Record<string, string> = { ...cachedLines[role]! };
    const beforeItems: Partial<Factors> = { 'file.hash': hostItems(host, role) };
    const afterItems: Partial<Factors> = { 'file.hash': beforeItems['file.hash'] };
    // Some collectors put PIDs and start times in values, and UDP client sockets re-pick ports: noise.
    if (r() < NOISE_RATE) {
      expect.noisyHosts++;
      const proc = t['os.process']!;
      const withPid = (seed: number) => proc.map((it, i) => ({ key: it.key, value: { ...(it.value as object), pid: 1000 + ((i * 7919 + seed) % 30000) } }));
      beforeItems['os.process'] = withPid(1);
      afterItems['os.process'] = withPid(2);
      const svc = t['os.service']!;
      afterItems['os.service'] = replaceValue(svc, 3, { ...(svc[3]!.value as object), startedAt: '2026-11-21T15:42:10+08:00' });
      beforeItems['os.service'] = replaceValue(svc, 3, { ...(svc[3]!.value as object), startedAt: '2026-11-14T09:01:55+08:00' });
      const listen = t['os.listen']!;
      beforeItems['os.listen'] = [...listen, { key: `udp 0.0.0.0:${40000 + (h % 9000)} chronyd`, value: { user: '_chrony' } }];
      afterItems['os.listen'] = [...listen, { key: `udp 0.0.0.0:${50000 + (h % 9000)} chronyd`, value: { user: '_chrony' } }];
    }
    // Real changes: a config file edited, a package upgraded, a new listener, a kernel parameter.
    if (r() < CHANGE_RATE) {
      const fh = afterItems['file.hash']!;
      afterItems['file.hash'] = replaceValue(fh, 5, { ...(fh[5]!.value as object), sha256: sha(`changed ${host}`) });
      const pkg = t['os.package']!;
      afterItems['os.package'] = replaceValue(pkg, 10, { version: '9.9.9-1' });
      afterItems['os.listen'] = [...(afterItems['os.listen'] ?? t['os.listen']!), { key: 'tcp 0.0.0.0:9443 java', value: { user: 'app' } }];
      const sys = t['os.sysctl']!;
      afterItems['os.sysctl'] = replaceValue(sys, 0, '1 2 3');
      expect.changes += 4;
    }
    for (const [id, items] of Object.entries(beforeItems)) before[id] = JSON.stringify(items);
    for (const [id, items] of Object.entries(afterItems)) after[id] = items === beforeItems[id] ? before[id]! : JSON.stringify(items);
    writeLines(fb, host, '2026-11-21T14:00:00.000Z', 'before', before, h === 0);
    writeLines(fa, host, '2026-11-21T16:00:00.000Z', 'after', after, h === 0);
  }
  writeSync(fb, `\n${FLEET_TAIL}\n`);
  writeSync(fa, `\n${FLEET_TAIL}\n`);
  // Flush now, so the kernel's write-back of 3 GB does not run during the timed diff.
  fsyncSync(fb);
  fsyncSync(fa);
  closeSync(fb);
  closeSync(fa);
  return expect;
}

// ---------------------------------------------------------------------------------------------
// Child processes

type Measure = { ms: number; cpuMs: number; maxRssMb: number; entries: number; hostsChanged: number; hostsCompared: number; suppressed: number; unmatched: number };
type Floor = { ms: number; cpuMs: number; maxRssMb: number };

function child<T>(args: string[]): T {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'diff-bench.ts'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  return JSON.parse(r.stdout) as T;
}

const measure = (before: string, after: string, workers?: number) => child<Measure>(['--measure', before, after, ...(workers ? [String(workers)] : [])]);
const parseFloor = (before: string, after: string) => child<Floor>(['--floor', before, after]);

// ---------------------------------------------------------------------------------------------
// Default: the same fleet in three layouts, each against its parse floor.

const LAYOUTS = ['compact', 'pretty', 'lines'] as const;
type Layout = (typeof LAYOUTS)[number];

/** Buffered writes of one layout's file. */
class LayoutWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private size = 0;
  private count = 0;

  constructor(
    readonly path: string,
    private readonly layout: Layout,
  ) {
    this.fd = openSync(path, 'w');
    this.put(layout === 'pretty' ? '{\n  "snapshots": [\n' : layout === 'compact' ? '{"snapshots":[' : `${FLEET_HEAD}\n`);
  }

  private put(s: string): void {
    this.pending.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }

  private flush(): void {
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.size = 0;
  }

  /** Byte for byte what JSON.stringify({snapshots}) (compact, pretty) or `warroom fleet` (lines) writes. */
  write(s: Snapshot): void {
    const sep = this.count++ ? (this.layout === 'compact' ? ',' : ',\n') : '';
    if (this.layout === 'compact') this.put(sep + JSON.stringify(s));
    else if (this.layout === 'pretty') this.put(sep + JSON.stringify(s, null, 2).replace(/^/gm, '    '));
    else this.put(sep + formatSnapshot(s));
  }

  close(): void {
    this.put(this.layout === 'pretty' ? (this.count ? '\n  ]\n}' : '  ]\n}') : this.layout === 'compact' ? ']}' : `${this.count ? '\n' : ''}${FLEET_TAIL}\n`);
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

/** One host's factors at the issue's shape: `items` items each, realistic keys and values. */
function smallHost(h: number, items: number): Factors {
  const role = h % ROLES;
  const range = Array.from({ length: items }, (_, i) => i);
  const pad = (i: number) => String(i).padStart(3, '0');
  return {
    'file.hash': range.map((i) => ({ key: `/etc/app/conf.d/${pad(i)}-r${role}.conf`, value: { sha256: sha(`r${role}f${i}`).slice(0, 16), size: 200 + i } })),
    'os.cron': range.map((i) => ({ key: `*/${i + 1} * * * * /opt/jobs/job${i}.sh`, value: { user: 'root' } })),
    'os.listen': range.map((i) => ({ key: `tcp 0.0.0.0:${8000 + i} svc${i}`, value: { user: 'app' } })),
    'os.mount': range.map((i) => ({ key: `/data/vol${pad(i)}`, value: { fstype: 'xfs', source: `/dev/vg/d${i}` } })),
    'os.netconn': range.map((i) => ({ key: `out tcp 10.20.${role}.${i}:${[1521, 6379, 9092, 5432][i % 4]}`, value: { user: 'app' } })),
    'os.package': range.map((i) => ({ key: `deb:lib${['ssl', 'xml', 'curl', 'z'][i % 4]}${i}:amd64`, value: { version: `${1 + (i % 5)}.${i % 13}.${i % 7}-1` } })),
    'os.process': range.map((i) => ({ key: `/opt/app/bin/svc${i} --port ${8000 + i}`, value: { instances: 1, user: 'app' } })),
    'os.service': range.map((i) => ({ key: `svc${pad(i)}.service`, value: { state: 'active', sub: 'running' } })),
    'os.sysctl': range.map((i) => ({ key: `net.ipv4.param_${pad(i)}`, value: `${4096 * (1 + (i % 4))} ${87380 + i}` })),
    'os.user': range.map((i) => ({ key: `user${pad(i)}`, value: { home: `/home/user${i}`, uid: 1000 + i } })),
  };
}

/** Write before/after in every layout; the same noise and changes as the big fleet, at this shape. */
function generateLayouts(dir: string, name: string, hosts: number, items: number): { paths: Record<Layout, [string, string]>; expect: Expect } {
  const writers = LAYOUTS.map((l) => [new LayoutWriter(join(dir, `${name}-before-${l}.json`), l), new LayoutWriter(join(dir, `${name}-after-${l}.json`), l)] as const);
  const expect: Expect = { changes: 0, noisyHosts: 0 };
  for (let h = 0; h < hosts; h++) {
    const r = rng(h + 1);
    const host = `trd-${String(h).padStart(5, '0')}`;
    const before = smallHost(h, items);
    const after: Factors = { ...before };
    if (r() < NOISE_RATE) {
      expect.noisyHosts++;
      const withPid = (seed: number) => before['os.process']!.map((it, i) => ({ key: it.key, value: { ...(it.value as object), pid: 1000 + ((i * 7919 + seed) % 30000) } }));
      before['os.process'] = withPid(1);
      after['os.process'] = withPid(2);
      const svc = before['os.service']!;
      after['os.service'] = replaceValue(svc, 3, { ...(svc[3]!.value as object), startedAt: '2026-11-21T15:42:10+08:00' });
      before['os.service'] = replaceValue(svc, 3, { ...(svc[3]!.value as object), startedAt: '2026-11-14T09:01:55+08:00' });
      const listen = before['os.listen']!;
      before['os.listen'] = [...listen, { key: `udp 0.0.0.0:${40000 + (h % 9000)} chronyd`, value: { user: '_chrony' } }];
      after['os.listen'] = [...listen, { key: `udp 0.0.0.0:${50000 + (h % 9000)} chronyd`, value: { user: '_chrony' } }];
    }
    if (r() < CHANGE_RATE) {
      const fh = after['file.hash']!;
      after['file.hash'] = replaceValue(fh, 5 % items, { ...(fh[5 % items]!.value as object), sha256: sha(`changed ${host}`).slice(0, 16) });
      after['os.package'] = replaceValue(after['os.package']!, 1 % items, { version: '9.9.9-1' });
      after['os.listen'] = [...after['os.listen']!, { key: 'tcp 0.0.0.0:9443 java', value: { user: 'app' } }];
      after['os.sysctl'] = replaceValue(after['os.sysctl']!, 0, '1 2 3');
      expect.changes += 4;
    }
    const b: Snapshot = { host, takenAt: '2026-11-21T14:00:00.000Z', label: 'before', factors: before };
    const a: Snapshot = { host, takenAt: '2026-11-21T16:00:00.000Z', label: 'after', factors: after };
    for (const [wb, wa] of writers) {
      wb.write(b);
      wa.write(a);
    }
  }
  for (const [wb, wa] of writers) {
    wb.close();
    wa.close();
  }
  const paths = Object.fromEntries(LAYOUTS.map((l, i) => [l, [writers[i]![0].path, writers[i]![1].path]])) as Record<Layout, [string, string]>;
  return { paths, expect };
}

/** The layouts of one fleet, each diffed against its own parse floor; true when every answer was right. */
function runLayouts(dir: string, name: string, hosts: number, items: number, judge: boolean): boolean {
  const tg = performance.now();
  const { paths, expect } = generateLayouts(dir, name, hosts, items);
  process.stdout.write(
    `\n${name}: ${hosts} hosts × ${FACTOR_IDS.length} factors × ${items} items (${((hosts * FACTOR_IDS.length * items) / 1e6).toFixed(2)} M items a side), ` +
      `${expect.noisyHosts} noisy hosts, ${expect.changes} real changes on ${expect.changes / 4} hosts; generated in ${((performance.now() - tg) / 1000).toFixed(1)} s\n` +
      `  ${'layout'.padEnd(8)} ${'file'.padStart(9)}  ${'parse floor: wall, CPU, RSS'.padStart(28)}  ${'diff: wall, CPU, RSS'.padStart(28)}  ${'diff/floor'.padStart(10)}  ${'CPU'.padStart(6)}  ${'RSS/file'.padStart(8)}  result\n`,
  );
  let ok = true;
  const suppressed = new Set<number>();
  for (const layout of LAYOUTS) {
    const [before, after] = paths[layout];
    const fileMb = statSync(before).size / 1024 / 1024;
    const floor = parseFloor(before, after);
    const m = measure(before, after);
    const right = m.entries === expect.changes && m.hostsChanged === expect.changes / 4 && m.hostsCompared === hosts && m.unmatched === 0;
    ok &&= right;
    suppressed.add(m.suppressed);
    const ratio = m.ms / Math.max(floor.ms, 1);
    const memRatio = m.maxRssMb / fileMb;
    const targets = judge ? `; time ≤ 2× floor ${ratio <= 2 ? 'met' : 'NOT met'}, RSS ≤ 3× file ${memRatio <= 3 ? 'met' : 'NOT met'}` : '';
    const fig = (x: { ms: number; cpuMs: number; maxRssMb: number }) => `${(x.ms / 1000).toFixed(2)} s ${(x.cpuMs / 1000).toFixed(2)} s ${String(x.maxRssMb).padStart(5)} MB`.padStart(28);
    process.stdout.write(
      `  ${layout.padEnd(8)} ${`${fileMb.toFixed(1)} MB`.padStart(9)}  ${fig(floor)}  ${fig(m)}  ${`${ratio.toFixed(2)}×`.padStart(10)}  ` +
        `${`${(m.cpuMs / Math.max(floor.cpuMs, 1)).toFixed(2)}×`.padStart(6)}  ${`${memRatio.toFixed(1)}×`.padStart(8)}  ` +
        `${right ? 'OK' : `MISMATCH (${m.entries} entries on ${m.hostsChanged} hosts, ${m.hostsCompared} compared)`}${targets}\n`,
    );
  }
  if (suppressed.size !== 1) {
    ok = false;
    process.stdout.write(`  MISMATCH: the layouts suppressed different numbers of noise entries (${[...suppressed].join(', ')})\n`);
  } else process.stdout.write(`  every layout: exactly the ${expect.changes} injected changes, ${[...suppressed][0]} noise entries suppressed\n`);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// --big: the realistic 1.7 GB fleet in the line layout.

function runBig(): boolean {
  const dir = arg('dir', '') || mkdtempSync(join(tmpdir(), 'warroom-diff-bench-'));
  const tg = performance.now();
  const expect = generate(dir);
  const genMs = performance.now() - tg;
  const beforePath = join(dir, 'before.json');
  const afterPath = join(dir, 'after.json');
  const sizeMb = (p: string) => Math.round(statSync(p).size / 1024 / 1024);
  const itemsPerHost = Object.values(FACTOR_SIZES).reduce((a, b) => a + b, 0) + 2;
  process.stdout.write(
    `Fleet: ${HOSTS} hosts × ${FACTOR_IDS.length} factors (${Math.min(...Object.values(FACTOR_SIZES))}–${Math.max(...Object.values(FACTOR_SIZES))} items each, ~${itemsPerHost} per host, ~${((itemsPerHost * HOSTS) / 1e6).toFixed(1)} M items per file)\n` +
      `  ${expect.noisyHosts} noisy hosts (PIDs in process values, restart timestamps, re-picked ephemeral UDP ports), ${expect.changes} real changes on ${expect.changes / 4} hosts\n` +
      `  before.json ${sizeMb(beforePath)} MB, after.json ${sizeMb(afterPath)} MB, generated in ${(genMs / 1000).toFixed(1)} s in ${dir}\n`,
  );

  let ok = true;
  const together = statSync(beforePath).size + statSync(afterPath).size;
  const defaultThreads = together >= 1024 ** 3 ? `${Math.min(availableParallelism(), 4)} worker threads` : 'this thread only: the files are < 1 GiB together';
  const runs: Array<[string, number | undefined]> = [[`default (${defaultThreads})`, undefined], ['one thread (--workers 1)', 1]];
  for (const [name, workers] of runs) {
    const m = measure(beforePath, afterPath, workers);
    const right = m.entries === expect.changes && m.hostsChanged === expect.changes / 4 && m.hostsCompared === HOSTS && m.unmatched === 0;
    ok &&= right;
    process.stdout.write(
      `Diff, ${name}: ${(m.ms / 1000).toFixed(2)} s, peak RSS ${m.maxRssMb} MB\n` +
        `  ${m.hostsCompared} hosts compared, ${m.hostsChanged} changed, ${m.entries} entries reported (expected ${expect.changes}), ${m.suppressed} noise entries suppressed\n` +
        `  ${right ? 'OK: exactly the injected changes, no noise' : 'MISMATCH: see the counts above'}; target < 5 s: ${m.ms < 5000 ? 'met' : 'NOT met'}\n`,
    );
  }

  if (flag('cli')) {
    // The whole command, start-up included, under GNU time when it is installed.
    const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-v'] : [];
    const cmd = [...time, process.execPath, '--import', 'tsx', join(root, 'cli', 'main.ts'), 'diff', '--no-db', '--json', beforePath, afterPath];
    const t0 = performance.now();
    const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
    const wall = performance.now() - t0;
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1];
    process.stdout.write(`CLI \`warroom diff --no-db --json\`: ${(wall / 1000).toFixed(2)} s wall${rss ? `, peak RSS ${Math.round(Number(rss) / 1024)} MB` : ''}, exit ${r.status}\n`);
  }

  if (!flag('keep')) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`Kept ${dir}\n`);
  return ok;
}

process.stdout.write(`Load before the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${availableParallelism()} cores)\n`);
let allRight: boolean;
if (flag('big')) allRight = runBig();
else {
  const dir = mkdtempSync(join(tmpdir(), 'warroom-diff-layouts-'));
  try {
    allRight = runLayouts(dir, 'Small fleet', Number(arg('small-hosts', '200')), Number(arg('items', '10')), false);
    allRight = runLayouts(dir, 'Issue fleet', HOSTS, Number(arg('items', '10')), true) && allRight;
  } finally {
    if (!flag('keep')) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`Kept ${dir}\n`);
  }
}
process.stdout.write(`Load after the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
process.exit(allRight ? 0 : 1);
