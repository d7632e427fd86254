import { type App } from '../tools/services.js';
import { createApp } from '../app/create-app.js';
import { loadConfig, type Config } from '../core/config.js';
import { isWarroomError, WarroomError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { AcquireOptions, StoreLockHolder } from '../db/store-lock.js';
import { localUserName, type CliIo } from './io.js';

/** How long a command waits for another short command that holds the embedded store. */
export const STORE_WAIT_MS = 120_000;

function waitNotice(holder: StoreLockHolder): void {
  process.stderr.write(`warroom: waiting for \`${holder.command}\` (pid ${holder.pid}) to finish with the embedded store…\n`);
}

/** Build the app for one CLI command, run it, close it, and turn errors into a clear exit. */
export async function withApp<T>(
  fn: (app: App) => Promise<T>,
  options: { clock?: () => Date; logLevel?: string; owner?: Omit<AcquireOptions, 'waitMs' | 'onWait'> } = {},
): Promise<T> {
  const config: Config = loadConfig();
  // CLI commands print their answers on stdout; logs stay quiet unless asked for.
  const logger = createLogger(options.logLevel ?? (process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn'));
  const owner = { role: 'command' as const, command: commandLine(), ...options.owner, waitMs: STORE_WAIT_MS, onWait: waitNotice };
  const app = await createApp(config, { logger, owner, ...(options.clock ? { clock: options.clock } : {}) });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** "warroom kb search", for messages: the command words only, never option values (they may hold secrets). */
export function commandLine(argv: string[] = process.argv.slice(2)): string {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-') || words.length >= 2) break;
    if (/^[a-z][a-z-]*$/.test(a)) words.push(a);
    else break;
  }
  return ['warroom', ...words].join(' ');
}

/** The CLI in its own process: the terminal's streams, this directory, the store opened for it. */
export function localIo(): CliIo {
  return {
    where: 'local',
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    errIsTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
    user: localUserName(),
    envUser: process.env.WARROOM_USER || undefined,
    setExitCode(code) {
      process.exitCode = code;
    },
    withApp: (fn, options) => withApp(fn, options ?? {}),
  };
}

/** Thrown to end the process with a code once the output is written (a forwarded command's). */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export function reportError(err: unknown): void {
  if (err instanceof CliExit) {
    process.exitCode = err.exitCode;
    return;
  }
  if (isWarroomError(err)) {
    process.stderr.write(`warroom: ${err.toUserText()}\n`);
    process.exit(2);
  }
  process.stderr.write(`warroom: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

/** An `--at` option: undefined when not given, a clear error when it is not a time. */
export function parseTimeOption(value: string | undefined, option = '--at'): Date | undefined {
  if (!value) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new WarroomError('invalid_time', `${option} "${value}" is not a time.`, { hint: 'Use ISO 8601, e.g. 2026-11-23T09:40:00+08:00.' });
  return at;
}
