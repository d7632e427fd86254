import { closeSync, mkdtempSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WarroomError } from '../../core/errors.js';
import { CARD, HEADER, HEADER_SIZE, LAYOUT_FINGERPRINT, cardChecksum, cardOffset, cardRecordSize, encodeCardRecord, encodeHeader } from '../../tools/fpga/layout.js';
import type { FpgaSnapshot } from '../../tools/fpga/model.js';
import { startFpgaSimulator } from '../../tools/fpga/simulator.js';
import { addonStatus, createFpgaStatusBlock, fpgaReaderFor, openFpgaStatus, openFpgaStatusWriter, readFpgaStatus } from '../../tools/fpga/status-block.js';
import { checkStressCard, stressCard, stressEncoder } from '../../tools/fpga/stress.js';
import { nsToMs } from '../../tools/fpga/ts-reader.js';

/** In CI the addon must have built (`npm ci` → native/build.mjs); on a dev box without a compiler its tests skip, visibly. */
const addonRequired = process.env.CI === 'true';
const addon = addonStatus();
if (!addon.loaded && !addonRequired) console.warn(`SKIPPING the addon's side of test/native: ${addon.error}`);
const withAddon = addon.loaded || addonRequired ? it : it.skip;

const dir = () => mkdtempSync(join(tmpdir(), 'warroom-fpga-'));
const NOW = new Date('2026-11-23T09:40:00+08:00');
const readers = ['addon', 'typescript'] as const;

/** Everything but who read it and when. */
const content = (s: FpgaSnapshot) => ({ version: s.version, cards: s.cards });

function simulatedBlock(): string {
  const file = join(dir(), 'fpga.status');
  let now = NOW;
  const sim = startFpgaSimulator({
    file,
    cards: 3,
    channels: 6,
    faults: ['login-rejected:card=0,code=102', 'stale-channel:card=1,channel=2012', 'checksum-burst:card=2,channel=2014', 'toe-near-limit:card=2', 'fallback:card=1,after=30'],
    clock: () => now,
  });
  now = new Date(NOW.getTime() + 45_000);
  sim.tick();
  void sim.stop();
  return file;
}

