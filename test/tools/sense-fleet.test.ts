import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderText } from '../../bot/render/text.js';
import { toolResultView } from '../../bot/views/tool-view-table.js';
import { loadConfig } from '../../core/config.js';
import type { Db } from '../../db/db.js';
import { splitCommandTemplate } from '../../tools/change-intel/fleet/ssh-driver.js';
import { parseSnapshot } from '../../tools/change-intel/fleet/validate.js';
import { snapshotSchema } from '../../tools/change-intel/snapshot.js';
import type { SenseFleetOutput } from '../../tools/change-intel/sense-fleet.js';
import { findSnapshots, storeSnapshots } from '../../tools/change-intel/snapshots-store.js';
import type { App } from '../../tools/services.js';
import { toolContext } from '../../tools/services.js';
import type { StepRunner, StepSpec, ToolContext, ToolResult } from '../../tools/tool.js';
import { createTestApp } from '../helpers/app.js';
import { createTestPglite, drivers } from '../helpers/db.js';

const CHANGE = 'CAB-20261123-017';
const TAKEN_AT = '2026-11-23T09:45:00+08:00';

/** The snapshot an agent on `host` answers with (ok-01's swappiness differs from its stored "before"). */
function agentSnapshot(host: string, takenAt = TAKEN_AT) {
  return {
    host,
    takenAt,
    label: 'baseline',
    factors: {
      'os.sysctl': [{ key: 'vm.swappiness', value: host === 'ok-01' ? '10' : '1' }],
      'os.listen': [{ key: 'tcp 0.0.0.0:9100 warroom-agent', value: { user: 'root' } }],
    },
  };
}

/**
 * One local server stands in for every host's agent: /hosts/<host>/snapshot. The host's name
 * says how it behaves: slow-* never answers in time, err-* gives 500, badjson-* sends broken JSON,
 * shape-* valid JSON that is not a snapshot, anything else a snapshot after 10–40 ms.
 */
interface Agents {
  server: Server;
  port: number;
  inFlight: number;
  maxInFlight: number;
  requests: string[];
  onRequest?: (host: string) => void;
  reset(): void;
}

async function startAgents(): Promise<Agents> {
  const agents = {
    inFlight: 0,
    maxInFlight: 0,
    requests: [] as string[],
    onRequest: undefined as ((host: string) => void) | undefined,
    reset() {
      agents.maxInFlight = 0;
      agents.requests = [];
      agents.onRequest = undefined;
    },
  };
  const server = createServer((req, res) => {
    const host = decodeURIComponent(/^\/hosts\/([^/]+)\/snapshot$/.exec(req.url ?? '')?.[1] ?? '');
    agents.requests.push(host);
    agents.inFlight++;
    agents.maxInFlight = Math.max(agents.maxInFlight, agents.inFlight);
    res.on('close', () => {
      agents.inFlight--;
      clearTimeout(timer);
    });
    agents.onRequest?.(host);
    const delay = host.startsWith('slow') ? 5000 : 10 + ((host.length * 7 + (host.charCodeAt(host.length - 1) || 0)) % 30);
    const timer = setTimeout(() => {
      if (host.startsWith('err')) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('sensor crashed: /proc unreadable');
      } else if (host.startsWith('badjson')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"host": "badjson-01", "takenAt": ');
      } else if (host.startsWith('shape')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ host, takenAt: TAKEN_AT }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(agentSnapshot(host)));
      }
    }, delay);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(agents, { server, port: (server.address() as AddressInfo).port });
}

/** A step runner like the worker's, minus the database: records the steps and the progress lines. */
function recordingRunner() {
  const steps: StepSpec[] = [];
  const progress: string[] = [];
  const runner: StepRunner = async (spec, fn) => {
    steps.push(spec);
    return fn((detail) => progress.push(detail));
  };
  return { runner, steps, progress };
}

