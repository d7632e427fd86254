import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { AcquireOptions } from '../db/store-lock.js';
import type { App } from '../tools/services.js';
import type { Bot } from '../bot/bot.js';

/**
 * Where a CLI command runs and writes. A command is defined once (cli/program.ts) against this
 * interface and runs either here, in its own process (the store opened for it alone), or inside
 * the running server that owns the embedded store (forwarded there, its output sent back).
 */
export interface CliIo {
  readonly where: 'local' | 'server';
  /** Inside the server: the address this machine reaches it at (for links it prints). */
  readonly serverBase?: string;
  /** Inside the server: its bot, so chat commands run there post and update cards on its platforms. */
  readonly bot?: Bot;
  out(text: string): void;
  err(text: string): void;
  /** stderr is an interactive terminal (progress lines redraw in place). */
  readonly errIsTTY: boolean;
  /** The directory relative paths on the command line are resolved against (the caller's). */
  readonly cwd: string;
  /** The default `--as`: WARROOM_USER or the login name of the person running the command. */
  readonly user: string;
  /** WARROOM_USER as the caller set it, if set. */
  readonly envUser: string | undefined;
  setExitCode(code: number): void;
  /** Run `fn` with the app: built for this command (local) or the server's open app. */
  withApp<T>(fn: (app: App) => Promise<T>, options?: { clock?: () => Date; owner?: Omit<AcquireOptions, 'waitMs' | 'onWait'> }): Promise<T>;
}

export function resolveIn(io: Pick<CliIo, 'cwd'>, path: string): string {
  return resolve(io.cwd, path);
}

export function localUserName(): string {
  if (process.env.WARROOM_USER) return process.env.WARROOM_USER;
  try {
    return userInfo().username;
  } catch {
    return 'local';
  }
}
