import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSnapshot, FLEET_HEAD, FLEET_TAIL, type Snapshot } from '../../tools/change-intel/snapshot.js';
import type { FactorItem } from '../../tools/change-intel/sensors/sensor.js';

export const tmp = () => mkdtempSync(join(tmpdir(), 'warroom-diff-'));

export function snap(host: string, factors: Record<string, FactorItem[]>, extra: Partial<Snapshot> = {}): Snapshot {
  return { host, takenAt: '2026-11-21T15:00:00+08:00', factors, ...extra };
}

/** Write a fleet in one of the layouts the readers handle. */
export function writeFleet(path: string, snapshots: Snapshot[], layout: 'lines' | 'pretty' | 'compact' = 'lines'): string {
  if (layout === 'lines') writeFileSync(path, `${FLEET_HEAD}\n${snapshots.map(formatSnapshot).join(',\n')}${snapshots.length ? '\n' : ''}${FLEET_TAIL}\n`);
  else writeFileSync(path, JSON.stringify({ snapshots }, null, layout === 'pretty' ? 2 : undefined));
  return path;
}

export function writeSingle(path: string, s: Snapshot, layout: 'lines' | 'pretty' = 'lines'): string {
  writeFileSync(path, layout === 'lines' ? `${formatSnapshot(s)}\n` : JSON.stringify(s, null, 2));
  return path;
}
