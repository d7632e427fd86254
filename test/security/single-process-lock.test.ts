import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import { acquireStoreLock, readStoreLock } from '../../db/store-lock.js';

/**
 * The store lock itself (db/store-lock.ts): several processes racing for it, or racing to take over
 * the stale lock of a process killed with SIGKILL, end with exactly one holder.
 */

const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const lockModule = JSON.stringify(pathToFileURL(join(packageRoot, 'db', 'store-lock.ts')).href);

/** Waits for a common start moment, tries once, holds a winning lock for a while, prints the outcome. */
const contender = `
const { acquireStoreLock } = await import(${lockModule});
while (Date.now() < Number(process.env.START_AT)) await new Promise((r) => setTimeout(r, 2));
try {
  const lock = await acquireStoreLock(process.env.HOME_DIR, { role: 'command', command: 'contender' });
  console.log('won');
  await new Promise((r) => setTimeout(r, 1500));
  lock.release();
} catch (err) {
  console.log(err.code === 'store_busy' ? 'busy' : 'error ' + err.message);
}
`;

function contend(home: string, startAt: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', contender], { env: { ...process.env, HOME_DIR: home, START_AT: String(startAt) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', () => resolve(out.trim()));
  });
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('the embedded store lock', { timeout: 120_000 }, () => {
  it.each([
    ['a free store', false],
    ['the stale lock of a killed process', true],
  ])('six processes racing for %s: exactly one gets it', async (_name, stale) => {
    const home = mkdtempSync(join(tmpdir(), 'warroom-lock-'));
    if (stale) writeFileSync(join(home, 'store.lock'), JSON.stringify({ pid: deadPid(), role: 'server', command: 'warroom start', since: '', nonce: 'dead' }));
    const startAt = Date.now() + 6000; // after every contender has loaded
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => contend(home, startAt)));
    expect(outcomes.filter((o) => o === 'won'), outcomes.join(', ')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(5);
    expect(existsSync(join(home, 'store.lock'))).toBe(false); // released by the winner
    expect(existsSync(join(home, 'store.lock.takeover'))).toBe(false);
  });

  it('a live holder is never taken over, and a release never removes a successor\'s lock', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warroom-lock-'));
    const first = await acquireStoreLock(home, { role: 'server', command: 'warroom start' });
    await expect(acquireStoreLock(home, { role: 'command', command: 'warroom ask' })).rejects.toMatchObject({ code: 'store_busy' });
    expect(readStoreLock(home)?.nonce).toBe(first.holder.nonce);
    // Someone judged us dead and took over (simulated): our late release leaves their lock alone.
    const successor = { ...first.holder, nonce: 'successor' };
    writeFileSync(join(home, 'store.lock'), JSON.stringify(successor));
    first.release();
    expect(JSON.parse(readFileSync(join(home, 'store.lock'), 'utf8')).nonce).toBe('successor');
  });

  it('a lock that can be neither read nor removed is reported, not waited on for ever', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warroom-lock-'));
    mkdirSync(join(home, 'store.lock', 'not-a-file'), { recursive: true }); // unreadable as a lock, and unlink cannot remove it
    await expect(acquireStoreLock(home, { role: 'command', command: 'warroom export', waitMs: 60_000 })).rejects.toThrow(/cannot be read or removed/);
  });
});
