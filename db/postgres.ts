import pg from 'pg';
import { redactUrl } from '../core/config.js';
import type { Db, Queryable, Row } from './db.js';

// Timestamps come back as Date on both drivers; int8 counts as numbers (they stay far below 2^53).
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export interface PostgresDbOptions {
  /** Pool size; a chat bot needs few connections. */
  max?: number;
}

export function createPostgresDb(url: string, options: PostgresDbOptions = {}): Db {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client that loses its connection (PostgreSQL restarting) must not crash the process;
  // the pool drops it and the next query opens a new one.
  pool.on('error', () => {});
  // Locks live on connections of their own: a holder keeps its connection for as long as it holds the
  // lock (an action's whole run), and those must never take the connections its own queries need
  // (with as many holders as the pool has connections, every query would wait for ever).
  let lockPool: pg.Pool | undefined;
  const locks = () => {
    if (!lockPool) {
      lockPool = new pg.Pool({ connectionString: url, max: 100, idleTimeoutMillis: 10_000 });
      lockPool.on('error', () => {});
    }
    return lockPool;
  };

  const query = async <T extends Row>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const res = await pool.query(sql, params as unknown[] | undefined);
    return res.rows as T[];
  };

  return {
    kind: 'postgres',
    description: `postgres ${redactUrl(url)}`,
    query,
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          async query<T extends Row>(sql: string, params?: readonly unknown[]) {
            const res = await client.query(sql, params as unknown[] | undefined);
            return res.rows as T[];
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async tryLock(name) {
      const client = await locks().connect();
      try {
        const rows = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [name]);
        if (!rows.rows[0]?.ok) {
          client.release();
          return undefined;
        }
      } catch (err) {
        client.release(err instanceof Error ? err : true);
        throw err;
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        try {
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name]);
          client.release();
        } catch (err) {
          // A broken connection has lost the lock anyway: drop it rather than reuse it.
          client.release(err instanceof Error ? err : true);
        }
      };
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await Promise.all([pool.end(), lockPool?.end()]);
    },
  };
}
