import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import { isLoopbackAddress } from '../../core/hosts.js';
import { sendJson, type Route } from '../http.js';

/** A CLI command sent by a second process on this machine to the one that owns the embedded store. */
export const cliRequestSchema = z.object({
  argv: z.array(z.string().max(100_000)).min(1).max(1000),
  /** The caller's working directory: relative paths on its command line mean paths there. */
  cwd: z.string().min(1).max(4096).refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be an absolute path'),
  /** The caller's default `--as` (WARROOM_USER or its login name); as trusted as `--as` itself. */
  user: z.string().min(1).max(200),
  envUser: z.string().min(1).max(200).optional(),
});
export type CliRequest = z.infer<typeof cliRequestSchema>;

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export const INTERNAL_CLI_PATH = '/internal/cli';

/** Constant-time comparison of a presented token with the expected one (hashes first: equal lengths). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && presented.length === expected.length;
}

/**
 * POST /internal/cli: runs a CLI command inside this process, against its open app, and answers
 * {stdout, stderr, exitCode}. Only from this machine (a loopback peer, or a peer whose address is
 * the server's own) and only with the token of WARROOM_HOME/server.json as a Bearer token.
 */
export function internalCliRoutes(token: string, run: (req: CliRequest) => Promise<CliResult>): Route[] {
  return [
    {
      method: 'POST',
      path: INTERNAL_CLI_PATH,
      async handler({ app, req, res, json }) {
        const remote = req.socket.remoteAddress;
        if (!(remote && isLoopbackAddress(remote)) && remote !== req.socket.localAddress) {
          throw new WarroomError('forbidden', 'CLI commands are accepted from this machine only.', { status: 403 });
        }
        const auth = req.headers.authorization ?? '';
        const presented = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
        if (!presented || !tokenMatches(presented, token)) {
          app.logger.warn({ route: INTERNAL_CLI_PATH }, 'forwarded CLI command refused: missing or wrong token');
          res.setHeader('www-authenticate', 'Bearer');
          throw new WarroomError('unauthorized', 'A forwarded CLI command needs the token of the server file (WARROOM_HOME/server.json) as a Bearer token.', { status: 401 });
        }
        const type = String(req.headers['content-type'] ?? '');
        if (!/^application\/json\b/i.test(type)) throw new WarroomError('unsupported_media_type', 'Send the command as application/json.', { status: 415 });
        const parsed = cliRequestSchema.safeParse(await json());
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new WarroomError('invalid_body', `${issue.path.join('.') || '(body)'}: ${issue.message}`, { status: 400 });
        }
        const result = await run(parsed.data);
        sendJson(res, 200, result);
      },
    },
  ];
}
