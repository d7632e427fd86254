import type { ZodIssue } from 'zod';
import { WarroomError } from '../core/errors.js';
import { findInvalidText } from '../core/text.js';
import { formatZoned } from '../core/time.js';
import type { Db, Queryable, Row } from './db.js';
import { recordKinds, recordSchemas, type ImportDocument, type RecordKind } from './records.js';

type ColumnKind = 'text' | 'text[]' | 'jsonb' | 'timestamptz' | 'boolean' | 'integer';
interface FieldSpec {
  field: string;
  column: string;
  kind: ColumnKind;
}
interface TableSpec {
  table: string;
  fields: FieldSpec[];
  /** Records without an id of their own get one derived from their parts. */
  deriveId?: (item: Record<string, unknown>) => string;
  /** Defaults that depend on other fields, applied before the upsert. */
  withDefaults?: (item: Record<string, unknown>) => Record<string, unknown>;
  orderBy: string;
  /**
   * Items nested in each record (a pool's nodes), kept in their own table and replaced as a whole:
   * nested items missing from an import are deleted. `parentField` is the child's field naming its parent.
   */
  children?: { field: string; spec: TableSpec; parentField: string };
}

const f = (field: string, column: string, kind: ColumnKind = 'text'): FieldSpec => ({ field, column, kind });

/** How each array of the import format maps onto its table. Export uses the same map backwards. */
export const tableSpecs: Record<RecordKind, TableSpec> = {
  systems: {
    table: 'systems',
    fields: [f('id', 'id'), f('name', 'name'), f('aliases', 'aliases', 'text[]'), f('tier', 'tier'), f('dependsOn', 'depends_on', 'text[]'), f('owners', 'owners', 'jsonb')],
    orderBy: 'id',
  },
  people: {
    table: 'people',
    fields: [f('id', 'id'), f('name', 'name'), f('slack', 'slack'), f('wecom', 'wecom'), f('roles', 'roles', 'text[]')],
    orderBy: 'id',
  },
  oncall: {
    table: 'oncall',
    fields: [f('system', 'system'), f('role', 'role'), f('person', 'person'), f('from', 'starts_at', 'timestamptz'), f('to', 'ends_at', 'timestamptz')],
    deriveId: (r) => [r.system, r.role, r.person, r.from ? new Date(String(r.from)).toISOString() : ''].join('|'),
    orderBy: 'system, role, starts_at NULLS FIRST, person',
  },
  changes: {
    table: 'changes',
    fields: [
      f('id', 'id'),
      f('title', 'title'),
      f('system', 'system'),
      f('risk', 'risk'),
      f('status', 'status'),
      f('plannedStart', 'planned_start', 'timestamptz'),
      f('plannedEnd', 'planned_end', 'timestamptz'),
      f('executor', 'executor'),
      f('reviewer', 'reviewer'),
      f('objects', 'objects', 'text[]'),
      f('rollbackPlan', 'rollback_plan'),
    ],
    orderBy: 'planned_start NULLS FIRST, id',
  },
  changeEvents: {
    table: 'change_events',
    fields: [
      f('id', 'id'),
      f('at', 'at', 'timestamptz'),
      f('scene', 'scene'),
      f('operator', 'operator'),
      f('system', 'system'),
      f('environment', 'environment'),
      f('action', 'action'),
      f('object', 'object'),
      f('changeId', 'change_id'),
      f('source', 'source'),
    ],
    orderBy: 'at, id',
  },
  alerts: {
    table: 'alerts',
    fields: [
      f('id', 'id'),
      f('fingerprint', 'fingerprint'),
      f('system', 'system'),
      f('severity', 'severity'),
      f('title', 'title'),
      f('startsAt', 'starts_at', 'timestamptz'),
      f('endsAt', 'ends_at', 'timestamptz'),
      f('labels', 'labels', 'jsonb'),
    ],
    orderBy: 'starts_at, id',
  },
  incidents: {
    table: 'incidents',
    fields: [
      f('id', 'id'),
      f('title', 'title'),
      f('system', 'system'),
      f('severity', 'severity'),
      f('status', 'status'),
      f('openedAt', 'opened_at', 'timestamptz'),
      f('resolvedAt', 'resolved_at', 'timestamptz'),
      f('summary', 'summary'),
      f('rootCause', 'root_cause'),
      f('resolution', 'resolution'),
      f('changeIds', 'change_ids', 'text[]'),
    ],
    // Past incidents arrive with resolvedAt and no status: they are resolved.
    withDefaults: (r) => ({ ...r, status: r.status ?? (r.resolvedAt ? 'resolved' : 'investigating') }),
    orderBy: 'opened_at, id',
  },
  pools: {
    table: 'failover_pools',
    fields: [
      f('id', 'id'),
      f('name', 'name'),
      f('aliases', 'aliases', 'text[]'),
      f('system', 'system'),
      f('vip', 'vip'),
      f('driver', 'driver'),
      f('arbiterReachable', 'arbiter_reachable', 'boolean'),
      f('arbiterCheckedAt', 'arbiter_checked_at', 'timestamptz'),
    ],
    withDefaults: (r) => ({ ...r, arbiterReachable: r.arbiterReachable ?? true }),
    orderBy: 'id',
    children: {
      field: 'nodes',
      parentField: 'pool',
      spec: {
        table: 'failover_nodes',
        fields: [
          f('pool', 'pool'),
          f('id', 'node'),
          f('host', 'host'),
          f('role', 'role'),
          f('priority', 'priority', 'integer'),
          f('tags', 'tags', 'text[]'),
          f('healthy', 'healthy', 'boolean'),
          f('heartbeat', 'heartbeat_ok', 'boolean'),
          f('lastSeen', 'last_seen', 'timestamptz'),
          f('holdsVip', 'holds_vip', 'boolean'),
          f('simulateFailure', 'simulate_failure'),
        ],
        deriveId: (r) => `${String(r.pool)}/${String(r.id)}`,
        withDefaults: (r) => ({ ...r, priority: r.priority ?? 100, healthy: r.healthy ?? true, heartbeat: r.heartbeat ?? true, holdsVip: r.holdsVip ?? false }),
        orderBy: 'pool, priority DESC, node',
      },
    },
  },
};

