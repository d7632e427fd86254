import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARDED_COMMANDS } from '../../cli/program.js';
import type { Db } from '../../db/db.js';
import type { App } from '../../tools/services.js';
import { createDemoApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { inProcessCli } from '../helpers/cli-in-process.js';

const cli = (app: App) => inProcessCli(app, 'sunqiang');

describe('warroom failover status', () => {
  let db: Db;
  let app: App;
  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db, { runbooks: false });
  });
  afterAll(async () => db?.close());

  it('--json prints {pools: [{pool, system, primary, vip, nodes: [{node, role, healthy}]}]}, every pool without POOL', async () => {
    const all = JSON.parse(await cli(app).run(['failover', 'status', '--json'])) as { pools: Array<Record<string, unknown>> };
    expect(all.pools.map((p) => p.pool)).toEqual(['hq-gw', 'zd-baopan']);
    expect(all.pools[1]).toEqual({
      pool: 'zd-baopan',
      system: 'zd-bp',
      primary: 'zdbp-01',
      vip: '10.20.30.15',
      nodes: [
        { node: 'zdbp-01', role: 'primary', healthy: true },
        { node: 'zdbp-02', role: 'standby', healthy: true },
        { node: 'zdbp-03', role: 'standby', healthy: true },
      ],
    });
    const one = JSON.parse(await cli(app).run(['failover', 'status', '行情网关', '--json'])) as { pools: Array<{ pool: string }> };
    expect(one.pools.map((p) => p.pool)).toEqual(['hq-gw']);
  });

  it('prints a table for people, and names the known pools for an unknown one', async () => {
    const text = await cli(app).run(['failover', 'status', 'zd-baopan']);
    expect(text).toContain('中登报盘 (zd-baopan) · system zd-bp · primary zdbp-01 · VIP 10.20.30.15 · arbiter reachable');
    expect(text).toMatch(/NODE\s+HOST\s+ROLE\s+PRIORITY\s+HEALTHY\s+HEARTBEAT\s+VIP/);
    expect(text).toMatch(/zdbp-01\s+10\.20\.30\.11\s+primary\s+100\s+yes\s+ok\s+holds/);
    await expect(cli(app).run(['failover', 'status', 'nope'])).rejects.toThrow(/No failover pool matches "nope"\.\nKnown pools: 行情网关 \(hq-gw\), 中登报盘 \(zd-baopan\)/);
  });

  it('is forwarded to a running server like the other store commands', () => {
    expect(FORWARDED_COMMANDS.has('failover status')).toBe(true);
  });
});
