import { createHash } from 'node:crypto';
import type { Queryable } from '../../../db/db.js';
import { withPostgres } from './postgres.js';
import { SensorUnavailableError, type FactorItem, type Sensor } from './sensor.js';

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

function parseTableName(name: string): { schema: string; table: string } {
  const parts = name.split('.');
  if (parts.length === 1 && parts[0]) return { schema: 'public', table: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: parts[0], table: parts[1] };
  throw new SensorUnavailableError(`key table "${name}" is not "table" or "schema.table"`);
}

function keyPart(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Rows of key business parameter tables (margin ratios, risk rules, channel limits…), keyed by
 * the primary key: `public.rzrq_collateral_ratio[stock_code=600000]`. A changed value shows as a
 * modification of that row. Tables without a primary key are keyed by a digest of the whole row,
 * so a changed row shows as one removed and one added.
 */
export async function collectParamRows(q: Queryable, tables: string[], maxRows: number): Promise<FactorItem[]> {
  const items: FactorItem[] = [];
  for (const name of tables) {
    const { schema, table } = parseTableName(name);
    const id = `${schema}.${table}`;
    const found = await q.query<{ oid: number }>(
      `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
      [schema, table],
    );
    if (!found[0]) {
      items.push({ key: id, value: { missing: true } });
      continue;
    }
    const pk = (
      await q.query<{ name: string }>(
        `SELECT a.attname AS name
           FROM pg_index i
           JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
          WHERE i.indrelid = $1 AND i.indisprimary
          ORDER BY k.ord`,
        [found[0].oid],
      )
    ).map((r) => r.name);
    const order = pk.length ? pk.map(quoteIdent).join(', ') : '1';
    const rows = await q.query<{ r: string }>(
      `SELECT row_to_json(t)::text AS r FROM ${quoteIdent(schema)}.${quoteIdent(table)} t ORDER BY ${order} LIMIT $1`,
      [maxRows + 1],
    );
    for (const [i, row] of rows.entries()) {
      if (i === maxRows) {
        items.push({ key: id, value: { truncatedAfterRows: maxRows, hint: 'raise --max-rows or narrow the table list' } });
        break;
      }
      const value = JSON.parse(row.r) as Record<string, unknown>;
      const key = pk.length
        ? `${id}[${pk.map((c) => `${c}=${keyPart(value[c])}`).join(',')}]`
        : `${id}#${createHash('sha256').update(row.r).digest('hex').slice(0, 16)}`;
      items.push({ key, value });
    }
  }
  // Rows without a primary key may repeat exactly; they are one fact as far as a diff goes.
  const unique = new Map(items.map((it) => [it.key, it]));
  return [...unique.values()];
}

export const dbParamsSensor: Sensor = {
  id: 'db.params',
  description: 'rows of key business parameter tables (--table, over --db-url), keyed by primary key',
  default: true,
  async *collect(options): AsyncIterable<FactorItem> {
    if (options.dbUrl && options.keyTables.length === 0) throw new SensorUnavailableError('no key parameter tables: pass --table schema.table (one or more)');
    yield* await withPostgres(options.dbUrl, options.timeoutMs, (q) => collectParamRows(q, options.keyTables, options.maxRowsPerTable));
  },
};
