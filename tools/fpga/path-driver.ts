import type { Config } from '../../core/config.js';
import { WarroomError } from '../../core/errors.js';
import { runShell, shellQuote } from '../failover/shell.js';
import type { ActivePath } from './model.js';

/**
 * How fpga_switch_path moves a card's consumers between the card and the software decoder.
 * `script` runs the configured command (`mdctl path switch …` on the market-data hosts); `block`
 * asks the simulator to flip the path in the status block it writes (demo, tests). The switch is
 * verified afterwards by reading the block, never by trusting the driver.
 */
export interface FpgaPathDriver {
  readonly kind: 'script' | 'block';
  /** Resolves when the command was accepted; rejects (a WarroomError, said to people) when it was not. */
  switchPath(card: number, to: ActivePath, options?: { reason?: string | undefined; signal?: AbortSignal | undefined }): Promise<void>;
}

export interface ScriptPathDriverOptions {
  /** Shell command; {card}, {to} (`software` or `fpga`) and {reason} are replaced by shell-quoted values. */
  command: string;
  timeoutMs: number;
}

/** The command with its placeholders filled; unknown placeholders stay as written. */
export function fillPathCommand(command: string, values: { card: number; to: ActivePath; reason: string }): string {
  return command.replace(/\{(card|to|reason)\}/g, (_whole, name: 'card' | 'to' | 'reason') => shellQuote(String(values[name])));
}

/** The `script` driver: exit 0 is success; anything else fails the step with the command's last line. */
export function createScriptPathDriver(options: ScriptPathDriverOptions): FpgaPathDriver {
  return {
    kind: 'script',
    async switchPath(card, to, o = {}) {
      const reason = o.reason ?? '';
      const r = await runShell(fillPathCommand(options.command, { card, to, reason }), {
        env: { WARROOM_FPGA_CARD: String(card), WARROOM_FPGA_PATH: to, WARROOM_FPGA_REASON: reason },
        timeoutMs: options.timeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      if (r.exitCode === 0 && !r.timedOut && !r.aborted) return;
      const last = (r.stderr.trim() || r.stdout.trim()).split('\n').pop()?.slice(0, 300) ?? '';
      const how = r.timedOut ? `timed out after ${Math.round(options.timeoutMs / 1000)} s` : r.aborted ? 'stopped: the action was cancelled' : r.exitCode === null ? `did not run: ${r.stderr}` : `exit ${r.exitCode}${last ? `: ${last}` : ''}`;
      throw new WarroomError('fpga_switch_failed', `Switching card ${card} to the ${to} path failed: ${how}.`, { hint: 'Check WARROOM_FPGA_SWITCH_COMMAND and the switch by hand (`mdctl path show`).' });
    },
  };
}

/** The `block` driver around whatever flips the path in a simulated block (the simulator's writer). */
export function createBlockPathDriver(flip: (card: number, to: ActivePath) => void | Promise<void>): FpgaPathDriver {
  return {
    kind: 'block',
    async switchPath(card, to) {
      await flip(card, to);
    },
  };
}

/** The script driver when WARROOM_FPGA_SWITCH_COMMAND is set; otherwise none (the switch is refused at request). */
export function fpgaPathDriverFromConfig(config: Pick<Config, 'WARROOM_FPGA_SWITCH_COMMAND' | 'WARROOM_FPGA_SWITCH_TIMEOUT_SECONDS'>): FpgaPathDriver | undefined {
  return config.WARROOM_FPGA_SWITCH_COMMAND ? createScriptPathDriver({ command: config.WARROOM_FPGA_SWITCH_COMMAND, timeoutMs: Math.round(config.WARROOM_FPGA_SWITCH_TIMEOUT_SECONDS * 1000) }) : undefined;
}
