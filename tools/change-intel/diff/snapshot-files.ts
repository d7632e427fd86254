import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { WarroomError } from '../../../core/errors.js';
import { sensorIdPattern, type FactorItem } from '../sensors/sensor.js';
import { FACTORS_TAIL, FLEET_HEAD, FLEET_TAIL, parseSnapshotDocument, type Snapshot, type SnapshotHeader } from '../snapshot.js';
import { sideOf, type HostSide } from './engine.js';
import { checkHeader, checkItems, checkSnapshot, invalid } from './snapshot-check.js';

export { checkItems } from './snapshot-check.js';

/**
 * Reading snapshot and fleet files for the diff with bounded memory. Three readers, chosen by layout:
 * - line layout (what Warroom writes): one factor per line, so a host's factors are found by
 *   newline search and compared byte for byte; only factors whose bytes differ are parsed;
 * - scanned: a fleet in any other layout (one line, pretty-printed, …) and of any size, split into
 *   snapshots by a byte-level JSON scanner; each snapshot is parsed with JSON.parse and checked by
 *   hand, and factors with the same bytes on both sides skip the diff engine;
 * - single snapshot: parsed whole.
 * Validation is cheap hand-written checks (snapshot-check.ts); zod only words the message for a
 * single snapshot that fails them. Every reader hands out one block (host) at a time; a block is
 * valid until the next is requested.
 */

const CHUNK = 8 * 1024 * 1024;
/** Scanned files up to this size are read into memory whole. */
const WHOLE_FILE_LIMIT = 8 * 1024 * 1024;

export interface FileBlock extends HostSide {
  /** "before.json line 12" or "before.json snapshots[3]", for messages. */
  where: string;
  /** The factor's JSON text when the reader has it (line layout); compared before any parsing. */
  raw(factor: string): Buffer | undefined;
}

export interface BlockLocator {
  start: number;
  end: number;
  ordinal: number;
  line: number;
}

export interface IndexEntry {
  /** What pairing needs; `partial` when only the leading fields were read (the role may be further in). */
  header: Pick<SnapshotHeader, 'host' | 'role'>;
  partial?: boolean;
  loc: BlockLocator;
}

export type ReaderKind = 'lines' | 'scanned' | 'memory';

export interface SnapshotFile {
  readonly path: string;
  readonly kind: ReaderKind;
  readonly fleet: boolean;
  /** Every block in file order. */
  blocks(): Generator<FileBlock>;
  /** Headers and positions of every block, for matching (one pass, nothing parsed but headers). */
  index(): IndexEntry[];
  readAt(loc: BlockLocator): FileBlock;
  close(): void;
}

function parseHeader(json: string, where: string): SnapshotHeader {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw invalid(where, `the snapshot header is not valid JSON (${(err as Error).message})`);
  }
  return checkHeader(doc, where);
}

/** How far ahead block reads fetch when blocks are asked for in file order. */
const READ_AHEAD = 2 * 1024 * 1024;

/**
 * Reads of blocks by offset. Pairs come in the before file's order, and usually in the same order
 * in the after file: a sequential read fetches 2 MiB ahead, so 10,000 blocks cost a few dozen reads
 * rather than 10,000; a jump (hosts in another order) reads just the block.
 */
class BlockReader {
  private buf = Buffer.allocUnsafe(READ_AHEAD);
  /** File offsets held in `buf`. */
  private start = 0;
  private end = 0;

  constructor(
    private readonly fd: number,
    private readonly name: string,
  ) {}

  /** Bytes [from, to) of the file; valid until the next call. */
  get(from: number, to: number): Buffer {
    if (from >= this.start && to <= this.end) return this.buf.subarray(from - this.start, to - this.start);
    const size = to - from;
    const sequential = from >= this.end && from - this.end < READ_AHEAD;
    const want = sequential ? Math.max(size, READ_AHEAD) : size;
    if (this.buf.length < want) this.buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, this.buf, got, want - got, from + got);
      if (n === 0) break;
      got += n;
    }
    if (got < size) throw invalid(this.name, 'the file changed while it was being read');
    this.start = from;
    this.end = from + got;
    return this.buf.subarray(0, size);
  }
}

