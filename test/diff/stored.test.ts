import { importJson } from '../../db/import.js';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderText } from '../../bot/render/text.js';
import { diffView } from '../../bot/views/diff-views.js';
import type { App } from '../../tools/services.js';
import { toolContext } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { storeSnapshots } from '../../tools/change-intel/snapshots-store.js';
import { createTestApp, say } from '../helpers/app.js';
import { drivers } from '../helpers/db.js';
import { warroomCli } from '../sensors/cli.js';
import { snap, writeFleet } from './helpers.js';

const before = snap(
  'trd-app-03',
  {
    'file.hash': [{ key: '/etc/ssh/sshd_config', value: { sha256: 'a'.repeat(64), mode: '0600', owner: 'root' } }],
    'os.process': [{ key: 'python3 /opt/jobs/eod.py --run-id 41', value: { user: 'app', instances: 1 } }, { key: '/usr/sbin/sshd -D', value: { user: 'root', instances: 1, pid: 812 } }],
    'os.listen': [{ key: 'udp 0.0.0.0:41000 chronyd', value: { user: '_chrony' } }],
  },
  { takenAt: '2026-11-21T14:58:00+08:00', label: 'before', changeId: 'CAB-20261121-004' },
);
const after = snap(
  'trd-app-03',
  {
    'file.hash': [{ key: '/etc/ssh/sshd_config', value: { sha256: 'b'.repeat(64), mode: '0600', owner: 'root' } }],
    'os.process': [{ key: 'python3 /opt/jobs/eod.py --run-id 42', value: { user: 'app', instances: 1 } }, { key: '/usr/sbin/sshd -D', value: { user: 'root', instances: 1, pid: 907 } }],
    'os.listen': [{ key: 'udp 0.0.0.0:52000 chronyd', value: { user: '_chrony' } }],
  },
  { takenAt: '2026-11-21T16:02:00+08:00', label: 'after', changeId: 'CAB-20261121-004' },
);

