import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoDataFile } from '../../core/paths.js';
import { renderText } from '../../bot/render/text.js';
import { toolResultView } from '../../bot/views/tool-view-table.js';
import type { Db } from '../../db/db.js';
import { importJson } from '../../db/import.js';
import { failoverStatusTool } from '../../tools/failover/failover-status.js';
import { failoverSwitchToolRef } from '../../tools/failover/failover-switch.js';
import { toolContext, type App } from '../../tools/services.js';
import { createDemoApp, createTestApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

const approved = { approvedActionId: 'ACT-TEST-1' };

describe('failover on the demo pools (simulated driver)', () => {
  let db: Db;
  let app: App;
  const ctx = (extra = {}) => toolContext(app, 'sunqiang', extra);
  const status = async (pool?: string) => (await app.tools.call(failoverStatusTool, pool ? { pool } : {}, ctx())).data!.pools;
  const plan = (input: { pool: string; to?: string }) => app.tools.get('failover_switch')!.plan!(input, ctx());
  const report = (nodes: Array<Record<string, unknown>>, arbiterReachable?: boolean) =>
    app.db.query(
      `UPDATE failover_nodes n SET healthy = COALESCE((v->>'healthy')::boolean, n.healthy), heartbeat_ok = COALESCE((v->>'heartbeat')::boolean, n.heartbeat_ok), role = COALESCE(v->>'role', n.role)
       FROM jsonb_array_elements($1::jsonb) v WHERE n.pool = 'zd-baopan' AND n.node = v->>'node'`,
      [JSON.stringify(nodes)],
    ).then(() => (arbiterReachable === undefined ? undefined : app.db.query('UPDATE failover_pools SET arbiter_reachable = $1 WHERE id = $2', [arbiterReachable, 'zd-baopan'])));

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db, { runbooks: false });
  });
  // Each test starts from the demo's pools as shipped: importing a pool replaces its nodes' facts.
  const demoPools = (JSON.parse(readFileSync(demoDataFile, 'utf8')) as { pools: unknown[] }).pools;
  beforeEach(async () => void (await importJson(db, { pools: demoPools })));
  afterAll(async () => db?.close());

  it('failover_status shows every pool, or one by id, name or alias in any case', async () => {
    const all = await status();
    expect(all.map((p) => p.pool)).toEqual(['hq-gw', 'zd-baopan']);
    const [zd] = await status('ZDBP');
    expect(zd).toMatchObject({ pool: 'zd-baopan', name: '中登报盘', system: 'zd-bp', primary: 'zdbp-01', vip: '10.20.30.15', arbiterReachable: true, flags: [] });
    expect(zd!.nodes.map((n) => [n.node, n.role, n.priority, n.healthy, n.heartbeat, n.holdsVip])).toEqual([
      ['zdbp-01', 'primary', 100, true, true, true],
      ['zdbp-02', 'standby', 90, true, true, false],
      ['zdbp-03', 'standby', 80, true, true, false],
    ]);
    expect((await status('中登报盘'))[0]!.pool).toBe('zd-baopan');
  });

  it('an unknown pool is an error that lists the known pools', async () => {
    const r = await app.tools.call(failoverStatusTool, { pool: 'nope' }, ctx());
    expect(r.status).toBe('error');
    expect(r.error).toContain('No failover pool matches "nope"');
    expect(r.error).toContain('Known pools: 行情网关 (hq-gw), 中登报盘 (zd-baopan)');
  });

  it('renders the status on chat, with what needs attention', async () => {
    await report([{ node: 'zdbp-01', heartbeat: false }]);
    const r = await app.tools.call(failoverStatusTool, { pool: 'zd-baopan' }, ctx());
    const zh = renderText(toolResultView(r, 'zh', 'Asia/Shanghai'));
    expect(zh).toContain('中登报盘 (zd-baopan) · 主 zdbp-01 · VIP 10.20.30.15 · 仲裁可达');
    expect(zh).toContain('zdbp-01 (10.20.30.11) · ★ 主 · 优先级 100 · 健康 · ⚠ 心跳丢失 · 持有 VIP');
    expect(zh).toContain('心跳丢失但主节点健康：不要切换，请人工处理');
    const en = renderText(toolResultView(r, 'en', 'Asia/Shanghai'));
    expect(en).toContain('zdbp-02 (10.20.30.12) · standby · priority 90 · healthy · heartbeat ok');
  });

  it('plans a switch: the steps of the first standby, the fallbacks and caveats in notes', async () => {
    const p = await plan({ pool: 'zd-baopan' });
    expect(p.summary).toBe('Switch 中登报盘 (zd-baopan) primary zdbp-01 → zdbp-02');
    expect(p.system).toBe('zd-bp');
    expect(p.steps.map((s) => s.id)).toEqual(['precheck', 'release-vip@zdbp-01', 'acquire-vip@zdbp-02', 'verify-primary@zdbp-02', 'health-check@zdbp-02']);
    expect(p.notes).toContain('If zdbp-02 fails, then zdbp-03; if none takes over, roll back to zdbp-01.');
    expect(p.notes).toContain('Simulated driver: the store changes, nothing on real hosts does.');
    const to3 = await plan({ pool: 'zd-baopan', to: 'zdbp-03' });
    expect(to3.steps.map((s) => s.id)).toContain('acquire-vip@zdbp-03');
  });

  it('refuses at plan time: heartbeat lost with a healthy primary → do not switch, page a human', async () => {
    await report([{ node: 'zdbp-01', heartbeat: false }]);
    await expect(plan({ pool: 'zd-baopan' })).rejects.toThrow(/Heartbeat lost but the primary zdbp-01 of 中登报盘 \(zd-baopan\) is healthy: do not switch\. Tell the standbys not to take over and page a human\./);
    // The primary itself abnormal: now a switch is the right move.
    await report([{ node: 'zdbp-01', healthy: false }]);
    const p = await plan({ pool: 'zd-baopan' });
    expect(p.notes!.join('\n')).toContain('The primary zdbp-01 is unhealthy');
  });

  it('refuses without a healthy standby, for an unhealthy or unknown target, on split brain, and while another switch runs', async () => {
    await report([{ node: 'zdbp-02', healthy: false }, { node: 'zdbp-03', healthy: false }]);
    await expect(plan({ pool: 'zd-baopan' })).rejects.toThrow(/has no healthy standby/);
    await expect(plan({ pool: 'zd-baopan', to: 'zdbp-02' })).rejects.toThrow(/zdbp-02 is not healthy/);
    await expect(plan({ pool: 'zd-baopan', to: 'zdbp-09' })).rejects.toThrow(/has no node "zdbp-09"/);
    await expect(plan({ pool: 'zd-baopan', to: 'zdbp-01' })).rejects.toThrow(/already the primary/);
    await report([{ node: 'zdbp-02', healthy: true, role: 'primary' }]);
    await expect(plan({ pool: 'zd-baopan' })).rejects.toThrow(/zdbp-01 and zdbp-02 all claim the primary role \(split brain\)/);
    await report([{ node: 'zdbp-02', role: 'standby' }]);
    const unlock = await app.db.tryLock('failover:zd-baopan');
    await expect(plan({ pool: 'zd-baopan' })).rejects.toThrow(/A switch of 中登报盘 \(zd-baopan\) is running/);
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx(approved));
    expect(r.error).toMatch(/is running/);
    await unlock!();
  });

  it('allows a switch with the arbiter unreachable (an approved switch is manual), with a warning', async () => {
    await report([], false);
    const p = await plan({ pool: 'zd-baopan' });
    expect(p.notes!.join('\n')).toMatch(/arbiter is unreachable: automatic switching is off, and this approved switch is a manual one/);
  });

  it('needs approval; approved, switches to the first standby and updates the store', async () => {
    const asked = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx());
    expect(asked.status).toBe('approval_required');
    expect((await status('zd-baopan'))[0]!.primary).toBe('zdbp-01');
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan', reason: 'zdbp-01 ECC errors' }, ctx(approved));
    expect(r.status, r.error).toBe('success');
    expect(r.data).toMatchObject({ from: 'zdbp-01', primary: 'zdbp-02', rolledBack: false, attempts: [{ node: 'zdbp-02', ok: true }] });
    const [zd] = await status('zd-baopan');
    expect(zd!.primary).toBe('zdbp-02');
    expect(zd!.nodes.filter((n) => n.holdsVip).map((n) => n.node)).toEqual(['zdbp-02']);
    expect(zd!.flags).toEqual([]);
    expect(renderText(toolResultView(r, 'zh', 'Asia/Shanghai'))).toContain('中登报盘 已切换：zdbp-01 → zdbp-02');
  });

  it('moves on to the next standby when the first fails its health check (hq-gw: smd-02 → smd-03)', async () => {
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'hq-gw' }, ctx(approved));
    expect(r.status, r.error).toBe('success');
    expect(r.data!.primary).toBe('smd-03');
    expect(r.data!.attempts).toMatchObject([
      { node: 'smd-02', ok: false, failedStep: 'health-check', error: expect.stringContaining('simulated failure') },
      { node: 'smd-03', ok: true },
    ]);
    const [hq] = await status('hq-gw');
    expect(hq!.nodes.map((n) => [n.node, n.role, n.healthy, n.holdsVip])).toEqual([
      ['smd-03', 'primary', true, true],
      ['smd-01', 'standby', true, false],
      ['smd-02', 'standby', false, false],
    ]);
  });

  it('rolls back to the old primary when no standby takes over, and says so in the error', async () => {
    await app.db.query("UPDATE failover_nodes SET simulate_failure = 'start-service' WHERE node = 'smd-03'");
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'hq-gw' }, ctx(approved));
    expect(r.status).toBe('error');
    expect(r.error).toContain('行情网关 (hq-gw): the switch did not happen and was rolled back: smd-01 is primary again.');
    expect(r.error).toContain('Tried: smd-02 (health-check: health check: smd-02 does not answer through the VIP (simulated failure)); smd-03 (acquire-vip: start service: the service on smd-03 did not start (simulated failure))');
    const [hq] = await status('hq-gw');
    expect(hq!.primary).toBe('smd-01');
    expect(hq!.nodes.filter((n) => n.holdsVip).map((n) => n.node)).toEqual(['smd-01']);
  });
});

describe('failover drivers', () => {
  it('a pool naming no driver cannot be switched unless WARROOM_FAILOVER_DRIVER is set', async () => {
    const db = await createTestPglite();
    try {
      const app = await createTestApp(db);
      await importJson(db, { pools: [{ id: 'p', name: 'P', system: 's', vip: '10.0.0.1', nodes: [{ id: 'a', host: 'a', role: 'primary', holdsVip: true }, { id: 'b', host: 'b', role: 'standby' }] }] });
      await expect(app.tools.get('failover_switch')!.plan!({ pool: 'p' }, toolContext(app, 'x'))).rejects.toThrow(/No failover driver for P \(p\)/);
      const sim = await createTestApp(db, { env: { WARROOM_FAILOVER_DRIVER: 'simulated' } });
      expect((await sim.tools.get('failover_switch')!.plan!({ pool: 'p' }, toolContext(sim, 'x'))).summary).toBe('Switch P (p) primary a → b');
      await expect(createTestApp(db, { env: { WARROOM_FAILOVER_DRIVER: 'script' } })).rejects.toThrow(/WARROOM_FAILOVER_DRIVER=script needs WARROOM_FAILOVER_SCRIPTS/);
    } finally {
      await db.close();
    }
  });
});
