import { existsSync } from 'node:fs';
import { collectorTree, nameOf, readAllProcesses, readIdNames } from './proc.js';
import { redactSecrets, SensorUnavailableError, type FactorItem, type Sensor } from './sensor.js';

const MAX_KEY_LENGTH = 2000;

/** mysql-family clients take the password glued to -p; elsewhere -p means port, print, … */
const MYSQL_CLIENTS = /(^|\/)(mysql|mysqldump|mysqladmin|mysqlcheck|mysqlimport|mariadb[\w-]*)$/;

export function processKey(argv: string[]): string {
  const args = MYSQL_CLIENTS.test(argv[0] ?? '') ? argv.map((a) => (/^-p.+/.test(a) ? '-p***' : a)) : argv;
  const line = redactSecrets(args.join(' ').replace(/\s+/g, ' ').trim());
  return line.length > MAX_KEY_LENGTH ? `${line.slice(0, MAX_KEY_LENGTH)}…` : line;
}

/**
 * Running programs, keyed by command line so a restart with the same arguments is no change. The
 * value holds the user(s), the executable and how many processes run that command line: a second
 * instance of a gateway, a program now running as another user, or a binary replaced under a
 * running process ("(deleted)") all show as modifications.
 */
export const osProcessSensor: Sensor = {
  id: 'os.process',
  description: 'running programs by command line: user, executable, instance count (no PIDs; kernel threads and the collector itself left out)',
  default: true,
  async *collect(options): AsyncIterable<FactorItem> {
    if (!existsSync('/proc/self/status')) throw new SensorUnavailableError('no /proc file system (not Linux)');
    const procs = readAllProcesses();
    const excluded = collectorTree(procs);
    for (const pid of options.excludePids) excluded.add(pid);
    const users = readIdNames('/etc/passwd');
    const groups = new Map<string, { users: Set<string>; exes: Set<string>; instances: number }>();
    for (const p of procs.values()) {
      if (excluded.has(p.pid) || p.argv.length === 0) continue; // kernel threads and zombies have no argv
      const key = processKey(p.argv);
      if (!key) continue;
      const g = groups.get(key) ?? { users: new Set(), exes: new Set(), instances: 0 };
      g.users.add(nameOf(users, p.uid));
      if (p.exe) g.exes.add(p.exe);
      g.instances++;
      groups.set(key, g);
    }
    for (const [key, g] of groups) {
      yield { key, value: { user: [...g.users].sort().join(','), exe: [...g.exes].sort().join(',') || null, instances: g.instances } };
    }
  },
};
