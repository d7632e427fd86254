import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import { createPgliteDb } from '../../db/pglite.js';

const cli = join(packageRoot, 'cli', 'main.ts');

/** Run `warroom …` as a user would (from the sources, through tsx), with its own WARROOM_HOME. */
function warroom(home: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Asynchronous, so a slow command does not block the test worker (Vitest's RPC times out on a blocked worker).
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: '', WARROOM_HOME: home, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const home = () => mkdtempSync(join(tmpdir(), 'warroom-cli-'));
// Each test starts several processes that open an embedded database: minutes, not seconds, on a busy 2-core machine.
const slow = { timeout: 180_000 };

describe('warroom CLI', slow, () => {
  it('declares from `ask` (no chat platform: recorded, no room) and prints the postmortem draft', async () => {
    const h = home();
    expect((await warroom(h, ['demo', '--no-shift'])).code).toBe(0);
    const at = ['--at', '2026-11-23T09:40:00+08:00'];
    const declared = await warroom(h, ['ask', ...at, '--as', 'xieping', '/incident declare P2 集中交易 开盘委托大量失败 --since 09:20']);
    expect(declared.code).toBe(0);
    const id = /INC-20261123-\d{3}/.exec(declared.stdout)?.[0];
    expect(id, declared.stdout).toBeDefined();
    expect(declared.stdout).toMatch(/没有可用的聊天平台：未建群/);
    expect((await warroom(h, ['ask', '--at', '2026-11-23T10:05:00+08:00', '--as', 'xieping', `/incident resolve ${id} 回退连接池参数`])).code).toBe(0);
    const pm = await warroom(h, ['postmortem', id!]);
    expect(pm.code).toBe(0);
    expect(pm.stdout).toContain(`# 故障复盘: ${id} P2 集中交易 — 开盘委托大量失败`);
    // Stage times count from the onset the declarer gave (09:20), not from the declaration (09:40).
    expect(pm.stdout).toMatch(/\| 起始 → 申报 \| 2026-11-23 09:20:00 \| 20 分钟 \|/);
    expect(pm.stdout).toMatch(/\| 恢复 \| 2026-11-23 10:05:00 \| 45 分钟 \|/);
    const future = await warroom(h, ['ask', ...at, '--as', 'xieping', '/incident declare P2 集中交易 委托慢 --since 2026-11-23T11:00:00+08:00']);
    expect(future.stdout).toMatch(/不是过去的时刻/);
    const missing = await warroom(h, ['postmortem', 'INC-20990101-001']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No incident INC-20990101-001/);
  });

  it('loads the demo and answers the change question for a pinned Monday', async () => {
    const h = home();
    const demo = await warroom(h, ['demo', '--no-shift']);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/changes\s+\d+ new/);
    const ask = await warroom(h, ['ask', '--at', '2026-11-23T09:40:00+08:00', '集中交易最近3个交易日有哪些变更']);
    expect(ask.code).toBe(0);
    expect(ask.stdout).toContain('CAB-20261120-003');
    expect(ask.stdout).not.toContain('CAB-20261116-002');
  });

  it('moves the demo to the latest whole story week, answers as of its moment, and keeps that week when loaded again', async () => {
    const h = home();
    // A Saturday night: the story's Monday is 11-30 (the one before), its culprit Friday's CAB-20261127-003.
    const demo = await warroom(h, ['demo'], { WARROOM_CLOCK: '2026-12-05T22:00:00+08:00' });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/Demo clock: 11-30 \(Mon\) 09:40 \(Asia\/Shanghai\), the story's moment/);
    expect(demo.stdout).toContain('warroom ask --at 2026-11-30T09:40:00+08:00');
    const ask = await warroom(h, ['ask', '--json', '--at', '2026-11-30T09:40:00+08:00', 'changes jzjy']);
    expect(ask.code).toBe(0);
    const {
      replies: [reply],
    } = JSON.parse(ask.stdout) as { replies: Array<{ sections?: Array<{ lines: string[] }> }> };
    expect(reply?.sections?.[0]?.lines.some((l) => l.startsWith('CAB-20261127-003') && l.includes('数据库连接池参数调整'))).toBe(true);
    // Loaded again two weeks later: the same records are updated, not copied into another week.
    const again = await warroom(h, ['demo'], { WARROOM_CLOCK: '2026-12-17T10:00:00+08:00' });
    expect(again.stdout).toContain('updated in place');
    expect(again.stdout).toMatch(/changes\s+0 new, 0 updated, 50 unchanged/);
    expect(again.stdout).toMatch(/Demo clock: 11-30 \(Mon\) 09:40/);
  });

  it('rejects a malformed import naming the field, writes nothing, and then imports a good file idempotently', async () => {
    const h = home();
    const dir = mkdtempSync(join(tmpdir(), 'warroom-imp-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ systems: [{ id: 'a', name: 'A' }], changes: [{ id: 'C1', title: 't', system: 'a', risk: 'extreme' }] }));
    const r = await warroom(h, ['import', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('changes[0].risk');
    const exported = JSON.parse((await warroom(h, ['export'])).stdout);
    expect(exported.systems).toEqual([]);

    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ systems: [{ id: 'a', name: 'A', tier: 'B' }] }));
    expect((await warroom(h, ['import', good])).stdout).toMatch(/systems\s+1 new, 0 updated, 0 unchanged/);
    expect((await warroom(h, ['import', good])).stdout).toMatch(/systems\s+0 new, 0 updated, 1 unchanged/);
  });

  it('audit tail shows what was recorded; after a row is edited in the database, audit verify exits non-zero naming it', async () => {
    const h = home();
    expect((await warroom(h, ['ask', '--as', 'nobody', 'systems'])).code).toBe(0);
    const tail = await warroom(h, ['audit', 'tail']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout).toMatch(/^#1\s+\S+\s+cli:nobody\s+tool:list_systems\s+-\s+no_data\s+\{"durationMs":[\d.]+,"input":\{\}\}\nhead: audit #1 [0-9a-f]{8}\n$/);
    expect((await warroom(h, ['audit', 'verify'])).stdout).toMatch(/^Audit log intact: 1 row, hash chain intact/);
    // Someone with the database's superuser rights edits the row behind the append-only triggers.
    const db = await createPgliteDb(join(h, 'pgdata'));
    await db.exec('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await db.query("UPDATE audit_log SET outcome = 'success'");
    await db.exec('ALTER TABLE audit_log ENABLE TRIGGER USER');
    await db.close();
    const verify = await warroom(h, ['audit', 'verify']);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toMatch(/^warroom: Audit log broken: audit row 1 does not match its hash \(edited after it was written\): actor cli:nobody, action tool:list_systems, outcome success, at /);
  });

  it('names a bad environment variable and exits 2', async () => {
    const r = await warroom(home(), ['ask', 'help'], { WARROOM_PORT: 'abc' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WARROOM_PORT');
  });

  it('the first command of the README: demo --chat answers in the terminal as of the story, and serves the web chat beside it', async () => {
    const h = home();
    // A Thursday afternoon, when answering at the real time would miss the story's changes.
    const r = await warroom(h, ['demo', '--chat', '--as', 'songkai'], { WARROOM_PORT: '0', WARROOM_CLOCK: '2026-12-03T14:30:00+08:00' }, '集中交易最近3个交易日有哪些变更\n/incident declare P1 集中交易 开盘委托大量失败\n现在什么情况\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Web chat: http:\/\/127\.0\.0\.1:\d+\/chat\/login\?token=[A-Za-z0-9_-]{43}&as=songkai\n/);
    expect(r.stdout).toMatch(/Demo clock: 11-30 \(Mon\) 09:40/);
    expect(r.stdout).toContain('CAB-20261127-003 集中交易数据库连接池参数调整');
    expect(r.stdout).not.toContain('窗口内没有');
    // Declared in the terminal, the room opens in the web chat; the incident is the story's Monday.
    expect(r.stdout).toMatch(/songkai 申报了 P1 故障 INC-20261130-001：开盘委托大量失败\n故障群：INC-20261130-001 jzjy/);
    expect(r.stdout).toContain('当前未解决的故障');
  });

  it('runs the terminal chat over piped input', async () => {
    const h = home();
    await warroom(h, ['demo', '--no-shift']);
    const r = spawnSync(process.execPath, ['--import', 'tsx', cli, 'chat', '--at', '2026-11-23T09:40:00+08:00'], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', WARROOM_HOME: h },
      input: '帮助\noncall jzjy\n/bogus\n',
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Warroom 命令');
    expect(r.stdout).toContain('On call for 集中交易');
    expect(r.stdout).toContain('Unknown command "bogus"');
  });

  it('starts the server, serves /healthz and shuts down cleanly on SIGTERM', async () => {
    const h = home();
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'start'], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', WARROOM_HOME: h, WARROOM_PORT: '0', LOG_LEVEL: 'info' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 60_000);
      child.stdout.on('data', () => {
        const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(err).toContain('stopped cleanly');
  });
});

describe('warroom kb', slow, () => {
  it('ingests the shipped runbooks and answers `kb search --json` with the FPGA/MDGW runbook first', async () => {
    const h = home();
    const ingest = await warroom(h, ['kb', 'ingest']);
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toMatch(/Ingested \d+ file\(s\): \d+ runbook\(s\) stored, \d+ chunk\(s\), 0 unchanged, 0 removed, 0 error\(s\)/);
    expect((await warroom(h, ['kb', 'ingest'])).stdout).toMatch(/0 runbook\(s\) stored, 0 chunk\(s\), \d+ unchanged/);
    const r = await warroom(h, ['kb', 'search', '行情卡跟交易所网关的连接断了', '--json']);
    expect(r.code).toBe(0);
    const hits = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(Object.keys(hits[0]!).sort()).toEqual(['runbookId', 'score', 'section', 'source', 'text', 'title']);
    expect(hits[0]).toMatchObject({ runbookId: 'rb-fpga-mdgw-session', source: 'fpga/rb-fpga-mdgw-session.md' });

    const dir = mkdtempSync(join(tmpdir(), 'warroom-batch-'));
    const batch = join(dir, 'q.txt');
    writeFileSync(batch, 'Redis 主从复制断了\n\ncertificate expired on the gateway\n');
    const b = await warroom(h, ['kb', 'search', '--batch', batch, '--top', '2']);
    const lines = b.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)[0].runbookId).toBe('rb-redis-replication');
    expect(JSON.parse(lines[1]!)[0].runbookId).toBe('rb-cert-expiry');
    expect(JSON.parse(lines[1]!)).toHaveLength(2);
  });

  it('reports a bad runbook by file and field and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warroom-rb-'));
    writeFileSync(join(dir, 'bad.md'), '---\nid: rb-x\ntitle: X\nsystems: []\n---\n## A\ntext\n');
    const r = await warroom(home(), ['kb', 'ingest', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error: bad.md: front matter field "systems" must list at least one system id');
  });
});

describe('warroom localize', slow, () => {
  it('prints the card as JSON with the documented keys, culprit first', async () => {
    const h = home();
    expect((await warroom(h, ['demo', '--no-shift'])).code).toBe(0);
    const r = await warroom(h, ['localize', '--system', 'jzjy', '--at', '2026-11-23T09:40:00+08:00', '--json']);
    expect(r.code).toBe(0);
    const card = JSON.parse(r.stdout);
    for (const key of ['system', 'at', 'window', 'changes', 'changeEvents', 'alerts', 'health', 'similarIncidents', 'runbooks']) expect(card).toHaveProperty(key);
    expect(Object.keys(card.window)).toEqual(expect.arrayContaining(['from', 'to', 'tradingDays']));
    expect(Object.keys(card.changes[0]).sort()).toEqual(expect.arrayContaining(['id', 'title', 'system', 'score', 'reasons']));
    expect(card.changes[0].id).toBe('CAB-20261120-003');
    const text = await warroom(h, ['localize', '--system', '集中交易', '--at', '2026-11-23T09:40:00+08:00']);
    expect(text.stdout).toContain('故障定位：集中交易');
    expect((await warroom(h, ['localize', '--system', 'nope'])).stderr).toContain('No system matches "nope"');
    const badTime = await warroom(h, ['localize', '--system', 'jzjy', '--at', 'yesterday']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--at "yesterday" is not a time.');
  });
});
