/**
 * Perception-factor diff benchmark: generate a before/after fleet of N hosts × 10 factors
 * (50–300 items per factor, like a real trading host's processes, listeners, key files,
 * packages, kernel parameters, mounts, services, users, cron lines and connections), with a
 * small fraction of real changes and some noise (restarted processes with new PIDs, re-picked
 * ephemeral ports, restart timestamps), then run the same diff `warroom diff` runs and print
 * the time, the peak RSS and whether exactly the injected changes were found.
 *
 *   node --import tsx bench/diff-bench.ts [--hosts 10000] [--noise-rate 0.2] [--change-rate 0.01] [--keep] [--cli]
 *
 * The diff runs in a child process so that its peak RSS is its own, not the generator's.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { diffSnapshotFiles } from '../tools/change-intel/diff/files.js';
import { NoiseRules } from '../tools/change-intel/diff/noise.js';
import { FACTORS_TAIL, FLEET_HEAD, FLEET_TAIL } from '../tools/change-intel/snapshot.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith('--') ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

// ---------------------------------------------------------------------------------------------
// Measure mode (child): diff two files exactly as the CLI does, report time, peak RSS, results.

if (process.argv[2] === '--measure') {
  const [before, after] = [process.argv[3]!, process.argv[4]!];
  const t0 = performance.now();
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

type Measure = { ms: number; maxRssMb: number; entries: number; hostsChanged: number; hostsCompared: number; suppressed: number; unmatched: number };
function measure(workers: number | undefined): Measure {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'diff-bench.ts'), '--measure', beforePath, afterPath, ...(workers ? [String(workers)] : [])], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (child.status !== 0) {
    process.stderr.write(child.stderr);
    process.exit(1);
  }
  return JSON.parse(child.stdout) as Measure;
}

let ok = true;
const runs: Array<[string, number | undefined]> = [[`default (${Math.min(availableParallelism(), 4)} worker threads)`, undefined], ['one thread (--workers 1)', 1]];
for (const [name, workers] of runs) {
  const m = measure(workers);
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
process.exit(ok ? 0 : 1);
