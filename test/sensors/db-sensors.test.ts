import { describe, expect, it } from 'vitest';
import type { Queryable } from '../../db/db.js';
import { DiffTally, diffFactor } from '../../tools/change-intel/diff/engine.js';
import { NoiseRules } from '../../tools/change-intel/diff/noise.js';
import { collectParamRows } from '../../tools/change-intel/sensors/db-params.js';
import { collectSchema } from '../../tools/change-intel/sensors/db-schema.js';
import { takeSnapshot } from '../../tools/change-intel/snapshot.js';
import { createTestPglite, createTestPostgres, runPostgres } from '../helpers/db.js';

const SETUP = `
  CREATE SCHEMA trade;
  CREATE TABLE trade.rzrq_collateral_ratio (stock_code text PRIMARY KEY, ratio numeric(5,2) NOT NULL, note text);
  CREATE TABLE trade.orders (id bigserial PRIMARY KEY, cust_no text NOT NULL, price numeric(12,3));
  CREATE INDEX orders_cust_idx ON trade.orders (cust_no);
  CREATE TABLE trade.fee_rules (channel text, rate numeric);
  CREATE FUNCTION trade.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE TRIGGER orders_touch BEFORE UPDATE ON trade.orders FOR EACH ROW EXECUTE FUNCTION trade.touch();
  INSERT INTO trade.rzrq_collateral_ratio VALUES ('600000', 0.70, NULL), ('000001', 0.65, 'bank');
  INSERT INTO trade.fee_rules VALUES ('mobile', 0.0003), ('counter', 0.0005);
`;

const CHANGE = `
  ALTER TABLE trade.orders ADD COLUMN channel text DEFAULT 'mobile';
  DROP INDEX trade.orders_cust_idx;
  CREATE INDEX orders_cust_idx ON trade.orders (cust_no, id);
  ALTER TABLE trade.orders DISABLE TRIGGER orders_touch;
  UPDATE trade.rzrq_collateral_ratio SET ratio = 0.60 WHERE stock_code = '600000';
  UPDATE trade.fee_rules SET rate = 0.0004 WHERE channel = 'mobile';
`;

const ours = (items: Array<{ key: string; value: unknown }>) => items.filter((i) => /\btrade\./.test(i.key));

async function schemaAndParams(q: Queryable) {
  return {
    schema: ours(await collectSchema(q)),
    params: await collectParamRows(q, ['trade.rzrq_collateral_ratio', 'trade.fee_rules', 'trade.missing_table'], 1000),
  };
}

function checkDiff(before: Awaited<ReturnType<typeof schemaAndParams>>, after: Awaited<ReturnType<typeof schemaAndParams>>) {
  const tally = new DiffTally();
  const schema = diffFactor('db.schema', before.schema, after.schema, new NoiseRules(), tally)!;
  expect(schema.added).toEqual([{ key: 'column trade.orders.channel', value: { type: 'text', nullable: true, default: "'mobile'::text" } }]);
  expect(schema.removed).toEqual([]);
  expect(schema.modified.map((m) => m.key)).toEqual(['index trade.orders_cust_idx', 'trigger trade.orders.orders_touch']);
  expect(schema.modified[1]).toMatchObject({ before: { enabled: 'origin' }, after: { enabled: 'disabled' } });
  const params = diffFactor('db.params', before.params, after.params, new NoiseRules(), tally)!;
  expect(params.modified).toEqual([{ key: 'trade.rzrq_collateral_ratio[stock_code=600000]', before: { stock_code: '600000', ratio: 0.7, note: null }, after: { stock_code: '600000', ratio: 0.6, note: null } }]);
  // No primary key: the changed row is keyed by its content, so it shows as one removed and one added.
  expect(params.removed.map((r) => r.value)).toEqual([{ channel: 'mobile', rate: 0.0003 }]);
  expect(params.added.map((r) => r.value)).toEqual([{ channel: 'mobile', rate: 0.0004 }]);
}

describe('database sensors on PGlite (the same SQL as PostgreSQL)', () => {
  it('see tables, columns, indexes, constraints, triggers and functions, and rows of key parameter tables', async () => {
    const db = await createTestPglite();
    try {
      await db.exec(SETUP);
      const before = await schemaAndParams(db);
      const keys = before.schema.map((i) => i.key);
      expect(keys).toEqual(
        expect.arrayContaining([
          'table trade.orders',
          'column trade.orders.price',
          'index trade.orders_cust_idx',
          'constraint trade.orders.orders_pkey',
          'trigger trade.orders.orders_touch',
          'function trade.touch()',
        ]),
      );
      expect(before.schema.find((i) => i.key === 'column trade.orders.price')?.value).toEqual({ type: 'numeric(12,3)', nullable: true, default: null });
      expect(before.params.find((i) => i.key === 'trade.missing_table')?.value).toEqual({ missing: true });
      expect(before.params.filter((i) => i.key.startsWith('trade.fee_rules#'))).toHaveLength(2);
      await db.exec(CHANGE);
      checkDiff(before, await schemaAndParams(db));
    } finally {
      await db.close();
    }
  });
});

describe('database sensors without a database', () => {
  it('are skipped with the reason, and the rest of the snapshot is taken', async () => {
    const { snapshot, runs } = await takeSnapshot({ sensors: ['db.schema', 'db.params', 'k8s.resource', 'os.sysctl'] });
    expect(snapshot.skipped).toEqual({
      'db.params': expect.stringContaining('no database URL'),
      'db.schema': expect.stringContaining('no database URL'),
      'k8s.resource': expect.stringContaining('--kube-json'),
    });
    expect(Object.keys(snapshot.factors)).toEqual(['os.sysctl']);
    expect(runs.find((r) => r.sensor === 'os.sysctl')?.items).toBeGreaterThan(0);
  });

  it('say so when the database cannot be reached', async () => {
    const { snapshot } = await takeSnapshot({ sensors: ['db.schema'], dbUrl: 'postgres://nobody@127.0.0.1:1/none', timeoutMs: 2000 });
    expect(snapshot.skipped?.['db.schema']).toMatch(/^failed: cannot connect to the database/);
  });
});

describe.skipIf(!runPostgres)('database sensors on real PostgreSQL, through a connection string', () => {
  it('collect over --db-url and see the change', async () => {
    const pg = await createTestPostgres();
    try {
      await pg.db.exec(SETUP);
      const sense = async () => {
        const { snapshot } = await takeSnapshot({ sensors: ['db.schema', 'db.params'], dbUrl: pg.url, keyTables: ['trade.rzrq_collateral_ratio', 'trade.fee_rules', 'trade.missing_table'] });
        expect(snapshot.skipped).toBeUndefined();
        return { schema: ours(snapshot.factors['db.schema']!), params: snapshot.factors['db.params']! };
      };
      const before = await sense();
      await pg.db.exec(CHANGE);
      checkDiff(before, await sense());
    } finally {
      await pg.drop();
    }
  });
});
