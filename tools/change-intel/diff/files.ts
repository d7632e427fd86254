import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import { WarroomError } from '../../../core/errors.js';
import { startModuleWorker } from '../../../core/module-worker.js';
import { DiffTally, diffHost, sameItems, type HostDiff, type TallyPart } from './engine.js';
import type { NoiseRules, UserNoiseRule } from './noise.js';
import { openSnapshotFile, type BlockLocator, type FileBlock, type IndexEntry, type SnapshotFile } from './snapshot-files.js';

export type MatchBy = 'host' | 'role';

export interface DiffFilesOptions {
  rules: NoiseRules;
  /** How fleet snapshots are paired: by host name (before/after a change) or by role (test vs production). */
  by?: MatchBy;
  /** Called for every host with at least one difference, in the order of the before file. */
  onHost(diff: HostDiff): void;
  /**
   * Worker threads. Default: the machine's cores (at most 4) when the two files hold at least
   * `minBytesForWorkers` together, else this thread only (a worker costs ≈ 50 MB and its start-up;
   * on smaller files one thread was as fast, measured on two cores). An explicit number is used as given. 1 = this thread only.
   */
  workers?: number;
  /** Default 1 GiB: see `workers`. */
  minBytesForWorkers?: number;
  /** Fewer host pairs than this are diffed in this thread: starting workers would cost more. */
  minHostsPerWorker?: number;
}

export interface DiffFilesResult {
  tally: DiffTally;
  unmatched: { before: string[]; after: string[] };
}

const MIN_BYTES_FOR_WORKERS = 1024 * 1024 * 1024;

/** One pair of blocks to compare: their positions in the before and after files. */
export type BlockPair = [BlockLocator, BlockLocator];

function matchKey(header: IndexEntry['header'], by: MatchBy, where: string): string {
  if (by === 'host') return header.host;
  if (!header.role) {
    throw new WarroomError('snapshot_no_role', `${where}: the snapshot of ${header.host} has no "role".`, {
      hint: '`--by role` pairs test and production hosts by role: take the snapshots with `warroom sense --role ROLE`.',
    });
  }
  return header.role;
}

/**
 * Whether a factor is the same on both sides, as cheaply as the readers allow: by its bytes when
 * both have them (line layout, where the text is canonical), otherwise by its parsed items.
 * Factors found the same skip the diff engine (key maps, noise rules), the expensive part.
 */
export function sameFactor(before: FileBlock, after: FileBlock): (factor: string) => boolean {
  return (factor) => {
    const a = before.raw(factor);
    const b = after.raw(factor);
    if (a !== undefined && b !== undefined) return a.equals(b);
    return sameItems(before.items(factor), after.items(factor));
  };
}

/** Compare a run of host pairs; used by this thread and by the workers alike. */
export function diffPairs(before: SnapshotFile, after: SnapshotFile, pairs: readonly BlockPair[], rules: NoiseRules, tally: DiffTally, onHost: (d: HostDiff) => void): void {
  for (const [bl, al] of pairs) {
    const b = before.readAt(bl);
    // The before block stays valid while the after block is read: they live in different readers.
    const a = after.readAt(al);
    const d = diffHost(b, a, rules, tally, sameFactor(b, a));
    if (d.factors.length) onHost(d);
  }
}

function keyedIndex(file: SnapshotFile, path: string, by: MatchBy): Map<string, IndexEntry> {
  const index = new Map<string, IndexEntry>();
  for (const entry of file.index()) {
    // A quickly read header may lack a role that sits further into the snapshot.
    const header = by === 'role' && entry.partial && !entry.header.role ? file.readAt(entry.loc).header : entry.header;
    const key = matchKey(header, by, `${basename(path)} snapshots[${entry.loc.ordinal}]`);
    const prev = index.get(key);
    if (prev) {
      throw new WarroomError('snapshot_duplicate', `${basename(path)}: ${by} "${key}" appears twice (snapshots[${prev.loc.ordinal}] and [${entry.loc.ordinal}]).`, {
        hint: by === 'role' ? 'Pair by role only when each role has one host per file, or diff the hosts one by one.' : 'Keep one snapshot per host in a fleet file.',
      });
    }
    index.set(key, { ...entry, header });
  }
  return index;
}

/**
 * Diff two snapshot or fleet files. Two single snapshots are compared with each other whatever
 * their hosts (that is how a test host is compared with production); fleets are paired by host
 * (or role). Memory stays bounded: both files are indexed (headers and offsets only), then each
 * pair of hosts is read, compared and dropped; big fleets are split across worker threads in
 * chunks, and results come back in the order of the before file.
 */
