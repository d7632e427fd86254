import { existsSync } from 'node:fs';
import { collectorTree, formatEndpoint, nameOf, programOf, readAllProcesses, readIdNames, readSockets, socketOwners, TCP_ESTABLISHED, TCP_LISTEN } from './proc.js';
import { SensorUnavailableError, type FactorItem, type Sensor } from './sensor.js';

/**
 * IP access relations (established TCP connections), the side that the kernel picked from the
 * ephemeral range left out: outbound `out tcp 10.0.0.5:1521 java` (who this host talks to),
 * inbound `in tcp 0.0.0.0:8080 <- 10.1.2.3 java` (who talks to this host's services). Not run by
 * default: a point-in-time list of connections carries short-lived ones that a change did not cause.
 */
export const osNetconnSensor: Sensor = {
  id: 'os.netconn',
  description: 'established TCP connections as access relations (peer service or client address, program); ephemeral ports left out',
  default: false,
  async *collect(options): AsyncIterable<FactorItem> {
    if (!existsSync('/proc/net/tcp')) throw new SensorUnavailableError('no /proc/net/tcp (not Linux, or /proc is not mounted)');
    const all = readSockets().filter((s) => s.proto === 'tcp');
    const listening = all.filter((s) => s.state === TCP_LISTEN);
    const established = all.filter((s) => s.state === TCP_ESTABLISHED);
    const procs = readAllProcesses();
    const excluded = collectorTree(procs);
    for (const pid of options.excludePids) excluded.add(pid);
    const owners = socketOwners(procs, new Set(established.map((s) => s.inode)));
    const users = readIdNames('/etc/passwd');
    const isWildcard = (a: string) => a === '0.0.0.0' || a === '::';
    const seen = new Map<string, FactorItem>();
    for (const s of established) {
      const holders = owners.get(s.inode);
      if (holders?.some((h) => excluded.has(h.pid))) continue; // the collector's own database connection
      const program = programOf(holders);
      const listener = listening.find((l) => l.localPort === s.localPort && l.family === s.family && (l.localAddress === s.localAddress || isWildcard(l.localAddress)));
      const key = listener
        ? `in tcp ${formatEndpoint(listener.localAddress, s.localPort, s.family)} <- ${s.remoteAddress} ${program}`
        : `out tcp ${formatEndpoint(s.remoteAddress, s.remotePort, s.family)} ${program}`;
      if (!seen.has(key)) seen.set(key, { key, value: { user: nameOf(users, s.uid) } });
    }
    yield* seen.values();
  },
};
