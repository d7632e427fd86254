import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SensorUnavailableError, type FactorItem, type Sensor } from './sensor.js';

const PROC_SYS = '/proc/sys';

function segmentMatcher(segment: string): RegExp {
  return new RegExp(`^${segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** Expand `net.core.rmem_*` against /proc/sys; a `*` matches within one dotted segment. */
export function expandSysctlKey(key: string, root = PROC_SYS): string[] {
  let paths: Array<{ dir: string; name: string[] }> = [{ dir: root, name: [] }];
  for (const segment of key.split('.')) {
    const next: Array<{ dir: string; name: string[] }> = [];
    for (const p of paths) {
      if (!/[*?]/.test(segment)) {
        next.push({ dir: `${p.dir}/${segment}`, name: [...p.name, segment] });
        continue;
      }
      let entries: string[] = [];
      try {
        entries = readdirSync(p.dir);
      } catch {
        continue;
      }
      const re = segmentMatcher(segment);
      for (const e of entries.sort()) if (re.test(e)) next.push({ dir: `${p.dir}/${e}`, name: [...p.name, e] });
    }
    paths = next;
  }
  return paths.map((p) => p.name.join('.'));
}

/**
 * A configured subset of kernel parameters, read from /proc/sys (no `sysctl` binary needed).
 * Parameters absent on this kernel yield nothing; values are whitespace-normalised
 * (`net.ipv4.tcp_rmem` = "4096 131072 6291456").
 */
export const osSysctlSensor: Sensor = {
  id: 'os.sysctl',
  description: 'a configurable subset of kernel parameters (socket buffers, backlog, keepalive, ports, memory, IPC; --sysctl replaces it)',
  default: true,
  async *collect(options): AsyncIterable<FactorItem> {
    if (!existsSync(PROC_SYS)) throw new SensorUnavailableError('no /proc/sys (not Linux, or /proc is not mounted)');
    const names = new Set<string>();
    for (const key of options.sysctlKeys) for (const name of expandSysctlKey(key)) names.add(name);
    for (const name of [...names].sort()) {
      let value: string;
      try {
        value = readFileSync(`${PROC_SYS}/${name.replace(/\./g, '/')}`, 'utf8');
      } catch {
        continue; // absent on this kernel, or write-only
      }
      yield { key: name, value: value.trim().replace(/\s+/g, ' ') };
    }
  },
};
