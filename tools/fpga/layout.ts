/**
 * The FPGA decoder status block, layout version 1: the ONE place its constants and offsets live
 * for TypeScript (the TS reader, the TS writer, the encoder the addon's writer is fed from).
 * native/fpga_status.cc mirrors them (static_assert-checked) and the addon reports its own copy,
 * which native/addon.ts compares with these before the addon is used. Documented in native/README.md.
 *
 * Little-endian throughout. The block is a header followed by `cardCount` card records; each card
 * record is a fixed part followed by `channelSlots` channel records:
 *
 *   header (64 B) | card 0 (128 B + slots × 64 B) | card 1 | …
 *
 * Each card record starts with a u64 sequence (odd while the writer is changing the record) and a
 * CRC-32 over the rest of the record, so a reader can tell a torn copy from a consistent one.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import type { ActivePath, FpgaCard, FpgaChannel, MdgwLoginState, MdgwTcpState, MulticastState } from './model.js';

/** "WRFP" read as a little-endian u32: bytes 57 52 46 50. */
export const MAGIC = 0x50465257;
export const LAYOUT_VERSION = 1;

export const HEADER_SIZE = 64;
export const HEADER = {
  magic: 0, // u32
  version: 4, // u16
  headerSize: 6, // u16
  cardRecordSize: 8, // u32
  channelRecordSize: 12, // u32
  cardCount: 16, // u32
  channelSlots: 20, // u32 channel records reserved per card
  // 24..63 reserved, zero
} as const;

/** Fixed part of a card record, before its channel records. */
export const CARD_FIXED_SIZE = 128;
export const CARD = {
  seq: 0, // u64 seqlock sequence: odd while the writer changes the record
  checksum: 8, // u32 CRC-32 (zlib's) of bytes [CHECKSUM_FROM, cardRecordSize)
  card: 12, // u32 card index on the host
  mdgwTcp: 16, // u8 MDGW_TCP codes
  mdgwLogin: 17, // u8 MDGW_LOGIN codes
  multicast: 18, // u8 MULTICAST codes
  activePath: 19, // u8 ACTIVE_PATH codes
  rejectCode: 20, // u32 the MDGW's reject reason (0 = none)
  toeSessions: 24, // u16 TOE sessions in use
  toeLimit: 26, // u16 the card's TOE session limit (128)
  channelCount: 28, // u32 channel records in use (≤ channelSlots); the rest are zero
  mdgwSinceNs: 32, // i64 Unix ns: when the MDGW TCP/login state last changed (0 = unknown)
  updatedAtNs: 40, // i64 Unix ns: when the control plane last wrote this record
  firmware: 48, // char[32] NUL-padded UTF-8
  bitstream: 80, // char[32] NUL-padded UTF-8
  // 112..127 reserved, zero
} as const;
export const VERSION_STRING_SIZE = 32;
/** The checksum covers the record from here (after seq and checksum) to its end, channel slots included. */
export const CHECKSUM_FROM = 12;

export const CHANNEL_RECORD_SIZE = 64;
export const CHANNEL = {
  channelNo: 0, // u32 the exchange's ChannelNo
  // 4..7 reserved, zero
  packetsIn: 8, // u64 packets received from the MDGW
  packetsOut: 16, // u64 packets multicast
  messagesDecoded: 24, // u64
  checksumErrors: 32, // u64 messages whose checksum trailer did not match
  lastOrigTimeNs: 40, // i64 Unix ns: OrigTime of the last decoded message (0 = none yet)
  latencyP50Ns: 48, // u32 decode latency on the card, nanoseconds
  latencyP99Ns: 52, // u32
  // 56..63 reserved, zero
} as const;

/** Sizes a reader refuses beyond: a corrupt header must not make it map or read gigabytes. */
export const MAX_CARDS = 64;
export const MAX_CHANNEL_SLOTS = 1024;
/** The card's TOE session limit. */
export const TOE_LIMIT = 128;

