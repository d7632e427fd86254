/**
 * A writer that hammers a status block, for the torn-read test and the bench: every field of a
 * card record is derived from ONE counter k, so a snapshot mixing two updates is caught by
 * checkStressCard(). Runs in its own process:
 *
 *   node --import tsx tools/fpga/stress.ts '{"file":"/tmp/b","rate":100000,"durationMs":3000}'
 *
 * prints `ready` once writing, then one JSON line {updates, seconds, rate, writer} when done.
 * An update is one card record written under the seqlock; cards take turns.
 */
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { CARD, CARD_FIXED_SIZE, CHANNEL, CHANNEL_RECORD_SIZE, VERSION_STRING_SIZE, ACTIVE_PATH, MDGW_LOGIN, MDGW_TCP, MULTICAST, cardRecordSize, type FpgaCardState } from './layout.js';
import type { FpgaCard } from './model.js';
import { openFpgaStatusWriter, type FpgaReaderChoice } from './status-block.js';

/** 2026-11-23 09:30 Beijing time; the pattern's times are this plus (k + j) mod TIME_SPAN ms. */
export const STRESS_BASE_MS = Date.UTC(2026, 10, 23, 1, 30);
const TIME_SPAN = 4096;

/** The record a stress writer writes for counter `k` on card `card` (channels 2011 + j). */
export function stressCard(k: number, card: number, channels: number): FpgaCardState {
  const t = (x: number) => new Date(STRESS_BASE_MS + (x % TIME_SPAN));
  return {
    card,
    mdgw: { tcp: MDGW_TCP[k % 3]!, login: MDGW_LOGIN[k % 4]!, rejectCode: (k % 100_000) + 1, since: t(k + 1) },
    multicast: MULTICAST[k % 2]!,
    toeSessions: k % 129,
    toeLimit: 128,
    activePath: ACTIVE_PATH[(k >> 1) % 2]!,
    firmware: `fw-${k}`,
    bitstream: `bs-${k}-${card}`,
    updatedAt: t(k),
    channels: Array.from({ length: channels }, (_, j) => ({
      channel: 2011 + j,
      packetsIn: k * 64 + j,
      packetsOut: k * 2 + j,
      messagesDecoded: k * 3 + j,
      checksumErrors: k + j,
      lastOrigTime: t(k + j),
      latencyP50Ns: (k % 100_000) + j,
      latencyP99Ns: (k % 100_000) + 2 * j,
    })),
  };
}

/** Undefined when `c` is exactly stressCard(k) for its own k; else what does not fit (a torn copy). */
export function checkStressCard(c: FpgaCard): string | undefined {
  const k = c.channels[0] ? c.channels[0].packetsIn / 64 : Number(c.firmware.slice(3));
  if (!Number.isInteger(k)) return `card ${c.card}: channel 0 packetsIn ${c.channels[0]?.packetsIn} is not 64·k`;
  const w = stressCard(k, c.card, c.channels.length);
  const mixed = (field: string, got: unknown, want: unknown) => `card ${c.card}: fields of two updates mixed (k=${k} from channel 0, but ${field} is ${String(got)}, not ${String(want)})`;
  const time = (d: Date | null) => (d ? d.getTime() : null);
  const card: Array<[string, unknown, unknown]> = [
    ['card', c.card, w.card],
    ['mdgw.tcp', c.mdgw.tcp, w.mdgw.tcp],
    ['mdgw.login', c.mdgw.login, w.mdgw.login],
    ['mdgw.rejectCode', c.mdgw.rejectCode, w.mdgw.rejectCode],
    ['mdgw.since', time(c.mdgw.since), time(w.mdgw.since)],
    ['multicast', c.multicast, w.multicast],
    ['toeSessions', c.toeSessions, w.toeSessions],
    ['toeLimit', c.toeLimit, w.toeLimit],
    ['activePath', c.activePath, w.activePath],
    ['firmware', c.firmware, w.firmware],
    ['bitstream', c.bitstream, w.bitstream],
    ['updatedAt', time(c.updatedAt), time(w.updatedAt)],
  ];
  for (const [f, got, want] of card) if (got !== want) return mixed(f, got, want);
  for (let j = 0; j < w.channels.length; j++) {
    const g = c.channels[j]!;
    const x = w.channels[j]!;
    const fields: Array<[string, unknown, unknown]> = [
      ['channel', g.channel, x.channel],
      ['packetsIn', g.packetsIn, x.packetsIn],
      ['packetsOut', g.packetsOut, x.packetsOut],
      ['messagesDecoded', g.messagesDecoded, x.messagesDecoded],
      ['checksumErrors', g.checksumErrors, x.checksumErrors],
      ['lastOrigTime', time(g.lastOrigTime), time(x.lastOrigTime)],
      ['latencyP50Ns', g.latencyP50Ns, x.latencyP50Ns],
      ['latencyP99Ns', g.latencyP99Ns, x.latencyP99Ns],
    ];
    for (const [f, got, want] of fields) if (got !== want) return mixed(`channel ${j} ${f}`, got, want);
  }
  return undefined;
}