// ---------------------------------------------------------------------------------------------
// Line layout

const COMMA = 0x2c;
const QUOTE = 0x22;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

function isCloser(line: Buffer): { closer: boolean; comma: boolean } {
  const n = line.length;
  if (n === 2 && line[0] === RBRACE && line[1] === RBRACE) return { closer: true, comma: false };
  if (n === 3 && line[0] === RBRACE && line[1] === RBRACE && line[2] === COMMA) return { closer: true, comma: true };
  return { closer: false, comma: false };
}

const LAYOUT_HINT = 'The file starts like a Warroom fleet file (one factor per line) but this line breaks that layout. Rewrite it with `jq -c . FILE` (one line) or pretty-printed, and the diff reads it with the general reader.';

/** Parse one host block (header line, factor lines, closer line) of the line layout. */
function parseLayoutBlock(lines: Buffer[], file: string, firstLine: number, ordinal: number): FileBlock {
  const headerLine = lines[0]!;
  const where = `${basename(file)} line ${firstLine}`;
  const headerText = headerLine.toString('utf8');
  if (headerLine[0] !== LBRACE || !headerText.endsWith(FACTORS_TAIL)) throw invalid(where, `expected a snapshot header line ending in ${FACTORS_TAIL}`, LAYOUT_HINT);
  const header = parseHeader(`${headerText.slice(0, -FACTORS_TAIL.length)}}`, where);
  const raws = new Map<string, Buffer>();
  for (let i = 1; i < lines.length - 1; i++) {
    const line = lines[i]!;
    const lineNo = firstLine + i;
    const close = line.indexOf('":[');
    let end = line.length;
    if (line[end - 1] === COMMA) end--;
    if (line[0] !== QUOTE || close < 2 || line[end - 1] !== 0x5d) throw invalid(`${basename(file)} line ${lineNo}`, 'expected a factor line "<sensor id>":[…]', LAYOUT_HINT);
    const id = line.toString('utf8', 1, close);
    if (!sensorIdPattern.test(id)) throw invalid(`${basename(file)} line ${lineNo}`, `"${id}" is not a sensor id such as "os.listen"`, LAYOUT_HINT);
    if (raws.has(id)) throw invalid(`${basename(file)} line ${lineNo}`, `factor "${id}" appears twice in the snapshot of ${header.host}`);
    raws.set(id, line.subarray(close + 2, end));
  }
  const parsed = new Map<string, FactorItem[]>();
  return {
    header,
    where: `${basename(file)} snapshots[${ordinal}] (host ${header.host}, line ${firstLine})`,
    factorIds: [...raws.keys()],
    has: (f) => raws.has(f),
    raw: (f) => raws.get(f),
    items(f) {
      let items = parsed.get(f);
      if (!items) {
        const raw = raws.get(f);
        if (!raw) return [];
        const w = `${basename(file)} snapshots[${ordinal}].factors.${f} (host ${header.host})`;
        let value: unknown;
        try {
          value = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          throw invalid(w, `not valid JSON (${(err as Error).message})`);
        }
        items = checkItems(value, w);
        parsed.set(f, items);
      }
      return items;
    },
  };
}

/** Sequential lines over a file with a chunked buffer; lines are [start, end) file offsets. */
class LineSource {
  private buf = Buffer.allocUnsafe(CHUNK);
  private bufStart = 0;
  private len = 0;
  private filePos = 0;
  private eof = false;
  private cursor = 0;
  /** Bytes from this offset on stay in the buffer (the block being assembled). */
  keepFrom = 0;
  lineNo = 0;

  constructor(private readonly fd: number) {}

