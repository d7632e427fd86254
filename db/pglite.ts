import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Db, Queryable, Row } from './db.js';

/** An embedded store that can be copied: `dump()` gives its data directory, which `loadDataDir` starts another from. */
export interface PgliteDb extends Db {
  dump(): Promise<Blob>;
}

export interface PgliteOptions {
  /** Start from a copy of another store (a `dump()`), e.g. one prepared evaluation world per case. */
  loadDataDir?: Blob;
}

/**
 * The engine itself, as every embedded store opens it (in this thread, or in the worker of
 * pglite-worker.ts): pgvector, and int8/numeric parsed to numbers as the `pg` driver does.
 */
export async function openPglite(dataDir: string | undefined, loadDataDir?: Blob): Promise<PGlite> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  return PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(loadDataDir ? { loadDataDir } : {}),
    extensions: { vector },
    parsers: { 20: (v: string) => Number(v), 1700: (v: string) => Number(v) },
  });
}

/**
 * Embedded PostgreSQL (WASM) with pgvector, in this thread: its queries run on this event loop
 * (see createPgliteWorkerDb for the one the running app uses). `dataDir` undefined means in memory (tests).
 * PGlite is single-connection: statements are serialised by the library itself.
 */
export async function createPgliteDb(dataDir?: string, options: PgliteOptions = {}): Promise<PgliteDb> {
  const pg = await openPglite(dataDir, options.loadDataDir);

  const query = async <T extends Row>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const res = await pg.query<T>(sql, params as unknown[] | undefined);
    return res.rows;
  };

  const { progressed, ping, tryLock } = embeddedStoreHelpers(() => pg.query('SELECT 1'));

  return {
    kind: 'pglite',
    description: `pglite ${dataDir ?? '(memory)'}`,
    query,
    async exec(sql) {
      await pg.exec(sql);
    },
    async transaction(fn) {
      return pg
        .transaction(async (tx) => {
          const q: Queryable = {
            async query<T extends Row>(sql: string, params?: readonly unknown[]) {
              try {
                const res = await tx.query<T>(sql, params as unknown[] | undefined);
                return res.rows;
              } finally {
                progressed();
              }
            },
            async exec(sql: string) {
              try {
                await tx.exec(sql);
              } finally {
                progressed();
              }
            },
          };
          return fn(q);
        })
        .finally(progressed);
    },
    tryLock,
    ping,
    async dump() {
      return pg.dumpDataDir('none');
    },
    async close() {
      await pg.close();
    },
  };
}

/**
 * What both embedded stores (in process, and in a worker thread) share.
 * - progress-aware ping: a statement finished inside a running transaction means the engine is alive
 *   and working. PGlite runs one thing at a time, so a ping queued behind a long transaction (a big
 *   alert batch) would wait for all of it; it counts that progress instead. Call `progressed` after
 *   each statement of a transaction and when it ends.
 * - named locks held in memory: one process owns an embedded store, so a lock held here is held for
 *   every user of it.
 */
export function embeddedStoreHelpers(selectOne: () => Promise<unknown>): {
  progressed: () => void;
  ping: () => Promise<void>;
  tryLock: (name: string) => Promise<(() => Promise<void>) | undefined>;
} {
  const progressWaiters = new Set<() => void>();
  const locks = new Set<string>();
  return {
    progressed() {
      for (const w of progressWaiters) w();
      progressWaiters.clear();
    },
    async ping() {
      // Alive when it answers, or when a transaction it is busy with completes a statement meanwhile.
      let waiter: (() => void) | undefined;
      const progress = new Promise<void>((resolve) => {
        waiter = resolve;
        progressWaiters.add(resolve);
      });
      try {
        const answer = selectOne();
        answer.catch(() => {}); // when progress wins, a later failure of the queued query is nobody's
        await Promise.race([answer, progress]);
      } finally {
        progressWaiters.delete(waiter!);
      }
    },
    async tryLock(name) {
      if (locks.has(name)) return undefined;
      locks.add(name);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        locks.delete(name);
      };
    },
  };
}