/** Alive and not a zombie (an orphan's exit may wait for a PID 1 that does not reap, as in some containers). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${pad(i + 1)}`);

for (const driver of drivers) describe.skipIf(!driver.enabled)(`sense_fleet: collecting perception factors from a fleet, stored on ${driver.name}`, () => {
  let db: Db;
  let closeDb: () => Promise<void>;
  let app: App;
  let agents: Agents;
  let home: string;
  const actor = 'songkai';

  beforeAll(async () => {
    agents = await startAgents();
    ({ db, close: closeDb } = await driver.open());
    home = mkdtempSync(join(tmpdir(), 'warroom-fleet-test-'));
    app = await createTestApp(db, {
      env: { WARROOM_HOME: home, WARROOM_FLEET_HTTP_URL: `http://127.0.0.1:${agents.port}/hosts/{host}/snapshot`, WARROOM_FLEET_CONCURRENCY: '8', WARROOM_FLEET_TIMEOUT_SECONDS: '5' },
    });
    // The "before" of ok-01 for the change, as `warroom sense --label before` would have stored it.
    await db.transaction((tx) =>
      storeSnapshots(tx, [{ ...agentSnapshot('ok-01', '2026-11-23T08:50:00+08:00'), label: 'before', changeId: CHANGE, factors: { ...agentSnapshot('ok-01').factors, 'os.sysctl': [{ key: 'vm.swappiness', value: '60' }] } }]),
    );
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => agents.server.close(() => resolve()));
    agents.server.closeAllConnections();
    await closeDb();
  });

  const ctx = (extra: Partial<ToolContext> = {}) => toolContext(app, actor, { approvedActionId: 'ACT-TEST-1', ...extra });

  it('is a write action: without an approval it does not run', async () => {
    const r = await app.tools.invoke('sense_fleet', { hosts: ['ok-01'] }, toolContext(app, actor));
    expect(r.status).toBe('approval_required');
    expect(agents.requests).toEqual([]);
  });

  it('refuses host names that could become options, shell words or other paths', async () => {
    for (const bad of ['-oProxyCommand=touch /tmp/x', 'a;rm -rf /', 'h/../../etc', 'user@host', '']) {
      const r = await app.tools.invoke('sense_fleet', { hosts: [bad] }, ctx());
      expect(r.status, bad).toBe('error');
      expect(r.summary).toContain('Invalid input for sense_fleet: hosts');
    }
    expect(agents.requests).toEqual([]);
  });

  it('plans: hosts, driver and concurrency in one line, the steps, and a refusal when the driver is not configured', async () => {
    const tool = app.tools.get('sense_fleet')!;
    const hosts = [...names('ok', 30), 'ok-01'];
    const plan = await tool.plan!(tool.input.parse({ hosts, label: 'after', changeId: CHANGE }), ctx());
    expect(plan.summary).toBe(`Collect perception factors from 30 hosts over http, 8 at a time (after, ${CHANGE})`);
    expect(plan.steps).toEqual([
      { id: 'collect', title: 'Collect from 30 hosts over http (8 at a time, 5 s per host)' },
      { id: 'store', title: 'Store the collected snapshots for diffs' },
    ]);
    expect(plan.notes).toContain('1 duplicate host name left out.');
    expect(plan.notes!.join('\n')).toContain(`GET http://127.0.0.1:${agents.port}/hosts/{host}/snapshot`);
    await expect(tool.plan!(tool.input.parse({ hosts, driver: 'ssh' }), ctx())).rejects.toMatchObject({
      code: 'fleet_driver_unconfigured',
      message: 'The ssh fleet driver is not configured.',
      hint: expect.stringContaining('Set WARROOM_FLEET_SSH_COMMAND'),
    });
  });

  it('collects 40 hosts at 8 at a time: per-host results, exact counts, progress, stored where the diff finds them', async () => {
    agents.reset();
    const hosts = [...names('ok', 31), ...names('slow', 3), ...names('err', 3), 'badjson-01', ...names('shape', 2)];
    const rec = recordingRunner();
    const r = (await app.tools.invoke('sense_fleet', { hosts, label: 'after', changeId: CHANGE, driver: 'http', concurrency: 8, timeoutSeconds: 0.5 }, ctx({ steps: rec.runner }))) as ToolResult<SenseFleetOutput>;
    expect(r.status).toBe('success');
    const d = r.data!;
    expect({ total: d.total, ok: d.ok, failed: d.failed, timedOut: d.timedOut }).toEqual({ total: 40, ok: 31, failed: 6, timedOut: 3 });
    expect(d.hosts).toHaveLength(40);
    const byHost = new Map(d.hosts.map((h) => [h.host, h]));
    expect(byHost.get('ok-07')).toMatchObject({ status: 'ok', snapshotId: 'ok-07@2026-11-23T01:45:00.000Z' });
    for (const h of names('slow', 3)) {
      expect(byHost.get(h)).toMatchObject({ status: 'timeout', error: 'no snapshot within 0.5 s' });
      expect(byHost.get(h)!.ms).toBeGreaterThanOrEqual(450);
      expect(byHost.get(h)!.ms).toBeLessThan(2000);
    }
    expect(byHost.get('err-02')).toMatchObject({ status: 'failed', error: 'HTTP 500: sensor crashed: /proc unreadable' });
    expect(byHost.get('badjson-01')!.error).toMatch(/^invalid JSON/);
    expect(byHost.get('shape-01')!.error).toBe('not a snapshot: factors: Required');
    // Failures first, then timeouts, then the hosts collected.
    expect(d.hosts.slice(0, 9).map((h) => h.status)).toEqual([...Array(6).fill('failed'), ...Array(3).fill('timeout')]);
    expect(d.failureReasons).toContainEqual({ error: 'HTTP 500: sensor crashed: /proc unreadable', hosts: 3, example: 'err-01' });
    expect(d.failureReasons).toContainEqual({ error: 'no snapshot within 0.5 s', hosts: 3, example: 'slow-01' });
    expect(d.stored).toEqual({ inserted: 31, updated: 0, unchanged: 0 });
    expect(r.summary).toMatch(/^Collected 31\/40 hosts over http in \d+\.\d s: 31 ok, 6 failed, 3 timed out; stored 31 snapshots \(after, CAB-20261123-017\)\. Commonest failure: /);

    // Never more than 8 at the agents at once, and the 8 were used.
    expect(agents.maxInFlight).toBe(8);
    expect(agents.requests.sort()).toEqual([...hosts].sort());

    // Two steps, both safe to repeat; progress as hosts finish, counts only growing, the last one complete.
    expect(rec.steps.map((s) => [s.id, s.idempotent])).toEqual([['collect', true], ['store', true]]);
    expect(rec.progress.length).toBeGreaterThanOrEqual(2);
    expect(rec.progress.length).toBeLessThanOrEqual(20);
    const done = rec.progress.map((p) => Number(/^(\d+)\/40 hosts: \d+ ok, \d+ failed/.exec(p)?.[1]));
    expect(done.every((n, i) => n > 0 && (i === 0 || n > done[i - 1]!))).toBe(true);
    expect(rec.progress.at(-1)).toBe('40/40 hosts: 31 ok, 6 failed, 3 timed out');

    // Stored with the collection's label and change: the existing diff finds the before/after pair.
    const [after] = await findSnapshots(db, { host: 'ok-01', changeId: CHANGE, label: 'after', limit: 1 });
    expect(after).toMatchObject({ id: 'ok-01@2026-11-23T01:45:00.000Z', label: 'after', changeId: CHANGE });
    const diff = await app.tools.invoke<{ factors: Array<{ factor: string; modified: Array<{ key: string; before: unknown; after: unknown }> }> }>('diff_snapshots', { host: 'ok-01', changeId: CHANGE }, toolContext(app, actor));
    expect(diff.status).toBe('success');
    expect(diff.data!.factors).toEqual([expect.objectContaining({ factor: 'os.sysctl', modified: [{ key: 'vm.swappiness', before: '60', after: '10' }] })]);
    // Nothing left waiting in the staging folder.
    expect(readdirSync(join(home, 'fleet'))).toEqual([]);

    // What the room sees.
    const en = renderText(toolResultView(r, 'en', 'Asia/Shanghai'));
    expect(en).toContain(`■ Fleet collection of perception factors (after ${CHANGE})`);
    expect(en).toContain('40 hosts: 31 ok, 6 failed, 3 timed out.');
    expect(en).toContain('3 hosts: HTTP 500: sensor crashed: /proc unreadable (e.g. err-01)');
    expect(en).toContain('Timed out (3)');
    expect(en).toMatch(/slow-01: no snapshot within 0\.5 s \(0\.\d s\)/);
    expect(en).toContain(`Compare before/after: diff ok-01 ${CHANGE}`);
    const zh = renderText(toolResultView(r, 'zh', 'Asia/Shanghai'));
    expect(zh).toContain('40 台主机：成功 31，失败 6，超时 3。');
    expect(zh).toContain('已保存 31 份快照（新增 31，更新 0，未变 0）');
  });

  it('{fromChange}: collects from the hosts that already have snapshots for the change', async () => {
    const tool = app.tools.get('sense_fleet')!;
    const plan = await tool.plan!(tool.input.parse({ hosts: { fromChange: CHANGE }, label: 'after', changeId: CHANGE }), ctx());
    expect(plan.summary).toBe(`Collect perception factors from 31 hosts over http, 8 at a time (after, ${CHANGE})`);
    await expect(tool.plan!(tool.input.parse({ hosts: { fromChange: 'CAB-19990101-001' } }), ctx())).rejects.toThrow('No host has a snapshot for CAB-19990101-001');
  });

  it('cancelled: no host is launched after the abort, the ones in flight are stopped, nothing is stored', async () => {
    agents.reset();
    const ac = new AbortController();
    agents.onRequest = () => {
      if (agents.requests.length === 6) ac.abort(new Error('cancelled by an approver'));
    };
    const hosts = names('cx', 40);
    const t0 = Date.now();
    const r = await app.tools.invoke('sense_fleet', { hosts, changeId: 'CAB-CANCELLED-1', concurrency: 4 }, ctx({ signal: ac.signal }));
    expect(r.status).toBe('error');
    expect(r.error).toMatch(/^Fleet collection cancelled after \d+ of 40 hosts; nothing was stored\./);
    expect(Date.now() - t0).toBeLessThan(2000);
    const seen = agents.requests.length;
    expect(seen).toBeLessThanOrEqual(9);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(agents.requests.length).toBe(seen);
    expect(agents.inFlight).toBe(0);
    expect(await db.query("SELECT id FROM snapshots WHERE change_id = 'CAB-CANCELLED-1'")).toEqual([]);
    expect(readdirSync(join(home, 'fleet'))).toEqual([]);
  });

  it('resumes after a crash between the steps: the recorded collection is stored without asking the hosts again, and a repeat of the store is harmless', async () => {
    agents.reset();
    const recorded = new Map<string, unknown>();
    const input = { hosts: names('rs', 12), label: 'baseline', changeId: 'CAB-RESUME-1' };
    // First run: the worker dies as the store step begins.
    const dying: StepRunner = async (spec, fn) => {
      if (spec.id === 'store') throw new Error('worker killed');
      const result = await fn(() => undefined);
      recorded.set(spec.id, JSON.parse(JSON.stringify(result)));
      return result;
    };
    const first = await app.tools.invoke('sense_fleet', input, ctx({ steps: dying }));
    expect(first.status).toBe('error');
    expect(agents.requests).toHaveLength(12);
    expect(await db.query("SELECT id FROM snapshots WHERE change_id = 'CAB-RESUME-1'")).toEqual([]);
    // The restarted worker: "collect" is recorded, so it returns the record; "store" runs.
    const resuming: StepRunner = async (spec, fn) => {
      if (recorded.has(spec.id)) return recorded.get(spec.id) as never;
      const result = await fn(() => undefined);
      recorded.set(spec.id, JSON.parse(JSON.stringify(result)));
      return result;
    };
    const second = (await app.tools.invoke('sense_fleet', input, ctx({ steps: resuming }))) as ToolResult<SenseFleetOutput>;
    expect(second.status).toBe('success');
    expect(second.data!.stored).toEqual({ inserted: 12, updated: 0, unchanged: 0 });
    expect(agents.requests).toHaveLength(12); // nobody was asked again
    // Died after the store but before it was recorded: the store step runs again and finds them all.
    recorded.delete('store');
    const third = (await app.tools.invoke('sense_fleet', input, ctx({ steps: resuming }))) as ToolResult<SenseFleetOutput>;
    expect(third.data!.stored).toEqual({ inserted: 0, updated: 0, unchanged: 12 });
    expect(await db.query("SELECT count(*)::int AS n FROM snapshots WHERE change_id = 'CAB-RESUME-1'")).toEqual([{ n: 12 }]);
  });

  it('a huge fleet keeps exact counts and lists failures first, up to 500 hosts', async () => {
    agents.reset();
    const hosts = [...names('bulk', 560), ...names('err-bulk', 5)];
    const r = (await app.tools.invoke('sense_fleet', { hosts, concurrency: 64, timeoutSeconds: 10 }, ctx())) as ToolResult<SenseFleetOutput>;
    expect(r.data!.total).toBe(565);
    expect(r.data!.ok + r.data!.failed).toBe(565);
    expect(r.data!.failed).toBe(5);
    expect(r.data!.hosts).toHaveLength(500);
    expect(r.data!.hostsOmitted).toBe(65);
    expect(r.data!.hosts.slice(0, 5).every((h) => h.status === 'failed')).toBe(true);
    expect(agents.maxInFlight).toBeLessThanOrEqual(64);
  });
});

describe('sense_fleet drivers: drop folder and command', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestPglite();
  });
  afterAll(async () => db.close());

  it('drop: reads the newest <host>.json or <host>/*.json, and says which host left nothing or half a file', async () => {
    const drop = mkdtempSync(join(tmpdir(), 'warroom-drop-'));
    writeFileSync(join(drop, 'trd-app-01.json'), JSON.stringify(agentSnapshot('trd-app-01')));
    mkdirSync(join(drop, 'trd-app-02'));
    writeFileSync(join(drop, 'trd-app-02', 'run-1.json'), JSON.stringify(agentSnapshot('trd-app-02', '2026-11-23T08:00:00+08:00')));
    writeFileSync(join(drop, 'trd-app-02', 'run-2.json'), JSON.stringify(agentSnapshot('trd-app-02', '2026-11-23T09:30:00+08:00')));
    utimesSync(join(drop, 'trd-app-02', 'run-1.json'), new Date('2026-11-23T00:00:00Z'), new Date('2026-11-23T00:00:00Z'));
    utimesSync(join(drop, 'trd-app-02', 'run-2.json'), new Date('2026-11-23T01:30:00Z'), new Date('2026-11-23T01:30:00Z'));
    writeFileSync(join(drop, 'trd-app-03.json'), '{"host": "trd-app-03", "takenAt": "2026-11-23T09:3');
    const app = await createTestApp(db, { env: { WARROOM_HOME: mkdtempSync(join(tmpdir(), 'warroom-home-')), WARROOM_FLEET_DROP_DIR: drop } });
    const r = (await app.tools.invoke('sense_fleet', { hosts: ['trd-app-01', 'trd-app-02', 'trd-app-03', 'trd-app-04'], label: 'before', changeId: 'CAB-DROP-1' }, toolContext(app, 'songkai', { approvedActionId: 'ACT-TEST-2' }))) as ToolResult<SenseFleetOutput>;
    expect(r.data!.driver).toBe('drop');
    const byHost = new Map(r.data!.hosts.map((h) => [h.host, h]));
    expect(byHost.get('trd-app-01')!.status).toBe('ok');
    expect(byHost.get('trd-app-02')).toMatchObject({ status: 'ok', snapshotId: 'trd-app-02@2026-11-23T01:30:00.000Z' });
    expect(byHost.get('trd-app-03')!.error).toMatch(/trd-app-03\.json: invalid JSON/);
    expect(byHost.get('trd-app-04')!.error).toBe(`nothing dropped: no trd-app-04.json or trd-app-04/*.json in ${drop}`);
    const [stored] = await findSnapshots(db, { host: 'trd-app-02', changeId: 'CAB-DROP-1', label: 'before', limit: 5 });
    expect(stored!.takenAt).toBe('2026-11-23T01:30:00.000Z');
    // An old file is refused when the request sets an age limit (taken 09:30, collected 09:40).
    const fresh = (await app.tools.invoke('sense_fleet', { hosts: ['trd-app-02'], maxAgeMinutes: 5 }, toolContext(app, 'songkai', { approvedActionId: 'ACT-TEST-3' }))) as ToolResult<SenseFleetOutput>;
    expect(fresh.status).toBe('no_data');
    expect(fresh.data!.hosts[0]!.error).toBe('stale: taken at 2026-11-23T09:30:00+08:00, 10 min before the collection (limit 5 min)');
  });

  it('ssh: runs the command template per host without a shell, host as one argument, no Warroom secrets, killed on timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warroom-ssh-'));
    const script = join(dir, 'fake sensor.mjs');
    writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const host = process.argv.find((a) => a.startsWith('--host=')).slice(7);
writeFileSync(${JSON.stringify(dir)} + '/argv-' + host + '.json', JSON.stringify({ args: process.argv.slice(2), secret: process.env.WARROOM_TEST_SECRET ?? 'absent' }));
if (host === 'fail-01') { process.stderr.write('Permission denied (publickey).\\n'); process.exit(255); }
if (host === 'slow-01') {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: ['ignore', 'inherit', 'inherit'] });
  writeFileSync(${JSON.stringify(dir)} + '/grandchild.pid', String(c.pid));
  setTimeout(() => {}, 30000);
} else {
  const name = host === 'ok-02' ? 'ok-02.corp.example' : host;
  process.stdout.write(JSON.stringify({ host: name, takenAt: '2026-11-23T09:45:00+08:00', factors: { 'os.sysctl': [{ key: 'vm.swappiness', value: '1' }] } }));
}
`,
    );
    process.env.WARROOM_TEST_SECRET = 'do-not-pass';
    try {
      const template = `'${process.execPath}' '${script}' --host={host} 'a literal; $(not run)'`;
      expect(splitCommandTemplate(template)).toEqual([process.execPath, script, '--host={host}', 'a literal; $(not run)']);
      const app = await createTestApp(db, { env: { WARROOM_HOME: dir, WARROOM_FLEET_SSH_COMMAND: template } });
      const r = (await app.tools.invoke('sense_fleet', { hosts: ['ok-01', 'ok-02', 'fail-01', 'slow-01'], timeoutSeconds: 1.5 }, toolContext(app, 'songkai', { approvedActionId: 'ACT-TEST-4' }))) as ToolResult<SenseFleetOutput>;
      expect(r.data!.driver).toBe('ssh');
      const byHost = new Map(r.data!.hosts.map((h) => [h.host, h]));
      expect(byHost.get('ok-01')!.status).toBe('ok');
      // The agent called itself by its full name: stored under it, and the room is told.
      expect(byHost.get('ok-02')).toMatchObject({ status: 'ok', reportedAs: 'ok-02.corp.example', snapshotId: 'ok-02.corp.example@2026-11-23T01:45:00.000Z' });
      expect(byHost.get('fail-01')).toMatchObject({ status: 'failed', error: `${process.execPath} exited with 255: Permission denied (publickey).` });
      expect(byHost.get('slow-01')).toMatchObject({ status: 'timeout' });
      expect(JSON.parse(readFileSync(join(dir, 'argv-ok-01.json'), 'utf8'))).toEqual({ args: ['--host=ok-01', 'a literal; $(not run)'], secret: 'absent' });
      // The slow command's own child went with it (its process group was ended).
      const grandchild = Number(readFileSync(join(dir, 'grandchild.pid'), 'utf8'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(running(grandchild)).toBe(false);
      expect((await findSnapshots(db, { host: 'ok-02.corp.example' })).length).toBe(1);
    } finally {
      delete process.env.WARROOM_TEST_SECRET;
    }
  });

  it('configuration: templates without {host} are refused at start, naming the variable', () => {
    expect(() => loadConfig({ WARROOM_FLEET_HTTP_URL: 'http://agents.internal/snapshot' })).toThrow(/WARROOM_FLEET_HTTP_URL \(set\): must contain \{host\}/);
    expect(() => loadConfig({ WARROOM_FLEET_SSH_COMMAND: 'ssh trd-app-01 warroom-sensor' })).toThrow(/WARROOM_FLEET_SSH_COMMAND .*must contain \{host\}/);
    expect(loadConfig({}).WARROOM_FLEET_CONCURRENCY).toBe(32);
  });
});

describe('sense_fleet: the fast snapshot check accepts exactly what the store schema accepts', () => {
  const good = agentSnapshot('trd-app-01');
  const cases: Array<[string, unknown]> = [
    ['a snapshot', good],
    ['extra fields, dropped as the schema drops them', { ...good, agent: 'v2', factors: { 'os.sysctl': [{ key: 'vm.swappiness', value: '1', seen: 3 }] } }],
    ['null values', { ...good, factors: { 'os.sysctl': [{ key: 'a', value: null }] } }],
    ['no factors at all', { ...good, factors: {} }],
    ['a missing value', { ...good, factors: { 'os.sysctl': [{ key: 'a' }] } }],
    ['an empty key', { ...good, factors: { 'os.sysctl': [{ key: '', value: 1 }] } }],
    ['a key too long', { ...good, factors: { 'os.sysctl': [{ key: 'k'.repeat(8193), value: 1 }] } }],
    ['a bad sensor id', { ...good, factors: { OS: [{ key: 'a', value: 1 }] } }],
    ['items not a list', { ...good, factors: { 'os.sysctl': { key: 'a', value: 1 } } }],
    ['an item not an object', { ...good, factors: { 'os.sysctl': ['a'] } }],
    ['a time without offset', { ...good, takenAt: '2026-11-23T09:45:00' }],
    ['a blank host', { ...good, host: '  ' }],
    ['a padded host, trimmed', { ...good, host: '  trd-app-01 ' }],
    ['an unknown label', { ...good, label: 'later' }],
    ['not an object', [good]],
  ];
  for (const [name, doc] of cases) {
    it(name, () => {
      const zod = snapshotSchema.safeParse(doc);
      const fast = parseSnapshot(doc);
      expect(fast.success).toBe(zod.success);
      if (zod.success && fast.success) expect(fast.data).toEqual(zod.data);
    });
  }
});
