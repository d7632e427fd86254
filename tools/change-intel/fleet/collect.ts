import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Snapshot, SnapshotLabel } from '../snapshot.js';
import { snapshotId } from '../snapshots-store.js';
import { HostFailure, type FleetDriver } from './driver.js';
import { parseSnapshot } from './validate.js';

export type HostStatus = 'ok' | 'failed' | 'timeout';

export interface HostResult {
  /** The host as asked for. */
  host: string;
  status: HostStatus;
  /** The stored snapshot's id (`host@takenAt`), when collected. */
  snapshotId?: string;
  /** The name the snapshot carries, when it is not the name asked for (an address, a short name). */
  reportedAs?: string;
  error?: string;
  ms: number;
}

export interface FleetTally {
  total: number;
  done: number;
  ok: number;
  failed: number;
  timedOut: number;
}

export interface AcceptOptions {
  label?: SnapshotLabel | undefined;
  changeId?: string | undefined;
  /** With `maxAgeMs`: a snapshot taken earlier than this much before `now` is stale (an old drop file). */
  now?: Date | undefined;
  maxAgeMs?: number | undefined;
}

/**
 * A host's document as a snapshot the store accepts (the same schema as POST /api/snapshots), or
 * a host failure naming what is wrong. The label and change id of the collection replace the
 * agent's (the agent does not know which change this is). The snapshot keeps the host name it
 * carries: that is the name a diff finds it by, the same as when the host posts it itself.
 */
export function acceptSnapshot(doc: unknown, options: AcceptOptions = {}): Snapshot {
  let one = doc;
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'snapshots' in doc) {
    const list = (doc as { snapshots: unknown }).snapshots;
    if (!Array.isArray(list) || list.length !== 1) throw new HostFailure(`sent a fleet document with ${Array.isArray(list) ? list.length : 'no list of'} snapshots; expected this host's one`);
    one = list[0];
  }
  const parsed = parseSnapshot(one);
  if (!parsed.success) {
    const { problems } = parsed;
    throw new HostFailure(`not a snapshot: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`);
  }
  const s = parsed.data;
  if (options.maxAgeMs !== undefined && options.now) {
    const age = options.now.getTime() - new Date(s.takenAt).getTime();
    if (age > options.maxAgeMs) throw new HostFailure(`stale: taken at ${s.takenAt}, ${Math.round(age / 60_000)} min before the collection (limit ${Math.round(options.maxAgeMs / 60_000)} min)`);
  }
  return { ...s, ...(options.label ? { label: options.label } : {}), ...(options.changeId ? { changeId: options.changeId } : {}) };
}

export interface CollectOptions extends AcceptOptions {
  concurrency: number;
  /** Per host, from launch to a validated snapshot. */
  timeoutMs: number;
  /** Cancellation: no new host is launched, hosts in flight are aborted. */
  signal?: AbortSignal | undefined;
  /** Each valid snapshot as it arrives (staged for the store step); a rejection stops the whole collection. */
  onSnapshot(snapshot: Snapshot): Promise<void>;
  /** After each host finishes; the caller decides how often to tell people. */
  onHostDone?(tally: Readonly<FleetTally>, result: HostResult): void;
}

export interface CollectOutcome {
  /** In the order of `hosts`; hosts never launched (cancelled) are absent. */
  results: HostResult[];
  tally: FleetTally;
  cancelled: boolean;
}

/** Why a failure happened, as one line. */
function reasonOf(err: unknown): string {
  if (err instanceof HostFailure) return err.message;
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Collect from every host through `driver`, at most `concurrency` at a time, each within
 * `timeoutMs`. One host's failure is that host's result; only a failing `onSnapshot` (the staging
 * store) or cancellation ends the collection early.
 */
export async function collectFleet(hosts: readonly string[], driver: FleetDriver, options: CollectOptions): Promise<CollectOutcome> {
  const tally: FleetTally = { total: hosts.length, done: 0, ok: 0, failed: 0, timedOut: 0 };
  const results: Array<HostResult | undefined> = new Array(hosts.length);
  // Stops everything: the caller's cancellation, or a fatal staging error.
  const stop = new AbortController();
  // Every host in flight listens to it: that many listeners is the design, not a leak.
  setMaxListeners(options.concurrency + 10, stop.signal);
  const onCancel = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) onCancel();
  else options.signal?.addEventListener('abort', onCancel, { once: true });
  let fatal: unknown;
  let next = 0;

  async function one(host: string): Promise<{ result: HostResult; snapshot?: Snapshot }> {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const hostAbort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      hostAbort.abort(new HostFailure('timeout'));
    }, options.timeoutMs);
    const onStop = () => hostAbort.abort(stop.signal.reason);
    stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      const fetching = driver.fetch(host, hostAbort.signal);
      fetching.catch(() => {}); // when the abort below wins the race, a late rejection is expected
      // A driver that ignores its signal cannot hold a slot past the timeout.
      const aborted = new Promise<never>((_, reject) => hostAbort.signal.addEventListener('abort', () => reject(hostAbort.signal.reason), { once: true }));
      aborted.catch(() => {});
      const doc = await Promise.race([fetching, aborted]);
      const snapshot = acceptSnapshot(doc, options);
      return { result: { host, status: 'ok', snapshotId: snapshotId(snapshot), ...(snapshot.host !== host ? { reportedAs: snapshot.host } : {}), ms: ms() }, snapshot };
    } catch (err) {
      if (timedOut) return { result: { host, status: 'timeout', error: `no snapshot within ${options.timeoutMs / 1000} s`, ms: ms() } };
      if (stop.signal.aborted) return { result: { host, status: 'failed', error: 'cancelled', ms: ms() } };
      return { result: { host, status: 'failed', error: reasonOf(err), ms: ms() } };
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener('abort', onStop);
    }
  }

  async function worker(): Promise<void> {
    while (!stop.signal.aborted) {
      const i = next++;
      if (i >= hosts.length) return;
      const { result, snapshot } = await one(hosts[i]!);
      if (snapshot) {
        try {
          await options.onSnapshot(snapshot);
        } catch (err) {
          fatal ??= err;
          stop.abort(err);
          return;
        }
      }
      results[i] = result;
      tally.done++;
      if (result.status === 'ok') tally.ok++;
      else if (result.status === 'timeout') tally.timedOut++;
      else tally.failed++;
      options.onHostDone?.(tally, result);
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, hosts.length)) }, worker));
  } finally {
    options.signal?.removeEventListener('abort', onCancel);
  }
  if (fatal) throw fatal;
  return { results: results.filter((r): r is HostResult => r !== undefined), tally, cancelled: Boolean(options.signal?.aborted) };
}
