import { existsSync } from 'node:fs';
import { formatEndpoint, nameOf, programOf, readAllProcesses, readIdNames, readSockets, socketOwners, TCP_LISTEN, UDP_UNCONNECTED } from './proc.js';
import { SensorUnavailableError, type FactorItem, type Sensor } from './sensor.js';

/**
 * Listening sockets: TCP in LISTEN and UDP sockets bound without a peer, with the program that
 * holds them. Key: `tcp 0.0.0.0:22 sshd`, i.e. protocol, address:port and program, never a PID.
 * Ports the kernel hands out from the ephemeral range are kept here as they are; the diff's
 * builtin noise rule replaces them by `*`.
 */
export const osListenSensor: Sensor = {
  id: 'os.listen',
  description: 'listening TCP and UDP sockets with the owning program (from /proc/net, no ss needed)',
  default: true,
  async *collect(): AsyncIterable<FactorItem> {
    if (!existsSync('/proc/net/tcp')) throw new SensorUnavailableError('no /proc/net/tcp (not Linux, or /proc is not mounted)');
    const sockets = readSockets().filter((s) => (s.proto === 'tcp' ? s.state === TCP_LISTEN : s.state === UDP_UNCONNECTED));
    const procs = readAllProcesses();
    const owners = socketOwners(procs, new Set(sockets.map((s) => s.inode)));
    const users = readIdNames('/etc/passwd');
    const seen = new Map<string, FactorItem>();
    for (const s of sockets) {
      const key = `${s.proto} ${formatEndpoint(s.localAddress, s.localPort, s.family)} ${programOf(owners.get(s.inode))}`;
      // SO_REUSEPORT groups and forked workers share one key: one listener as far as a change is concerned.
      if (!seen.has(key)) seen.set(key, { key, value: { user: nameOf(users, s.uid) } });
    }
    yield* seen.values();
  },
};