  next(): { start: number; end: number; lineNo: number } | undefined {
    for (;;) {
      const from = this.cursor - this.bufStart;
      const nl = from < this.len ? this.buf.indexOf(10, from) : -1;
      if (nl !== -1 && nl < this.len) {
        const start = this.cursor;
        let end = this.bufStart + nl;
        if (end > start && this.buf[nl - 1] === 13) end--;
        this.cursor = this.bufStart + nl + 1;
        return { start, end, lineNo: ++this.lineNo };
      }
      if (this.eof) {
        if (this.cursor < this.bufStart + this.len) {
          const start = this.cursor;
          this.cursor = this.bufStart + this.len;
          return { start, end: this.cursor, lineNo: ++this.lineNo };
        }
        return undefined;
      }
      this.fill();
    }
  }

  view(start: number, end: number): Buffer {
    return this.buf.subarray(start - this.bufStart, end - this.bufStart);
  }

  private fill(): void {
    const drop = Math.min(this.keepFrom, this.cursor) - this.bufStart;
    if (drop > 0) {
      this.buf.copy(this.buf, 0, drop, this.len);
      this.bufStart += drop;
      this.len -= drop;
    }
    if (this.len === this.buf.length) {
      // A block or line longer than the buffer: grow it (bounded by the largest host in the file).
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    const n = readSync(this.fd, this.buf, this.len, this.buf.length - this.len, this.filePos);
    if (n === 0) this.eof = true;
    this.len += n;
    this.filePos += n;
  }
}

class LineLayoutFile implements SnapshotFile {
  readonly kind = 'lines';
  readonly fleet = true;
  private readonly fd: number;
  private readonly reader: BlockReader;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.reader = new BlockReader(this.fd, basename(path));
  }

  /** Blocks as line ranges; `withLines` keeps the block in the buffer and returns its lines. */
  private *scan(withLines: boolean): Generator<{ header: Buffer; lines: Buffer[]; loc: BlockLocator }> {
    const src = new LineSource(this.fd);
    const first = src.next();
    if (!first || src.view(first.start, first.end).toString('utf8') !== FLEET_HEAD) throw invalid(`${basename(this.path)} line 1`, `expected ${FLEET_HEAD}`);
    let ordinal = 0;
    let ended = false;
    for (;;) {
      src.keepFrom = Number.MAX_SAFE_INTEGER;
      let line = src.next();
      while (line && line.end === line.start) line = src.next();
      if (!line) break;
      const text = src.view(line.start, line.end);
      if (text.length === 2 && text.toString('latin1') === FLEET_TAIL) {
        ended = true;
        for (let rest = src.next(); rest; rest = src.next()) {
          if (rest.end > rest.start) throw invalid(`${basename(this.path)} line ${rest.lineNo}`, `unexpected content after the closing ${FLEET_TAIL}`, LAYOUT_HINT);
        }
        break;
      }
      const start = line.start;
      const firstLine = line.lineNo;
      src.keepFrom = start;
      const ranges: Array<[number, number]> = [[line.start, line.end]];
      let closer: { closer: boolean; comma: boolean } = { closer: false, comma: false };
      for (;;) {
        const l = src.next();
        if (!l) throw invalid(`${basename(this.path)} line ${src.lineNo}`, `the snapshot that starts on line ${firstLine} has no closing "}}"`, LAYOUT_HINT);
        ranges.push([l.start, l.end]);
        closer = isCloser(src.view(l.start, l.end));
        if (closer.closer) break;
        if (ranges.length === 2 && src.view(l.start, l.end)[0] === LBRACE) throw invalid(`${basename(this.path)} line ${l.lineNo}`, 'expected a factor line or "}}"', LAYOUT_HINT);
      }
      const end = ranges[ranges.length - 1]![1];
      const loc: BlockLocator = { start, end, ordinal, line: firstLine };
      const lines = withLines ? ranges.map(([s, e]) => src.view(s, e)) : [];
      yield { header: src.view(ranges[0]![0], ranges[0]![1]), lines, loc };
      ordinal++;
    }
    if (!ended) throw invalid(basename(this.path), `the file ends without the closing ${FLEET_TAIL} (truncated?)`);
  }

  *blocks(): Generator<FileBlock> {
    for (const b of this.scan(true)) yield parseLayoutBlock(b.lines, this.path, b.loc.line, b.loc.ordinal);
  }

