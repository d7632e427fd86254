import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScriptConfig } from '../../tools/failover/script-config.js';
import { createScriptDriver, fillPlaceholders } from '../../tools/failover/script-driver.js';

const commands = { releaseVip: 'true', stopService: 'true', acquireVip: 'true', startService: 'true', healthCheck: 'true', whoHoldsVip: 'echo a; echo; echo b' };
/** Alive and not a zombie (a killed child whose new parent has not reaped it yet is dead enough). */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
const target = { pool: 'p1', node: 'n1', host: 'h1:22', vip: '10.0.0.9' };

describe('the script driver', () => {
  it('replaces placeholders with shell-quoted values: text from the store never becomes shell syntax', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warroom-quote-'));
    const evil = `n1'; touch ${join(dir, 'pwned')}; echo '`;
    expect(fillPlaceholders('ping {host} {unknown}', { pool: 'p', vip: 'v', host: 'h' })).toBe("ping 'h' {unknown}");
    const driver = createScriptDriver(parseScriptConfig({ commands: { ...commands, startService: 'echo {node} "$WARROOM_FAILOVER_VIP"' } }, 't'));
    const r = await driver.startService({ ...target, node: evil });
    expect(r).toMatchObject({ ok: true, detail: 'exit 0' });
    expect(r.output).toBe(`stdout: ${evil} 10.0.0.9`);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('a non-zero exit is a failure with the last line and the output tail; a pool may override a command', async () => {
    const driver = createScriptDriver(
      parseScriptConfig({ commands: { ...commands, releaseVip: 'echo releasing; echo "RTNETLINK answers: Cannot assign" >&2; exit 2' }, pools: { p2: { commands: { releaseVip: 'echo p2 only' } } } }, 't'),
    );
    const r = await driver.releaseVip(target);
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('exit 2: RTNETLINK answers: Cannot assign');
    expect(r.output).toBe('stdout: releasing\nstderr: RTNETLINK answers: Cannot assign');
    expect(await driver.releaseVip({ ...target, pool: 'p2' })).toMatchObject({ ok: true, output: 'stdout: p2 only' });
  });

  it('stops a command at its timeout, with whatever it started', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'warroom-timeout-')), 'pid');
    const driver = createScriptDriver(parseScriptConfig({ commands: { ...commands, healthCheck: { run: `sleep 30 & echo $! > ${pidFile}; wait`, timeoutSeconds: 0.3 } } }, 't'));
    const started = Date.now();
    const r = await driver.healthCheck(target);
    expect(r).toMatchObject({ ok: false, detail: 'timed out after 0.3 s' });
    expect(Date.now() - started).toBeLessThan(5000);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(running(sleeper)).toBe(false);
  });

  it('a command that starts a daemon is done when its shell exits: the daemon is left running', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'warroom-daemon-')), 'pid');
    const driver = createScriptDriver(parseScriptConfig({ commands: { ...commands, startService: { run: `sleep 30 & echo $! > ${pidFile}; echo started`, timeoutSeconds: 2 } } }, 't'));
    const r = await driver.startService(target);
    expect(r).toMatchObject({ ok: true, detail: 'exit 0', output: 'stdout: started' });
    const daemon = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(running(daemon)).toBe(true);
    process.kill(daemon, 'SIGKILL');
  });

  it('stops a command when the action is cancelled', async () => {
    const driver = createScriptDriver(parseScriptConfig({ commands: { ...commands, acquireVip: 'sleep 30' } }, 't'));
    const r = await driver.acquireVip(target, AbortSignal.timeout(200));
    expect(r).toMatchObject({ ok: false, detail: 'stopped: the action was cancelled' });
  });

  it('whoHoldsVip reads node ids one per line, and throws when its command fails', async () => {
    expect(await createScriptDriver(parseScriptConfig({ commands }, 't')).whoHoldsVip(target)).toEqual(['a', 'b']);
    const broken = createScriptDriver(parseScriptConfig({ commands: { ...commands, whoHoldsVip: 'exit 7' } }, 't'));
    await expect(broken.whoHoldsVip(target)).rejects.toThrow('Cannot tell who holds the VIP 10.0.0.9 of p1: whoHoldsVip exit 7.');
  });

  it('checks its file: every action needs a command, unknown keys are refused', () => {
    const { whoHoldsVip: _w, ...missing } = commands;
    expect(() => parseScriptConfig({ commands: missing, timeoutSeconds: -1 }, 'failover.yaml')).toThrow(/failover\.yaml: invalid failover scripts:\n {2}timeoutSeconds: Number must be greater than 0\n {2}commands\.whoHoldsVip: Required: a shell command/);
    expect(() => parseScriptConfig({ commands: { ...commands, releaseVIP: 'x' } }, 'f')).toThrow(/commands: Unrecognized key\(s\) in object: 'releaseVIP'/);
    expect(() => parseScriptConfig({ commands, pools: { p: { commands: { healthCheck: '' } } } }, 'f')).toThrow(/pools\.p\.commands\.healthCheck: must not be empty/);
  });
});