for (const driver of drivers) describe.skipIf(!driver.enabled)(`stored snapshots, noise rules and chat on ${driver.name}`, () => {
  let db: Db;
  let close: () => Promise<void>;
  let app: App;
  beforeAll(async () => {
    ({ db, close } = await driver.open());
    app = await createTestApp(db);
    // Rules are written by people Warroom knows (the policy gives strangers read-only answers).
    await importJson(db, { people: [{ id: 'songkai', name: '宋凯' }] }, 'test people');
    await db.transaction((tx) => storeSnapshots(tx, [before, after, snap('trd-test-01', { 'os.sysctl': [{ key: 'vm.swappiness', value: '60' }] }, { environment: 'test' }), snap('trd-app-01', { 'os.sysctl': [{ key: 'vm.swappiness', value: '1' }] })]));
  });
  afterAll(async () => close());

  it('stores a snapshot once however often it is posted', async () => {
    const again = await db.transaction((tx) => storeSnapshots(tx, [before]));
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 1, ids: ['trd-app-03@2026-11-21T06:58:00.000Z'] });
  });

  it('diffs the before/after snapshots of a change, noise left out and counted', async () => {
    const r = await app.tools.invoke<{ factors: Array<{ factor: string; added: unknown[]; removed: unknown[]; modified: unknown[] }>; suppressed: number; before: { label: string } }>(
      'diff_snapshots',
      { host: 'trd-app-03', changeId: 'CAB-20261121-004' },
      toolContext(app, 'songkai'),
    );
    expect(r.status).toBe('success');
    expect(r.data!.factors.map((f) => [f.factor, f.added.length, f.removed.length, f.modified.length])).toEqual([
      ['file.hash', 0, 0, 1],
      ['os.process', 1, 1, 0],
    ]);
    expect(r.data!.suppressed).toBe(3); // sshd's PID, chronyd's port (removed + added)
    expect(r.summary).toContain('1 added, 1 removed, 1 modified');
    const zh = renderText(diffView(r.data as never, 'zh'));
    expect(zh).toContain('trd-app-03 感知因子差异');
    expect(zh).toContain('新增 1，删除 1，修改 1（2 个因子）');
    expect(zh).toContain('已过滤噪声 3 项');
    expect(zh).toContain('一键降噪：降噪 <因子> <键或通配>');
  });

  it('one-click denoise in chat: mark the batch job as noise, and the next diff leaves it out and counts it', async () => {
    const first = await say(app, 'diff trd-app-03 CAB-20261121-004');
    expect(first.text).toContain('Perception-factor diff of trd-app-03');
    expect(first.text).toContain('~ /etc/ssh/sshd_config  sha256 aaaaaaaaaaaa… → bbbbbbbbbbbb…');
    expect(first.text).toContain('+ python3 /opt/jobs/eod.py --run-id 42');
    expect(first.messages[0]!.buttons?.[0]).toMatchObject({ actionId: 'noise_rule_add' });

    const added = await say(app, '降噪 os.process "python3 /opt/jobs/eod.py --run-id *" 批处理参数每次不同');
    // A Chinese command word gets a Chinese reply, however much of the rest is Latin.
    expect(added.text).toMatch(/已添加降噪规则 \d+：os\.process "python3 \/opt\/jobs\/eod\.py --run-id \*"/);
    const en = await say(app, 'noise os.process "python3 /opt/jobs/other.py --run-id *"');
    expect(en.text).toMatch(/Noise rule \d+ added: os\.process "python3 \/opt\/jobs\/other\.py --run-id \*"/);
    const again = await say(app, 'diff trd-app-03 CAB-20261121-004');
    expect(again.text).not.toContain('eod.py');
    expect(again.text).toContain('5 noise entries left out');

    const zh = await say(app, '降噪 列表');
    expect(zh.text).toContain('降噪规则');
    expect(zh.text).toContain('临时端口');
    const list = await say(app, 'noise list');
    expect(list.text).toContain('builtin:ephemeral-port');
    expect(list.text).toMatch(/\d+\. os\.process "python3 \/opt\/jobs\/eod\.py --run-id \*" — 批处理参数每次不同 \(songkai, /);
    const id = /(\d+)\. os\.process/.exec(list.text)![1]!;
    expect((await say(app, `noise rm ${id}`)).text).toContain(`Noise rule ${id} removed`);
    expect((await say(app, 'diff trd-app-03 CAB-20261121-004')).text).toContain('eod.py');
    expect((await say(app, `noise rm ${id}`)).text).toContain(`There is no noise rule ${id}`);
  });

  it('refuses a rule that would hide a whole factor, and records who added rules in the audit log', async () => {
    const r = await say(app, 'noise os.process *');
    expect(r.text).toContain('a pattern of only wildcards would hide every change of the factor');
    const rows = await db.query<{ actor: string; outcome: string }>("SELECT actor, outcome FROM audit_log WHERE action = 'tool:noise_rule_add' ORDER BY id");
    expect(rows[0]).toMatchObject({ actor: 'songkai', outcome: 'success' });
  });

  it('compares a test host with its production peer, and says what is missing', async () => {
    const r = await say(app, 'diff trd-test-01 vs trd-app-01');
    expect(r.text).toContain('trd-test-01 ↔ trd-app-01');
    expect(r.text).toContain('~ vm.swappiness  "60" → "1"'.replace(/"/g, ''));
    const missing = await say(app, '对比 trd-app-03 CAB-20991231-001');
    expect(missing.text).toContain('No "after" snapshot of trd-app-03 for CAB-20991231-001');
    expect(missing.text).toContain('warroom sense --label before|after');
  });
});

describe('warroom noise and diff on the command line', () => {
  it('adds, lists and removes rules, and `diff` applies them to files', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warroom-noise-cli-'));
    const cli = (args: string[]) => warroomCli(args, { WARROOM_HOME: home, WARROOM_USER: 'zhaolei' });
    const b = writeFleet(join(home, 'b.json'), [before]);
    const a = writeFleet(join(home, 'a.json'), [after]);
    const add = await cli(['noise', 'add', '--factor', 'os.process', '--key', 'python3 /opt/jobs/eod.py --run-id *', '--reason', 'run id']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/Noise rule 1 added: os\.process python3/);
    const list = await cli(['noise', 'list']);
    expect(list.stdout).toContain('1. os.process "python3 /opt/jobs/eod.py --run-id *" — run id (zhaolei,');
    const d = await cli(['diff', '--json', b, a]);
    expect(d.code, d.stderr).toBe(0);
    const json = JSON.parse(d.stdout);
    expect(json.suppressedBy).toEqual({ builtin: 3, 'rule:1': 2 });
    expect(json.hosts[0].factors.map((f: { factor: string }) => f.factor)).toEqual(['file.hash']);
    const raw = await cli(['diff', '--raw', '--exit-code', b, a]);
    expect(raw.code).toBe(1);
    expect(raw.stdout).toContain('udp 0.0.0.0:41000 chronyd');
    expect((await cli(['noise', 'rm', '1'])).stdout).toContain('Noise rule 1 removed');
    const bad = await cli(['noise', 'add', '--factor', 'OS PROCESS', '--key', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('factor: expected a factor id such as os.listen');
  }, 180_000);
});