  index(): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const b of this.scan(false)) {
      const where = `${basename(this.path)} line ${b.loc.line}`;
      const text = b.header.toString('utf8');
      if (b.header[0] !== LBRACE || !text.endsWith(FACTORS_TAIL)) throw invalid(where, `expected a snapshot header line ending in ${FACTORS_TAIL}`, LAYOUT_HINT);
      out.push({ header: parseHeader(`${text.slice(0, -FACTORS_TAIL.length)}}`, where), loc: b.loc });
    }
    return out;
  }

  readAt(loc: BlockLocator): FileBlock {
    const size = loc.end - loc.start;
    const block = this.reader.get(loc.start, loc.end);
    const lines: Buffer[] = [];
    let from = 0;
    for (;;) {
      const nl = block.indexOf(10, from);
      let end = nl === -1 ? size : nl;
      if (end > from && block[end - 1] === 13) end--;
      lines.push(block.subarray(from, end));
      if (nl === -1) break;
      from = nl + 1;
    }
    return parseLayoutBlock(lines, this.path, loc.line, loc.ordinal);
  }

  close(): void {
    closeSync(this.fd);
  }
}

// ---------------------------------------------------------------------------------------------
// A single snapshot: parsed whole.

function blockOf(s: Snapshot, where: string): FileBlock {
  return { ...sideOf(s), where, raw: () => undefined };
}

class SingleSnapshotFile implements SnapshotFile {
  readonly kind = 'memory';
  readonly fleet = false;
  private readonly snapshot: Snapshot;

  constructor(readonly path: string) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw invalid(basename(path), `not valid JSON (${(err as Error).message})`);
    }
    try {
      this.snapshot = checkSnapshot(doc, basename(path));
    } catch (err) {
      // The quick check stops at the first problem; zod lists them all (it throws here too).
      parseSnapshotDocument(doc, basename(path));
      throw err;
    }
  }

  private get where(): string {
    return `${basename(this.path)} (host ${this.snapshot.host})`;
  }

  *blocks(): Generator<FileBlock> {
    yield blockOf(this.snapshot, this.where);
  }

  index(): IndexEntry[] {
    return [{ header: this.snapshot, loc: { start: 0, end: 0, ordinal: 0, line: 0 } }];
  }

  readAt(): FileBlock {
    return blockOf(this.snapshot, this.where);
  }

  close(): void {}
}

// ---------------------------------------------------------------------------------------------
// Any other layout of a fleet (one line, pretty-printed, …): a byte scanner splits the file into
// snapshots; each snapshot is parsed on its own with JSON.parse and checked by hand (no zod on the
// hot path). Parsing host by host is cheaper than one JSON.parse of the whole file: the garbage
// collector never has to walk a million live items.

const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BACKSLASH = 0x5c;

/** Byte-level JSON scanner over a file: finds the elements of the top-level "snapshots" array. */
class JsonScanner {
  private buf: Buffer;
  private bufStart = 0;
  private len = 0;
  private pos = 0;
  private eof = false;

  /** `whole`: the file's bytes when they are already in memory (small files). */
  constructor(
    private readonly fd: number,
    private readonly name: string,
    whole?: Buffer,
  ) {
    if (whole) {
      this.buf = whole;
      this.len = whole.length;
      this.eof = true;
    } else this.buf = Buffer.allocUnsafe(CHUNK);
  }

  get offset(): number {
    return this.bufStart + this.pos;
  }

  /** While ≥ 0, bytes from this file offset on stay in the buffer (a string being read). */
  private keep = -1;

