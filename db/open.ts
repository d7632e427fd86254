import { join, resolve } from 'node:path';
import type { Config } from '../core/config.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { createPgliteDb } from './pglite.js';
import { createPostgresDb } from './postgres.js';

/**
 * The store the configuration asks for, migrated and ready: PostgreSQL when DATABASE_URL is
 * set, otherwise PGlite under WARROOM_HOME.
 */
export async function openDb(config: Pick<Config, 'DATABASE_URL' | 'WARROOM_HOME'>): Promise<Db> {
  const db = config.DATABASE_URL
    ? createPostgresDb(config.DATABASE_URL)
    : await createPgliteDb(join(resolve(config.WARROOM_HOME), 'pgdata'));
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return db;
}
