import { createHash } from 'node:crypto';
import type { Queryable } from '../../../db/db.js';
import { withPostgres } from './postgres.js';
import type { FactorItem, Sensor } from './sensor.js';

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`;

const relKinds: Record<string, string> = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table' };

const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/**
 * Tables, columns, indexes, constraints, triggers and functions of the user schemas. Keys name the
 * object (`column public.orders.price`); values hold its definition, so a changed type, default,
 * index or trigger shows as a modification. Function and view bodies are digested.
 */
export async function collectSchema(q: Queryable): Promise<FactorItem[]> {
  const items: FactorItem[] = [];
  const rels = await q.query<{ schema: string; name: string; kind: string; owner: string; viewdef: string | null }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, pg_get_userbyid(c.relowner) AS owner,
            CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS viewdef
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND ${USER_SCHEMAS}`,
  );
  for (const r of rels) {
    items.push({ key: `table ${r.schema}.${r.name}`, value: { kind: relKinds[r.kind] ?? r.kind, owner: r.owner, ...(r.viewdef ? { definitionSha256: digest(r.viewdef) } : {}) } });
  }
  const cols = await q.query<{ schema: string; tbl: string; name: string; type: string; notnull: boolean; def: string | null }>(
    `SELECT n.nspname AS schema, c.relname AS tbl, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS def
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND ${USER_SCHEMAS}`,
  );
  for (const c of cols) items.push({ key: `column ${c.schema}.${c.tbl}.${c.name}`, value: { type: c.type, nullable: !c.notnull, default: c.def } });
  const idx = await q.query<{ schema: string; name: string; tbl: string; def: string }>(
    `SELECT n.nspname AS schema, ci.relname AS name, ct.relname AS tbl, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i
       JOIN pg_class ci ON ci.oid = i.indexrelid
       JOIN pg_class ct ON ct.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = ci.relnamespace
      WHERE NOT ct.relispartition AND ${USER_SCHEMAS}`,
  );
  for (const i of idx) items.push({ key: `index ${i.schema}.${i.name}`, value: { table: i.tbl, definition: i.def } });
  const cons = await q.query<{ schema: string; tbl: string; name: string; type: string; def: string }>(
    `SELECT n.nspname AS schema, c.relname AS tbl, k.conname AS name, k.contype::text AS type, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT c.relispartition AND ${USER_SCHEMAS}`,
  );
  const conTypes: Record<string, string> = { p: 'primary key', u: 'unique', f: 'foreign key', c: 'check', x: 'exclusion', t: 'trigger', n: 'not null' };
  for (const k of cons) items.push({ key: `constraint ${k.schema}.${k.tbl}.${k.name}`, value: { type: conTypes[k.type] ?? k.type, definition: k.def } });
  const trg = await q.query<{ schema: string; tbl: string; name: string; def: string; enabled: string }>(
    `SELECT n.nspname AS schema, c.relname AS tbl, t.tgname AS name, pg_get_triggerdef(t.oid) AS def, t.tgenabled::text AS enabled
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND ${USER_SCHEMAS}`,
  );
  const enabled: Record<string, string> = { O: 'origin', D: 'disabled', R: 'replica', A: 'always' };
  for (const t of trg) items.push({ key: `trigger ${t.schema}.${t.tbl}.${t.name}`, value: { definition: t.def, enabled: enabled[t.enabled] ?? t.enabled } });
  const fns = await q.query<{ schema: string; name: string; args: string; result: string; lang: string; src: string }>(
    `SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args,
            pg_get_function_result(p.oid) AS result, l.lanname AS lang, coalesce(p.prosrc, '') AS src
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
       JOIN pg_language l ON l.oid = p.prolang
      WHERE ${USER_SCHEMAS} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
  );
  for (const f of fns) items.push({ key: `function ${f.schema}.${f.name}(${f.args})`, value: { returns: f.result, language: f.lang, bodySha256: digest(f.src) } });
  return items;
}

export const dbSchemaSensor: Sensor = {
  id: 'db.schema',
  description: 'PostgreSQL structure: tables, columns, indexes, constraints, triggers, functions (over --db-url)',
  default: true,
  async *collect(options): AsyncIterable<FactorItem> {
    yield* await withPostgres(options.dbUrl, options.timeoutMs, collectSchema);
  },
};