const envBefore = { WARROOM_FPGA_READER: process.env.WARROOM_FPGA_READER, WARROOM_FPGA_ADDON: process.env.WARROOM_FPGA_ADDON };
function restoreEnv(): void {
  for (const [k, v] of Object.entries(envBefore)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}
afterEach(restoreEnv);

describe('the FPGA status addon', () => {
  it(`loaded${addonRequired ? ' (required: CI=true)' : ''}`, () => {
    if (!addonRequired && !addon.loaded) return; // dev box without a compiler: reported above
    expect(addon).toEqual({ loaded: true, path: expect.stringMatching(/native\/build\/Release\/warroom_fpga\.node$/) });
    expect(fpgaReaderFor()).toBe('addon');
  });
});

describe('both readers of the status block', () => {
  withAddon('agree on every field of a simulated block', () => {
    const file = simulatedBlock();
    const a = readFpgaStatus(file, { prefer: 'addon', now: () => NOW });
    const t = readFpgaStatus(file, { prefer: 'typescript', now: () => NOW });
    expect(a.reader).toBe('addon');
    expect(t.reader).toBe('typescript');
    expect(content(a)).toEqual(content(t));
    expect(a.takenAt).toEqual(NOW);
    expect(a.version).toBe(1);
    // …and what they agree on is what the simulator wrote.
    const [c0, c1, c2] = a.cards;
    expect(c0!.mdgw).toEqual({ tcp: 'established', login: 'rejected', rejectCode: 102, since: NOW });
    expect(c0!.channels.map((c) => c.channel)).toEqual([2011, 2012, 2013, 2014, 2021, 2022]);
    expect(c1!.channels[1]!.lastOrigTime!.getTime()).toBeLessThanOrEqual(NOW.getTime());
    expect(c1!.channels[0]!.lastOrigTime!.getTime()).toBeGreaterThan(NOW.getTime() + 44_900);
    expect(c1!.activePath).toBe('software');
    expect(c1!.multicast).toBe('down');
    expect(c2!.toeSessions).toBe(126);
    expect(c2!.toeLimit).toBe(128);
    expect(c2!.channels[3]!.checksumErrors).toBe(Math.floor(35 * 45));
    expect(c2!.firmware).toBe('3.4.2');
    expect(c2!.bitstream).toBe('szse-bin-2026.09.1');
    expect(c2!.updatedAt).toEqual(new Date(NOW.getTime() + 45_000));
  });

  withAddon('agree on extreme values: 2^53 counters, long UTF-8 version strings, times before 1970, no OrigTime yet', () => {
    const file = join(dir(), 'edge.status');
    const card = {
      ...stressCard(7, 0, 3),
      firmware: '固件版本-1234567890-超长的字符串会被截断',
      bitstream: '',
      mdgw: { tcp: 'connecting' as const, login: 'logging-in' as const, rejectCode: null, since: null },
      updatedAt: new Date(-1234),
    };
    card.channels[0] = { ...card.channels[0]!, packetsIn: Number.MAX_SAFE_INTEGER, packetsOut: 2 ** 40 + 3, lastOrigTime: null, latencyP99Ns: 4_000_000_000 };
    card.channels[1] = { ...card.channels[1]!, lastOrigTime: new Date(Date.UTC(2262, 0, 1)) };
    createFpgaStatusBlock(file, { cards: [card], channelSlots: 5 });
    const a = readFpgaStatus(file, { prefer: 'addon' });
    const t = readFpgaStatus(file, { prefer: 'typescript' });
    expect(content(a)).toEqual(content(t));
    const c = t.cards[0]!;
    expect(c.firmware).toBe('固件版本-1234567890-超长'); // cut on a whole character, within 31 bytes
    expect(Buffer.byteLength(c.firmware)).toBeLessThanOrEqual(31);
    expect(c.bitstream).toBe('');
    expect(c.mdgw).toEqual({ tcp: 'connecting', login: 'logging-in', rejectCode: null, since: null });
    expect(c.updatedAt).toEqual(new Date(-1234));
    expect(c.channels[0]).toMatchObject({ packetsIn: Number.MAX_SAFE_INTEGER, packetsOut: 2 ** 40 + 3, lastOrigTime: null, latencyP99Ns: 4_000_000_000 });
    expect(c.channels[1]!.lastOrigTime).toEqual(new Date(Date.UTC(2262, 0, 1)));
    expect(c.channels).toHaveLength(3);
  });

  it('converts ns to ms as the addon does (truncating), without BigInt on the fast path', () => {
    const b = Buffer.alloc(8);
    for (const ns of [1n, 999_999n, 1_000_000n, 1_764_000_000_123_456_789n, 9_223_372_036_854_775_807n, -1n, -1_000_001n]) {
      b.writeBigInt64LE(ns);
      expect(nsToMs(b, 0)).toBe(Number(ns / 1_000_000n));
    }
    b.writeBigInt64LE(0n);
    expect(nsToMs(b, 0)).toBeNaN();
  });

  withAddon('the addon reports the same layout constants as tools/fpga/layout.ts', () => {
    // A mismatch would make addonStatus() report it unusable; here both copies are spelled out.
    expect(LAYOUT_FINGERPRINT).toEqual({ magic: 0x50465257, version: 1, headerSize: 64, cardFixedSize: 128, channelRecordSize: 64, checksumFrom: 12, channelStride: 8, maxCards: 64, maxChannelSlots: 1024 });
    expect(addonStatus().loaded).toBe(true);
  });

  it('with the addon forced off (WARROOM_FPGA_READER=typescript) give the same answer, saying reader "typescript"', () => {
    const file = simulatedBlock();
    const auto = readFpgaStatus(file);
    process.env.WARROOM_FPGA_READER = 'typescript';
    const forced = readFpgaStatus(file);
    expect(forced.reader).toBe('typescript');
    expect(auto.reader).toBe(addon.loaded ? 'addon' : 'typescript');
    expect(content(forced)).toEqual(content(auto));
    // An option wins over the variable.
    if (addon.loaded) expect(readFpgaStatus(file, { prefer: 'addon' }).reader).toBe('addon');
    process.env.WARROOM_FPGA_READER = 'fast';
    expect(() => readFpgaStatus(file)).toThrow(/WARROOM_FPGA_READER is "fast"; it must be auto, addon or typescript/);
  });

  it('fall back to TypeScript, quietly, where the addon\'s build output is absent; addonStatus() says why', () => {
    const file = simulatedBlock();
    const before = readFpgaStatus(file);
    process.env.WARROOM_FPGA_ADDON = join(dir(), 'build', 'Release', 'warroom_fpga.node');
    const status = addonStatus();
    expect(status.loaded).toBe(false);
    expect(status.error).toMatch(/the addon is not built \(.*warroom_fpga\.node is missing\): run `node native\/build\.mjs`/);
    const s = readFpgaStatus(file, { prefer: 'addon' });
    expect(s.reader).toBe('typescript');
    expect(content(s)).toEqual(content(before));
    // A file that is no addon at all is refused the same way.
    const bogus = join(dir(), 'bogus.node');
    writeFileSync(bogus, 'not an ELF');
    process.env.WARROOM_FPGA_ADDON = bogus;
    expect(addonStatus()).toMatchObject({ loaded: false, error: expect.stringMatching(/^cannot load .*bogus\.node/) });
    restoreEnv();
    expect(addonStatus().loaded).toBe(addon.loaded);
  });

  describe.each(readers)('bad files, read by the %s reader', (reader) => {
    const run = reader === 'addon' ? withAddon : it;
    const failure = (file: string): WarroomError => {
      try {
        readFpgaStatus(file, { prefer: reader, maxTries: 50 });
      } catch (err) {
        expect(err).toBeInstanceOf(WarroomError);
        return err as WarroomError;
      }
      throw new Error('read did not fail');
    };
    const good = () => {
      const file = join(dir(), 'block.status');
      createFpgaStatusBlock(file, { cards: [stressCard(1, 0, 2), stressCard(1, 1, 2)] });
      return file;
    };
    const patch = (file: string, at: number, bytes: Buffer) => {
      const fd = openSync(file, 'r+');
      writeSync(fd, bytes, 0, bytes.length, at);
      closeSync(fd);
    };

    run('a missing file', () => {
      const file = join(dir(), 'nope.status');
      const e = failure(file);
      expect(e.code).toBe('fpga_block_unreadable');
      expect(e.message).toBe(`FPGA status block ${file} cannot be opened: No such file or directory.`);
      expect(e.hint).toMatch(/warroom fpga simulate --file/);
    });

    run('wrong magic', () => {
      const file = join(dir(), 'notes.txt');
      writeFileSync(file, 'These are not the bytes you are looking for; a text file of some length.');
      const e = failure(file);
      expect(e.code).toBe('fpga_block_magic');
      expect(e.message).toBe(`FPGA status block ${file} does not start with the status block's magic "WRFP" (found 0x73656854): it is not an FPGA status block.`);
    });

    run('a file shorter than the header', () => {
      const file = join(dir(), 'short.status');
      writeFileSync(file, encodeHeader({ cardCount: 1, channelSlots: 1 }).subarray(0, 40));
      const e = failure(file);
      expect(e.code).toBe('fpga_block_short');
      expect(e.message).toBe(`FPGA status block ${file} is 40 bytes, shorter than the 64-byte header.`);
    });

    run('a file shorter than its header promises', () => {
      const file = good();
      const bytes = readFileSync(file);
      writeFileSync(file, bytes.subarray(0, bytes.length - 100));
      const e = failure(file);
      expect(e.code).toBe('fpga_block_short');
      expect(e.message).toBe(`FPGA status block ${file} is ${bytes.length - 100} bytes; its header promises ${bytes.length} (2 cards of 256 bytes).`);
    });

    run('an unknown layout version', () => {
      const file = good();
      const v = Buffer.alloc(2);
      v.writeUInt16LE(7);
      patch(file, HEADER.version, v);
      const e = failure(file);
      expect(e.code).toBe('fpga_block_version');
      expect(e.message).toBe(`FPGA status block ${file} has layout version 7; this Warroom reads version 1.`);
    });

    run('a header whose sizes do not fit together', () => {
      const file = good();
      const v = Buffer.alloc(4);
      v.writeUInt32LE(300);
      patch(file, HEADER.cardRecordSize, v);
      const e = failure(file);
      expect(e.code).toBe('fpga_block_geometry');
      expect(e.message).toContain('has an inconsistent header (header 64 B, card record 300 B, channel record 64 B, 2 cards, 2 channel slots)');
    });

    run('a record left odd by a writer that died mid-update: "writer never stable after N tries"', () => {
      const file = good();
      const seq = Buffer.alloc(8);
      seq.writeBigUInt64LE(41n);
      patch(file, cardOffset(1, 2) + CARD.seq, seq);
      const e = failure(file);
      expect(e.code).toBe('fpga_block_unstable');
      expect(e.message).toBe(`FPGA status block ${file}, card 1: writer never stable after 50 tries (its sequence stayed odd or kept changing).`);
    });

    run('a corrupt record (checksum mismatch)', () => {
      const file = good();
      patch(file, cardOffset(0, 2) + 200, Buffer.from([0xff]));
      const e = failure(file);
      expect(e.code).toBe('fpga_block_checksum');
      expect(e.message).toMatch(new RegExp(`^FPGA status block ${file}, card 0: the record's checksum does not match its contents after 50 tries`));
    });

    run('a state code this layout does not know', () => {
      const file = good();
      const rec = encodeCardRecord(stressCard(1, 0, 2), 2);
      rec[CARD.mdgwLogin] = 9;
      rec.writeUInt32LE(cardChecksum(rec), CARD.checksum);
      patch(file, cardOffset(0, 2), rec);
      const e = failure(file);
      expect(e.code).toBe('fpga_block_value');
      expect(e.message).toBe(`FPGA status block ${file}, card 0: MDGW login state code 9 is not one of 0..3.`);
    });
  });

  it.each(readers)('an open %s reader follows a block replaced by its writer (rename)', (reader) => {
    if (reader === 'addon' && !addon.loaded) return;
    const file = join(dir(), 'block.status');
    createFpgaStatusBlock(file, { cards: [stressCard(1, 0, 2)] });
    const r = openFpgaStatus(file, { prefer: reader });
    expect(r.read().cards).toHaveLength(1);
    createFpgaStatusBlock(file, { cards: [stressCard(2, 0, 4), stressCard(2, 1, 4)] });
    const s = r.read();
    expect(s.cards.map((c) => c.channels.length)).toEqual([4, 4]);
    expect(s.cards.map(checkStressCard)).toEqual([undefined, undefined]);
    r.close();
  });
});

describe('the writers', () => {
  withAddon('the addon\'s and the TypeScript writer leave the same bytes (seq and checksum included)', () => {
    const d = dir();
    const files = readers.map((w) => {
      const file = join(d, `${w}.status`);
      createFpgaStatusBlock(file, { cards: [stressCard(0, 0, 3), stressCard(0, 1, 3)], channelSlots: 4 });
      const writer = openFpgaStatusWriter(file, { prefer: w });
      expect(writer.writer).toBe(w);
      for (let k = 1; k <= 5; k++) writer.writeCard(stressCard(k, 1, 3), 1);
      writer.writeRecord(0, encodeCardRecord(stressCard(9, 0, 2), 4));
      writer.close();
      return readFileSync(file);
    });
    expect(files[0]!.equals(files[1]!)).toBe(true);
    const b = files[0]!;
    expect(b.readBigUInt64LE(cardOffset(1, 4) + CARD.seq)).toBe(10n); // five updates, seq +2 each
    expect(b.readBigUInt64LE(cardOffset(0, 4) + CARD.seq)).toBe(2n);
    expect(b.length).toBe(HEADER_SIZE + 2 * cardRecordSize(4));
  });

  it('refuse a card not in the block and a record of the wrong size', () => {
    const file = join(dir(), 'block.status');
    createFpgaStatusBlock(file, { cards: [stressCard(0, 0, 2)] });
    for (const w of addon.loaded ? readers : (['typescript'] as const)) {
      const writer = openFpgaStatusWriter(file, { prefer: w });
      expect(() => writer.writeCard(stressCard(1, 3, 2), 3)).toThrow(/card 3 is not in the block \(1 cards\)/);
      expect(() => writer.writeRecord(0, Buffer.alloc(10))).toThrow(/record is 10 bytes; the block's card records are 256/);
      writer.close();
    }
  });

  it('the stress encoder writes exactly the record of stressCard(k), and checkStressCard catches a mix of two updates', () => {
    const fast = Buffer.from(stressEncoder(2, 64, 64)(123_457));
    const slow = encodeCardRecord(stressCard(123_457, 2, 64), 64);
    fast.writeUInt32LE(cardChecksum(fast), CARD.checksum);
    expect(fast.equals(slow)).toBe(true);
    const file = join(dir(), 'mix.status');
    createFpgaStatusBlock(file, { cards: [stressCard(5, 0, 4)] });
    const c = readFpgaStatus(file, { prefer: 'typescript' }).cards[0]!;
    expect(checkStressCard(c)).toBeUndefined();
    const torn = { ...c, channels: [c.channels[0]!, c.channels[1]!, { ...c.channels[2]!, packetsOut: stressCard(6, 0, 4).channels[2]!.packetsOut }, c.channels[3]!] };
    expect(checkStressCard(torn)).toBe('card 0: fields of two updates mixed (k=5 from channel 0, but channel 2 packetsOut is 14, not 12)');
    expect(checkStressCard({ ...c, firmware: 'fw-6' })).toMatch(/firmware is fw-6, not fw-5/);
  });

  it('a block file replaced in place is renamed over, never half-written', () => {
    const d = dir();
    const file = join(d, 'block.status');
    createFpgaStatusBlock(file, { cards: [stressCard(0, 0, 1)] });
    renameSync(file, `${file}.old`);
    createFpgaStatusBlock(file, { cards: [stressCard(0, 0, 1)] });
    expect(readFileSync(file).equals(readFileSync(`${file}.old`))).toBe(true);
    expect(() => createFpgaStatusBlock(join(d, 'no', 'such', 'dir'), { cards: [stressCard(0, 0, 1)] })).toThrow(/Cannot create the FPGA status block .*no\/such\/dir/);
  });
});
