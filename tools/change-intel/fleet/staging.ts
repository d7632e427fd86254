import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../../../core/logger.js';
import type { Snapshot } from '../snapshot.js';
import { parseSnapshot } from './validate.js';

/**
 * Snapshots collected but not yet stored wait in a file (one JSON snapshot per line), not in
 * memory and not in the step's recorded result: a 5,000-host collection would otherwise hold
 * gigabytes, and the step runner records each step's result in the database. The collect step
 * records only the file's path; the store step reads it back in batches.
 */
export class StagingFile {
  private readonly out: WriteStream;
  private failed: Error | undefined;
  private drained: Promise<void> | undefined;

  private constructor(readonly path: string) {
    this.out = createWriteStream(path, { mode: 0o600 });
    this.out.on('error', (err) => {
      this.failed ??= err;
    });
  }

  /** A new file in `dir` (created, owner-only); falls back to the system's temporary folder when `dir` cannot be made. */
  static async create(dir: string, name: string, logger?: Logger): Promise<StagingFile> {
    let where = dir;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      where = join(tmpdir(), 'warroom-fleet');
      logger?.warn({ dir, fallback: where, err: (err as Error).message }, 'fleet staging folder unavailable; using the temporary folder');
      await mkdir(where, { recursive: true, mode: 0o700 });
    }
    const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
    return new StagingFile(join(where, `${safe}-${randomUUID()}.jsonl`));
  }

  /** Resolves when the stream can take more; every writer waiting for the same drain shares one wait. */
  async write(s: Snapshot): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.out.write(`${JSON.stringify(s)}\n`)) {
      this.drained ??= once(this.out, 'drain').then(
        () => {
          this.drained = undefined;
        },
        (err: unknown) => {
          this.drained = undefined;
          throw err;
        },
      );
    }
    if (this.drained) await this.drained;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.out.end(() => (this.failed ? reject(this.failed) : resolve()));
    });
  }

  async discard(): Promise<void> {
    this.out.destroy();
    await removeStaging(this.path);
  }
}

export async function removeStaging(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The staged snapshots in batches, validated again (the file is an edge: it sat on disk). */
export async function* readStaging(path: string, batchSize = 100): AsyncGenerator<Snapshot[]> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let batch: Snapshot[] = [];
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    const parsed = parseSnapshot(JSON.parse(line));
    if (!parsed.success) throw new Error(`${path} line ${n}: ${parsed.problems.slice(0, 3).join('; ')}`);
    batch.push(parsed.data);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
