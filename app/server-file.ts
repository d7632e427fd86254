import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { holderAlive } from '../db/store-lock.js';

/**
 * `WARROOM_HOME/server.json`: how a second Warroom process reaches the one that owns the
 * embedded store. Written (mode 0600, atomically) by `warroom start` and `demo --serve/--chat`
 * once they listen, removed when they stop. The token authenticates forwarded CLI commands
 * (POST /internal/cli); whoever can read this file can run commands as the server's user.
 */
export interface ServerFile {
  pid: number;
  startTicks?: number;
  port: number;
  /** Where a local client connects (loopback when the server listens on every interface). */
  connectHost: string;
  token: string;
  since: string;
}

export const SERVER_FILE = 'server.json';

export function serverFilePath(home: string): string {
  return join(resolve(home), SERVER_FILE);
}

export function newServerToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The host a process on this machine connects to, for a server listening on `host`. */
export function connectHostFor(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === 'localhost') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

export function writeServerFile(home: string, file: ServerFile): void {
  const path = serverFilePath(home);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600); // whatever the umask
  renameSync(tmp, path);
}

export function readServerFile(home: string): ServerFile | undefined {
  try {
    const v = JSON.parse(readFileSync(serverFilePath(home), 'utf8')) as Partial<ServerFile>;
    if (typeof v.pid !== 'number' || typeof v.port !== 'number' || typeof v.token !== 'string' || typeof v.connectHost !== 'string') return undefined;
    return v as ServerFile;
  } catch {
    return undefined;
  }
}

/** The server file when the process that wrote it still runs. */
export function liveServerFile(home: string): ServerFile | undefined {
  const f = readServerFile(home);
  return f && holderAlive(f) ? f : undefined;
}

/** Remove the server file if it is still this process's. */
export function removeServerFile(home: string, token: string): void {
  if (readServerFile(home)?.token !== token) return;
  try {
    unlinkSync(serverFilePath(home));
  } catch {
    /* ignore */
  }
}
