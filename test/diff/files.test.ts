import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostDiff } from '../../tools/change-intel/diff/engine.js';
import { diffSnapshotFiles } from '../../tools/change-intel/diff/files.js';
import { NoiseRules } from '../../tools/change-intel/diff/noise.js';
import { DiffJsonWriter, renderHostText, renderSummaryText } from '../../tools/change-intel/diff/render.js';
import { openSnapshotFile } from '../../tools/change-intel/diff/snapshot-files.js';
import type { Snapshot } from '../../tools/change-intel/snapshot.js';
import { warroomCli } from '../sensors/cli.js';
import { snap, tmp, writeFleet, writeSingle } from './helpers.js';

/** A small hand-made fleet: h1 changes for real, h2 only has noise, h3 is identical, h4/h5 exist on one side only. */
function fleets(): { before: Snapshot[]; after: Snapshot[] } {
  const proc = (pid: number) => [{ key: '/usr/sbin/sshd -D', value: { user: 'root', instances: 1, pid } }];
  const before = [
    snap('h1', {
      'file.hash': [{ key: '/etc/hosts', value: { sha256: 'aaa', mode: '0644' } }, { key: '/etc/resolv.conf', value: { sha256: 'r1', mode: '0644' } }],
      'os.listen': [{ key: 'tcp 0.0.0.0:22 sshd', value: { user: 'root' } }],
      'os.package': [{ key: 'deb:openssl:amd64', value: { version: '3.0.15-1' } }],
    }),
    snap('h2', { 'os.process': proc(100), 'os.listen': [{ key: 'udp 0.0.0.0:41000 chronyd', value: { user: '_chrony' } }] }),
    snap('h3', { 'os.sysctl': [{ key: 'vm.swappiness', value: '1' }] }),
    snap('h4', { 'os.sysctl': [] }),
  ];
  const after = [
    // deliberately in another order: fleets are matched by host, not by position
    snap('h3', { 'os.sysctl': [{ key: 'vm.swappiness', value: '1' }] }, { takenAt: '2026-11-21T16:00:00+08:00' }),
    snap('h5', { 'os.sysctl': [] }),
    snap('h2', { 'os.process': proc(200), 'os.listen': [{ key: 'udp 0.0.0.0:53000 chronyd', value: { user: '_chrony' } }] }, { takenAt: '2026-11-21T16:00:00+08:00' }),
    snap('h1', {
      'file.hash': [{ key: '/etc/hosts', value: { sha256: 'bbb', mode: '0644' } }, { key: '/etc/ssh/sshd_config', value: { sha256: 's1', mode: '0600' } }],
      'os.listen': [{ key: 'tcp 0.0.0.0:22 sshd', value: { user: 'root' } }, { key: 'tcp 0.0.0.0:8443 java', value: { user: 'app' } }],
      'os.package': [{ key: 'deb:openssl:amd64', value: { version: '3.0.16-1' } }],
    }, { takenAt: '2026-11-21T16:00:00+08:00' }),
  ];
  return { before, after };
}

async function run(beforePath: string, afterPath: string, rules = new NoiseRules(), by: 'host' | 'role' = 'host', workers = 1) {
  const hosts: HostDiff[] = [];
  const r = await diffSnapshotFiles(beforePath, afterPath, { rules, by, onHost: (d) => hosts.push(d), workers, minHostsPerWorker: 1 });
  return { hosts, ...r };
}

