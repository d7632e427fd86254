import { CommanderError } from 'commander';
import { errorMessage, isWarroomError, WarroomError } from '../core/errors.js';
import type { CliRequest, CliResult } from '../server/routes/internal-cli.js';
import type { App } from '../tools/services.js';
import type { Bot } from '../bot/bot.js';
import type { CliIo } from './io.js';
import { buildProgram, commandPath, FORWARDED_COMMANDS } from './program.js';
import { commandLine } from './run.js';

/**
 * A CLI command forwarded by a second process (POST /internal/cli), run here in the server that
 * owns the embedded store, against its open app: the same command definitions as in a terminal,
 * with the output collected and sent back.
 */
export async function runForwardedCommand(app: App, request: CliRequest, server?: { baseUrl: string; bot?: Bot }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  let exitCode = 0;
  const io: CliIo = {
    where: 'server',
    ...(server ? { serverBase: server.baseUrl } : {}),
    ...(server?.bot ? { bot: server.bot } : {}),
    out: (s) => void (stdout += s),
    err: (s) => void (stderr += s),
    errIsTTY: false,
    cwd: request.cwd,
    user: request.user,
    envUser: request.envUser,
    setExitCode(code) {
      exitCode = code;
    },
    // The server's app stays open; `--at` gets a view of it with its own clock.
    withApp: (fn, options) => fn(options?.clock ? { ...app, clock: options.clock } : app),
  };
  const program = buildProgram(io);
  program.hook('preAction', (_root, action) => {
    const path = commandPath(action);
    if (!FORWARDED_COMMANDS.has(path)) {
      throw new WarroomError('not_forwardable', `\`warroom ${path}\` does not run inside the server.`, { hint: 'Run it with the server stopped.' });
    }
  });
  const started = Date.now();
  try {
    await program.parseAsync(request.argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      exitCode = err.exitCode; // commander has written its message already (help, a parse error)
    } else if (isWarroomError(err)) {
      stderr += `warroom: ${err.toUserText()}\n`;
      exitCode = 2;
    } else {
      app.logger.error({ err: errorMessage(err) }, 'forwarded CLI command failed');
      stderr += `warroom: ${errorMessage(err)}\n`;
      exitCode = 1;
    }
  }
  // The command words only: arguments may hold anything.
  app.logger.info({ command: commandLine(request.argv), exitCode, ms: Date.now() - started }, 'forwarded CLI command');
  return { stdout, stderr, exitCode };
}
