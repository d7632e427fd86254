/**
 * The TypeScript reader of the FPGA status block: the fallback where the addon did not build.
 * Same layout (layout.ts), same seqlock protocol, same errors and the same raw result as the
 * addon (native/fpga_status.cc), through positional reads (pread) instead of a mapping:
 *
 *   per card, per try: pread the record (its u64 seq first) → odd? retry;
 *   pread the seq again → changed? retry; CRC-32 of the copy must match its checksum, else retry.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { RawFpgaCard, RawFpgaReader, RawFpgaSnapshot } from '../../native/addon.js';
import {
  CARD,
  CARD_FIXED_SIZE,
  CHANNEL,
  CHANNEL_RECORD_SIZE,
  CHANNEL_STRIDE,
  CHECKSUM_FROM,
  HEADER,
  HEADER_SIZE,
  LAYOUT_VERSION,
  MAGIC,
  MAX_CARDS,
  MAX_CHANNEL_SLOTS,
  VERSION_STRING_SIZE,
  cardRecordSize,
  crc32,
} from './layout.js';

/** A problem with the block itself; `detail` reads after the file's name. Codes: fpga_block_*. */
export class BlockFault extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'BlockFault';
  }
}

export interface BlockHeader {
  version: number;
  headerSize: number;
  cardRecordSize: number;
  channelRecordSize: number;
  cardCount: number;
  channelSlots: number;
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  EIO: 'Input/output error',
};
function unreadable(what: string, err: unknown): BlockFault {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return new BlockFault('fpga_block_unreadable', `${what}: ${STRERROR[code] ?? (code || (err as Error).message)}`);
}

/** The header's checks, in the addon's order and words. */
export function parseHeader(b: Buffer, fileSize: number): BlockHeader {
  const magic = b.readUInt32LE(HEADER.magic);
  if (magic !== MAGIC) throw new BlockFault('fpga_block_magic', `does not start with the status block's magic "WRFP" (found 0x${magic.toString(16).padStart(8, '0')}): it is not an FPGA status block`);
  const h: BlockHeader = {
    version: b.readUInt16LE(HEADER.version),
    headerSize: b.readUInt16LE(HEADER.headerSize),
    cardRecordSize: b.readUInt32LE(HEADER.cardRecordSize),
    channelRecordSize: b.readUInt32LE(HEADER.channelRecordSize),
    cardCount: b.readUInt32LE(HEADER.cardCount),
    channelSlots: b.readUInt32LE(HEADER.channelSlots),
  };
  if (h.version !== LAYOUT_VERSION) throw new BlockFault('fpga_block_version', `has layout version ${h.version}; this Warroom reads version ${LAYOUT_VERSION}`);
  if (h.headerSize !== HEADER_SIZE || h.channelRecordSize !== CHANNEL_RECORD_SIZE || h.cardCount > MAX_CARDS || h.channelSlots > MAX_CHANNEL_SLOTS || h.cardRecordSize !== cardRecordSize(h.channelSlots)) {
    throw new BlockFault(
      'fpga_block_geometry',
      `has an inconsistent header (header ${h.headerSize} B, card record ${h.cardRecordSize} B, channel record ${h.channelRecordSize} B, ${h.cardCount} cards, ${h.channelSlots} channel slots)`,
    );
  }
  const need = HEADER_SIZE + h.cardCount * h.cardRecordSize;
  if (fileSize < need) throw new BlockFault('fpga_block_short', `is ${fileSize} bytes; its header promises ${need} (${h.cardCount} cards of ${h.cardRecordSize} bytes)`);
  return h;
}

const NS_PER_MS = 1_000_000n;
/** i64 Unix ns → whole ms, truncated toward zero as the addon does (ns / 1000000); 0 → NaN. */
export function nsToMs(b: Buffer, at: number): number {
  const lo = b.readUInt32LE(at);
  const hi = b.readUInt32LE(at + 4);
  if (hi === 0 && lo === 0) return Number.NaN;
  if (hi >= 0x8000_0000) return Number(b.readBigInt64LE(at) / NS_PER_MS); // before 1970: rare, exact
  // ns = hi·2^32 + lo = 10^6·(hi·4294) + r with r = hi·967296 + lo < 2^53: exact in doubles.
  const r = hi * 967_296 + lo;
  let q = Math.floor(r / 1e6);
  if (q * 1e6 > r) q--;
  else if ((q + 1) * 1e6 <= r) q++;
  return hi * 4294 + q;
}
const u64 = (b: Buffer, at: number): number => b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 0x1_0000_0000;
function versionString(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 || end > at + VERSION_STRING_SIZE ? at + VERSION_STRING_SIZE : end);
}

