import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WarroomError } from '../core/errors.js';

/**
 * One process at a time opens the embedded store (PGlite is a single-connection database: two
 * processes on one data directory see stale data, abort inside the WASM and corrupt the files).
 * The process that opens it holds `WARROOM_HOME/store.lock`, a small JSON file naming it.
 *
 * - Creation is atomic and never shows a half-written file: the content is written to a private
 *   temporary file first and then hard-linked to the lock's name, which fails if the lock exists.
 * - A lock whose process is gone (killed with SIGKILL, the machine rebooted) is stale and taken
 *   over. Liveness is the pid and, on Linux, the process's start time, so a recycled pid does not
 *   keep a dead lock alive. Taking over is serialised by a second exclusive file, so two
 *   processes that both find the lock stale cannot both win.
 */

export type StoreRole = 'server' | 'chat' | 'command';

export interface StoreLockHolder {
  pid: number;
  /** What holds it: a server (`warroom start`, `demo --serve/--chat`) forwards commands; a command ends soon. */
  role: StoreRole;
  /** The command, e.g. "warroom start", for messages. */
  command: string;
  since: string;
  /** Linux: the process's start time in clock ticks after boot (/proc/PID/stat field 22). */
  startTicks?: number;
  nonce: string;
}

export interface StoreLock {
  readonly path: string;
  readonly holder: StoreLockHolder;
  release(): void;
}

export const STORE_LOCK_FILE = 'store.lock';

function procStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces; count from after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** This process as a lock or server file records it: its pid and, on Linux, its start time. */
export function thisProcess(): { pid: number; startTicks?: number } {
  const ticks = procStartTicks(process.pid);
  return { pid: process.pid, ...(ticks !== undefined ? { startTicks: ticks } : {}) };
}

/** Whether the process that wrote `holder` still runs. */
export function holderAlive(holder: Pick<StoreLockHolder, 'pid' | 'startTicks'>): boolean {
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user — alive.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.startTicks !== undefined) {
    const now = procStartTicks(holder.pid);
    if (now !== undefined && now !== holder.startTicks) return false; // the pid was recycled
  }
  return true;
}

function parseHolder(text: string): StoreLockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoreLockHolder>;
    if (typeof v.pid !== 'number' || typeof v.nonce !== 'string') return undefined;
    return { role: 'command', command: 'warroom', since: '', ...v } as StoreLockHolder;
  } catch {
    return undefined;
  }
}

/** The current holder of the store lock under `home`, if any (alive or not). */
export function readStoreLock(home: string): StoreLockHolder | undefined {
  try {
    return parseHolder(readFileSync(join(home, STORE_LOCK_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The holder of the store lock under `home` when that process still runs. */
export function liveStoreHolder(home: string): StoreLockHolder | undefined {
  const h = readStoreLock(home);
  return h && holderAlive(h) ? h : undefined;
}

function tryLink(tmp: string, path: string): boolean {
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Remove the lock at `path` if it still is the stale one read as `stale`; serialised by `path.takeover`. */
function removeStale(path: string, stale: StoreLockHolder | undefined): void {
  const guard = `${path}.takeover`;
  const mine = JSON.stringify({ pid: process.pid, startTicks: procStartTicks(process.pid), nonce: randomBytes(8).toString('hex') });
  try {
    writeFileSync(guard, mine, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Someone else is taking over right now; if that process died doing it, clear its guard
    // (moved aside under a private name first, so only one process clears a given guard).
    let other: StoreLockHolder | undefined;
    try {
      other = parseHolder(readFileSync(guard, 'utf8'));
    } catch {
      return;
    }
    if (other && holderAlive(other)) return;
    const aside = `${guard}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      renameSync(guard, aside);
      const moved = parseHolder(readFileSync(aside, 'utf8'));
      if (moved && other && moved.nonce !== other.nonce) renameSync(aside, guard); // a fresh guard: put it back
      else unlinkSync(aside);
    } catch {
      /* another process got there first */
    }
    return;
  }
  try {
    let current: StoreLockHolder | undefined;
    try {
      current = parseHolder(readFileSync(path, 'utf8'));
    } catch {
      return; // gone already
    }
    // Only the very lock judged stale is removed; a fresh one taken meanwhile stays.
    if (current && stale && current.nonce === stale.nonce && !holderAlive(current)) unlinkSync(path);
    else if (!current && !stale) unlinkSync(path); // unreadable (not ours to judge otherwise): replace
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      /* ignore */
    }
  }
}

export interface AcquireOptions {
  role: StoreRole;
  command: string;
  /** While a short-lived command holds the store, wait up to this long for it (ms); default 0. */
  waitMs?: number;
  /** Called once when the acquirer starts waiting. */
  onWait?(holder: StoreLockHolder): void;
}

/**
 * Take the store lock under `home`, or throw `store_busy` naming the process that holds it.
 * A stale lock (its process gone) is taken over.
 */
export async function acquireStoreLock(home: string, options: AcquireOptions): Promise<StoreLock> {
  mkdirSync(home, { recursive: true });
  const path = join(home, STORE_LOCK_FILE);
  const holder: StoreLockHolder = {
    pid: process.pid,
    role: options.role,
    command: options.command,
    since: new Date().toISOString(),
    ...(procStartTicks(process.pid) !== undefined ? { startTicks: procStartTicks(process.pid)! } : {}),
    nonce: randomBytes(12).toString('hex'),
  };
  const tmp = `${path}.${process.pid}.${holder.nonce}`;
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  const deadline = Date.now() + (options.waitMs ?? 0);
  let waited = false;
  try {
    for (let attempt = 0; ; attempt++) {
      if (tryLink(tmp, path)) break;
      const current = readStoreLock(home);
      if (!current || !holderAlive(current)) {
        removeStale(path, current);
        if (attempt < 50) continue;
        // A lock that cannot be read or removed (another user's file, a read-only directory) would
        // otherwise be waited on for ever: say so and stop.
        throw new WarroomError('store_lock_stuck', `Cannot take the embedded store's lock ${path}: it is there but cannot be read or removed by this process.`, {
          hint: 'Check that no Warroom process runs on this WARROOM_HOME, then remove the file (or fix its owner and permissions) and try again.',
        });
      } else {
        if (current.pid === process.pid) throw new WarroomError('store_busy', `This process already holds the embedded store at ${home}.`);
        // Short-lived commands end on their own: wait for them. A server or a chat does not.
        if (current.role !== 'command' || Date.now() >= deadline) throw storeBusy(home, current);
        if (!waited) options.onWait?.(current);
        waited = true;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
  }
  let released = false;
  return {
    path,
    holder,
    release() {
      if (released) return;
      released = true;
      // Remove only our own lock (never one a successor took over after we were judged dead).
      const current = readStoreLock(home);
      if (current?.nonce === holder.nonce) {
        try {
          unlinkSync(path);
        } catch {
          /* ignore */
        }
      }
    },
  };
}

export function storeBusy(home: string, holder: StoreLockHolder): WarroomError {
  return new WarroomError('store_busy', `The embedded store at ${home} is in use by \`${holder.command}\` (pid ${holder.pid}, since ${holder.since}).`, {
    hint:
      holder.role === 'command'
        ? 'Wait for that command to finish and run this one again.'
        : `Stop that process first, or use it (its web chat, API or terminal), or set DATABASE_URL to a PostgreSQL that several processes can share.`,
    status: 409,
  });
}
