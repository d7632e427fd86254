import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from '../core/config.js';
import { WarroomError } from '../core/errors.js';
import type { Queryable } from './db.js';

/**
 * The audit log's hash chain shows a row edited in place, but someone who can write the database
 * can also recompute every hash after an edit, or delete the newest rows: the chain then looks
 * whole. Anchoring copies each row's id and hash, as it is written, to an append-only file outside
 * the database (`WARROOM_HOME/audit-anchors.jsonl`, one JSON line per row: {id, hash, at}), so
 * `verifyAuditChain` can name the first row that differs from what was anchored, or is gone.
 * Keep a copy of the file off the host (or post the head with each decision) for the same
 * guarantee against someone who can also write the file.
 */

export const AUDIT_ANCHORS_FILE = 'audit-anchors.jsonl';

export interface AuditAnchor {
  /** The audit row's id. */
  id: number;
  /** Its hash when it was anchored. */
  hash: string;
  /** When it was anchored (ISO 8601). */
  at: string;
}

const anchorSchema = z.object({
  id: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string().min(1).max(64),
});

/** The anchors file of this configuration: WARROOM_AUDIT_ANCHORS_FILE, else WARROOM_HOME/audit-anchors.jsonl. */
export function auditAnchorsPath(config: Pick<Config, 'WARROOM_HOME' | 'WARROOM_AUDIT_ANCHORS_FILE'>): string {
  return resolve(config.WARROOM_AUDIT_ANCHORS_FILE ?? join(config.WARROOM_HOME, AUDIT_ANCHORS_FILE));
}

function parseLine(line: string): AuditAnchor | undefined {
  try {
    const parsed = anchorSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function unreadable(file: string, err: unknown): WarroomError {
  return new WarroomError('audit_anchors_unreadable', `Cannot read the audit anchors file ${file}: ${(err as Error).message}.`, {
    hint: 'Check the path (WARROOM_AUDIT_ANCHORS_FILE) and that this user may read it.',
  });
}

export interface AuditAnchorsFile {
  anchors: AuditAnchor[];
  /** 1-based line numbers that are not anchors. */
  invalidLines: number[];
  /** The file does not exist (nothing anchored yet). */
  absent: boolean;
}

/** Every anchor in `file`, in file order. A missing file is not an error: nothing was anchored. */
export async function readAuditAnchors(file: string): Promise<AuditAnchorsFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { anchors: [], invalidLines: [], absent: true };
    throw unreadable(file, err);
  }
  const anchors: AuditAnchor[] = [];
  const invalidLines: number[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const a = parseLine(line);
    if (a) anchors.push(a);
    else invalidLines.push(i + 1);
  });
  return { anchors, invalidLines, absent: false };
}

const TAIL_BYTES = 64 * 1024;

/** The last anchor of the file, read from its end (cheap however long it is); whether a torn last line needs a newline first. */
async function lastAnchorIn(file: string): Promise<{ lastId?: number; size: number; ino: number; needsNewline: boolean } | undefined> {
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(file, err);
  }
  try {
    const { size, ino } = await fh.stat();
    if (size === 0) return { size, ino, needsNewline: false };
    const length = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const text = buf.toString('utf8');
    const needsNewline = !text.endsWith('\n');
    const lines = text.split('\n');
    if (length < size) lines.shift(); // the first piece may start mid-line
    for (let i = lines.length - 1; i >= 0; i--) {
      const a = parseLine(lines[i]!);
      if (a) return { lastId: a.id, size, ino, needsNewline };
    }
    return { size, ino, needsNewline };
  } finally {
    await fh.close();
  }
}

/** Per file: what this process last saw at its end, so an anchoring with nothing new reads no file. */
const seen = new Map<string, { size: number; ino: number; lastId: number }>();
/** Per file: anchorings in this process run one at a time (no line written twice by two callers here). */
const queues = new Map<string, Promise<unknown>>();

export interface AnchorOptions {
  /** When the lines say they were anchored; default the real time. */
  now?: () => Date;
}

export interface AnchoredHead {
  id: number;
  hash: string;
  /** Rows anchored by this call (0: the head was anchored already). */
  appended: number;
}