/** One consistent card record → the raw card both readers hand over. */
export function decodeCardRecord(rec: Buffer, channelSlots: number): RawFpgaCard {
  const n = Math.min(rec.readUInt32LE(CARD.channelCount), channelSlots);
  const channels = new Float64Array(n * CHANNEL_STRIDE);
  for (let j = 0; j < n; j++) {
    const at = CARD_FIXED_SIZE + j * CHANNEL_RECORD_SIZE;
    const o = j * CHANNEL_STRIDE;
    channels[o] = rec.readUInt32LE(at + CHANNEL.channelNo);
    channels[o + 1] = u64(rec, at + CHANNEL.packetsIn);
    channels[o + 2] = u64(rec, at + CHANNEL.packetsOut);
    channels[o + 3] = u64(rec, at + CHANNEL.messagesDecoded);
    channels[o + 4] = u64(rec, at + CHANNEL.checksumErrors);
    channels[o + 5] = nsToMs(rec, at + CHANNEL.lastOrigTimeNs);
    channels[o + 6] = rec.readUInt32LE(at + CHANNEL.latencyP50Ns);
    channels[o + 7] = rec.readUInt32LE(at + CHANNEL.latencyP99Ns);
  }
  return {
    card: rec.readUInt32LE(CARD.card),
    tcp: rec.readUInt8(CARD.mdgwTcp),
    login: rec.readUInt8(CARD.mdgwLogin),
    multicast: rec.readUInt8(CARD.multicast),
    activePath: rec.readUInt8(CARD.activePath),
    rejectCode: rec.readUInt32LE(CARD.rejectCode),
    toeSessions: rec.readUInt16LE(CARD.toeSessions),
    toeLimit: rec.readUInt16LE(CARD.toeLimit),
    sinceMs: nsToMs(rec, CARD.mdgwSinceNs),
    updatedAtMs: nsToMs(rec, CARD.updatedAtNs),
    firmware: versionString(rec, CARD.firmware),
    bitstream: versionString(rec, CARD.bitstream),
    channels,
  };
}

// Between tries, after the first 64: sleep 100 µs, as the addon does, so that a writer preempted
// mid-update gets ~0.1 s before 1000 tries give up.
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function backoff(attempt: number): void {
  if (attempt >= 64) Atomics.wait(sleepCell, 0, 0, 0.1);
}

/** Open the block for repeated reads; reopened when the file at `path` is replaced or resized. */
export function openTsReader(path: string): RawFpgaReader {
  let fd = -1;
  let ino = 0;
  let dev = 0;
  let size = 0;
  let header: BlockHeader | undefined;
  let rec = Buffer.alloc(0);
  const seq = Buffer.alloc(8);

  const close = () => {
    if (fd >= 0) closeSync(fd);
    fd = -1;
    header = undefined;
  };
  const open = () => {
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw unreadable('cannot be opened', err);
    }
    try {
      const st = fstatSync(fd);
      ino = st.ino;
      dev = st.dev;
      size = st.size;
      if (size < HEADER_SIZE) throw new BlockFault('fpga_block_short', `is ${size} bytes, shorter than the ${HEADER_SIZE}-byte header`);
      const hb = Buffer.alloc(HEADER_SIZE);
      try {
        readSync(fd, hb, 0, HEADER_SIZE, 0);
      } catch (err) {
        throw unreadable('cannot be read', err);
      }
      header = parseHeader(hb, size);
      if (rec.length !== header.cardRecordSize) rec = Buffer.alloc(header.cardRecordSize);
    } catch (err) {
      close();
      throw err;
    }
  };
  const refresh = () => {
    let st;
    try {
      st = statSync(path);
    } catch (err) {
      close();
      throw unreadable('cannot be opened', err);
    }
    if (fd >= 0 && header && st.ino === ino && st.dev === dev && st.size === size) return;
    close();
    open();
  };
  open();

  return {
    read(maxTries: number): RawFpgaSnapshot {
      refresh();
      const h = header!;
      const tries = Math.max(1, Math.floor(maxTries));
      const cards: RawFpgaCard[] = [];
      let retries = 0;
      for (let i = 0; i < h.cardCount; i++) {
        const off = HEADER_SIZE + i * h.cardRecordSize;
        let ok = false;
        let lastWasChecksum = false;
        for (let attempt = 0; attempt < tries; attempt++) {
          if (readSync(fd, rec, 0, rec.length, off) !== rec.length) throw new BlockFault('fpga_block_short', `ended inside card ${i}'s record (the file shrank while being read)`);
          const lo = rec.readUInt32LE(CARD.seq);
          const hi = rec.readUInt32LE(CARD.seq + 4);
          lastWasChecksum = false;
          if ((lo & 1) === 0) {
            readSync(fd, seq, 0, 8, off);
            if (seq.readUInt32LE(0) === lo && seq.readUInt32LE(4) === hi) {
              if (crc32(rec.subarray(CHECKSUM_FROM)) === rec.readUInt32LE(CARD.checksum)) {
                ok = true;
                break;
              }
              lastWasChecksum = true;
            }
          }
          retries++;
          backoff(attempt);
        }
        if (!ok) {
          if (lastWasChecksum) {
            throw new BlockFault('fpga_block_checksum', `card ${i}: the record's checksum does not match its contents after ${tries} tries (the record is corrupt, or the writer does not follow the seqlock)`);
          }
          throw new BlockFault('fpga_block_unstable', `card ${i}: writer never stable after ${tries} tries (its sequence stayed odd or kept changing)`);
        }
        cards.push(decodeCardRecord(rec, h.channelSlots));
      }
      return { version: h.version, cards, retries };
    },
    close,
  };
}