/**
 * Encodes stressCard(k) fast into `buf` by patching a Uint32Array view (same bytes as
 * encodeCardRecord(stressCard(k, card, channels)) minus the checksum, which the writer sets).
 */
export function stressEncoder(card: number, channels: number, channelSlots: number): (k: number) => Buffer {
  const size = cardRecordSize(channelSlots);
  const ab = new ArrayBuffer(size);
  const buf = Buffer.from(ab);
  const u32 = new Uint32Array(ab);
  // ns of STRESS_BASE_MS + i, as lo/hi u32, for i in [0, TIME_SPAN)
  const lo = new Uint32Array(TIME_SPAN);
  const hi = new Uint32Array(TIME_SPAN);
  for (let i = 0; i < TIME_SPAN; i++) {
    const ns = BigInt(STRESS_BASE_MS + i) * 1_000_000n;
    lo[i] = Number(ns & 0xffffffffn);
    hi[i] = Number(ns >> 32n);
  }
  const u64 = (byte: number, v: number) => {
    u32[byte >> 2] = v % 0x1_0000_0000;
    u32[(byte >> 2) + 1] = Math.floor(v / 0x1_0000_0000);
  };
  const time = (byte: number, x: number) => {
    const i = x % TIME_SPAN;
    u32[byte >> 2] = lo[i]!;
    u32[(byte >> 2) + 1] = hi[i]!;
  };
  return (k: number) => {
    buf.fill(0, 8, CARD_FIXED_SIZE);
    u32[CARD.card >> 2] = card;
    buf[CARD.mdgwTcp] = k % 3;
    buf[CARD.mdgwLogin] = k % 4;
    buf[CARD.multicast] = k % 2;
    buf[CARD.activePath] = (k >> 1) % 2;
    u32[CARD.rejectCode >> 2] = (k % 100_000) + 1;
    u32[CARD.toeSessions >> 2] = (k % 129) | (128 << 16);
    u32[CARD.channelCount >> 2] = channels;
    time(CARD.mdgwSinceNs, k + 1);
    time(CARD.updatedAtNs, k);
    buf.write(`fw-${k}`.slice(0, VERSION_STRING_SIZE - 1), CARD.firmware, 'latin1');
    buf.write(`bs-${k}-${card}`.slice(0, VERSION_STRING_SIZE - 1), CARD.bitstream, 'latin1');
    const p = (k % 100_000);
    for (let j = 0; j < channels; j++) {
      const at = CARD_FIXED_SIZE + j * CHANNEL_RECORD_SIZE;
      u32[(at + CHANNEL.channelNo) >> 2] = 2011 + j;
      u64(at + CHANNEL.packetsIn, k * 64 + j);
      u64(at + CHANNEL.packetsOut, k * 2 + j);
      u64(at + CHANNEL.messagesDecoded, k * 3 + j);
      u64(at + CHANNEL.checksumErrors, k + j);
      time(at + CHANNEL.lastOrigTimeNs, k + j);
      u32[(at + CHANNEL.latencyP50Ns) >> 2] = p + j;
      u32[(at + CHANNEL.latencyP99Ns) >> 2] = p + 2 * j;
    }
    return buf;
  };
}

export const stressOptionsSchema = z.object({
  file: z.string(),
  /** Card record updates per second (all cards together), paced by a busy wait. */
  rate: z.number().positive(),
  durationMs: z.number().positive(),
  prefer: z.enum(['auto', 'addon', 'typescript']).optional(),
  /** Channels written per card (default: the block's slots). */
  channels: z.number().int().positive().optional(),
});
export type StressOptions = z.infer<typeof stressOptionsSchema>;

export interface StressResult {
  writer: 'addon' | 'typescript';
  updates: number;
  seconds: number;
  rate: number;
  lastK: number;
}

/** Write stress records at `rate` updates/s for `durationMs` (blocking: run it in its own process). */
export function runStressWriter(options: StressOptions, onReady: () => void = () => undefined): StressResult {
  const w = openFpgaStatusWriter(options.file, options.prefer ? { prefer: options.prefer as FpgaReaderChoice } : {});
  const channels = options.channels ?? w.channelSlots;
  const encoders = Array.from({ length: w.cardCount }, (_, c) => stressEncoder(c, channels, w.channelSlots));
  const periodNs = 1e9 / options.rate;
  const start = process.hrtime.bigint();
  const endNs = options.durationMs * 1e6;
  let n = 0;
  let k = 0;
  onReady();
  for (;;) {
    const elapsed = Number(process.hrtime.bigint() - start);
    if (elapsed >= endNs) break;
    if (elapsed < n * periodNs) continue; // pace: busy wait for the next slot
    const card = n % w.cardCount;
    if (card === 0) k++;
    w.writeRecord(card, encoders[card]!(k));
    n++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  w.close();
  return { writer: w.writer, updates: n, seconds, rate: n / seconds, lastK: k };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = stressOptionsSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
  const result = runStressWriter(options, () => process.stdout.write('ready\n'));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