export interface ImportProblem {
  /** e.g. `changes[3].risk` */
  path: string;
  message: string;
}

export interface ImportCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface ImportReport {
  counts: Partial<Record<RecordKind, ImportCounts>>;
  warnings: string[];
}

const MAX_REPORTED_PROBLEMS = 20;

function formatIssuePath(kind: string, index: number, issue: ZodIssue): string {
  let p = `${kind}[${index}]`;
  for (const seg of issue.path) p += typeof seg === 'number' ? `[${seg}]` : `.${seg}`;
  return p;
}

/**
 * Validate a whole document. Returns the parsed records, or throws one error listing every bad
 * field (array, index and field), so nothing is written from a file with any bad item.
 */
export function validateDocument(doc: unknown, fileLabel = 'document'): ImportDocument {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new WarroomError('import_invalid', `${fileLabel}: expected a JSON object with arrays such as "systems" or "changes"`);
  }
  const problems: ImportProblem[] = [];
  const out: Record<string, unknown[]> = {};
  const known = new Set<string>(recordKinds);
  for (const key of Object.keys(doc)) {
    if (!known.has(key)) problems.push({ path: key, message: `unknown array; expected one of ${recordKinds.join(', ')}` });
  }
  for (const kind of recordKinds) {
    const value = (doc as Record<string, unknown>)[kind];
    if (value === undefined) continue;
    if (!Array.isArray(value)) {
      problems.push({ path: kind, message: 'must be an array' });
      continue;
    }
    const schema = recordSchemas[kind];
    const seen = new Map<string, number>();
    const items: unknown[] = [];
    value.forEach((item, index) => {
      // NUL, control characters and lone surrogates: PostgreSQL would refuse them mid-import.
      const bad = findInvalidText(item, `${kind}[${index}]`);
      if (bad) {
        problems.push({ path: bad.path, message: `${bad.inKey ? 'a key contains' : 'contains'} ${bad.what} (${bad.codePoint}) at position ${bad.index}` });
        return;
      }
      const parsed = schema.safeParse(item);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push({ path: formatIssuePath(kind, index, issue), message: issue.message });
        return;
      }
      const data = parsed.data as Record<string, unknown>;
      const key = tableSpecs[kind].deriveId?.(data) ?? String(data.id);
      const first = seen.get(key);
      if (first !== undefined) problems.push({ path: `${kind}[${index}]`, message: `duplicates ${kind}[${first}] (same id "${key}")` });
      else seen.set(key, index);
      items.push(data);
    });
    out[kind] = items;
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS).map((p) => `  ${p.path}: ${p.message}`);
    if (problems.length > MAX_REPORTED_PROBLEMS) shown.push(`  … and ${problems.length - MAX_REPORTED_PROBLEMS} more`);
    throw new WarroomError('import_invalid', `${fileLabel}: ${problems.length} invalid field(s); nothing was imported:\n${shown.join('\n')}`, {
      hint: 'Fix the fields named above and import the file again. The formats are described in README.md ("Import format").',
    });
  }
  return out as ImportDocument;
}

