/**
 * Reading and writing the FPGA decoder status block: one entry point over two readers.
 *
 *   readFpgaStatus(file, {prefer})  one consistent snapshot (per card) as the FpgaSnapshot model,
 *                                   through the C++ addon where it loaded, else the TypeScript
 *                                   reader; `snapshot.reader` says which.
 *   openFpgaStatus(file, {prefer})  the same, kept open for repeated reads.
 *   addonStatus()                   whether the addon loaded, and why not.
 *   createFpgaStatusBlock / openFpgaStatusWriter   the writers (addon's, else TypeScript's).
 *
 * WARROOM_FPGA_READER=auto|addon|typescript chooses the reader when `prefer` is not given
 * (typescript forces the fallback; addon and auto use the addon where it loaded).
 */
import { addonFault, loadFpgaAddon, type FpgaAddon, type RawFpgaReader, type RawFpgaSnapshot, type RawFpgaWriter } from '../../native/addon.js';
import { configSchema } from '../../core/config.js';
import { WarroomError, errorMessage } from '../../core/errors.js';
import {
  ACTIVE_PATH,
  CHANNEL_STRIDE,
  LAYOUT_FINGERPRINT,
  MDGW_LOGIN,
  MDGW_TCP,
  MULTICAST,
  encodeCardRecord,
  type FpgaCardState,
} from './layout.js';
import type { FpgaCard, FpgaChannel, FpgaSnapshot } from './model.js';
import { BlockFault, openTsReader } from './ts-reader.js';
import { openTsWriter, writeBlockFile } from './ts-writer.js';

export type FpgaReaderKind = FpgaSnapshot['reader'];
export type FpgaReaderChoice = FpgaReaderKind | 'auto';

export interface FpgaReadOptions {
  /** Which reader to use; default WARROOM_FPGA_READER, else auto (the addon where it loaded). */
  prefer?: FpgaReaderChoice;
  /** Tries per card before giving up on a writer that never leaves a record alone (default 1000). */
  maxTries?: number;
  /** The reader's clock, for `takenAt` (default: the real time). */
  now?: () => Date;
}

export const DEFAULT_MAX_TRIES = 1000;

// ---------------------------------------------------------------------------------------------
// The addon, checked against this build's layout
// ---------------------------------------------------------------------------------------------
type Usable = { loaded: true; addon: FpgaAddon; path: string } | { loaded: false; error: string; path: string };
let usable: { key: string; value: Usable } | undefined;

function usableAddon(): Usable {
  const load = loadFpgaAddon();
  if (usable?.key === load.path) return usable.value;
  let value: Usable = load;
  if (load.loaded) {
    const wrong = Object.entries(LAYOUT_FINGERPRINT).filter(([k, v]) => load.addon.layout[k] !== v);
    if (wrong.length) {
      value = {
        loaded: false,
        path: load.path,
        error: `${load.path} was built for another layout (${wrong.map(([k, v]) => `${k} ${load.addon.layout[k]} ≠ ${v}`).join(', ')}): run \`node native/build.mjs\``,
      };
    }
  }
  usable = { key: load.path, value };
  return value;
}

/** Whether the C++ addon is in use here, and if not, why (its build output missing, a load error…). */
export function addonStatus(): { loaded: boolean; error?: string; path: string } {
  const u = usableAddon();
  return u.loaded ? { loaded: true, path: u.path } : { loaded: false, error: u.error, path: u.path };
}

