import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiffTally, diffHost, sideOf, type HostDiff } from '../../tools/change-intel/diff/engine.js';
import { NoiseRules } from '../../tools/change-intel/diff/noise.js';
import { takeSnapshot } from '../../tools/change-intel/snapshot.js';
import { warroomCli } from './cli.js';

/**
 * The perception-factor loop on this very machine: snapshot, make a real change (a new listener, an
 * edited key file) plus noise (a process restarted with the same command line), snapshot again,
 * and the diff shows the change and not the noise. Other activity on a shared machine can add
 * entries of its own, so assertions look at what this test did, plus global no-noise checks.
 */

const started: number[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** `sleep 300` under a distinctive argv[0], detached (re-parented) so it is not the collector's child. */
function startMarkedSleep(marker: string): number {
  const r = spawnSync('bash', ['-c', 'exec -a "$0" sleep 300 </dev/null >/dev/null 2>&1 & echo $!', marker], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  if (!pid) throw new Error(`could not start the marked sleep: ${r.stderr}`);
  started.push(pid);
  // The background child is a fork of bash until its exec: wait until it carries the marker, so a
  // snapshot taken next sees the sleep and not a copy of the shell.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 200; i++) {
    const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (cmdline.startsWith(`${marker}\0`)) return pid;
    Atomics.wait(pause, 0, 0, 10);
  }
  throw new Error(`the marked sleep ${pid} never showed its marker`);
}

async function stop(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    const status = existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
    if (!status || /^State:\s+Z/m.test(status)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} did not stop`);
}

/** A free port below the ephemeral range, so the listener is a real service port. */
async function freeServicePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port found in 20000–32000');
}

async function listen(port: number): Promise<Server> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
  servers.push(s);
  return s;
}

function allKeys(d: HostDiff): Array<{ factor: string; key: string }> {
  return d.factors.flatMap((f) => [...f.added, ...f.removed, ...f.modified].map((e) => ({ factor: f.factor, key: e.key })));
}

/** No key in a diff may carry a port from the ephemeral range (they must read as `*` or be left out). */
function ephemeralPorts(keys: Array<{ key: string }>): string[] {
  return keys.filter(({ key }) => [...key.matchAll(/:(\d{5})(?!\d)/g)].some((m) => Number(m[1]) >= 32768)).map((k) => k.key);
}

describe.skipIf(process.platform !== 'linux')('sensors on this machine', () => {
  it('a new listener and an edited key file show; a process restarted with the same command line does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warroom-sense-'));
    const watched = join(dir, 'app.conf');
    writeFileSync(watched, 'maxPoolSize=200\n');
    writeFileSync(join(dir, 'untouched.conf'), 'x=1\n');
    const marker = `warroom-sense-test-${randomBytes(4).toString('hex')}`;
    const port = await freeServicePort();
    const sleepPid = startMarkedSleep(marker);
    const options = { sensors: ['os.process', 'os.listen', 'os.netconn', 'file.hash'], paths: [dir] };

    const before = (await takeSnapshot({ ...options, label: 'before' })).snapshot;
    await listen(port);
    writeFileSync(watched, 'maxPoolSize=80\n');
    await stop(sleepPid);
    const restartedPid = startMarkedSleep(marker);
    expect(restartedPid).not.toBe(sleepPid);
    const after = (await takeSnapshot({ ...options, label: 'after' })).snapshot;

    // Both snapshots saw the sleep, under the same key (its command line, never its PID).
    const sleepKey = `${marker} 300`;
    for (const s of [before, after]) expect(s.factors['os.process']!.find((i) => i.key === sleepKey)?.value).toMatchObject({ instances: 1, exe: '/usr/bin/sleep' });
    expect(JSON.stringify(before.factors['os.process'])).not.toContain(String(sleepPid));

    const tally = new DiffTally();
    const d = diffHost(sideOf(before), sideOf(after), new NoiseRules(), tally);
    const keys = allKeys(d);
    expect(keys.filter((k) => k.factor === 'file.hash')).toEqual([{ factor: 'file.hash', key: watched }]);
    expect(d.factors.find((f) => f.factor === 'file.hash')!.modified[0]!.before).toMatchObject({ type: 'file', mode: '0644', owner: expect.any(String), size: 16 });
    expect(d.factors.find((f) => f.factor === 'os.listen')?.added).toContainEqual({ key: `tcp 127.0.0.1:${port} node`, value: { user: expect.any(String) } });
    expect(keys.filter((k) => k.key.includes(String(port)))).toEqual([{ factor: 'os.listen', key: `tcp 127.0.0.1:${port} node` }]);
    expect(keys.filter((k) => k.key.includes(marker))).toEqual([]);
    expect(ephemeralPorts(keys)).toEqual([]);
    expect(tally.uncompared).toEqual([]);
  });

  it('end to end through the CLI: warroom sense, the change, warroom sense, warroom diff --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warroom-sense-cli-'));
    const conf = join(dir, 'conf');
    const cron = join(dir, 'cron.d');
    for (const d of [conf, cron]) mkdirSync(d, { recursive: true });
    writeFileSync(join(conf, 'dbpool.properties'), 'maxPoolSize=200\n');
    const marker = `warroom-sense-cli-${randomBytes(4).toString('hex')}`;
    const port = await freeServicePort();
    const sleepPid = startMarkedSleep(marker);
    const sense = (out: string, label: string) => warroomCli(['sense', '--out', out, '--label', label, '--change', 'CAB-TEST-001', '--sensor', 'os.process', 'os.listen', 'file.hash', 'os.sysctl', 'os.mount', 'os.package', '--path', dir]);

    const out = mkdtempSync(join(tmpdir(), 'warroom-sense-out-'));
    const b = await sense(join(out, 'before.json'), 'before');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/os\.process\s+\d+ item\(s\)/);
    await listen(port);
    writeFileSync(join(conf, 'dbpool.properties'), 'maxPoolSize=80\n');
    writeFileSync(join(cron, 'eod'), '30 16 * * 1-5 root /opt/jobs/eod.sh\n');
    await stop(sleepPid);
    startMarkedSleep(marker);
    const a = await sense(join(out, 'after.json'), 'after');
    expect(a.code, a.stderr).toBe(0);

    const d = await warroomCli(['diff', '--no-db', '--json', join(out, 'before.json'), join(out, 'after.json')]);
    expect(d.code, d.stderr).toBe(0);
    const report = JSON.parse(d.stdout) as { hosts: HostDiff[]; suppressed: number };
    expect(report.hosts).toHaveLength(1);
    const host = report.hosts[0]!;
    const files = host.factors.find((f) => f.factor === 'file.hash')!;
    expect(files.added.map((i) => i.key)).toEqual([join(cron, 'eod')]);
    expect(files.modified.map((i) => i.key)).toEqual([join(conf, 'dbpool.properties')]);
    expect(files.removed).toEqual([]);
    const keys = allKeys(host);
    expect(keys.filter((k) => k.key.includes(String(port)))).toEqual([{ factor: 'os.listen', key: `tcp 127.0.0.1:${port} node` }]);
    expect(keys.filter((k) => k.key.includes(marker))).toEqual([]);
    expect(keys.filter((k) => ['os.sysctl', 'os.mount', 'os.package'].includes(k.factor))).toEqual([]);
    expect(ephemeralPorts(keys)).toEqual([]);
    // The collector's own command line (with --out before.json / after.json) is not a change either.
    expect(keys.filter((k) => k.key.includes('before.json') || k.key.includes('after.json'))).toEqual([]);

    const text = await warroomCli(['diff', '--no-db', join(out, 'before.json'), join(out, 'after.json')]);
    expect(text.stdout).toContain(`~ ${join(conf, 'dbpool.properties')}  sha256`);
    expect(text.stdout).toContain(`+ tcp 127.0.0.1:${port} node`);
  }, 180_000);
});