  private fill(): boolean {
    if (this.eof) return false;
    const drop = this.keep >= 0 ? Math.min(this.keep - this.bufStart, this.pos) : this.pos;
    if (drop > 0) {
      this.buf.copy(this.buf, 0, drop, this.len);
      this.bufStart += drop;
      this.len -= drop;
      this.pos -= drop;
    }
    if (this.len === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    const n = readSync(this.fd, this.buf, this.len, this.buf.length - this.len, this.bufStart + this.len);
    if (n === 0) this.eof = true;
    this.len += n;
    return n > 0;
  }

  private fail(message: string): never {
    throw invalid(`${this.name} byte ${this.offset}`, message);
  }

  peek(): number {
    for (;;) {
      while (this.pos < this.len) {
        const c = this.buf[this.pos]!;
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
        else return c;
      }
      if (!this.fill()) return -1;
    }
  }

  expect(c: number): void {
    if (this.peek() !== c) this.fail(`expected "${String.fromCharCode(c)}"`);
    this.pos++;
  }

  /** A JSON string at the cursor, decoded. */
  string(): string {
    if (this.peek() !== QUOTE) this.fail('expected a string');
    const start = this.offset;
    this.keep = start;
    try {
      this.skipValue();
    } finally {
      this.keep = -1;
    }
    return JSON.parse(this.bytes(start, this.offset)) as string;
  }

  private bytes(start: number, end: number): string {
    return this.buf.toString('utf8', start - this.bufStart, end - this.bufStart);
  }

  /**
   * Skip one JSON value: strings and nesting only, no parsing (JSON.parse of each snapshot checks
   * the syntax later). The hot loop of the general reader: inside a string it looks for nothing but
   * the closing quote and backslashes.
   */
  skipValue(): void {
    const first = this.peek();
    if (first === -1) this.fail('unexpected end of file');
    if (first !== LBRACE && first !== LBRACKET && first !== QUOTE) {
      // A number, true, false or null: up to the next delimiter.
      for (;;) {
        while (this.pos < this.len) {
          const c = this.buf[this.pos]!;
          if (c === COMMA || c === RBRACE || c === RBRACKET || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) return;
          this.pos++;
        }
        if (!this.fill()) return;
      }
    }
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (;;) {
      if (this.pos >= this.len && !this.fill()) this.fail('unexpected end of file inside a value');
      const buf = this.buf;
      const len = this.len;
      let i = this.pos;
      if (escaped) {
        escaped = false;
        i++;
      }
      while (i < len) {
        if (inString) {
          let c = 0;
          while (i < len && (c = buf[i]!) !== QUOTE && c !== BACKSLASH) i++;
          if (i >= len) break;
          if (c === BACKSLASH) {
            if (i + 1 < len) i += 2;
            else {
              escaped = true;
              i = len;
            }
            continue;
          }
          i++;
          inString = false;
          if (depth === 0) {
            this.pos = i;
            return;
          }
          continue;
        }
        const c = buf[i++]!;
        if (c === QUOTE) inString = true;
        else if (c === LBRACE || c === LBRACKET) depth++;
        else if ((c === RBRACE || c === RBRACKET) && --depth === 0) {
          this.pos = i;
          return;
        }
      }
      this.pos = i;
    }
  }

  /**
   * Walk the top-level object to the "snapshots" array and call `onElement(start, end)` for each
   * element. Returns false when the document has no top-level "snapshots" (a single snapshot).
   */
  elements(onElement: (start: number, end: number) => void): boolean {
    this.expect(LBRACE);
    if (this.peek() === RBRACE) return false;
    for (;;) {
      const key = this.string();
      this.expect(0x3a);
      if (key === 'snapshots') {
        this.expect(LBRACKET);
        if (this.peek() === RBRACKET) return true;
        for (;;) {
          if (this.peek() !== LBRACE) this.fail('expected a snapshot object');
          const start = this.offset;
          this.skipValue();
          onElement(start, this.offset);
          const c = this.peek();
          this.pos++;
          if (c === RBRACKET) return true;
          if (c !== COMMA) this.fail('expected "," or "]" after a snapshot');
        }
      }
      this.skipValue();
      const c = this.peek();
      this.pos++;
      if (c === RBRACE) return false;
      if (c !== COMMA) this.fail('expected "," or "}"');
    }
  }
}

class ScannedFile implements SnapshotFile {
  readonly kind = 'scanned';
  readonly fleet = true;
  private readonly fd: number;
  private ranges: BlockLocator[] | undefined;
  private readonly reader: BlockReader;
  /** A small file is read once and kept. */
  private readonly whole: Buffer | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.reader = new BlockReader(this.fd, basename(path));
    if (fstatSync(this.fd).size <= WHOLE_FILE_LIMIT) this.whole = readFileSync(this.fd);
  }

