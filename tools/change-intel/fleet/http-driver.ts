import { HostFailure, MAX_SNAPSHOT_BYTES, parseJsonDocument, type FleetDriver } from './driver.js';

export interface HttpDriverOptions {
  /** `http://{host}:9100/snapshot`: `{host}` is replaced by the host name (validated, so URL-safe). */
  urlTemplate: string;
  /** Sent as `Authorization: Bearer …` when set; never shown. */
  token?: string | undefined;
  maxBytes?: number;
}

/** Why fetch itself failed, in the words of the network ("ECONNREFUSED 10.8.1.23:9100"). */
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes(cause.code) ? ` ${cause.message}` : cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new HostFailure(`the answer is ${declared} bytes, more than the ${maxBytes} a snapshot may have`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new HostFailure(`the answer is more than the ${maxBytes} bytes a snapshot may have`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Pulls the snapshot from an agent's HTTP endpoint (GET, JSON back); redirects are refused, as another host could answer. */
export function createHttpDriver(options: HttpDriverOptions): FleetDriver {
  const maxBytes = options.maxBytes ?? MAX_SNAPSHOT_BYTES;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return {
    name: 'http',
    describe: `GET ${options.urlTemplate}`,
    async fetch(host, signal) {
      const url = options.urlTemplate.replaceAll('{host}', host);
      try {
        new URL(url);
      } catch {
        throw new HostFailure(`${url} is not a valid URL (check WARROOM_FLEET_HTTP_URL)`);
      }
      let res: Response;
      try {
        res = await fetch(url, { signal, headers, redirect: 'manual' });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw new HostFailure(`GET ${url} failed: ${networkReason(err)}`);
      }
      if (res.status !== 200) {
        const start = res.status >= 300 && res.status < 400 ? '' : (await readCapped(res, 4096).catch(() => '')).trim().slice(0, 120).replace(/\s+/g, ' ');
        await res.body?.cancel().catch(() => {});
        const where = res.status >= 300 && res.status < 400 ? ` (redirect to ${res.headers.get('location') ?? '?'} not followed)` : '';
        throw new HostFailure(`HTTP ${res.status}${where}${start ? `: ${start}` : ''}`);
      }
      return parseJsonDocument(await readCapped(res, maxBytes));
    },
  };
}
