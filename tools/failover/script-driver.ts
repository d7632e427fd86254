import { WarroomError } from '../../core/errors.js';
import type { DriverOutcome, FailoverDriver, FailoverTarget } from './driver.js';
import { commandFor, type ScriptAction, type ScriptConfig } from './script-config.js';
import { runShell, shellQuote, type ShellResult } from './shell.js';

type Values = { pool: string; node?: string; host?: string; vip: string };

/** The command with its placeholders replaced by shell-quoted values; unknown placeholders stay as written. */
export function fillPlaceholders(command: string, values: Values): string {
  return command.replace(/\{(pool|node|host|vip)\}/g, (whole, name: keyof Values) => {
    const v = values[name];
    return v === undefined ? whole : shellQuote(v);
  });
}

function envOf(values: Values): Record<string, string> {
  return {
    WARROOM_FAILOVER_POOL: values.pool,
    WARROOM_FAILOVER_VIP: values.vip,
    ...(values.node ? { WARROOM_FAILOVER_NODE: values.node } : {}),
    ...(values.host ? { WARROOM_FAILOVER_HOST: values.host } : {}),
  };
}

function describe(r: ShellResult, timeoutMs: number): string {
  if (r.timedOut) return `timed out after ${Math.round(timeoutMs / 100) / 10} s`;
  if (r.aborted) return 'stopped: the action was cancelled';
  if (r.exitCode === null) return `did not run: ${r.stderr}`;
  const last = (r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? '';
  return r.exitCode === 0 ? 'exit 0' : `exit ${r.exitCode}${last ? `: ${last.slice(0, 200)}` : ''}`;
}

function tail(r: ShellResult): string | undefined {
  const parts = [r.stdout.trim() && `stdout: ${r.stdout.trim()}`, r.stderr.trim() && `stderr: ${r.stderr.trim()}`].filter(Boolean);
  return parts.length ? parts.join('\n').slice(-2000) : undefined;
}

/** The `script` driver: each action is a configured shell command; a non-zero exit or a timeout is a failure. */
export function createScriptDriver(config: ScriptConfig): FailoverDriver {
  const run = async (action: ScriptAction, values: Values, signal?: AbortSignal): Promise<{ result: ShellResult; outcome: DriverOutcome }> => {
    const c = commandFor(config, values.pool, action);
    const result = await runShell(fillPlaceholders(c.run, values), { env: envOf(values), timeoutMs: c.timeoutMs, ...(signal ? { signal } : {}) });
    const output = tail(result);
    const ok = result.exitCode === 0 && !result.timedOut && !result.aborted;
    return { result, outcome: { ok, detail: describe(result, c.timeoutMs), ...(output ? { output } : {}), durationMs: result.durationMs } };
  };
  const step = (action: ScriptAction) => async (t: FailoverTarget, signal?: AbortSignal) => (await run(action, t, signal)).outcome;
  return {
    kind: 'script',
    releaseVip: step('releaseVip'),
    stopService: step('stopService'),
    acquireVip: step('acquireVip'),
    startService: step('startService'),
    healthCheck: step('healthCheck'),
    async whoHoldsVip(p, signal) {
      const { result, outcome } = await run('whoHoldsVip', p, signal);
      if (!outcome.ok) {
        throw new WarroomError('failover_probe_failed', `Cannot tell who holds the VIP ${p.vip} of ${p.pool}: whoHoldsVip ${outcome.detail}.`, {
          hint: 'Check the whoHoldsVip command in WARROOM_FAILOVER_SCRIPTS, then check the VIP by hand.',
        });
      }
      return result.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    },
  };
}
