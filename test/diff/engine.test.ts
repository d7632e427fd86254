import { describe, expect, it } from 'vitest';
import { DiffTally, diffFactor, diffHost, sideOf } from '../../tools/change-intel/diff/engine.js';
import { globToRegExp, normalizeKey, normalizeValue, NoiseRules, type UserNoiseRule } from '../../tools/change-intel/diff/noise.js';
import { snap } from './helpers.js';

const rule = (id: number, factor: string, keyPattern: string): UserNoiseRule => ({ id, factor, keyPattern, reason: null, createdBy: 'test', createdAt: '2026-11-21T00:00:00.000Z' });

describe('builtin noise rules', () => {
  it('reads ephemeral ports in network factors as *, and leaves service ports and other factors alone', () => {
    expect(normalizeKey('os.listen', 'udp 0.0.0.0:41234 chronyd')).toBe('udp 0.0.0.0:* chronyd');
    expect(normalizeKey('os.listen', 'tcp [::1]:60999 node')).toBe('tcp [::1]:* node');
    expect(normalizeKey('os.netconn', 'out tcp 10.0.0.5:1521 java')).toBe('out tcp 10.0.0.5:1521 java');
    expect(normalizeKey('os.netconn', 'tcp 10.0.0.1:45123->10.0.0.2:1521 java')).toBe('tcp 10.0.0.1:*->10.0.0.2:1521 java');
    expect(normalizeKey('os.listen', 'tcp 0.0.0.0:22 sshd')).toBe('tcp 0.0.0.0:22 sshd');
    expect(normalizeKey('os.listen', 'tcp 0.0.0.0:32767 x')).toBe('tcp 0.0.0.0:32767 x');
    expect(normalizeKey('file.hash', '/data/backup:41234')).toBe('/data/backup:41234');
  });

  it('reads PIDs in host-factor keys as *', () => {
    expect(normalizeKey('os.process', 'java -Dpid=4242 -jar app.jar')).toBe('java -Dpid=* -jar app.jar');
    expect(normalizeKey('os.process', 'sshd[1234]')).toBe('sshd[*]');
    expect(normalizeKey('os.fd', '/proc/977/fd/3')).toBe('/proc/*/fd/3');
    expect(normalizeKey('db.params', 'slot[3]')).toBe('slot[3]');
  });

  it('drops pid, timestamp and counter fields from values, at any depth, and returns the same object when nothing goes', () => {
    expect(normalizeValue({ user: 'app', pid: 12, startTime: 'x', stats: { rx_bytes: 1, tx_packets: 2, errors_total: 3, mode: '0644' } })).toEqual({ user: 'app', stats: { mode: '0644' } });
    const clean = { user: 'app', instances: 2, sha256: 'ab' };
    expect(normalizeValue(clean)).toBe(clean);
  });

  it('globs: * any run, ? one character, the rest literal', () => {
    expect(globToRegExp('udp *:* chronyd').test('udp 0.0.0.0:* chronyd')).toBe(true);
    expect(globToRegExp('/etc/a?.conf').test('/etc/ab.conf')).toBe(true);
    expect(globToRegExp('/etc/a?.conf').test('/etc/abc.conf')).toBe(false);
    expect(globToRegExp('a.b(c)').test('a.b(c)')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('diffing one factor', () => {
  const rules = new NoiseRules();

  it('reports added, removed and modified with before/after values, sorted by key', () => {
    const tally = new DiffTally();
    const d = diffFactor(
      'file.hash',
      [{ key: '/etc/b', value: { sha256: '1' } }, { key: '/etc/a', value: { sha256: '1' } }, { key: '/etc/gone', value: { sha256: '9' } }],
      [{ key: '/etc/a', value: { sha256: '2' } }, { key: '/etc/b', value: { sha256: '1' } }, { key: '/etc/new', value: { sha256: '3' } }],
      rules,
      tally,
    );
    expect(d).toEqual({
      factor: 'file.hash',
      added: [{ key: '/etc/new', value: { sha256: '3' } }],
      removed: [{ key: '/etc/gone', value: { sha256: '9' } }],
      modified: [{ key: '/etc/a', before: { sha256: '1' }, after: { sha256: '2' } }],
    });
    expect(tally.suppressed).toBe(0);
  });

  it('ignores object key order and counts what the builtin rules hid', () => {
    const tally = new DiffTally();
    const d = diffFactor(
      'os.process',
      [{ key: 'sleep 300', value: { user: 'root', pid: 10, instances: 1 } }, { key: 'nginx', value: { a: 1, b: 2 } }],
      [{ key: 'sleep 300', value: { instances: 1, user: 'root', pid: 99 } }, { key: 'nginx', value: { b: 2, a: 1 } }],
      rules,
      tally,
    );
    expect(d).toBeUndefined();
    expect(tally.suppressed).toBe(1);
    expect(tally.suppressedBy.get('builtin')).toBe(1);
  });

  it('a listener that re-picked an ephemeral port is no change (2 raw entries hidden); a new service port is', () => {
    const tally = new DiffTally();
    const d = diffFactor(
      'os.listen',
      [{ key: 'udp 0.0.0.0:41000 chronyd', value: { user: '_chrony' } }, { key: 'tcp 0.0.0.0:22 sshd', value: { user: 'root' } }],
      [{ key: 'udp 0.0.0.0:52000 chronyd', value: { user: '_chrony' } }, { key: 'tcp 0.0.0.0:22 sshd', value: { user: 'root' } }, { key: 'tcp 0.0.0.0:8443 java', value: { user: 'app' } }],
      rules,
      tally,
    );
    expect(d?.added.map((a) => a.key)).toEqual(['tcp 0.0.0.0:8443 java']);
    expect(d?.removed).toEqual([]);
    expect(tally.suppressed).toBe(2);
  });

  it('leaves db.* factors alone: an updated_at in a parameter table is the change', () => {
    const tally = new DiffTally();
    const d = diffFactor('db.params', [{ key: 't[id=1]', value: { ratio: 0.5, updated_at: 'a' } }], [{ key: 't[id=1]', value: { ratio: 0.5, updated_at: 'b' } }], rules, tally);
    expect(d?.modified).toHaveLength(1);
  });

  it('user rules suppress matching entries and count them by rule', () => {
    const tally = new DiffTally();
    const withRules = new NoiseRules([rule(7, 'os.*', 'python3 /opt/jobs/* --run-id *')]);
    const d = diffFactor(
      'os.process',
      [{ key: 'python3 /opt/jobs/eod.py --run-id 1', value: { user: 'app' } }],
      [{ key: 'python3 /opt/jobs/eod.py --run-id 2', value: { user: 'app' } }, { key: 'java -jar new.jar', value: { user: 'app' } }],
      withRules,
      tally,
    );
    expect(d?.added.map((a) => a.key)).toEqual(['java -jar new.jar']);
    expect(d?.removed).toEqual([]);
    expect(tally.suppressedBy.get('rule:7')).toBe(2);
  });

  it('with builtin rules off (--raw) shows PIDs and ports as they are', () => {
    const tally = new DiffTally();
    const d = diffFactor('os.process', [{ key: 'a', value: { pid: 1 } }], [{ key: 'a', value: { pid: 2 } }], new NoiseRules([], false), tally);
    expect(d?.modified).toEqual([{ key: 'a', before: { pid: 1 }, after: { pid: 2 } }]);
  });
});

describe('diffing a host', () => {
  it('does not report a factor skipped or missing on one side as all added/removed, and ignores factors absent on both', () => {
    const tally = new DiffTally();
    const before = snap('h1', { 'os.package': [{ key: 'deb:bash:amd64', value: { version: '5.2' } }], 'file.hash': [] }, { skipped: { 'db.schema': 'no database URL' } });
    const after = snap('h1', { 'file.hash': [{ key: '/etc/hosts', value: { sha256: 'x' } }] }, { skipped: { 'os.package': 'failed: dpkg-query timed out', 'db.schema': 'no database URL' } });
    const d = diffHost(sideOf(before), sideOf(after), new NoiseRules(), tally);
    expect(d.factors.map((f) => f.factor)).toEqual(['file.hash']);
    expect(tally.uncompared).toEqual([{ host: 'h1', factor: 'os.package', reason: 'not collected after: failed: dpkg-query timed out' }]);
    expect(tally.hostsChanged).toBe(1);
  });

  it('names the other host when comparing two hosts (test vs production)', () => {
    const d = diffHost(sideOf(snap('trd-test-01', { 'os.sysctl': [{ key: 'vm.swappiness', value: '60' }] })), sideOf(snap('trd-app-01', { 'os.sysctl': [{ key: 'vm.swappiness', value: '1' }] })), new NoiseRules(), new DiffTally());
    expect(d).toMatchObject({ host: 'trd-test-01', afterHost: 'trd-app-01', factors: [{ factor: 'os.sysctl', modified: [{ key: 'vm.swappiness', before: '60', after: '1' }] }] });
  });
});
