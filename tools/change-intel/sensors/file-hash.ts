import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { nameOf, readIdNames } from './proc.js';
import type { FactorItem, Sensor } from './sensor.js';

/** Key files are small; anything this big is data, not configuration, and is only sized. */
const MAX_HASH_BYTES = 1024 * 1024 * 1024;

function modeOf(st: Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(4, '0');
}

function typeOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  return 'other';
}

async function sha256Of(path: string, size: number): Promise<string> {
  if (size <= 8 * 1024 * 1024) return createHash('sha256').update(readFileSync(path)).digest('hex');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Content hash, mode and owner of key files; directories are walked (sorted, without following
 * symbolic links). A configured path that does not exist yields nothing, so a file that a change
 * deletes shows as removed. mtime is left out on purpose: touching a file is not a change.
 */
export const fileHashSensor: Sensor = {
  id: 'file.hash',
  description: 'sha256, mode, owner and group of key files and directories (defaults: hosts, resolv.conf, sshd_config, sysctl, limits, crontabs…; --path replaces them)',
  default: true,
  async *collect(options): AsyncIterable<FactorItem> {
    const users = readIdNames('/etc/passwd');
    const groups = readIdNames('/etc/group');
    const emitted = new Set<string>();

    const describe = async (path: string, st: Stats): Promise<Record<string, unknown>> => {
      const type = typeOf(st);
      if (type === 'symlink') {
        let target: string | null = null;
        try {
          target = readlinkSync(path);
        } catch {
          target = null;
        }
        return { type, target };
      }
      const base = { type, mode: modeOf(st), owner: nameOf(users, st.uid), group: nameOf(groups, st.gid) };
      if (type !== 'file') return base;
      if (st.size > MAX_HASH_BYTES) return { ...base, size: st.size, sha256: null, note: 'larger than 1 GiB: not hashed' };
      try {
        return { ...base, size: st.size, sha256: await sha256Of(path, st.size) };
      } catch (err) {
        return { ...base, size: st.size, error: errorCode(err) };
      }
    };

    for (const root of options.paths) {
      const start = resolve(root);
      let rootStat: Stats;
      try {
        rootStat = lstatSync(start);
      } catch (err) {
        if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') continue;
        if (!emitted.has(start)) {
          emitted.add(start);
          yield { key: start, value: { error: errorCode(err) } };
        }
        continue;
      }
      // Depth-first, sorted, bounded: the same tree gives the same items in the same order.
      const stack: Array<{ path: string; st: Stats }> = [{ path: start, st: rootStat }];
      let count = 0;
      let truncated = false;
      while (stack.length) {
        const { path, st } = stack.pop()!;
        if (emitted.has(path)) continue;
        if (count >= options.maxFilesPerPath) {
          truncated = true;
          break;
        }
        emitted.add(path);
        count++;
        const value = await describe(path, st);
        if (st.isDirectory()) {
          let names: string[] = [];
          try {
            names = readdirSync(path).sort();
          } catch (err) {
            value.error = errorCode(err);
          }
          for (let i = names.length - 1; i >= 0; i--) {
            const child = join(path, names[i]!);
            try {
              stack.push({ path: child, st: lstatSync(child) });
            } catch {
              // vanished between readdir and lstat: it was not there when we looked
            }
          }
        }
        yield { key: path, value };
      }
      if (truncated) {
        yield { key: `${start} (walk limit)`, value: { truncatedAfter: options.maxFilesPerPath, hint: 'name narrower --path entries' } };
      }
    }
  },
};
