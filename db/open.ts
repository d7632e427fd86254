import { join, resolve } from 'node:path';
import type { Config } from '../core/config.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { createPgliteWorkerDb } from './pglite-worker.js';
import { createPostgresDb } from './postgres.js';
import { acquireStoreLock, type AcquireOptions } from './store-lock.js';

export interface OpenDbOptions {
  /**
   * Who opens the embedded store (PGlite under WARROOM_HOME): it is locked for this process until
   * `close()`, and a second process gets `store_busy` (see store-lock.ts). Ignored for PostgreSQL.
   */
  owner?: AcquireOptions;
}

/**
 * The store the configuration asks for, migrated and ready: PostgreSQL when DATABASE_URL is
 * set, otherwise PGlite under WARROOM_HOME, held by this process alone and run in a worker thread
 * (pglite-worker.ts), so its SQL never holds up the event loop that answers HTTP.
 */
export async function openDb(config: Pick<Config, 'DATABASE_URL' | 'WARROOM_HOME'>, options: OpenDbOptions = {}): Promise<Db> {
  let db: Db;
  if (config.DATABASE_URL) {
    db = createPostgresDb(config.DATABASE_URL);
  } else {
    const home = resolve(config.WARROOM_HOME);
    const lock = await acquireStoreLock(home, options.owner ?? { role: 'command', command: 'warroom' });
    let pglite: Db;
    try {
      pglite = await createPgliteWorkerDb(join(home, 'pgdata'));
    } catch (err) {
      lock.release();
      throw err;
    }
    db = {
      ...pglite,
      async close() {
        try {
          await pglite.close();
        } finally {
          lock.release();
        }
      },
    };
  }
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return db;
}
