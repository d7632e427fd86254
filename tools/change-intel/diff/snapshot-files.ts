import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { WarroomError } from '../../../core/errors.js';
import { sensorIdPattern, type FactorItem } from '../sensors/sensor.js';
import { describeIssues, FACTORS_TAIL, FLEET_HEAD, FLEET_TAIL, parseSnapshotDocument, snapshotHeaderSchema, type Snapshot, type SnapshotHeader } from '../snapshot.js';
import { sideOf, type HostSide } from './engine.js';

/**
 * Reading snapshot and fleet files for the diff with bounded memory. Three readers:
 * - line layout (what Warroom writes): one factor per line, so a host's factors are found by
 *   newline search and compared byte for byte; only factors whose bytes differ are parsed;
 * - scanned: any other layout of a big fleet, split into snapshots by a byte-level JSON scanner
 *   and parsed one snapshot at a time;
 * - in memory: small files (and single snapshots), parsed whole and validated with zod.
 * Every reader hands out one block (host) at a time; a block is valid until the next is requested.
 */

/** Files up to this size are simply parsed whole. */
const IN_MEMORY_LIMIT = 64 * 1024 * 1024;
const CHUNK = 8 * 1024 * 1024;

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

function invalid(where: string, message: string, hint?: string): WarroomError {
  return new WarroomError('snapshot_invalid', `${where}: ${message}`, {
    hint: hint ?? 'A fleet file is {"snapshots": [ … ]} of snapshots {"host", "takenAt", "factors": {"<sensor id>": [{"key", "value"}]}}.',
  });
}

/** A quick structural check of parsed factor items, equivalent to `factorItemSchema` but cheap enough for millions of items. */
export function checkItems(value: unknown, where: string): FactorItem[] {
  if (!Array.isArray(value)) throw invalid(where, 'expected an array of {"key", "value"} items');
  for (let i = 0; i < value.length; i++) {
    const it = value[i] as { key?: unknown; value?: unknown } | null;
    if (typeof it !== 'object' || it === null || Array.isArray(it)) throw invalid(`${where}[${i}]`, 'expected an object {"key", "value"}');
    if (typeof it.key !== 'string' || it.key.length === 0 || it.key.length > 8192) throw invalid(`${where}[${i}].key`, 'expected a non-empty string (at most 8192 characters)');
    if (it.value === undefined) throw invalid(`${where}[${i}].value`, 'is required (use null for "no value")');
  }
  return value as FactorItem[];
}

function parseHeader(json: string, where: string): SnapshotHeader {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw invalid(where, `the snapshot header is not valid JSON (${(err as Error).message})`);
  }
  const parsed = snapshotHeaderSchema.safeParse(doc);
  if (!parsed.success) throw invalid(where, describeIssues(parsed.error).join('; '));
  return parsed.data;
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
  private readBuf = Buffer.allocUnsafe(1024 * 1024);

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
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
    if (this.readBuf.length < size) this.readBuf = Buffer.allocUnsafe(Math.max(size, this.readBuf.length * 2));
    let got = 0;
    while (got < size) {
      const n = readSync(this.fd, this.readBuf, got, size - got, loc.start + got);
      if (n === 0) throw invalid(basename(this.path), 'the file changed while it was being read');
      got += n;
    }
    const block = this.readBuf.subarray(0, size);
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
// In memory

function blockOf(s: Snapshot, where: string): FileBlock {
  return { ...sideOf(s), where, raw: () => undefined };
}

class InMemoryFile implements SnapshotFile {
  readonly kind = 'memory';
  readonly fleet: boolean;
  private readonly snapshots: Snapshot[];

  constructor(readonly path: string) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw invalid(basename(path), `not valid JSON (${(err as Error).message})`);
    }
    const r = parseSnapshotDocument(doc, basename(path));
    this.fleet = r.fleet;
    this.snapshots = r.snapshots;
  }

  private whereOf(i: number): string {
    const s = this.snapshots[i]!;
    return this.fleet ? `${basename(this.path)} snapshots[${i}] (host ${s.host})` : `${basename(this.path)} (host ${s.host})`;
  }

  *blocks(): Generator<FileBlock> {
    for (let i = 0; i < this.snapshots.length; i++) yield blockOf(this.snapshots[i]!, this.whereOf(i));
  }

  index(): IndexEntry[] {
    return this.snapshots.map((s, i) => ({ header: s, loc: { start: 0, end: 0, ordinal: i, line: 0 } }));
  }

  readAt(loc: BlockLocator): FileBlock {
    return blockOf(this.snapshots[loc.ordinal]!, this.whereOf(loc.ordinal));
  }

  close(): void {}
}

// ---------------------------------------------------------------------------------------------
// Scanned: big fleets in any other layout.

/** Byte-level JSON scanner over a file: finds the elements of the top-level "snapshots" array. */
class JsonScanner {
  private buf = Buffer.allocUnsafe(CHUNK);
  private bufStart = 0;
  private len = 0;
  private pos = 0;
  private eof = false;

  constructor(private readonly fd: number, private readonly name: string) {}

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