describe('diff of fleet files', () => {
  it('reports exactly the real changes per host and factor, matched by host, with noise suppressed and one-sided hosts listed', async () => {
    const dir = tmp();
    const { before, after } = fleets();
    const r = await run(writeFleet(join(dir, 'b.json'), before), writeFleet(join(dir, 'a.json'), after));
    expect(r.hosts).toEqual([
      {
        host: 'h1',
        factors: [
          {
            factor: 'file.hash',
            added: [{ key: '/etc/ssh/sshd_config', value: { mode: '0600', sha256: 's1' } }],
            removed: [{ key: '/etc/resolv.conf', value: { mode: '0644', sha256: 'r1' } }],
            modified: [{ key: '/etc/hosts', before: { mode: '0644', sha256: 'aaa' }, after: { mode: '0644', sha256: 'bbb' } }],
          },
          { factor: 'os.listen', added: [{ key: 'tcp 0.0.0.0:8443 java', value: { user: 'app' } }], removed: [], modified: [] },
          { factor: 'os.package', added: [], removed: [], modified: [{ key: 'deb:openssl:amd64', before: { version: '3.0.15-1' }, after: { version: '3.0.16-1' } }] },
        ],
      },
    ]);
    expect(r.tally.hostsCompared).toBe(3);
    expect(r.tally.suppressed).toBe(3); // h2: the sshd PID (1) and chronyd's ephemeral port (removed + added)
    expect(r.unmatched).toEqual({ before: ['h4'], after: ['h5'] });
    // The same answer, in the same order, from worker threads.
    const parallel = await run(join(dir, 'b.json'), join(dir, 'a.json'), new NoiseRules(), 'host', 2);
    expect(parallel.hosts).toEqual(r.hosts);
    expect(parallel.tally).toEqual(r.tally);
    expect(parallel.unmatched).toEqual(r.unmatched);
  });

  it('gives the same answer from the line layout, pretty JSON, one-line JSON and the byte scanner', async () => {
    const dir = tmp();
    const { before, after } = fleets();
    const expected = await run(writeFleet(join(dir, 'b1.json'), before), writeFleet(join(dir, 'a1.json'), after));
    for (const layout of ['pretty', 'compact'] as const) {
      const r = await run(writeFleet(join(dir, `b-${layout}.json`), before, layout), writeFleet(join(dir, `a-${layout}.json`), after, 'lines'));
      expect(r.hosts).toEqual(expected.hosts);
      expect(r.tally.suppressed).toBe(expected.tally.suppressed);
    }
    // Any fleet not in the line layout goes through the byte scanner, whatever its size.
    const scanned = openSnapshotFile(writeFleet(join(dir, 'b-scan.json'), before, 'pretty'));
    expect(scanned.kind).toBe('scanned');
    expect(scanned.index().map((e) => e.header.host)).toEqual(['h1', 'h2', 'h3', 'h4']);
    const hosts = [...scanned.blocks()].map((b) => [b.header.host, [...b.factorIds].sort()]);
    expect(hosts[0]).toEqual(['h1', ['file.hash', 'os.listen', 'os.package']]);
    scanned.close();
    // The whole diff through the scanner, in this thread and in workers, with the role found after the factors.
    const reorder = (s: Snapshot, role: string) => ({ factors: s.factors, takenAt: s.takenAt, host: s.host, role });
    writeFileSync(join(dir, 'b-odd.json'), JSON.stringify({ snapshots: before.map((s) => reorder(s, `role-${s.host}`)) }, null, 1));
    writeFileSync(join(dir, 'a-odd.json'), JSON.stringify({ snapshots: after.map((s) => ({ host: s.host, takenAt: s.takenAt, factors: s.factors, role: `role-${s.host}` })) }));
    for (const workers of [1, 2]) {
      const hostsOut: HostDiff[] = [];
      const r = await diffSnapshotFiles(join(dir, 'b-odd.json'), join(dir, 'a-odd.json'), { rules: new NoiseRules(), by: 'role', workers, minHostsPerWorker: 1, onHost: (d) => hostsOut.push(d) });
      expect(hostsOut).toEqual(expected.hosts);
      expect(r.tally.suppressed).toBe(expected.tally.suppressed);
      expect(r.unmatched).toEqual(expected.unmatched);
    }
  });

  it('compares two single snapshots whatever their hosts (test vs production)', async () => {
    const dir = tmp();
    const test = snap('trd-test-01', { 'os.sysctl': [{ key: 'vm.swappiness', value: '60' }, { key: 'net.core.somaxconn', value: '4096' }] }, { environment: 'test' });
    const prod = snap('trd-app-01', { 'os.sysctl': [{ key: 'vm.swappiness', value: '1' }, { key: 'net.core.somaxconn', value: '4096' }] }, { environment: 'prod' });
    const r = await run(writeSingle(join(dir, 'test.json'), test, 'pretty'), writeSingle(join(dir, 'prod.json'), prod));
    expect(r.hosts).toEqual([{ host: 'trd-test-01', afterHost: 'trd-app-01', factors: [{ factor: 'os.sysctl', added: [], removed: [], modified: [{ key: 'vm.swappiness', before: '60', after: '1' }] }] }]);
  });

  it('pairs fleets by role for environment comparisons, and says which snapshot lacks a role', async () => {
    const dir = tmp();
    const testFleet = [snap('trd-test-01', { 'os.sysctl': [{ key: 'vm.swappiness', value: '60' }] }, { role: 'trade-app' }), snap('bp-test-01', { 'os.sysctl': [] }, { role: 'exchange-gw' })];
    const prodFleet = [snap('bp-sh-01', { 'os.sysctl': [] }, { role: 'exchange-gw' }), snap('trd-app-01', { 'os.sysctl': [{ key: 'vm.swappiness', value: '1' }] }, { role: 'trade-app' })];
    const r = await run(writeFleet(join(dir, 't.json'), testFleet), writeFleet(join(dir, 'p.json'), prodFleet), new NoiseRules(), 'role');
    expect(r.hosts.map((h) => [h.host, h.afterHost])).toEqual([['trd-test-01', 'trd-app-01']]);
    expect(r.tally.hostsCompared).toBe(2);
    writeFleet(join(dir, 'p2.json'), [snap('x', { 'os.sysctl': [] })]);
    await expect(run(join(dir, 't.json'), join(dir, 'p2.json'), new NoiseRules(), 'role')).rejects.toThrow(/snapshot of x has no "role"/);
  });

  it('writes the JSON report in the documented shape', async () => {
    const dir = tmp();
    const { before, after } = fleets();
    let out = '';
    const writer = new DiffJsonWriter((s) => (out += s));
    const r = await diffSnapshotFiles(writeFleet(join(dir, 'b.json'), before), writeFleet(join(dir, 'a.json'), after), { rules: new NoiseRules(), onHost: (d) => writer.host(d) });
    writer.end(r.tally, r.unmatched);
    const json = JSON.parse(out);
    expect(Object.keys(json).slice(0, 2)).toEqual(['hosts', 'suppressed']);
    expect(json.hosts[0].factors[0]).toEqual({ factor: 'file.hash', added: expect.any(Array), removed: expect.any(Array), modified: [{ key: '/etc/hosts', before: expect.any(Object), after: expect.any(Object) }] });
    expect(json).toMatchObject({ suppressed: 3, suppressedBy: { builtin: 3 }, summary: { hostsCompared: 3, hostsChanged: 1, added: 2, removed: 1, modified: 2 }, unmatched: { before: ['h4'], after: ['h5'] } });
    const text = `${renderHostText(r.tally.hostsChanged ? { host: 'h1', factors: json.hosts[0].factors } : { host: '', factors: [] })}\n${renderSummaryText(r.tally, r.unmatched, { before: 'b.json', after: 'a.json' })}`;
    expect(text).toContain('~ /etc/hosts  sha256 "aaa" → "bbb"'.replace(/"/g, ''));
    expect(text).toContain('+ tcp 0.0.0.0:8443 java');
    expect(text).toContain('1 of 3 host(s) changed: 2 added, 1 removed, 2 modified.');
    expect(text).toContain('3 difference(s) suppressed as noise (builtin 3)');
    expect(text).toContain('Only in b.json: h4');
  });

  it('rejects bad files naming file, host, factor and item', async () => {
    const dir = tmp();
    const good = writeFleet(join(dir, 'good.json'), [snap('h1', { 'os.sysctl': [{ key: 'a', value: '1' }] })]);
    const badItem = join(dir, 'bad-item.json');
    writeFileSync(badItem, '{"snapshots":[\n{"host":"h1","takenAt":"2026-11-21T15:00:00+08:00","factors":{\n"os.sysctl":[{"key":"a","value":"2"},{"value":"x"}]\n}}\n]}\n');
    await expect(run(good, badItem)).rejects.toThrow(/bad-item\.json snapshots\[0\]\.factors\.os\.sysctl \(host h1\)\[1\]\.key: expected a non-empty string/);
    const badHeader = join(dir, 'bad-header.json');
    writeFileSync(badHeader, '{"snapshots":[\n{"host":"h1","takenAt":"yesterday","factors":{\n}}\n]}\n');
    await expect(run(good, badHeader)).rejects.toThrow(/bad-header\.json line 2: takenAt: expected an ISO 8601 time/);
    const truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, '{"snapshots":[\n{"host":"h1","takenAt":"2026-11-21T15:00:00+08:00","factors":{\n"os.sysctl":[]\n');
    await expect(run(good, truncated)).rejects.toThrow(/no closing "}}"/);
    // A bad item found by a worker thread is reported the same way.
    const good2 = writeFleet(join(dir, 'good2.json'), [snap('h0', { 'os.sysctl': [] }), snap('h1', { 'os.sysctl': [{ key: 'a', value: '1' }] })]);
    const bad2 = join(dir, 'bad2.json');
    writeFileSync(bad2, '{"snapshots":[\n{"host":"h0","takenAt":"2026-11-21T15:00:00+08:00","factors":{\n"os.sysctl":[]\n}},\n{"host":"h1","takenAt":"2026-11-21T15:00:00+08:00","factors":{\n"os.sysctl":[{"key":"a","value":"2"},{"value":"x"}]\n}}\n]}\n');
    await expect(run(good2, bad2, new NoiseRules(), 'host', 2)).rejects.toThrow(/bad2\.json snapshots\[1\]\.factors\.os\.sysctl \(host h1\)\[1\]\.key/);
    const dup = writeFleet(join(dir, 'dup.json'), [snap('h1', {}), snap('h1', {})]);
    await expect(run(good, dup)).rejects.toThrow(/host "h1" appears twice/);
    const small = join(dir, 'small.json');
    writeFileSync(small, JSON.stringify({ host: 'h1', takenAt: '2026-11-21T15:00:00+08:00', factors: { 'os.sysctl': [{ key: '', value: 1 }], nodots: [] } }));
    await expect(run(small, small)).rejects.toThrow(/factors\.os\.sysctl\[0\]\.key: must not be empty[\s\S]*factors\.nodots: expected a dotted sensor id/);
    await expect(run(join(dir, 'missing.json'), good)).rejects.toThrow(/Cannot read .*missing\.json: ENOENT/);
  });

  it('`warroom fleet` merges host snapshots and fleets into one fleet in the fast layout', async () => {
    const dir = tmp();
    const { before } = fleets();
    writeSingle(join(dir, 'h1.json'), before[0]!, 'pretty');
    writeSingle(join(dir, 'h2.json'), before[1]!);
    writeFleet(join(dir, 'rest.json'), before.slice(2), 'compact');
    const r = await warroomCli(['fleet', '-o', join(dir, 'fleet.json'), join(dir, 'h1.json'), join(dir, 'h2.json'), join(dir, 'rest.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('4 snapshot(s) written');
    const merged = openSnapshotFile(join(dir, 'fleet.json'));
    expect(merged.kind).toBe('lines');
    expect(merged.index().map((e) => e.header.host)).toEqual(['h1', 'h2', 'h3', 'h4']);
    merged.close();
    const same = await run(join(dir, 'fleet.json'), writeFleet(join(dir, 'b.json'), before));
    expect(same.hosts).toEqual([]);
    expect(same.tally.hostsCompared).toBe(4);
    const dup = await warroomCli(['fleet', '-o', join(dir, 'f2.json'), join(dir, 'h1.json'), join(dir, 'fleet.json')]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('host h1 is in h1.json (host h1) and in fleet.json snapshots[0]');
  }, 120_000);

  it('keeps memory bounded: a block is read, compared and dropped (3,000 hosts, line layout)', async () => {
    const dir = tmp();
    const many = (v: string, takenAt: string) =>
      Array.from({ length: 3000 }, (_, i) => snap(`h${String(i).padStart(4, '0')}`, { 'os.sysctl': Array.from({ length: 50 }, (_, k) => ({ key: `k${k}`, value: i === 1500 && k === 7 ? v : 'x' })) }, { takenAt }));
    const b = writeFleet(join(dir, 'b.json'), many('old', '2026-11-21T15:00:00+08:00'));
    const a = writeFleet(join(dir, 'a.json'), many('new', '2026-11-21T16:00:00+08:00'));
    const r = await run(b, a);
    expect(r.hosts).toEqual([{ host: 'h1500', factors: [{ factor: 'os.sysctl', added: [], removed: [], modified: [{ key: 'k7', before: 'old', after: 'new' }] }] }]);
    expect(r.tally.hostsCompared).toBe(3000);
    const parallel = await run(b, a, new NoiseRules(), 'host', 2);
    expect(parallel.hosts).toEqual(r.hosts);
    expect(parallel.tally.hostsCompared).toBe(3000);
  });
});
