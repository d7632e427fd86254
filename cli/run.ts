import { type App } from '../tools/services.js';
import { createApp } from '../app/create-app.js';
import { loadConfig, type Config } from '../core/config.js';
import { isWarroomError, WarroomError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';

/** Build the app for one CLI command, run it, close it, and turn errors into a clear exit. */
export async function withApp<T>(fn: (app: App) => Promise<T>, options: { clock?: () => Date; logLevel?: string } = {}): Promise<T> {
  const config: Config = loadConfig();
  // CLI commands print their answers on stdout; logs stay quiet unless asked for.
  const logger = createLogger(options.logLevel ?? (process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn'));
  const app = await createApp(config, { logger, ...(options.clock ? { clock: options.clock } : {}) });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

export function reportError(err: unknown): never {
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
