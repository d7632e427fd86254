import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for a VIP: a TCP proxy on 127.0.0.1 whose upstream is the node holding the VIP, and a
 * small HTTP control port that moves it, as a failover script would move a real VIP:
 *   GET  /vip                  the holder's name, or nothing
 *   POST /vip/acquire?node=X   X takes the VIP (400 for an unknown node)
 *   POST /vip/release?node=X   X gives it up (409 when X does not hold it)
 * Every applied change is counted in `events`, so a test can prove each was applied exactly once.
 * Releasing drops the connections to the old holder, as moving a real address would.
 */
export interface TcpProxy {
  /** The "VIP": connect here. */
  port: number;
  controlUrl: string;
  holder(): string | null;
  /** Applied changes in order: "release zdbp-01", "acquire zdbp-02". */
  events: string[];
  /** Every change asked for, applied or refused: "release zdbp-01", "release zdbp-01 (refused)". */
  calls: string[];
  /** Acquisitions applied (switches of the upstream). */
  switches(): number;
  reset(holder: string | null): void;
  close(): Promise<void>;
}

const listen = (server: Server | HttpServer) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
const closeServer = (server: Server | HttpServer) => new Promise<void>((resolve) => server.close(() => resolve()));

export async function startTcpProxy(upstreams: Record<string, number>, initialHolder: string | null = null): Promise<TcpProxy> {
  let holder = initialHolder;
  const events: string[] = [];
  const calls: string[] = [];
  const open = new Map<Socket, string>();

  const proxy = createServer((client) => {
    const name = holder;
    if (!name) return client.destroy();
    const upstream = connect(upstreams[name]!, '127.0.0.1');
    open.set(client, name);
    const drop = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });

  const control = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const node = url.searchParams.get('node') ?? '';
    const answer = (status: number, body: string) => {
      if (req.method === 'POST') calls.push(`${url.pathname.replace('/vip/', '')} ${node}${status === 200 ? '' : ' (refused)'}`);
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(body);
    };
    if (req.method === 'GET' && url.pathname === '/vip') return answer(200, holder ? `${holder}\n` : '');
    if (req.method === 'POST' && url.pathname === '/vip/acquire') {
      if (!(node in upstreams)) return answer(400, `unknown node "${node}"\n`);
      holder = node;
      events.push(`acquire ${node}`);
      return answer(200, `${node} holds the VIP\n`);
    }
    if (req.method === 'POST' && url.pathname === '/vip/release') {
      if (holder !== node) return answer(409, `${node} does not hold the VIP (${holder ?? 'nobody'} does)\n`);
      holder = null;
      events.push(`release ${node}`);
      for (const [socket, to] of open) if (to === node) socket.destroy();
      return answer(200, `${node} released the VIP\n`);
    }
    return answer(404, 'no such control\n');
  });

  const port = await listen(proxy);
  const controlPort = await listen(control);
  return {
    port,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    holder: () => holder,
    events,
    calls,
    switches: () => events.filter((e) => e.startsWith('acquire ')).length,
    reset(h) {
      holder = h;
      events.length = 0;
      calls.length = 0;
    },
    async close() {
      for (const s of open.keys()) s.destroy();
      await Promise.all([closeServer(proxy), closeServer(control)]);
    },
  };
}
