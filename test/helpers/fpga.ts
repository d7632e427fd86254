import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FpgaReader } from '../../tools/fpga/fpga-status.js';
import type { ActivePath, FpgaCard, FpgaChannel, FpgaSnapshot, MdgwLoginState, MdgwTcpState } from '../../tools/fpga/model.js';

/**
 * Status-block snapshots built in memory: two reads one interval apart whose counters advance at
 * the rates asked for, with each channel's last OrigTime some seconds before the second read.
 */
export interface ChannelSpec {
  channel: number;
  /** Packets received per second (default 1000); sent follows it. */
  pps?: number;
  /** Messages decoded per second (default 800). */
  mps?: number;
  /** Checksum errors per second (default 0). */
  cps?: number;
  /** Seconds between the last OrigTime and the second read (default 1); null: no message yet. */
  lastAgo?: number | null;
}

export interface CardSpec {
  card: number;
  tcp?: MdgwTcpState;
  login?: MdgwLoginState;
  rejectCode?: number | null;
  since?: Date | null;
  multicast?: 'up' | 'down';
  toeSessions?: number;
  activePath?: ActivePath;
  channels?: ChannelSpec[];
}

const DEFAULT_CHANNELS: ChannelSpec[] = [{ channel: 2011 }, { channel: 2012 }, { channel: 2013 }, { channel: 2014 }];

function channelAt(spec: ChannelSpec, at: Date, secondsIn: number): FpgaChannel {
  const pps = spec.pps ?? 1000;
  const mps = spec.mps ?? 800;
  const cps = spec.cps ?? 0;
  const lastAgo = spec.lastAgo === undefined ? 1 : spec.lastAgo;
  return {
    channel: spec.channel,
    packetsIn: 5_000_000 + pps * secondsIn,
    packetsOut: 4_900_000 + pps * secondsIn,
    messagesDecoded: 4_000_000 + mps * secondsIn,
    checksumErrors: 3 + cps * secondsIn,
    lastOrigTime: lastAgo === null ? null : new Date(at.getTime() - lastAgo * 1000),
    latencyP50Ns: 420,
    latencyP99Ns: 880,
  };
}

function cardAt(spec: CardSpec, at: Date, secondsIn: number, lastAt: Date): FpgaCard {
  return {
    card: spec.card,
    mdgw: { tcp: spec.tcp ?? 'established', login: spec.login ?? 'logged-in', rejectCode: spec.rejectCode ?? null, since: spec.since === undefined ? new Date(at.getTime() - 3600_000) : spec.since },
    multicast: spec.multicast ?? 'up',
    toeSessions: spec.toeSessions ?? 12,
    toeLimit: 128,
    activePath: spec.activePath ?? 'fpga',
    firmware: 'fw-3.2.1',
    bitstream: 'sz-binary-2026.10',
    updatedAt: at,
    // Freshness is set relative to the second read, so a stale channel stays as stale in both reads.
    channels: (spec.channels ?? DEFAULT_CHANNELS).map((c) => channelAt(c, lastAt, secondsIn)),
  };
}

/** The two reads the tool takes: the first `intervalMs` before `at`, the second at `at`. */
export function twoReads(at: Date, cards: CardSpec[], options: { intervalMs?: number; reader?: 'addon' | 'typescript' } = {}): [FpgaSnapshot, FpgaSnapshot] {
  const interval = options.intervalMs ?? 1000;
  const first = new Date(at.getTime() - interval);
  const snap = (when: Date, secondsIn: number): FpgaSnapshot => ({ reader: options.reader ?? 'addon', version: 1, takenAt: when, retries: 0, cards: cards.map((c) => cardAt(c, when, secondsIn, at)) });
  return [snap(first, 0), snap(at, interval / 1000)];
}

/** A reader that returns the snapshots given in turn, then the last one again; `calls` counts reads. */
export function scriptedReader(): { read: FpgaReader; set(snapshots: FpgaSnapshot[]): void; calls: () => number; files: string[] } {
  let queue: FpgaSnapshot[] = [];
  let last: FpgaSnapshot | undefined;
  let calls = 0;
  const files: string[] = [];
  return {
    read(file) {
      calls++;
      files.push(file);
      last = queue.shift() ?? last;
      if (!last) throw new Error('no snapshot scripted');
      return last;
    },
    set(snapshots) {
      queue = [...snapshots];
      last = undefined;
    },
    calls: () => calls,
    files,
  };
}

/** A file standing for the status block (the fake reader does not look inside it). */
export function blockFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'warroom-fpga-')), 'fpga-status.bin');
  writeFileSync(file, 'not read by the fake reader');
  return file;
}