export const cardRecordSize = (channelSlots: number): number => CARD_FIXED_SIZE + channelSlots * CHANNEL_RECORD_SIZE;
export const cardOffset = (index: number, channelSlots: number): number => HEADER_SIZE + index * cardRecordSize(channelSlots);
export const blockSize = (cardCount: number, channelSlots: number): number => HEADER_SIZE + cardCount * cardRecordSize(channelSlots);

/** Enum codes in the u8 state fields; the index is the code. */
export const MDGW_TCP: readonly MdgwTcpState[] = ['down', 'connecting', 'established'];
export const MDGW_LOGIN: readonly MdgwLoginState[] = ['logged-out', 'logging-in', 'logged-in', 'rejected'];
export const MULTICAST: readonly MulticastState[] = ['down', 'up'];
export const ACTIVE_PATH: readonly ActivePath[] = ['fpga', 'software'];

/**
 * Per-channel numbers as both readers hand them over: one Float64Array per card, CHANNEL_FIELDS
 * numbers per channel in this order (times in Unix ms, NaN for "none").
 */
export const CHANNEL_FIELDS = ['channel', 'packetsIn', 'packetsOut', 'messagesDecoded', 'checksumErrors', 'lastOrigTimeMs', 'latencyP50Ns', 'latencyP99Ns'] as const;
export const CHANNEL_STRIDE = CHANNEL_FIELDS.length;

/** Everything both readers (and the writers) agree on, as the addon reports its own copy of it. */
export const LAYOUT_FINGERPRINT = {
  magic: MAGIC,
  version: LAYOUT_VERSION,
  headerSize: HEADER_SIZE,
  cardFixedSize: CARD_FIXED_SIZE,
  channelRecordSize: CHANNEL_RECORD_SIZE,
  checksumFrom: CHECKSUM_FROM,
  channelStride: CHANNEL_STRIDE,
  maxCards: MAX_CARDS,
  maxChannelSlots: MAX_CHANNEL_SLOTS,
} as const;

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, reflected, as zlib): zlib.crc32 where Node has it (20.15+), else a table.
// ---------------------------------------------------------------------------------------------
let table: Uint32Array | undefined;
function tableCrc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
export const crc32: (data: Uint8Array) => number = typeof zlibCrc32 === 'function' ? (d) => zlibCrc32(d) >>> 0 : tableCrc32;

/** The checksum a card record (bytes [0, size)) must carry. */
export function cardChecksum(record: Uint8Array): number {
  return crc32(record.subarray(CHECKSUM_FROM));
}

// ---------------------------------------------------------------------------------------------
// Encoding (writers)
// ---------------------------------------------------------------------------------------------
export interface BlockGeometry {
  cardCount: number;
  channelSlots: number;
}

export function encodeHeader(g: BlockGeometry): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b.writeUInt32LE(MAGIC, HEADER.magic);
  b.writeUInt16LE(LAYOUT_VERSION, HEADER.version);
  b.writeUInt16LE(HEADER_SIZE, HEADER.headerSize);
  b.writeUInt32LE(cardRecordSize(g.channelSlots), HEADER.cardRecordSize);
  b.writeUInt32LE(CHANNEL_RECORD_SIZE, HEADER.channelRecordSize);
  b.writeUInt32LE(g.cardCount, HEADER.cardCount);
  b.writeUInt32LE(g.channelSlots, HEADER.channelSlots);
  return b;
}

const NS_PER_MS = 1_000_000n;
const dateNs = (d: Date | null): bigint => (d ? BigInt(d.getTime()) * NS_PER_MS : 0n);

function code<T extends string>(table: readonly T[], value: T, what: string): number {
  const i = table.indexOf(value);
  if (i < 0) throw new RangeError(`${what}: "${value}" is not one of ${table.join(', ')}`);
  return i;
}

