import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/db.js';
import { exportDocument, importJson } from '../../db/import.js';
import { createTestPglite } from '../helpers/db.js';

const pool = (extra: Record<string, unknown> = {}) => ({
  id: 'zd-baopan',
  name: '中登报盘',
  system: 'zd-bp',
  vip: '10.20.30.15',
  driver: 'simulated',
  nodes: [
    { id: 'zdbp-01', host: '10.20.30.11', role: 'primary', priority: 100, holdsVip: true, rack: 'A3' },
    { id: 'zdbp-02', host: '10.20.30.12', role: 'standby', priority: 90, tags: ['idc-a'] },
  ],
  ...extra,
});

describe('pools in the import format', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestPglite();
  });
  afterAll(async () => db?.close());

  it('rejects bad pools naming the path of each bad field, nested nodes included, and stores nothing', async () => {
    const bad = {
      pools: [
        pool(),
        pool({
          id: 'hq-gw',
          driver: 'ssh',
          nodes: [
            { id: 'smd-01', host: '10.20.40.21', role: 'master', priority: 1.5 },
            { id: 'smd-02', host: 'smd-02; rm -rf /', role: 'standby', healthy: 'yes' },
          ],
        }),
        pool({ id: 'empty', nodes: [] }),
        pool({ id: 'twice', nodes: [{ id: 'a', host: 'a', role: 'primary' }, { id: 'a', host: 'b', role: 'standby' }] }),
      ],
    };
    const err = await importJson(db, bad, 'pools.json').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain('pools.json:');
    expect(err?.message).toContain('pools[1].driver: Invalid enum value');
    expect(err?.message).toContain("pools[1].nodes[0].role: Invalid enum value. Expected 'primary' | 'standby', received 'master'");
    expect(err?.message).toContain('pools[1].nodes[0].priority: Expected integer, received float');
    expect(err?.message).toContain('pools[1].nodes[1].host: use letters, digits and . _ : - [ ] only');
    expect(err?.message).toContain('pools[1].nodes[1].healthy: Expected boolean, received string');
    expect(err?.message).toContain('pools[2].nodes: a pool needs at least one node');
    expect(err?.message).toContain('pools[3].nodes[1].id: duplicates nodes[0] (same id "a")');
    expect((await db.query('SELECT id FROM failover_pools')).length).toBe(0);
  });

  it('imports a pool with its nodes, exports it back, and re-importing changes nothing', async () => {
    const first = await importJson(db, { systems: [{ id: 'zd-bp', name: '中登报盘' }], pools: [pool()] });
    expect(first.counts.pools).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    expect(first.warnings).toEqual([]);
    const doc = await exportDocument(db);
    expect(doc.pools).toEqual([
      {
        id: 'zd-baopan',
        name: '中登报盘',
        system: 'zd-bp',
        vip: '10.20.30.15',
        driver: 'simulated',
        arbiterReachable: true,
        nodes: [
          { id: 'zdbp-01', host: '10.20.30.11', role: 'primary', priority: 100, healthy: true, heartbeat: true, holdsVip: true, rack: 'A3' },
          { id: 'zdbp-02', host: '10.20.30.12', role: 'standby', priority: 90, tags: ['idc-a'], healthy: true, heartbeat: true, holdsVip: false },
        ],
      },
    ]);
    const again = await importJson(db, JSON.parse(JSON.stringify(doc)));
    expect(again.counts.pools).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
  });

  it("replaces a pool's nodes as a whole: a node left out is removed, a changed one counts as an update", async () => {
    const r = await importJson(db, { pools: [pool({ nodes: [{ id: 'zdbp-01', host: '10.20.30.11', role: 'primary', holdsVip: true }, { id: 'zdbp-03', host: '10.20.30.13', role: 'standby' }] })] });
    expect(r.counts.pools).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    expect((await db.query<{ node: string }>("SELECT node FROM failover_nodes WHERE pool = 'zd-baopan' ORDER BY node")).map((x) => x.node)).toEqual(['zdbp-01', 'zdbp-03']);
  });

  it('warns about a pool whose system is unknown', async () => {
    const r = await importJson(db, { pools: [pool({ id: 'x', system: 'nope' })] });
    expect(r.warnings).toEqual(['pools[0].system: unknown system "nope"']);
  });
});
