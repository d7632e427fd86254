import { execFile } from 'node:child_process';

/**
 * A perception factor (变更感知因子) is one piece of observable state that a change can alter. A
 * sensor collects one factor on the current host as items `{key, value}`:
 * - `key` is stable across restarts and reboots (never a PID, never a kernel-assigned port), so the
 *   same thing has the same key in the before and after snapshots;
 * - `value` is JSON and holds what a change would alter (hash, version, mode, owner…), never
 *   counters or timestamps that move by themselves.
 * Adding a sensor is one file in tools/change-intel/sensors/ and one line in tools/change-intel/sensors/index.ts.
 */
export interface FactorItem {
  key: string;
  value: unknown;
}

export interface SensorOptions {
  /** Key files and directories for `file.hash` (directories are walked). */
  paths: string[];
  /** sysctl names for `os.sysctl`; a `*` matches within one dotted segment. */
  sysctlKeys: string[];
  /** PostgreSQL connection string for `db.schema` and `db.params`. */
  dbUrl?: string;
  /** Key business parameter tables for `db.params`, as `schema.table` or `table` (schema public). */
  keyTables: string[];
  /** Files holding `kubectl get … -o json` or `helm list -o json` output, for `k8s.resource`. */
  kubeFiles: string[];
  /** Limit for each external command and database statement. */
  timeoutMs: number;
  /** Walk limit per configured directory, so a mistaken `--path /` cannot run for hours. */
  maxFilesPerPath: number;
  /** Rows read per key parameter table. */
  maxRowsPerTable: number;
  /** Processes the collector must not report: itself, its parents and its children. */
  excludePids: ReadonlySet<number>;
}

export interface Sensor {
  /** Dotted id, e.g. `os.listen`; also the factor's name in snapshots. */
  id: string;
  description: string;
  /** Whether `warroom sense` runs it when no `--sensor` is given. */
  default: boolean;
  collect(options: SensorOptions): AsyncIterable<FactorItem>;
}

/**
 * Thrown by a sensor that cannot run here (no rpm, no database URL, no kubectl output given). The
 * snapshot records the reason under `skipped` and the other sensors go on.
 */
export class SensorUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SensorUnavailableError';
  }
}

export const sensorIdPattern = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/;

/** Key files of a trading host: name resolution, remote access, kernel and limits, scheduled jobs. */
export const defaultKeyPaths: readonly string[] = [
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/fstab',
  '/etc/passwd',
  '/etc/group',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ssh/sshd_config',
  '/etc/ssh/sshd_config.d',
  '/etc/sysctl.conf',
  '/etc/sysctl.d',
  '/etc/security/limits.conf',
  '/etc/security/limits.d',
  '/etc/crontab',
  '/etc/cron.d',
  '/var/spool/cron',
  '/etc/chrony.conf',
  '/etc/chrony/chrony.conf',
  '/etc/ntp.conf',
];

/**
 * Kernel parameters that trading hosts tune (socket buffers, backlog, keepalive, ports, memory,
 * IPC for shared-memory middleware). A `*` matches within one segment.
 */
export const defaultSysctlKeys: readonly string[] = [
  'net.core.somaxconn',
  'net.core.netdev_max_backlog',
  'net.core.rmem_*',
  'net.core.wmem_*',
  'net.core.busy_poll',
  'net.core.busy_read',
  'net.ipv4.ip_forward',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_*',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_max_syn_backlog',
  'net.ipv4.tcp_max_tw_buckets',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_timestamps',
  'net.ipv4.tcp_sack',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_mem',
  'net.ipv4.tcp_low_latency',
  'net.ipv4.tcp_congestion_control',
  'net.ipv4.tcp_retries2',
  'net.ipv4.tcp_syn_retries',
  'net.ipv4.conf.all.rp_filter',
  'net.ipv4.conf.default.rp_filter',
  'net.ipv4.igmp_max_memberships',
  'net.ipv6.conf.all.disable_ipv6',
  'vm.swappiness',
  'vm.overcommit_memory',
  'vm.overcommit_ratio',
  'vm.dirty_ratio',
  'vm.dirty_background_ratio',
  'vm.max_map_count',
  'vm.min_free_kbytes',
  'vm.nr_hugepages',
  'vm.zone_reclaim_mode',
  'kernel.shmmax',
  'kernel.shmall',
  'kernel.shmmni',
  'kernel.sem',
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.pid_max',
  'kernel.threads-max',
  'kernel.numa_balancing',
  'kernel.panic',
  'kernel.core_pattern',
  'kernel.sched_rt_runtime_us',
  'fs.file-max',
  'fs.nr_open',
  'fs.aio-max-nr',
  'fs.inotify.max_user_watches',
];

export function defaultSensorOptions(overrides: Partial<SensorOptions> = {}): SensorOptions {
  return {
    paths: [...defaultKeyPaths],
    sysctlKeys: [...defaultSysctlKeys],
    keyTables: [],
    kubeFiles: [],
    timeoutMs: 30_000,
    maxFilesPerPath: 5_000,
    maxRowsPerTable: 20_000,
    excludePids: new Set(),
    ...overrides,
  };
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Run a program without a shell, with a time limit and an output cap. Resolves `undefined` when
 * the program is not installed (ENOENT), so sensors can fall back or report why they skipped.
 */
export function runCommand(file: string, args: readonly string[], options: { timeoutMs: number; maxBytes?: number }): Promise<CommandResult | undefined> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: options.timeoutMs, maxBuffer: options.maxBytes ?? 64 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return resolve(undefined);
          if ((err as { killed?: boolean }).killed) return reject(new Error(`${file} did not finish within ${options.timeoutMs} ms`));
          return reject(new Error(`${file} ${args.join(' ')} failed: ${(stderr || err.message).trim().slice(0, 300)}`));
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

/** Hide credentials that command lines and URLs carry, so snapshots never store them. */
export function redactSecrets(text: string): string {
  return (
    text
      // scheme://user:password@host
      .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]*@/gi, '$1:***@')
      // --password=x, --token x, and password=x in key=value lists
      .replace(/(--?(?:[\w-]*(?:password|passwd|secret|token|api[-_]?key|access[-_]?key|credential)s?)[=\s])(\S+)/gi, '$1***')
      .replace(/(\b(?:[\w-]*(?:password|passwd|secret|token|api[-_]?key|access[-_]?key)s?)=)([^\s&;,]+)/gi, '$1***')
  );
}