export async function diffSnapshotFiles(beforePath: string, afterPath: string, options: DiffFilesOptions): Promise<DiffFilesResult> {
  const by = options.by ?? 'host';
  const tally = new DiffTally();
  const unmatched = { before: [] as string[], after: [] as string[] };
  const before = openSnapshotFile(beforePath);
  let after: SnapshotFile | undefined;
  try {
    after = openSnapshotFile(afterPath);
    if (!before.fleet && !after.fleet) {
      const b = before.blocks().next().value;
      const a = after.blocks().next().value;
      if (b && a) {
        const d = diffHost(b, a, options.rules, tally, sameFactor(b, a));
        if (d.factors.length) options.onHost(d);
      }
      return { tally, unmatched };
    }
    const afterIndex = keyedIndex(after, afterPath, by);
    const beforeIndex = keyedIndex(before, beforePath, by);
    const pairs: BlockPair[] = [];
    for (const [key, b] of beforeIndex) {
      const a = afterIndex.get(key);
      if (!a) unmatched.before.push(b.header.host);
      else {
        pairs.push([b.loc, a.loc]);
        afterIndex.delete(key);
      }
    }
    for (const a of afterIndex.values()) unmatched.after.push(a.header.host);

    const bytes = statSync(beforePath).size + statSync(afterPath).size;
    const wanted = options.workers ?? (bytes >= (options.minBytesForWorkers ?? MIN_BYTES_FOR_WORKERS) ? Math.min(availableParallelism(), 4) : 1);
    const workers = Math.max(1, Math.min(wanted, Math.floor(pairs.length / (options.minHostsPerWorker ?? 500))));
    if (workers < 2 || before.kind === 'memory' || after.kind === 'memory') {
      diffPairs(before, after, pairs, options.rules, tally, options.onHost);
    } else {
      await diffInWorkers({ beforePath, afterPath, beforeKind: before.kind, afterKind: after.kind }, pairs, options, workers, tally);
    }
    return { tally, unmatched };
  } finally {
    after?.close();
    before.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Worker threads

export interface WorkerSetup {
  beforePath: string;
  afterPath: string;
  beforeKind: 'lines' | 'scanned';
  afterKind: 'lines' | 'scanned';
  userRules: UserNoiseRule[];
  builtin: boolean;
}

export type ToWorker = { type: 'chunk'; id: number; pairs: BlockPair[] };
export type FromWorker =
  | { type: 'result'; id: number; hosts: HostDiff[]; tally: TallyPart }
  | { type: 'error'; id: number; code?: string; message: string; hint?: string };

const CHUNK_HOSTS = 200;

function startWorker(setup: WorkerSetup): Worker {
  return startModuleWorker(import.meta.url, './diff-worker', { workerData: setup });
}

async function diffInWorkers(
  files: Pick<WorkerSetup, 'beforePath' | 'afterPath' | 'beforeKind' | 'afterKind'>,
  pairs: BlockPair[],
  options: DiffFilesOptions,
  count: number,
  tally: DiffTally,
): Promise<void> {
  const chunks: BlockPair[][] = [];
  for (let i = 0; i < pairs.length; i += CHUNK_HOSTS) chunks.push(pairs.slice(i, i + CHUNK_HOSTS));
  const setup: WorkerSetup = { ...files, userRules: [...options.rules.user], builtin: options.rules.builtin };
  const workers = Array.from({ length: count }, () => startWorker(setup));
  let next = 0;
  let emitted = 0;
  // Results arriving out of order wait here; at most a few chunks per worker, so memory stays bounded.
  const done = new Map<number, Extract<FromWorker, { type: 'result' }>>();
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker) => {
        if (next < chunks.length) {
          const msg: ToWorker = { type: 'chunk', id: next, pairs: chunks[next]! };
          next++;
          w.postMessage(msg);
        }
      };
      for (const w of workers) {
        w.on('message', (m: FromWorker) => {
          if (m.type === 'error') {
            reject(m.code ? new WarroomError(m.code, m.message, m.hint ? { hint: m.hint } : {}) : new Error(`diff worker failed: ${m.message}`));
            return;
          }
          done.set(m.id, m);
          feed(w);
          try {
            for (let r = done.get(emitted); r; r = done.get(emitted)) {
              done.delete(emitted);
              tally.merge(r.tally);
              for (const h of r.hosts) options.onHost(h);
              emitted++;
            }
          } catch (err) {
            reject(err);
            return;
          }
          if (emitted === chunks.length) resolve();
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (emitted < chunks.length) reject(new Error(`diff worker exited (code ${code}) before the diff was done`));
        });
        // Two chunks in flight per worker: one being diffed, one waiting, so no worker idles.
        feed(w);
        feed(w);
      }
      if (chunks.length === 0) resolve();
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

