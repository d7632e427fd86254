import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import type { Db } from '../../db/db.js';
import { importJson } from '../../db/import.js';
import { failoverSwitchToolRef } from '../../tools/failover/failover-switch.js';
import { shellQuote } from '../../tools/failover/shell.js';
import { applyStatusUpdate } from '../../tools/failover/status-update.js';
import { toolContext, type App } from '../../tools/services.js';
import type { ToolContext } from '../../tools/tool.js';
import { createTestApp, DEMO_NOW } from '../helpers/app.js';
import { drivers } from '../helpers/db.js';
import { memorySteps } from '../helpers/memory-steps.js';
import { getText, startNameService, type NameService } from '../helpers/name-service.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Pooled failover on real loopback traffic: three services that answer with their own name, a TCP
 * proxy standing in for the VIP, and the `script` driver whose commands move the proxy's upstream
 * and start/stop the services through their HTTP controls. What a client reaches through the "VIP"
 * is the proof; the proxy's event list proves each change was applied exactly once.
 */
for (const driver of drivers) describe.skipIf(!driver.enabled)(`failover_switch on loopback with the script driver, on ${driver.name}`, { timeout: 60_000 }, () => {
  const names = ['zdbp-01', 'zdbp-02', 'zdbp-03'] as const;
  let services: Record<string, NameService>;
  let proxy: TcpProxy;
  let db: Db;
  let closeDb: () => Promise<void>;
  let app: App;
  const ctx = (extra: Partial<ToolContext> = {}) => toolContext(app, 'sunqiang', { approvedActionId: 'ACT-TEST-1', ...extra });
  const viaVip = () => getText(proxy.port);
  const primaryInStore = async () => (await db.query<{ node: string }>("SELECT node FROM failover_nodes WHERE pool = 'zd-baopan' AND role = 'primary'")).map((r) => r.node);

  beforeAll(async () => {
    services = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await startNameService(n)] as const)));
    proxy = await startTcpProxy(Object.fromEntries(names.map((n) => [n, services[n]!.port])));
    const ctl = `${shellQuote(process.execPath)} ${shellQuote(join(packageRoot, 'test', 'helpers', 'http-ctl.mjs'))}`;
    const scripts = {
      timeoutSeconds: 10,
      commands: {
        releaseVip: `${ctl} POST "${proxy.controlUrl}/vip/release?node="{node}`,
        stopService: `${ctl} POST http://{host}/stop`,
        acquireVip: `${ctl} POST "${proxy.controlUrl}/vip/acquire?node="{node}`,
        startService: `${ctl} POST http://{host}/start`,
        healthCheck: { run: `${ctl} GET http://{vip}/ {node}`, timeoutSeconds: 5 },
        whoHoldsVip: `${ctl} GET ${proxy.controlUrl}/vip`,
      },
    };
    const file = join(mkdtempSync(join(tmpdir(), 'warroom-failover-')), 'failover-scripts.json');
    writeFileSync(file, JSON.stringify(scripts, null, 2));
    ({ db, close: closeDb } = await driver.open());
    app = await createTestApp(db, { env: { WARROOM_FAILOVER_DRIVER: 'script', WARROOM_FAILOVER_SCRIPTS: file } });
  });

  beforeEach(async () => {
    for (const s of Object.values(services)) {
      await s.up();
      s.running = true;
      s.answerWith(undefined);
    }
    proxy.reset('zdbp-01');
    await importJson(db, {
      pools: [
        {
          id: 'zd-baopan',
          name: '中登报盘',
          system: 'zd-bp',
          vip: `127.0.0.1:${proxy.port}`,
          nodes: names.map((n, i) => ({ id: n, host: `127.0.0.1:${services[n]!.port}`, role: i === 0 ? 'primary' : 'standby', priority: 100 - i * 10, holdsVip: i === 0 })),
        },
      ],
    });
    expect(await viaVip()).toBe('zdbp-01');
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(Object.values(services ?? {}).map((s) => s.close()));
    await closeDb?.();
  });

  it('after the approved switch, requests through the VIP are served by the standby; each change applied once', async () => {
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan', reason: 'drill' }, ctx());
    expect(r.status, r.error).toBe('success');
    expect(r.data).toMatchObject({ from: 'zdbp-01', primary: 'zdbp-02', rolledBack: false, attempts: [{ node: 'zdbp-02', ok: true }] });
    expect(await viaVip()).toBe('zdbp-02');
    expect(proxy.calls).toEqual(['release zdbp-01', 'acquire zdbp-02']);
    expect(proxy.switches()).toBe(1);
    expect(services['zdbp-01']!.running).toBe(false);
    expect(await primaryInStore()).toEqual(['zdbp-02']);
  });

  it('a standby that answers wrongly fails its health check: the switch moves on to the next, and traffic ends there', async () => {
    services['zdbp-02']!.answerWith('zdbp-02 (stale build)');
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx());
    expect(r.status, r.error).toBe('success');
    expect(r.data!.primary).toBe('zdbp-03');
    expect(r.data!.attempts).toMatchObject([
      { node: 'zdbp-02', ok: false, failedStep: 'health-check', error: expect.stringContaining('expected "zdbp-02", got "zdbp-02 (stale build)"') },
      { node: 'zdbp-03', ok: true },
    ]);
    expect(r.data!.attempts[0]!.output).toContain('zdbp-02 (stale build)');
    expect(await viaVip()).toBe('zdbp-03');
    expect(proxy.calls).toEqual(['release zdbp-01', 'acquire zdbp-02', 'release zdbp-02', 'acquire zdbp-03']);
    expect(await primaryInStore()).toEqual(['zdbp-03']);
  });

  it('when every standby fails, it rolls back to the original primary and says so', async () => {
    services['zdbp-02']!.answerWith('wrong');
    await services['zdbp-03']!.down();
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx());
    expect(r.status).toBe('error');
    expect(r.error).toContain('the switch did not happen and was rolled back: zdbp-01 is primary again');
    expect(r.error).toMatch(/zdbp-03 \(acquire-vip: start service: exit 1: POST http:\/\/127\.0\.0\.1:\d+\/start: connect ECONNREFUSED/);
    expect(await viaVip()).toBe('zdbp-01');
    expect(proxy.calls).toEqual(['release zdbp-01', 'acquire zdbp-02', 'release zdbp-02', 'acquire zdbp-01']);
    expect(await primaryInStore()).toEqual(['zdbp-01']);
  });

  it('heartbeat lost with a healthy primary: refused at plan time (page a human), and nothing is touched', async () => {
    await applyStatusUpdate(db, { pool: 'zd-baopan', nodes: [{ node: 'zdbp-01', heartbeat: false, healthy: true }] }, DEMO_NOW);
    const tool = app.tools.get('failover_switch')!;
    await expect(tool.plan!({ pool: 'zd-baopan' }, ctx())).rejects.toThrow(/do not switch\. Tell the standbys not to take over and page a human/);
    // Even approved, the run checks again before it acts.
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx());
    expect(r.error).toContain('心跳丢失但主节点 zdbp-01 健康：不切换');
    expect(proxy.calls).toEqual([]);
    expect(await viaVip()).toBe('zdbp-01');
  });

  it('resumes after a crash right after release-vip took effect: the probe sees it, nothing is applied twice', async () => {
    const first = memorySteps(undefined, { crashAfter: 'release-vip@zdbp-01' });
    const crashed = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx({ steps: first.run }));
    expect(crashed.error).toContain('simulated crash in step release-vip@zdbp-01');
    expect(first.records.get('release-vip@zdbp-01')).toMatchObject({ status: 'running', runs: 1 });
    expect(proxy.events).toEqual(['release zdbp-01']);

    const resumed = memorySteps(first.records);
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx({ steps: resumed.run }));
    expect(r.status, r.error).toBe('success');
    expect(r.data!.primary).toBe('zdbp-02');
    expect(resumed.records.get('release-vip@zdbp-01')).toMatchObject({ status: 'done', runs: 1, probed: true });
    // Not even asked twice: the proxy saw one release and one acquire in all.
    expect(proxy.calls).toEqual(['release zdbp-01', 'acquire zdbp-02']);
    expect(proxy.switches()).toBe(1);
    expect(await viaVip()).toBe('zdbp-02');
  });

  it('resumes after a crash before release-vip took effect: the probe says not done, so it runs (once)', async () => {
    const first = memorySteps(undefined, { crashBefore: 'release-vip@zdbp-01' });
    expect((await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx({ steps: first.run }))).status).toBe('error');
    expect(proxy.calls).toEqual([]);
    const resumed = memorySteps(first.records);
    const r = await app.tools.call(failoverSwitchToolRef, { pool: 'zd-baopan' }, ctx({ steps: resumed.run }));
    expect(r.status, r.error).toBe('success');
    expect(resumed.records.get('release-vip@zdbp-01')).toMatchObject({ status: 'done', runs: 2 });
    expect(proxy.calls).toEqual(['release zdbp-01', 'acquire zdbp-02']);
    expect(await viaVip()).toBe('zdbp-02');
  });
});
