import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../db/db.js';
import { migrate } from '../../db/migrate.js';
import { createPgliteDb } from '../../db/pglite.js';
import { createPgliteWorkerDb } from '../../db/pglite-worker.js';
import { createPostgresDb } from '../../db/postgres.js';

/**
 * Integration tests run against real PostgreSQL and Redis. In CI (CI=true) or when the test script
 * started the services (WARROOM_INTEGRATION=1) they must run: a missing DATABASE_URL is a failure,
 * never a silent skip. On a developer machine without services, `npm test` runs the unit tests only.
 */
export const integrationRequired = process.env.CI === 'true' || process.env.WARROOM_INTEGRATION === '1';
export const hasPostgres = Boolean(process.env.DATABASE_URL);
export const hasRedis = Boolean(process.env.REDIS_URL);
export const runPostgres = hasPostgres || integrationRequired;
export const runRedis = hasRedis || integrationRequired;

export function requireEnv(name: 'DATABASE_URL' | 'REDIS_URL'): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: integration tests need the services started by \`npm run test:all\``);
  return v;
}

export async function createTestPglite(): Promise<Db> {
  const db = await createPgliteDb();
  await migrate(db);
  return db;
}

/** In-memory PGlite in a worker thread, as the running app opens its embedded store (db/open.ts), migrated. */
export async function createTestPgliteWorker(): Promise<Db> {
  const db = await createPgliteWorkerDb();
  await migrate(db);
  return db;
}

/** A fresh database on the test server, migrated; dropped by the returned cleanup. */
export async function createTestPostgres(): Promise<{ db: Db; url: string; drop(): Promise<void> }> {
  const adminUrl = requireEnv('DATABASE_URL');
  const name = `warroom_t_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = createPostgresDb(url, { max: 4 });
  await migrate(db);
  return {
    db,
    url,
    async drop() {
      await db.close().catch(() => {});
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface DriverCase {
  name: 'pglite' | 'pglite-worker' | 'postgres';
  enabled: boolean;
  open(): Promise<{ db: Db; close(): Promise<void> }>;
}

/**
 * The store drivers, for `describe.each`: the same tests run on each. PGlite twice: in the test's
 * thread (as most unit tests use it) and in a worker thread (as the running app does).
 */
export const drivers: DriverCase[] = [
  {
    name: 'pglite',
    enabled: true,
    async open() {
      const db = await createTestPglite();
      return { db, close: () => db.close() };
    },
  },
  {
    name: 'pglite-worker',
    enabled: true,
    async open() {
      const db = await createTestPgliteWorker();
      return { db, close: () => db.close() };
    },
  },
  {
    name: 'postgres',
    enabled: runPostgres,
    async open() {
      const t = await createTestPostgres();
      return { db: t.db, close: () => t.drop() };
    },
  },
];
