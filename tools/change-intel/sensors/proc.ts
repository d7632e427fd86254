import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Readers of /proc and /etc shared by the host sensors. They are synchronous on purpose: a sense
 * run reads a few thousand small pseudo-files once, and a process can vanish between two reads,
 * so every reader treats "gone" as "skip" rather than as an error.
 */

export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  comm: string;
  /** argv as the process set it; empty for kernel threads and zombies. */
  argv: string[];
  /** The executable's path; ends with " (deleted)" when the binary was replaced while running. */
  exe: string | undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function listPids(procRoot = '/proc'): number[] {
  return readdirSync(procRoot)
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

export function readProcess(pid: number, procRoot = '/proc'): ProcessInfo | undefined {
  const status = readText(`${procRoot}/${pid}/status`);
  if (status === undefined) return undefined;
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
  const ppid = Number(field('PPid') ?? 0);
  const uid = Number((field('Uid') ?? '0').split(/\s+/)[0]);
  const comm = (readText(`${procRoot}/${pid}/comm`) ?? field('Name') ?? '').replace(/\n$/, '');
  const raw = readText(`${procRoot}/${pid}/cmdline`) ?? '';
  const argv = raw.split('\0');
  while (argv.length && argv[argv.length - 1] === '') argv.pop();
  let exe: string | undefined;
  try {
    exe = readlinkSync(`${procRoot}/${pid}/exe`);
  } catch {
    exe = undefined;
  }
  return { pid, ppid, uid, comm, argv, exe };
}

export function readAllProcesses(procRoot = '/proc'): Map<number, ProcessInfo> {
  const out = new Map<number, ProcessInfo>();
  for (const pid of listPids(procRoot)) {
    const p = readProcess(pid, procRoot);
    if (p) out.set(pid, p);
  }
  return out;
}

/**
 * The collector's own process tree: itself, its ancestors (the shell or `npx` that started it,
 * whose command lines name the output file) and its descendants (dpkg-query and friends). Left
 * in, they would differ between every before and after snapshot.
 */
export function collectorTree(procs: Map<number, ProcessInfo>, self: number = process.pid): Set<number> {
  const out = new Set<number>([self]);
  for (let p = procs.get(self)?.ppid; p !== undefined && p > 1 && !out.has(p); p = procs.get(p)?.ppid) out.add(p);
  const children = new Map<number, number[]>();
  for (const p of procs.values()) {
    const list = children.get(p.ppid) ?? [];
    list.push(p.pid);
    children.set(p.ppid, list);
  }
  const stack = [self];
  while (stack.length) {
    const pid = stack.pop()!;
    for (const c of children.get(pid) ?? []) {
      if (!out.has(c)) {
        out.add(c);
        stack.push(c);
      }
    }
  }
  return out;
}

/** uid → user name and gid → group name from /etc/passwd and /etc/group; unknown ids stay numeric. */
export function readIdNames(file: '/etc/passwd' | '/etc/group'): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of (readText(file) ?? '').split('\n')) {
    const parts = line.split(':');
    if (parts.length >= 3 && parts[0] && /^\d+$/.test(parts[2] ?? '')) out.set(Number(parts[2]), parts[0]);
  }
  return out;
}

export function nameOf(names: Map<number, string>, id: number): string {
  return names.get(id) ?? String(id);
}

// ---------------------------------------------------------------------------------------------
// Sockets from /proc/net/{tcp,tcp6,udp,udp6}: parsing these needs no `ss` or `netstat`, which
// minimal and hardened hosts often lack.

export type SocketProto = 'tcp' | 'udp';

export interface SocketEntry {
  proto: SocketProto;
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Kernel state: 0A = TCP LISTEN, 01 = ESTABLISHED, 07 = UDP unconnected ("listening"). */
  state: string;
  uid: number;
  inode: number;
}

export const TCP_LISTEN = '0A';
export const TCP_ESTABLISHED = '01';
export const UDP_UNCONNECTED = '07';

/** "0100007F" → "127.0.0.1": the kernel prints each 32-bit word in host (little-endian) order. */
function hexToIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function hexToIpv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  // IPv4-mapped (::ffff:a.b.c.d) reads better in the dotted form.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  return compressIpv6(groups);
}

/** RFC 5952: the longest run (≥ 2) of zero groups becomes "::", lower-case hex. */
export function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function parseSocketTable(text: string, proto: SocketProto, family: 4 | 6): SocketEntry[] {
  const out: SocketEntry[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [localHex, localPortHex] = f[1]!.split(':');
    const [remoteHex, remotePortHex] = f[2]!.split(':');
    if (!localHex || !localPortHex || !remoteHex || !remotePortHex) continue;
    const addr = family === 4 ? hexToIpv4 : hexToIpv6;
    out.push({
      proto,
      family,
      localAddress: addr(localHex),
      localPort: Number.parseInt(localPortHex, 16),
      remoteAddress: addr(remoteHex),
      remotePort: Number.parseInt(remotePortHex, 16),
      state: f[3]!.toUpperCase(),
      uid: Number(f[7]),
      inode: Number(f[9]),
    });
  }
  return out;
}

/** Every socket of this network namespace; an absent table (IPv6 disabled) is simply empty. */
export function readSockets(procRoot = '/proc'): SocketEntry[] {
  const tables: Array<[string, SocketProto, 4 | 6]> = [
    ['tcp', 'tcp', 4],
    ['tcp6', 'tcp', 6],
    ['udp', 'udp', 4],
    ['udp6', 'udp', 6],
  ];
  return tables.flatMap(([file, proto, family]) => {
    const text = readText(`${procRoot}/net/${file}`);
    return text === undefined ? [] : parseSocketTable(text, proto, family);
  });
}

/** "1.2.3.4:80" or "[::1]:80". */
export function formatEndpoint(address: string, port: number | string, family: 4 | 6): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Socket inode → the processes holding it (found through /proc/<pid>/fd links `socket:[inode]`). */
export function socketOwners(procs: Map<number, ProcessInfo>, wanted: ReadonlySet<number>, procRoot = '/proc'): Map<number, ProcessInfo[]> {
  const out = new Map<number, ProcessInfo[]>();
  if (wanted.size === 0) return out;
  for (const p of procs.values()) {
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${p.pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${p.pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!target.startsWith('socket:[')) continue;
      const inode = Number(target.slice(8, -1));
      if (!wanted.has(inode)) continue;
      const list = out.get(inode) ?? [];
      if (!list.some((x) => x.pid === p.pid)) list.push(p);
      out.set(inode, list);
    }
  }
  return out;
}

/**
 * "sshd" or "java" for a socket: the executable's file name, which survives restarts, where the
 * command name (comm) can be retitled at run time ("node (vitest 1)"); comm when the executable
 * cannot be read; "?" when no holder is visible.
 */
export function programOf(owners: ProcessInfo[] | undefined): string {
  if (!owners?.length) return '?';
  const name = (o: ProcessInfo) => (o.exe ? basename(o.exe.replace(/ \(deleted\)$/, '')) : o.comm) || '?';
  return [...new Set(owners.map(name))].sort().join(',');
}