function writeU64(b: Buffer, value: number, at: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`counter ${value} is not a whole number in 0..2^53`);
  b.writeUInt32LE(value % 0x1_0000_0000, at);
  b.writeUInt32LE(Math.floor(value / 0x1_0000_0000), at + 4);
}

function writeVersionString(b: Buffer, text: string, at: number): void {
  b.fill(0, at, at + VERSION_STRING_SIZE);
  // Leave room for a NUL; cut on a whole UTF-8 character.
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > VERSION_STRING_SIZE - 1) bytes = Buffer.from(bytes.subarray(0, VERSION_STRING_SIZE - 1).toString('utf8').replace(/\uFFFD+$/, ''), 'utf8');
  bytes.copy(b, at);
}

/** The card's state as a writer hands it over: the model minus what only a reader knows. */
export type FpgaCardState = Omit<FpgaCard, 'channels'> & { channels: FpgaChannel[] };

/**
 * One card record, ready to be written: seq 0, checksum filled in. `out` (reused by fast writers)
 * must be cardRecordSize(channelSlots) bytes.
 */
export function encodeCardRecord(card: FpgaCardState, channelSlots: number, out?: Buffer): Buffer {
  const size = cardRecordSize(channelSlots);
  if (card.channels.length > channelSlots) throw new RangeError(`card ${card.card} has ${card.channels.length} channels; the block has ${channelSlots} slots per card`);
  const b = out ?? Buffer.alloc(size);
  if (b.length !== size) throw new RangeError(`record buffer is ${b.length} bytes, not ${size}`);
  b.fill(0);
  b.writeUInt32LE(card.card, CARD.card);
  b.writeUInt8(code(MDGW_TCP, card.mdgw.tcp, 'MDGW TCP state'), CARD.mdgwTcp);
  b.writeUInt8(code(MDGW_LOGIN, card.mdgw.login, 'MDGW login state'), CARD.mdgwLogin);
  b.writeUInt8(code(MULTICAST, card.multicast, 'multicast state'), CARD.multicast);
  b.writeUInt8(code(ACTIVE_PATH, card.activePath, 'active path'), CARD.activePath);
  b.writeUInt32LE(card.mdgw.rejectCode ?? 0, CARD.rejectCode);
  b.writeUInt16LE(card.toeSessions, CARD.toeSessions);
  b.writeUInt16LE(card.toeLimit, CARD.toeLimit);
  b.writeUInt32LE(card.channels.length, CARD.channelCount);
  b.writeBigInt64LE(dateNs(card.mdgw.since), CARD.mdgwSinceNs);
  b.writeBigInt64LE(dateNs(card.updatedAt), CARD.updatedAtNs);
  writeVersionString(b, card.firmware, CARD.firmware);
  writeVersionString(b, card.bitstream, CARD.bitstream);
  card.channels.forEach((c, i) => {
    const at = CARD_FIXED_SIZE + i * CHANNEL_RECORD_SIZE;
    b.writeUInt32LE(c.channel, at + CHANNEL.channelNo);
    writeU64(b, c.packetsIn, at + CHANNEL.packetsIn);
    writeU64(b, c.packetsOut, at + CHANNEL.packetsOut);
    writeU64(b, c.messagesDecoded, at + CHANNEL.messagesDecoded);
    writeU64(b, c.checksumErrors, at + CHANNEL.checksumErrors);
    b.writeBigInt64LE(dateNs(c.lastOrigTime), at + CHANNEL.lastOrigTimeNs);
    b.writeUInt32LE(Math.min(0xffffffff, Math.max(0, Math.round(c.latencyP50Ns))), at + CHANNEL.latencyP50Ns);
    b.writeUInt32LE(Math.min(0xffffffff, Math.max(0, Math.round(c.latencyP99Ns))), at + CHANNEL.latencyP99Ns);
  });
  b.writeUInt32LE(cardChecksum(b), CARD.checksum);
  return b;
}