function toColumnValue(kind: ColumnKind, value: unknown): unknown {
  if (value === undefined || value === null) {
    if (kind === 'text[]') return [];
    if (kind === 'jsonb') return '{}';
    return null;
  }
  if (kind === 'jsonb') return JSON.stringify(value);
  if (kind === 'timestamptz') return new Date(String(value)).toISOString();
  return value;
}

function castFor(kind: ColumnKind): string {
  return kind === 'text' ? '' : `::${kind}`;
}

/** Upsert one record; returns whether it was inserted, updated or already identical. */
async function upsert(tx: Queryable, spec: TableSpec, given: Record<string, unknown>): Promise<keyof ImportCounts> {
  const item = spec.withDefaults ? spec.withDefaults(given) : given;
  const knownFields = new Set([...spec.fields.map((x) => x.field), ...(spec.children ? [spec.children.field] : [])]);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!knownFields.has(k)) extra[k] = v;

  const columns: string[] = [];
  const values: unknown[] = [];
  const placeholders: string[] = [];
  const add = (column: string, value: unknown, cast: string) => {
    columns.push(column);
    values.push(value);
    placeholders.push(`$${values.length}${cast}`);
  };
  if (spec.deriveId) add('id', spec.deriveId(item), '');
  for (const field of spec.fields) add(field.column, toColumnValue(field.kind, item[field.field]), castFor(field.kind));
  add('extra', JSON.stringify(extra), '::jsonb');

  const updatable = columns.filter((c) => c !== 'id');
  const sql = `INSERT INTO ${spec.table} (${columns.join(', ')}) VALUES (${placeholders.join(', ')})
    ON CONFLICT (id) DO UPDATE SET ${updatable.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = now()
    WHERE (${updatable.map((c) => `${spec.table}.${c}`).join(', ')}) IS DISTINCT FROM (${updatable.map((c) => `EXCLUDED.${c}`).join(', ')})
    RETURNING (xmax = 0) AS inserted`;
  const rows = await tx.query<{ inserted: boolean }>(sql, values);
  const outcome: keyof ImportCounts = rows.length === 0 ? 'unchanged' : rows[0]?.inserted ? 'inserted' : 'updated';
  if (!spec.children) return outcome;
  const childrenChanged = await replaceChildren(tx, spec.children, String(item.id), (item[spec.children.field] as Record<string, unknown>[] | undefined) ?? []);
  return outcome === 'unchanged' && childrenChanged ? 'updated' : outcome;
}

/** Upsert a record's nested items and delete those it no longer lists; true when any changed. */
async function replaceChildren(tx: Queryable, children: NonNullable<TableSpec['children']>, parentId: string, items: Record<string, unknown>[]): Promise<boolean> {
  const { spec, parentField } = children;
  let changed = false;
  const ids: string[] = [];
  for (const child of items) {
    const item = { ...child, [parentField]: parentId };
    ids.push(spec.deriveId ? spec.deriveId(item) : String(item.id));
    if ((await upsert(tx, spec, item)) !== 'unchanged') changed = true;
  }
  const parentColumn = spec.fields.find((x) => x.field === parentField)!.column;
  const gone = await tx.query(`DELETE FROM ${spec.table} WHERE ${parentColumn} = $1 AND NOT (id = ANY($2::text[])) RETURNING id`, [parentId, ids]);
  return changed || gone.length > 0;
}