  /** Element ranges (one scan, cached: 10,000 ranges are small). */
  locators(): BlockLocator[] | undefined {
    if (this.ranges) return this.ranges;
    const ranges: BlockLocator[] = [];
    const isFleet = new JsonScanner(this.fd, basename(this.path), this.whole).elements((start, end) => ranges.push({ start, end, ordinal: ranges.length, line: 0 }));
    if (!isFleet) return undefined;
    this.ranges = ranges;
    return ranges;
  }

  /** The element's bytes, valid until the next read. */
  private bytesAt(loc: BlockLocator): Buffer {
    return this.whole ? this.whole.subarray(loc.start, loc.end) : this.reader.get(loc.start, loc.end);
  }

  private parseAt(loc: BlockLocator): Snapshot {
    const bytes = this.bytesAt(loc);
    const where = `${basename(this.path)} snapshots[${loc.ordinal}]`;
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw invalid(`${where} (bytes ${loc.start}–${loc.end})`, `not valid JSON (${(err as Error).message})`);
    }
    return checkSnapshot(doc, where);
  }

  *blocks(): Generator<FileBlock> {
    for (const loc of this.locators() ?? []) yield this.readAt(loc);
  }

  /**
   * Hosts of every element, from the flat string fields at its start ({"host": …, "takenAt": …}, as
   * JSON.stringify writes a snapshot), so indexing a big fleet does not parse it twice. An element
   * that does not start with its host is parsed whole.
   */
  index(): IndexEntry[] {
    return (this.locators() ?? []).map((loc) => {
      const fields = this.leadingFields(loc);
      if (fields.host !== undefined) return { header: { host: fields.host, ...(fields.role !== undefined ? { role: fields.role } : {}) }, partial: true, loc };
      return { header: this.parseAt(loc), loc };
    });
  }

  private leadingFields(loc: BlockLocator): Record<string, string> {
    const text = this.bytesAt({ ...loc, end: Math.min(loc.end, loc.start + 1024) }).toString('utf8');
    const out: Record<string, string> = {};
    const field = /\s*"([A-Za-z]+)"\s*:\s*("(?:[^"\\]|\\.)*")\s*,/y;
    field.lastIndex = text.indexOf('{') + 1;
    for (let m = field.exec(text); m; m = field.exec(text)) out[m[1]!] = JSON.parse(m[2]!) as string;
    return out;
  }

  readAt(loc: BlockLocator): FileBlock {
    const snapshot = this.parseAt(loc);
    return blockOf(snapshot, `${basename(this.path)} snapshots[${loc.ordinal}] (host ${snapshot.host})`);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Open a snapshot or fleet file with the reader that suits its layout: Warroom's line layout by its
 * first line, any other fleet by the scanner, whatever its size; a file without a top-level
 * "snapshots" is a single snapshot and is parsed whole.
 */
export function openSnapshotFile(path: string): SnapshotFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new WarroomError('snapshot_unreadable', `Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, {
      hint: 'Give the paths of two snapshot files written by `warroom sense --out FILE` (or fleet files).',
    });
  }
  try {
    const head = Buffer.allocUnsafe(64);
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.toString('utf8', 0, n);
    if (text.startsWith(`${FLEET_HEAD}\n`) || text.startsWith(`${FLEET_HEAD}\r\n`)) return new LineLayoutFile(path);
  } finally {
    closeSync(fd);
  }
  const scanned = new ScannedFile(path);
  try {
    if (scanned.locators()) return scanned;
  } catch (err) {
    scanned.close();
    throw err;
  }
  scanned.close();
  return new SingleSnapshotFile(path);
}

/**
 * Re-open a file whose reader is already known, for random access only (diff workers): no layout
 * detection and no scan, since the locators come from the thread that indexed it.
 */
export function openForReadAt(path: string, kind: Exclude<ReaderKind, 'memory'>): SnapshotFile {
  return kind === 'lines' ? new LineLayoutFile(path) : new ScannedFile(path);
}