const PAGE = 5000;

async function anchorNow(db: Queryable, file: string, options: AnchorOptions): Promise<AnchoredHead | undefined> {
  const headRows = await db.query<{ id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1');
  if (!headRows[0]) return undefined;
  const head = { id: Number(headRows[0].id), hash: headRows[0].hash };

  let lastId: number | undefined;
  let needsNewline = false;
  let exists = true;
  const cached = seen.get(file);
  const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw unreadable(file, err);
  });
  if (!st) exists = false;
  else if (cached && cached.size === st.size && cached.ino === st.ino) lastId = cached.lastId;
  else {
    const tail = await lastAnchorIn(file);
    if (!tail) exists = false;
    else ({ lastId, needsNewline } = tail);
  }
  // Nothing new (or the log is now shorter than what was anchored: verify says so, nothing to add).
  if (lastId !== undefined && lastId >= head.id) return { ...head, appended: 0 };

  if (!exists) await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const at = (options.now?.() ?? new Date()).toISOString();
  // O_APPEND: every write lands at the end, whoever else appends; one write per page.
  const fh = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  let appended = 0;
  try {
    if (!exists) await fh.chmod(0o600); // whatever the umask
    let after = lastId ?? 0;
    let prefix = needsNewline ? '\n' : '';
    for (;;) {
      const page = await db.query<{ id: number; hash: string }>('SELECT id, hash FROM audit_log WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3', [after, head.id, PAGE]);
      if (page.length === 0) break;
      const text = prefix + page.map((r) => `${JSON.stringify({ id: Number(r.id), hash: r.hash, at })}\n`).join('');
      prefix = '';
      await fh.write(text);
      appended += page.length;
      after = Number(page.at(-1)!.id);
    }
    await fh.sync();
    const after2 = await fh.stat();
    seen.set(file, { size: after2.size, ino: after2.ino, lastId: head.id });
  } finally {
    await fh.close();
  }
  if (!exists) {
    // The new file's directory entry must survive a crash too.
    const dir = await open(dirname(file), constants.O_RDONLY).catch(() => undefined);
    await dir?.sync().catch(() => {});
    await dir?.close();
  }
  return { ...head, appended };
}

/**
 * Anchor the audit log outside the database: append {id, hash, at} for every row written since the
 * last anchor to `file` (created with mode 0600, fsynced), and answer the head. Cheap when nothing
 * changed (one indexed query and a stat), so it can run after every action decision and on a
 * timer. Undefined while the log is empty. Calls in this process run one at a time per file;
 * another process anchoring the same file at the same moment may repeat a line, which is harmless.
 */
export function anchorAuditHead(db: Queryable, file: string, options: AnchorOptions = {}): Promise<AnchoredHead | undefined> {
  const key = resolve(file);
  const run = (queues.get(key) ?? Promise.resolve()).then(() => anchorNow(db, key, options));
  const settled = run.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return run;
}

/** `anchorAuditHead` on this configuration's anchors file. */
export function anchorAudit(db: Queryable, config: Pick<Config, 'WARROOM_HOME' | 'WARROOM_AUDIT_ANCHORS_FILE'>, options: AnchorOptions = {}): Promise<AnchoredHead | undefined> {
  return anchorAuditHead(db, auditAnchorsPath(config), options);
}

export interface AuditAnchoring {
  /** Stop the timer, wait for a running anchoring, and anchor once more (call before closing the store). */
  stop(): Promise<void>;
}

/**
 * Anchor every `intervalMs` (default one minute) besides the anchoring after each decision, so rows
 * written by other paths (tool calls, incident changes) are anchored too. The timer does not keep
 * the process alive; a failed anchoring is passed to `onError` and tried again at the next tick.
 */
export function startAuditAnchoring(
  db: Queryable,
  file: string,
  options: AnchorOptions & { intervalMs?: number; onError?: (err: unknown) => void } = {},
): AuditAnchoring {
  const tick = () => anchorAuditHead(db, file, options).then(
    () => undefined,
    (err: unknown) => options.onError?.(err),
  );
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= tick().finally(() => (running = undefined));
  }, options.intervalMs ?? 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}
