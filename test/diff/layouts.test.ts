import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostDiff } from '../../tools/change-intel/diff/engine.js';
import { diffSnapshotFiles } from '../../tools/change-intel/diff/files.js';
import { NoiseRules } from '../../tools/change-intel/diff/noise.js';
import { openSnapshotFile } from '../../tools/change-intel/diff/snapshot-files.js';
import type { Snapshot } from '../../tools/change-intel/snapshot.js';
import { snap, tmp, writeFleet } from './helpers.js';

/**
 * The same fleet written in every layout a producer may use gives the same diff, and a bad item
 * deep inside a big file is named precisely whatever the layout.
 */

const HOSTS = 1500;

/** A fleet with noise on every 5th host and real changes on every 97th. */
function fleet(side: 'before' | 'after'): Snapshot[] {
  return Array.from({ length: HOSTS }, (_, h) => {
    const noisy = h % 5 === 0;
    const changed = h % 97 === 3;
    const pid = side === 'before' ? 1000 + h : 2000 + h;
    const port = side === 'before' ? 40000 + h : 50000 + h;
    return snap(
      `trd-${String(h).padStart(4, '0')}`,
      {
        'os.listen': [
          { key: 'tcp 0.0.0.0:22 sshd', value: { user: 'root' } },
          ...(noisy ? [{ key: `udp 0.0.0.0:${port} chronyd`, value: { user: '_chrony' } }] : []),
          ...(changed && side === 'after' ? [{ key: 'tcp 0.0.0.0:9443 java', value: { user: 'app' } }] : []),
        ],
        'os.process': Array.from({ length: 8 }, (_, i) => ({ key: `/opt/app/bin/svc${i}`, value: noisy ? { user: 'app', pid: pid + i } : { user: 'app' } })),
        'os.package': Array.from({ length: 8 }, (_, i) => ({ key: `deb:lib${i}:amd64`, value: { version: changed && side === 'after' && i === 2 ? '9.9.9-1' : `1.${i}.0-1` } })),
      },
      { takenAt: side === 'before' ? '2026-11-21T14:00:00+08:00' : '2026-11-21T16:00:00+08:00', role: `role-${h}` },
    );
  });
}

async function diff(before: string, after: string, workers: number) {
  const hosts: HostDiff[] = [];
  const r = await diffSnapshotFiles(before, after, { rules: new NoiseRules(), workers, minHostsPerWorker: 1, onHost: (d) => hosts.push(d) });
  return { hosts, tally: r.tally, unmatched: r.unmatched };
}

describe('fleet files in any layout', () => {
  it('give the same diff from compact, pretty, the line layout and mixed pairs, in one thread and in workers', async () => {
    const dir = tmp();
    const before = fleet('before');
    const after = fleet('after');
    const path = (side: string, layout: string) => join(dir, `${side}-${layout}.json`);
    for (const layout of ['lines', 'compact', 'pretty'] as const) {
      writeFleet(path('before', layout), before, layout);
      writeFleet(path('after', layout), after, layout);
    }
    for (const layout of ['compact', 'pretty']) expect(openSnapshotFile(path('before', layout)).kind).toBe('scanned');
    const reference = await diff(path('before', 'lines'), path('after', 'lines'), 1);
    // What the fleet holds: 16 changed hosts (h % 97 === 3), each a new listener and a package upgrade.
    expect(reference.hosts.map((h) => h.host)).toEqual(Array.from({ length: HOSTS }, (_, h) => h).filter((h) => h % 97 === 3).map((h) => `trd-${String(h).padStart(4, '0')}`));
    expect(reference.hosts[0]!.factors.map((f) => [f.factor, f.added.length, f.removed.length, f.modified.length])).toEqual([
      ['os.listen', 1, 0, 0],
      ['os.package', 0, 0, 1],
    ]);
    // Noise on 300 hosts: 8 PIDs (one each) and a re-picked port (removed + added).
    expect(reference.tally.suppressed).toBe(300 * (8 + 2));
    const pairs: Array<[string, string]> = [
      ['compact', 'compact'],
      ['pretty', 'pretty'],
      ['compact', 'pretty'],
      ['pretty', 'lines'],
      ['lines', 'compact'],
    ];
    for (const [b, a] of pairs) {
      for (const workers of [1, 2]) {
        const r = await diff(path('before', b), path('after', a), workers);
        expect(r.hosts, `${b} → ${a}, ${workers} thread(s)`).toEqual(reference.hosts);
        expect(r.tally, `${b} → ${a}, ${workers} thread(s)`).toEqual(reference.tally);
        expect(r.unmatched).toEqual({ before: [], after: [] });
      }
    }
  }, 120_000);

  it('names file, snapshot, host, factor and item of a bad item deep inside a compact or pretty fleet', async () => {
    const dir = tmp();
    const before = fleet('before');
    const good = writeFleet(join(dir, 'good.json'), before, 'compact');
    for (const layout of ['compact', 'pretty'] as const) {
      // A key emptied in the 1,235th snapshot.
      const bad = fleet('before');
      bad[1234]!.factors['os.package']![5] = { key: '', value: { version: '1.5.0-1' } };
      const badPath = writeFleet(join(dir, `bad-key-${layout}.json`), bad, layout);
      for (const workers of [1, 2]) {
        await expect(diff(good, badPath, workers)).rejects.toThrow(`bad-key-${layout}.json snapshots[1234].factors.os.package (host trd-1234)[5].key: expected a non-empty string`);
      }
      // Every snapshot is checked, even one equal on both sides.
      await expect(diff(badPath, badPath, 1)).rejects.toThrow(`bad-key-${layout}.json snapshots[1234].factors.os.package (host trd-1234)[5].key`);
      // A missing value, in the before file this time.
      const noValue = fleet('before');
      (noValue[987]!.factors['os.process']![3] as { value?: unknown }).value = undefined;
      const noValuePath = writeFleet(join(dir, `no-value-${layout}.json`), noValue, layout);
      await expect(diff(noValuePath, good, 1)).rejects.toThrow(`no-value-${layout}.json snapshots[987].factors.os.process (host trd-0987)[3].value: is required`);
      // A bad time in a header.
      const badTime = fleet('before');
      badTime[1400]!.takenAt = 'yesterday';
      await expect(diff(good, writeFleet(join(dir, `bad-time-${layout}.json`), badTime, layout), 1)).rejects.toThrow(
        new RegExp(`bad-time-${layout}\\.json snapshots\\[1400\\]: takenAt: expected an ISO 8601 time`),
      );
      // A factor id that is not a sensor id.
      const badId = fleet('before');
      badId[777]!.factors.NotASensor = [];
      await expect(diff(good, writeFleet(join(dir, `bad-id-${layout}.json`), badId, layout), 1)).rejects.toThrow(
        `bad-id-${layout}.json snapshots[777].factors.NotASensor (host trd-0777): expected a dotted sensor id`,
      );
    }
    // Broken JSON inside one snapshot: the snapshot and its bytes are named.
    const text = JSON.stringify({ snapshots: before });
    const at = text.indexOf('"host":"trd-1100"');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, `${text.slice(0, at)}"host":"trd-1100",,${text.slice(at + '"host":"trd-1100",'.length)}`);
    await expect(diff(good, broken, 1)).rejects.toThrow(/broken\.json snapshots\[1100\] \(bytes \d+–\d+\): not valid JSON/);
    // A file cut short: the scanner says where it ended.
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, text.slice(0, Math.floor(text.length * 0.7)));
    await expect(diff(good, cut, 1)).rejects.toThrow(/cut\.json byte \d+: unexpected end of file/);
  }, 120_000);
});
