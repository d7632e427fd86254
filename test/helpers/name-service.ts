import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small service on 127.0.0.1 that answers GET / with its own name, so a test can tell which node
 * served a request. POST /start and POST /stop are its start/stop scripts' targets (stopped, it
 * answers 503); `answerWith` makes it answer wrongly; `down` closes its port altogether.
 */
export interface NameService {
  name: string;
  port: number;
  running: boolean;
  answerWith(text: string | undefined): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startNameService(name: string): Promise<NameService> {
  let answer: string | undefined;
  const server = createServer((req, res) => {
    const reply = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(body);
    if (req.method === 'POST' && req.url === '/start') {
      svc.running = true;
      return reply(200, 'started\n');
    }
    if (req.method === 'POST' && req.url === '/stop') {
      svc.running = false;
      return reply(200, 'stopped\n');
    }
    if (!svc.running) return reply(503, 'stopped\n');
    return reply(200, answer ?? name);
  });
  const listenOn = (p: number) => new Promise<number>((resolve, reject) => server.once('error', reject).listen(p, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const port = await listenOn(0);
  const svc: NameService = {
    name,
    port,
    running: true,
    answerWith(text) {
      answer = text;
    },
    down: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
    async up() {
      if (!server.listening) await listenOn(port);
    },
    close: () => svc.down(),
  };
  return svc;
}

/** One GET on a fresh connection (no keep-alive: each request goes through the proxy anew): the body, or the error. */
export function getText(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' }, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(res.statusCode === 200 ? body : `HTTP ${res.statusCode}: ${body.trim()}`));
    });
    req.on('error', (err) => resolve(`error: ${err.message}`)).on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}
