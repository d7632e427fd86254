/**
 * The TypeScript writer of the FPGA status block (where the addon did not build): positional
 * writes under the same seqlock as the addon's writer — the odd sequence, then the record with its
 * checksum, then the even sequence, each its own pwrite. Also creates block files.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RawFpgaWriter } from '../../native/addon.js';
import { BlockFault, parseHeader } from './ts-reader.js';
import { CARD, CHECKSUM_FROM, HEADER_SIZE, MAX_CARDS, MAX_CHANNEL_SLOTS, blockSize, cardRecordSize, crc32, encodeHeader, type BlockGeometry } from './layout.js';

export function openTsWriter(path: string): RawFpgaWriter {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (err) {
    throw new BlockFault('fpga_block_unreadable', `cannot be opened for writing: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const hb = Buffer.alloc(HEADER_SIZE);
  let header;
  try {
    const size = fstatSync(fd).size;
    if (size < HEADER_SIZE) throw new BlockFault('fpga_block_short', `is ${size} bytes, shorter than the ${HEADER_SIZE}-byte header`);
    readSync(fd, hb, 0, HEADER_SIZE, 0);
    header = parseHeader(hb, size);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const { cardCount, channelSlots, cardRecordSize: size } = header;
  const seqs: Array<bigint | undefined> = new Array(cardCount);
  const seqBuf = Buffer.alloc(8);
  const body = Buffer.alloc(size);
  let open = true;
  return {
    cardCount,
    channelSlots,
    writeRecord(index: number, record: Uint8Array): void {
      if (!open) throw new Error('writeRecord() after close()');
      if (!Number.isInteger(index) || index < 0 || index >= cardCount) throw new RangeError(`card ${index} is not in the block (${cardCount} cards)`);
      if (record.length !== size) throw new RangeError(`record is ${record.length} bytes; the block's card records are ${size}`);
      const off = HEADER_SIZE + index * size;
      let s = seqs[index];
      if (s === undefined) {
        readSync(fd, seqBuf, 0, 8, off);
        s = seqBuf.readBigUInt64LE(0);
      }
      const odd = s & 1n ? s + 2n : s + 1n;
      body.set(record);
      body.writeUInt32LE(crc32(body.subarray(CHECKSUM_FROM)), CARD.checksum);
      seqBuf.writeBigUInt64LE(odd, 0);
      writeSync(fd, seqBuf, 0, 8, off);
      writeSync(fd, body, 8, size - 8, off + 8);
      seqBuf.writeBigUInt64LE(odd + 1n, 0);
      writeSync(fd, seqBuf, 0, 8, off);
      seqs[index] = odd + 1n;
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * Create (or replace) a block file: header, then every card's record from `records` (each
 * cardRecordSize bytes, from encodeCardRecord). Written to a temporary file and renamed over
 * `path`, so a reader never sees a half-made block and readers of the old one are not cut short.
 */
export function writeBlockFile(path: string, geometry: BlockGeometry, records: Buffer[]): void {
  const { cardCount, channelSlots } = geometry;
  if (!Number.isInteger(cardCount) || cardCount < 1 || cardCount > MAX_CARDS) throw new RangeError(`cards must be 1..${MAX_CARDS}, got ${cardCount}`);
  if (!Number.isInteger(channelSlots) || channelSlots < 1 || channelSlots > MAX_CHANNEL_SLOTS) throw new RangeError(`channel slots must be 1..${MAX_CHANNEL_SLOTS}, got ${channelSlots}`);
  if (records.length !== cardCount) throw new RangeError(`${records.length} card records for ${cardCount} cards`);
  const size = cardRecordSize(channelSlots);
  const block = Buffer.alloc(blockSize(cardCount, channelSlots));
  encodeHeader(geometry).copy(block, 0);
  records.forEach((r, i) => {
    if (r.length !== size) throw new RangeError(`card ${i}'s record is ${r.length} bytes, not ${size}`);
    r.copy(block, HEADER_SIZE + i * size);
    block.writeBigUInt64LE(0n, HEADER_SIZE + i * size + CARD.seq);
  });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, block, 0, block.length, 0);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