/** Referenced ids that do not exist: worth a warning, not a rejection (ITSM knows systems we may not). */
async function referenceWarnings(tx: Queryable, doc: ImportDocument): Promise<string[]> {
  const systems = new Set((await tx.query<{ id: string }>('SELECT id FROM systems')).map((r) => r.id));
  const people = new Set((await tx.query<{ id: string }>('SELECT id FROM people')).map((r) => r.id));
  const warnings: string[] = [];
  const checkSystem = (where: string, sys: string) => {
    if (!systems.has(sys)) warnings.push(`${where}: unknown system "${sys}"`);
  };
  doc.systems?.forEach((s, i) => s.dependsOn?.forEach((d) => checkSystem(`systems[${i}].dependsOn`, d)));
  doc.oncall?.forEach((o, i) => {
    checkSystem(`oncall[${i}].system`, o.system);
    if (!people.has(o.person)) warnings.push(`oncall[${i}].person: unknown person "${o.person}"`);
  });
  doc.changes?.forEach((c, i) => checkSystem(`changes[${i}].system`, c.system));
  doc.changeEvents?.forEach((e, i) => checkSystem(`changeEvents[${i}].system`, e.system));
  doc.alerts?.forEach((a, i) => checkSystem(`alerts[${i}].system`, a.system));
  doc.incidents?.forEach((x, i) => checkSystem(`incidents[${i}].system`, x.system));
  doc.pools?.forEach((p, i) => checkSystem(`pools[${i}].system`, p.system));
  return warnings.length > 10 ? [...warnings.slice(0, 10), `… and ${warnings.length - 10} more unknown references`] : warnings;
}

/** Import a validated document in one transaction. */
export async function importDocument(db: Db, doc: ImportDocument): Promise<ImportReport> {
  return db.transaction(async (tx) => {
    const report: ImportReport = { counts: {}, warnings: [] };
    // Order matters only for the warnings: systems and people first.
    for (const kind of recordKinds) {
      const items = doc[kind] as Record<string, unknown>[] | undefined;
      if (!items) continue;
      const counts: ImportCounts = { inserted: 0, updated: 0, unchanged: 0 };
      for (const item of items) counts[await upsert(tx, tableSpecs[kind], item)]++;
      report.counts[kind] = counts;
    }
    report.warnings = await referenceWarnings(tx, doc);
    return report;
  });
}

/** Validate then import; the single entry point for files, webhooks and the demo. */
export async function importJson(db: Db, doc: unknown, fileLabel?: string): Promise<ImportReport> {
  return importDocument(db, validateDocument(doc, fileLabel));
}

function fromColumnValue(kind: ColumnKind, value: unknown, timeZone: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (kind === 'timestamptz') return formatZoned(value instanceof Date ? value : new Date(String(value)), timeZone);
  if (kind === 'text[]') return Array.isArray(value) && value.length > 0 ? value : undefined;
  if (kind === 'jsonb') return value && typeof value === 'object' && Object.keys(value).length > 0 ? value : undefined;
  return value;
}

/** One table's rows in the import format, with nested items under their parent. */
async function exportTable(db: Db, spec: TableSpec, timeZone: string): Promise<Record<string, unknown>[]> {
  const rows = await db.query<Row>(`SELECT * FROM ${spec.table} ORDER BY ${spec.orderBy}`);
  const nested = new Map<string, Record<string, unknown>[]>();
  if (spec.children) {
    const { parentField } = spec.children;
    for (const child of await exportTable(db, spec.children.spec, timeZone)) {
      const { [parentField]: parent, ...rest } = child;
      nested.set(String(parent), [...(nested.get(String(parent)) ?? []), rest]);
    }
  }
  return rows.map((row) => {
    const item: Record<string, unknown> = { ...((row.extra as Record<string, unknown> | null) ?? {}) };
    for (const field of spec.fields) {
      const v = fromColumnValue(field.kind, row[field.column], timeZone);
      if (v !== undefined) item[field.field] = v;
    }
    if (spec.children) item[spec.children.field] = nested.get(String(row.id)) ?? [];
    return item;
  });
}

/** Everything in the store, in the import format (times in the exchange's zone). */
export async function exportDocument(db: Db, timeZone = 'Asia/Shanghai'): Promise<ImportDocument> {
  const doc: Record<string, unknown[]> = {};
  for (const kind of recordKinds) doc[kind] = await exportTable(db, tableSpecs[kind], timeZone);
  return doc as ImportDocument;
}