/** The reader `prefer` (or WARROOM_FPGA_READER) leads to on this machine. */
export function fpgaReaderFor(prefer?: FpgaReaderChoice): FpgaReaderKind {
  let want = prefer;
  if (!want) {
    const env = configSchema.shape.WARROOM_FPGA_READER.safeParse(process.env.WARROOM_FPGA_READER);
    if (!env.success) {
      throw new WarroomError('bad_config', `WARROOM_FPGA_READER is "${process.env.WARROOM_FPGA_READER}"; it must be auto, addon or typescript.`, { hint: 'Unset it to use the addon where it built.' });
    }
    want = env.data;
  }
  if (want === 'typescript') return 'typescript';
  return usableAddon().loaded ? 'addon' : 'typescript';
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------
const HINTS: Record<string, string> = {
  fpga_block_unreadable: 'Check the path, and that the card\'s control plane (or `warroom fpga simulate --file <path>`) is running and writes it.',
  fpga_block_short: 'The file is not a whole status block: check the path, or wait until its writer has created it.',
  fpga_block_geometry: 'The header is damaged or not written by a status-block writer: check the path (layout: native/README.md).',
  fpga_block_magic: 'Point Warroom at the status block the card\'s control plane writes (layout: native/README.md).',
  fpga_block_version: 'Run a Warroom that reads this layout version, or a control plane that writes version 1.',
  fpga_block_unstable: 'The writer holds the record mid-update (it may have died while writing): restart the control plane or the simulator.',
  fpga_block_checksum: 'The record is corrupt, or its writer does not use the seqlock: restart the writer; if it persists, the control plane is at fault.',
  fpga_block_value: 'The block holds a state code this Warroom does not know: check that writer and reader use the same layout version.',
};

/** A block problem, from either reader, as the one error a user sees: it names the file. */
export function blockError(file: string, code: string, detail: string): WarroomError {
  const joint = detail.startsWith('card ') ? ', ' : ' ';
  return new WarroomError(code, `FPGA status block ${file}${joint}${detail}.`, {
    hint: HINTS[code] ?? 'See native/README.md for the layout.',
    status: code === 'fpga_block_unreadable' || code === 'fpga_block_unstable' ? 503 : 422,
  });
}

function asBlockError(file: string, err: unknown): unknown {
  if (err instanceof BlockFault) return blockError(file, err.code, err.detail);
  const f = addonFault(err);
  return f ? blockError(file, f.code, f.detail) : err;
}

// ---------------------------------------------------------------------------------------------
// Raw (both readers) → the model
// ---------------------------------------------------------------------------------------------
function state<T>(table: readonly T[], code: number, card: number, what: string): T {
  const v = table[code];
  if (v === undefined) throw new BlockFault('fpga_block_value', `card ${card}: ${what} code ${code} is not one of 0..${table.length - 1}`);
  return v;
}
const dateOrNull = (ms: number): Date | null => (Number.isNaN(ms) ? null : new Date(ms));

export function toFpgaSnapshot(raw: RawFpgaSnapshot, reader: FpgaReaderKind, takenAt: Date): FpgaSnapshot {
  const cards: FpgaCard[] = raw.cards.map((c) => {
    const channels: FpgaChannel[] = [];
    const d = c.channels;
    for (let o = 0; o + CHANNEL_STRIDE <= d.length; o += CHANNEL_STRIDE) {
      channels.push({
        channel: d[o]!,
        packetsIn: d[o + 1]!,
        packetsOut: d[o + 2]!,
        messagesDecoded: d[o + 3]!,
        checksumErrors: d[o + 4]!,
        lastOrigTime: dateOrNull(d[o + 5]!),
        latencyP50Ns: d[o + 6]!,
        latencyP99Ns: d[o + 7]!,
      });
    }
    return {
      card: c.card,
      mdgw: {
        tcp: state(MDGW_TCP, c.tcp, c.card, 'MDGW TCP state'),
        login: state(MDGW_LOGIN, c.login, c.card, 'MDGW login state'),
        rejectCode: c.rejectCode === 0 ? null : c.rejectCode,
        since: dateOrNull(c.sinceMs),
      },
      multicast: state(MULTICAST, c.multicast, c.card, 'multicast state'),
      toeSessions: c.toeSessions,
      toeLimit: c.toeLimit,
      activePath: state(ACTIVE_PATH, c.activePath, c.card, 'active path'),
      firmware: c.firmware,
      bitstream: c.bitstream,
      updatedAt: new Date(Number.isNaN(c.updatedAtMs) ? 0 : c.updatedAtMs),
      channels,
    };
  });
  return { reader, version: raw.version, takenAt, cards, retries: raw.retries };
}

// ---------------------------------------------------------------------------------------------
// Readers
// ---------------------------------------------------------------------------------------------
export interface FpgaStatusReader {
  readonly reader: FpgaReaderKind;
  readonly file: string;
  read(): FpgaSnapshot;
  close(): void;
}

/** Open `file` for repeated snapshots (the tool reads twice, an interval apart). */
export function openFpgaStatus(file: string, options: FpgaReadOptions = {}): FpgaStatusReader {
  const reader = fpgaReaderFor(options.prefer);
  const maxTries = options.maxTries ?? DEFAULT_MAX_TRIES;
  const now = options.now ?? (() => new Date());
  let raw: RawFpgaReader;
  try {
    if (reader === 'addon') {
      const u = usableAddon();
      if (!u.loaded) throw new Error(u.error); // not reached: fpgaReaderFor checked it
      raw = u.addon.openReader(file);
    } else {
      raw = openTsReader(file);
    }
  } catch (err) {
    throw asBlockError(file, err);
  }
  return {
    reader,
    file,
    read() {
      try {
        return toFpgaSnapshot(raw.read(maxTries), reader, now());
      } catch (err) {
        throw asBlockError(file, err);
      }
    },
    close: () => raw.close(),
  };
}

/** One snapshot of `file`; `snapshot.reader` says which reader took it. */
export function readFpgaStatus(file: string, options: FpgaReadOptions = {}): FpgaSnapshot {
  const r = openFpgaStatus(file, options);
  try {
    return r.read();
  } finally {
    r.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writers (the simulator, tests, benches; a real block is written by the card's control plane)
// ---------------------------------------------------------------------------------------------
export interface FpgaStatusWriter {
  readonly writer: FpgaReaderKind;
  readonly file: string;
  readonly cardCount: number;
  readonly channelSlots: number;
  /** Write one card's record under the seqlock; `index` (default card.card) is its place in the block. */
  writeCard(card: FpgaCardState, index?: number): void;
  /** Write an already encoded record (encodeCardRecord), for writers that patch one buffer fast. */
  writeRecord(index: number, record: Uint8Array): void;
  close(): void;
}

/**
 * Create or replace `file` with a block of `cards.length` cards (in this order) and
 * `channelSlots` channel slots per card (default: the most channels any card has, at least 1).
 */
export function createFpgaStatusBlock(file: string, init: { cards: FpgaCardState[]; channelSlots?: number }): void {
  const channelSlots = init.channelSlots ?? Math.max(1, ...init.cards.map((c) => c.channels.length));
  try {
    writeBlockFile(file, { cardCount: init.cards.length, channelSlots }, init.cards.map((c) => encodeCardRecord(c, channelSlots)));
  } catch (err) {
    if (err instanceof RangeError) throw new WarroomError('fpga_block_create', `Cannot create the FPGA status block ${file}: ${err.message}.`);
    throw new WarroomError('fpga_block_create', `Cannot create the FPGA status block ${file}: ${errorMessage(err)}`, { hint: 'Check that its directory exists and is writable.' });
  }
}

/** Open an existing block for writing: the addon's writer (mmap, atomics) where it loaded, else pwrite. */
export function openFpgaStatusWriter(file: string, options: { prefer?: FpgaReaderChoice } = {}): FpgaStatusWriter {
  const writer = fpgaReaderFor(options.prefer);
  let raw: RawFpgaWriter;
  try {
    if (writer === 'addon') {
      const u = usableAddon();
      if (!u.loaded) throw new Error(u.error);
      raw = u.addon.openWriter(file);
    } else {
      raw = openTsWriter(file);
    }
  } catch (err) {
    throw asBlockError(file, err);
  }
  const { cardCount, channelSlots } = raw;
  return {
    writer,
    file,
    cardCount,
    channelSlots,
    writeCard(card, index = card.card) {
      raw.writeRecord(index, encodeCardRecord(card, channelSlots));
    },
    writeRecord: (index, record) => raw.writeRecord(index, record),
    close: () => raw.close(),
  };
}
