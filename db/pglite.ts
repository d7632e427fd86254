import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Db, Queryable, Row } from './db.js';

/**
 * Embedded PostgreSQL (WASM) with pgvector. `dataDir` undefined means in memory (tests).
 * PGlite is single-connection: statements are serialised by the library itself.
 */
export async function createPgliteDb(dataDir?: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    extensions: { vector },
    parsers: { 20: (v: string) => Number(v), 1700: (v: string) => Number(v) },
  });

  const query = async <T extends Row>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const res = await pg.query<T>(sql, params as unknown[] | undefined);
    return res.rows;
  };

  // One process owns an embedded store, so a lock held in memory is held for every user of it.
  const locks = new Set<string>();

  return {
    kind: 'pglite',
    description: `pglite ${dataDir ?? '(memory)'}`,
    query,
    async exec(sql) {
      await pg.exec(sql);
    },
    async transaction(fn) {
      return pg.transaction(async (tx) => {
        const q: Queryable = {
          async query<T extends Row>(sql: string, params?: readonly unknown[]) {
            const res = await tx.query<T>(sql, params as unknown[] | undefined);
            return res.rows;
          },
          async exec(sql: string) {
            await tx.exec(sql);
          },
        };
        return fn(q);
      });
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
    async ping() {
      await pg.query('SELECT 1');
    },
    async close() {
      await pg.close();
    },
  };
}