  /** Skip one JSON value (the hot loop: strings and nesting only, no parsing). */
  skipValue(): void {
    const first = this.peek();
    if (first === -1) this.fail('unexpected end of file');
    let depth = 0;
    let inString = false;
    let escaped = false;
    let scalar = first !== LBRACE && first !== 0x5b && first !== QUOTE;
    for (;;) {
      if (this.pos >= this.len) {
        // Keep nothing behind the cursor: callers that need the bytes re-read them by offset.
        if (!this.fill()) {
          if (scalar) return;
          this.fail('unexpected end of file inside a value');
        }
      }
      const buf = this.buf;
      const len = this.len;
      let i = this.pos;
      for (; i < len; i++) {
        const c = buf[i]!;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === QUOTE) {
            inString = false;
            if (depth === 0) {
              this.pos = i + 1;
              return;
            }
          }
        } else if (scalar) {
          if (c === COMMA || c === RBRACE || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
            this.pos = i;
            return;
          }
        } else if (c === QUOTE) inString = true;
        else if (c === LBRACE || c === 0x5b) depth++;
        else if (c === RBRACE || c === 0x5d) {
          depth--;
          if (depth === 0) {
            this.pos = i + 1;
            return;
          }
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
        this.expect(0x5b);
        if (this.peek() === 0x5d) return true;
        for (;;) {
          if (this.peek() !== LBRACE) this.fail('expected a snapshot object');
          const start = this.offset;
          this.skipValue();
          onElement(start, this.offset);
          const c = this.peek();
          this.pos++;
          if (c === 0x5d) return true;
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
  private readBuf = Buffer.allocUnsafe(1024 * 1024);

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
  }

  /** Element ranges (one scan, cached: 10,000 ranges are small). */
  locators(): BlockLocator[] | undefined {
    if (this.ranges) return this.ranges;
    const ranges: BlockLocator[] = [];
    const isFleet = new JsonScanner(this.fd, basename(this.path)).elements((start, end) => ranges.push({ start, end, ordinal: ranges.length, line: 0 }));
    if (!isFleet) return undefined;
    this.ranges = ranges;
    return ranges;
  }

  private parseAt(loc: BlockLocator): Snapshot {
    const size = loc.end - loc.start;
    if (this.readBuf.length < size) this.readBuf = Buffer.allocUnsafe(Math.max(size, this.readBuf.length * 2));
    let got = 0;
    while (got < size) got += readSync(this.fd, this.readBuf, got, size - got, loc.start + got);
    const where = `${basename(this.path)} snapshots[${loc.ordinal}]`;
    let doc: unknown;
    try {
      doc = JSON.parse(this.readBuf.toString('utf8', 0, size));
    } catch (err) {
      throw invalid(where, `not valid JSON (${(err as Error).message})`);
    }
    const { factors, ...rest } = (doc ?? {}) as { factors?: unknown };
    const header = parseHeader(JSON.stringify(rest), where);
    if (typeof factors !== 'object' || factors === null || Array.isArray(factors)) throw invalid(`${where}.factors`, 'expected an object of factor arrays');
    const checked: Record<string, FactorItem[]> = {};
    for (const [id, items] of Object.entries(factors)) checked[id] = checkItems(items, `${where}.factors.${id} (host ${header.host})`);
    return { ...header, factors: checked };
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
      const head = this.leadingFields(loc);
      if (head.host !== undefined) return { header: { host: head.host, ...(head.role !== undefined ? { role: head.role } : {}) }, partial: true, loc };
      return { header: this.parseAt(loc), loc };
    });
  }

  private leadingFields(loc: BlockLocator): Record<string, string> {
    const size = Math.min(loc.end - loc.start, 4096);
    const buf = Buffer.allocUnsafe(size);
    readSync(this.fd, buf, 0, size, loc.start);
    const text = buf.toString('utf8');
    const out: Record<string, string> = {};
    const field = /\s*"([A-Za-z]+)"\s*:\s*("(?:[^"\\]|\\.)*")\s*,/y;
    field.lastIndex = text.indexOf('{') + 1;
    for (let m = field.exec(text); m; m = field.exec(text)) out[m[1]!] = JSON.parse(m[2]!) as string;
    return out;
  }

  readAt(loc: BlockLocator): FileBlock {
    const s = this.parseAt(loc);
    return blockOf(s, `${basename(this.path)} snapshots[${loc.ordinal}] (host ${s.host})`);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface OpenOptions {
  /** Files up to this size are parsed whole (tests lower it to exercise the scanner). */
  inMemoryLimit?: number;
}

/** Open a snapshot or fleet file with the reader that suits its layout and size. */
export function openSnapshotFile(path: string, options: OpenOptions = {}): SnapshotFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new WarroomError('snapshot_unreadable', `Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, {
      hint: 'Give the paths of two snapshot files written by `warroom sense --out FILE` (or fleet files).',
    });
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.allocUnsafe(Math.min(size, 64));
    readSync(fd, head, 0, head.length, 0);
    const text = head.toString('utf8');
    if (text.startsWith(`${FLEET_HEAD}\n`) || text.startsWith(`${FLEET_HEAD}\r\n`)) return new LineLayoutFile(path);
    if (size <= (options.inMemoryLimit ?? IN_MEMORY_LIMIT)) return new InMemoryFile(path);
  } finally {
    closeSync(fd);
  }
  const scanned = new ScannedFile(path);
  if (scanned.locators()) return scanned;
  scanned.close();
  // A single snapshot bigger than the limit: one host cannot be split further, so parse it whole.
  return new InMemoryFile(path);
}

/**
 * Re-open a file whose reader is already known, for random access only (diff workers): no layout
 * detection and no scan, since the locators come from the thread that indexed it.
 */
export function openForReadAt(path: string, kind: Exclude<ReaderKind, 'memory'>): SnapshotFile {
  return kind === 'lines' ? new LineLayoutFile(path) : new ScannedFile(path);
}
