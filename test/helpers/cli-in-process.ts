import { buildProgram } from '../../cli/program.js';
import type { CliIo } from '../../cli/io.js';
import type { App } from '../../tools/services.js';

/** The command line run in this process against a test app, as `user`; what it prints is collected. */
export function inProcessCli(app: App, user: string): { run(args: string[]): Promise<string> } {
  let out = '';
  const io: CliIo = {
    where: 'local',
    out: (s) => void (out += s),
    err: (s) => void (out += s),
    errIsTTY: false,
    cwd: process.cwd(),
    user,
    envUser: user,
    setExitCode: () => undefined,
    withApp: (fn) => fn(app),
  };
  return {
    async run(args) {
      out = '';
      await buildProgram(io).parseAsync(args, { from: 'user' });
      return out;
    },
  };
}
