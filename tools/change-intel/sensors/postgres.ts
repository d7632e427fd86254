import pg from 'pg';
import type { Queryable, Row } from '../../../db/db.js';
import { SensorUnavailableError } from './sensor.js';

/**
 * One short-lived connection for the database sensors, with connect and statement time limits.
 * The queries themselves take a `Queryable`, so tests run them on PGlite too.
 */
export async function withPostgres<T>(url: string | undefined, timeoutMs: number, fn: (q: Queryable) => Promise<T>): Promise<T> {
  if (!url) throw new SensorUnavailableError('no database URL: pass --db-url postgres://… (or set WARROOM_SENSE_DB_URL)');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new SensorUnavailableError('the database URL must start with postgres:// or postgresql://');
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 1000,
    application_name: 'warroom-sense',
  });
  // A dropped connection must fail the sensor, not crash the collector.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot connect to the database: ${(err as Error).message}`);
  }
  try {
    // Read-only by construction: the sensors only ever look.
    await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
    return await fn({
      async query<R extends Row>(sql: string, params?: readonly unknown[]) {
        return (await client.query(sql, params as unknown[] | undefined)).rows as R[];
      },
      async exec(sql: string) {
        await client.query(sql);
      },
    });
  } finally {
    await client.end().catch(() => {});
  }
}
