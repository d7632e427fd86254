import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HostFailure, MAX_SNAPSHOT_BYTES, parseJsonDocument, type FleetDriver } from './driver.js';

export interface DropDriverOptions {
  /** Where agents leave `<host>.json`, or `<host>/<anything>.json` (one file per run). */
  dir: string;
  maxBytes?: number;
}

interface Candidate {
  path: string;
  mtimeMs: number;
  size: number;
}

async function fileAt(path: string): Promise<Candidate | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { path, mtimeMs: s.mtimeMs, size: s.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads what agents dropped: the newest of `<dir>/<host>.json` and `<dir>/<host>/*.json` (by
 * modification time). A file still being written fails as invalid JSON, and the next run reads it.
 */
export function createDropDriver(options: DropDriverOptions): FleetDriver {
  const maxBytes = options.maxBytes ?? MAX_SNAPSHOT_BYTES;
  return {
    name: 'drop',
    describe: `read the newest ${join(options.dir, '{host}.json')} or ${join(options.dir, '{host}', '*.json')}`,
    async fetch(host, signal) {
      const candidates: Candidate[] = [];
      const single = await fileAt(join(options.dir, `${host}.json`));
      if (single) candidates.push(single);
      const folder = join(options.dir, host);
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        const c = await fileAt(join(folder, name));
        if (c) candidates.push(c);
      }
      signal.throwIfAborted();
      const newest = candidates.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.path < b.path ? 1 : -1))[0];
      if (!newest) throw new HostFailure(`nothing dropped: no ${host}.json or ${host}/*.json in ${options.dir}`);
      if (newest.size > maxBytes) throw new HostFailure(`${newest.path} is ${newest.size} bytes, more than the ${maxBytes} a snapshot may have`);
      let text: string;
      try {
        text = await readFile(newest.path, { encoding: 'utf8', signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw new HostFailure(`cannot read ${newest.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      try {
        return parseJsonDocument(text);
      } catch (err) {
        throw new HostFailure(`${newest.path}: ${(err as Error).message}`);
      }
    },
  };
}
