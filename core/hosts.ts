/**
 * Which hosts the one HTTP server answers for, and whether it is reachable beyond this machine.
 *
 * A browser names the server it means in the `Host` header. A DNS-rebinding page on
 * `rebind.evil.example` points its own name at 127.0.0.1 and then talks to Warroom as a same-origin
 * page would; refusing every `Host` that is not one Warroom serves defeats that. Served by default:
 * the loopback names (localhost, 127.0.0.1, [::1]) and the address bound to (WARROOM_HOST, unless it
 * is a wildcard), each with the listening port; and every host in WARROOM_PUBLIC_HOSTS (the name a
 * reverse proxy, Slack or WeCom use), with any port unless the entry names one.
 */

export interface HostName {
  /** Lower-case; IPv6 in brackets, e.g. `[::1]`. */
  hostname: string;
  port: number | undefined;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `127.0.0.1`, `127.x.y.z`, `::1`, `[::1]`, `localhost`, `::ffff:127.0.0.1`. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `0.0.0.0` and `::`: every interface. */
export function isWildcardAddress(host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1');
  return h === '0.0.0.0' || h === '::' || h === '';
}

/** A `Host` header or a WARROOM_PUBLIC_HOSTS entry as hostname and port; undefined when malformed. */
export function parseHost(value: string): HostName | undefined {
  const v = value.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { hostname: m[1]!, port };
}

/** WARROOM_PUBLIC_HOSTS: comma- or space-separated `host` or `host:port` entries. */
export function parsePublicHosts(value: string | undefined): HostName[] {
  if (!value) return [];
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      const h = parseHost(entry);
      if (!h) throw new Error(`"${entry}" is not a host name, IP address or [IPv6 address], with an optional :port`);
      return h;
    });
}

/** An address as it appears in a URL or a Host header (IPv6 in brackets). */
export function urlHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

export interface ServedHosts {
  /** Whether a request's `Host` header names this server. */
  allows(host: string | undefined): boolean;
  /** What is served, for the refusal message. */
  describe(): string;
  /** True when the server can be reached from other machines: bound beyond loopback, or named by a public host. */
  readonly beyondLoopback: boolean;
}

export function servedHosts(options: { bindHost: string; port: number; publicHosts: HostName[] }): ServedHosts {
  const { bindHost, port, publicHosts } = options;
  const local = new Set(LOOPBACK_NAMES);
  if (!isWildcardAddress(bindHost)) local.add(urlHost(bindHost.toLowerCase()));
  const beyondLoopback = !isLoopbackAddress(bindHost) || publicHosts.some((h) => !isLoopbackAddress(h.hostname));
  return {
    beyondLoopback,
    allows(header) {
      if (!header) return false;
      const h = parseHost(header);
      if (!h) return false;
      // No port in the header means the scheme's default (80 for plain HTTP).
      if (local.has(h.hostname) && (h.port ?? 80) === port) return true;
      return publicHosts.some((p) => p.hostname === h.hostname && (p.port === undefined || p.port === (h.port ?? 80) || (h.port === undefined && p.port === 443)));
    },
    describe() {
      const names = [...local].map((n) => `${n}:${port}`);
      for (const p of publicHosts) names.push(p.port === undefined ? p.hostname : `${p.hostname}:${p.port}`);
      return names.join(', ');
    },
  };
}

/**
 * Whether an `Origin` header names the same server as the request's `Host` header (already checked
 * by `servedHosts`): same host name and port, http or https (a TLS-terminating proxy in front).
 */
export function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and anything else unparseable
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return false;
  const h = parseHost(host);
  if (!h) return false;
  if (u.hostname.toLowerCase() !== h.hostname) return false;
  const defaultPort = u.protocol === 'https:' ? 443 : 80;
  const originPort = u.port === '' ? defaultPort : Number(u.port);
  return originPort === (h.port ?? defaultPort);
}

/** Headers a reverse proxy adds: the request came from somewhere else, whatever the socket says. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

/**
 * Whether a request came from this machine itself: a loopback peer address and no proxy's
 * forwarding headers. A proxy on this machine that sends `Host: 127.0.0.1` is still a proxy.
 */
export function fromThisMachine(request: { remoteAddress: string | undefined; headers: Record<string, string | string[] | undefined> }): boolean {
  const peer = request.remoteAddress?.replace(/^::ffff:/, '');
  if (!peer || !isLoopbackAddress(peer)) return false;
  return !FORWARDING_HEADERS.some((h) => request.headers[h] !== undefined);
}
