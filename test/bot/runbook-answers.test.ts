import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import { shippedRunbooksDir } from '../../core/paths.js';
import type { Db } from '../../db/db.js';
import { useDemoApp, say } from '../helpers/app.js';

/** Every quoted line of an answer must stand in the cited runbook file: no invented steps. */
function expectQuotedFromSource(sections: Array<{ title?: string; lines: string[] }>, source: string): void {
  const file = readFileSync(join(shippedRunbooksDir, source), 'utf8');
  const quoted = sections.filter((s) => s.title?.includes('§')).flatMap((s) => s.lines).filter((l) => l !== '…');
  expect(quoted.length).toBeGreaterThan(2);
  for (const line of quoted) expect(file).toContain(line.trim());
}

describe('symptom questions answered from the runbooks', () => {
  let db: Db;
  let app: App;
  useDemoApp((d, a) => {
    db = d;
    app = a;
  });

  it('answers "开盘后委托大量失败怎么办" with quoted, cited steps from the connection-pool runbook', async () => {
    const r = await say(app, '开盘后委托大量失败怎么办');
    const msg = r.messages[0]!;
    expect(msg.title).toBe('运行手册');
    expect(msg.sections![0]!.title).toContain('[rb-jzjy-db-pool-open §');
    expect(r.text).toContain('来源：runbooks/jzjy/rb-jzjy-db-pool-open.md');
    expectQuotedFromSource(msg.sections!, 'jzjy/rb-jzjy-db-pool-open.md');
  });

  it('answers "how do I fail over 中登报盘" in English from the manual-switch runbook', async () => {
    const r = await say(app, 'how do I fail over 中登报盘');
    const msg = r.messages[0]!;
    expect(msg.title).toBe('From the runbooks');
    expect(msg.sections![0]!.title).toContain('[rb-zdbp-manual-switch §');
    expectQuotedFromSource(msg.sections!, 'bp/rb-zdbp-manual-switch.md');
  });

  it('answers a pasted log line', async () => {
    const r = await say(app, '2026-11-23 09:31:05 ERROR [http-nio-8080-exec-12] HikariPool-1 - Connection is not available, request timed out after 30000ms.');
    expect(r.messages[0]!.sections![0]!.title).toMatch(/\[rb-(jzjy-db-pool-open|oracle-archivelog-full) §/);
  });

  it('shows one runbook in full, and suggests ids for a wrong one', async () => {
    const r = await say(app, 'runbook rb-redis-memory');
    expect(r.text).toContain('[rb-redis-memory]');
    expect(r.messages[0]!.sections!.length).toBeGreaterThanOrEqual(4);
    const wrong = await say(app, 'runbook redis-mem');
    expect(wrong.text).toContain('did you mean rb-redis-memory');
  });

  it('keeps change questions with the change tool', async () => {
    const r = await say(app, '集中交易最近3个交易日有哪些变更');
    expect(r.text).toContain('CAB-20261120-003');
  });
});
