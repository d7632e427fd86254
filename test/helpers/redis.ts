import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { requireEnv } from './db.js';

/**
 * A Redis of the test's own: `redis-server` on a free loopback port, no persistence, stopped and
 * started by the test. The shared one (`npm run test:all`'s REDIS_URL) is restarted by another test
 * file running in parallel (test/server/http.test.ts), which drops every key: a queue test on it
 * could lose its jobs half-way. Without `redis-server` on PATH, the shared one is used, with the
 * test script's wrapper (WARROOM_TEST_REDIS_CMD) to stop and start it.
 */
export interface TestRedis {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      answer += String(d);
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

export async function startTestRedis(): Promise<TestRedis> {
  const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!hasServer) {
    const url = requireEnv('REDIS_URL');
    const cmd = process.env.WARROOM_TEST_REDIS_CMD;
    const ctl = (action: string) => {
      if (!cmd) throw new Error('neither redis-server nor WARROOM_TEST_REDIS_CMD is available to stop and start Redis');
      execFileSync(cmd, [action]);
    };
    return { url, stop: async () => ctl('stop'), start: async () => ctl('start'), close: async () => undefined };
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  const running = (c: ChildProcess | undefined): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null;
  const start = async () => {
    if (running(child)) return;
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on 127.0.0.1:${port}`);
  };
  const stop = async () => {
    const c = child;
    if (!running(c)) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, start, stop, close: stop };
}
