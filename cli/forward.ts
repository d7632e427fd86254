import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { liveServerFile, type ServerFile } from '../app/server-file.js';
import { loadConfig } from '../core/config.js';
import { WarroomError } from '../core/errors.js';
import { liveStoreHolder, type StoreLockHolder } from '../db/store-lock.js';
import { INTERNAL_CLI_PATH, type CliRequest, type CliResult } from '../server/routes/internal-cli.js';
import type { CliIo } from './io.js';
import { commandPath, FORWARDED_COMMANDS, OWNER_COMMANDS } from './program.js';
import { CliExit } from './run.js';

/** How long a command waits for a starting server (migrations, demo data) to start listening. */
const SERVER_START_WAIT_MS = 120_000;

export interface StoreOwner {
  holder: StoreLockHolder;
  server?: ServerFile;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The live process that holds the embedded store under `home`, and the server file it wrote when
 * it serves. A server still starting (lock taken, not listening yet) is waited for.
 */
export async function findStoreOwner(home: string, onWait?: (holder: StoreLockHolder) => void): Promise<StoreOwner | undefined> {
  const deadline = Date.now() + SERVER_START_WAIT_MS;
  let waited = false;
  for (;;) {
    const holder = liveStoreHolder(home);
    if (!holder) return undefined;
    const server = liveServerFile(home);
    if (server && server.pid === holder.pid) return { holder, server };
    if (holder.role !== 'server' || Date.now() >= deadline) return { holder };
    if (!waited) onWait?.(holder);
    waited = true;
    await sleep(200);
  }
}

export function ownerDescription(owner: StoreOwner): string {
  const where = owner.server ? `, serving http://${owner.server.connectHost.includes(':') ? `[${owner.server.connectHost}]` : owner.server.connectHost}:${owner.server.port}` : '';
  return `\`${owner.holder.command}\` (pid ${owner.holder.pid}${where})`;
}

/** A command that needs the store to itself, refused while `owner` has it. */
export function refusal(path: string, home: string, owner: StoreOwner): WarroomError {
  const hint =
    owner.holder.role === 'chat'
      ? 'Ask it in that terminal chat, or leave the chat (exit) and run this again.'
      : owner.holder.role === 'server'
        ? `Stop that process (Ctrl-C or SIGTERM) and run this again${owner.server ? ', or use its web chat and API meanwhile' : ''}. ` +
          'Several processes can share a store only on PostgreSQL: set DATABASE_URL.'
        : 'Wait for that command to finish and run this again.';
  return new WarroomError('store_owned', `warroom ${path}: the embedded store at ${home} is owned by ${ownerDescription(owner)}; a second process may not open it.`, { hint, status: 409 });
}

/**
 * Send a command to the owning server and get its output back. Plain node:http, not fetch: a
 * forwarded `kb ingest` or a big `diff` may run for many minutes before the answer starts.
 */
export async function forwardCommand(server: ServerFile, request: CliRequest): Promise<CliResult> {
  const body = JSON.stringify(request);
  const where = `${server.connectHost.includes(':') ? `[${server.connectHost}]` : server.connectHost}:${server.port}`;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: server.connectHost,
        port: server.port,
        path: INTERNAL_CLI_PATH,
        method: 'POST',
        agent: false, // one request, no kept-alive socket holding the process open
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${server.token}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  }).catch((err: unknown) => {
    throw new WarroomError('forward_failed', `Cannot reach the Warroom server (pid ${server.pid}) on ${where}: ${(err as Error).message}.`, {
      hint: 'It owns the embedded store but does not answer; if it hangs, stop it and run the command again.',
    });
  });
  if (status !== 200) {
    let message = text.slice(0, 500);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      /* not JSON */
    }
    throw new WarroomError('forward_refused', `The Warroom server (pid ${server.pid}) refused the command: ${status} ${message}`);
  }
  return JSON.parse(text) as CliResult;
}

/**
 * Before a command runs in this process: when another process owns the embedded store, send the
 * command there (FORWARDED_COMMANDS) or refuse it (OWNER_COMMANDS) with what to do instead.
 * Other commands run here; if they open the store, the store lock stops them clearly.
 */
export function installForwarding(program: Command, io: CliIo, argv: string[]): void {
  program.hook('preAction', async (_root, action) => {
    const config = loadConfig();
    if (config.DATABASE_URL) return; // PostgreSQL: several processes share it
    const path = commandPath(action);
    const opts = action.opts<{ db?: boolean; raw?: boolean; host?: string }>();
    // `diff A B --no-db` / `--raw` reads no noise rules: nothing to share.
    const usesStore = path !== 'diff' || Boolean(opts.host) || (opts.db !== false && !opts.raw);
    if (!usesStore || (!FORWARDED_COMMANDS.has(path) && !OWNER_COMMANDS.has(path))) return;
    const home = resolve(config.WARROOM_HOME);
    const owner = await findStoreOwner(home, (h) =>
      io.err(`warroom: waiting for \`${h.command}\` (pid ${h.pid}) to start serving…\n`),
    );
    if (!owner) return;
    if (owner.holder.role === 'command') return; // a short command: the store lock waits for it to end
    // A server or a terminal chat owns the store.
    if (OWNER_COMMANDS.has(path) || !owner.server) throw refusal(path, home, owner);
    const result = await forwardCommand(owner.server, { argv, cwd: io.cwd, user: io.user, ...(io.envUser ? { envUser: io.envUser } : {}) });
    io.out(result.stdout);
    io.err(result.stderr);
    throw new CliExit(result.exitCode);
  });
}
