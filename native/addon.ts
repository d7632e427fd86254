/**
 * Loads the FPGA status addon (native/fpga_status.cc, built by native/build.mjs during `npm ci`)
 * and checks its shape. Where it did not build, or its build output was removed, loading fails
 * quietly: `loadFpgaAddon()` says why and callers use the TypeScript reader (tools/fpga/).
 *
 * WARROOM_FPGA_ADDON=<path of a .node file> loads another build (tests use a missing path to see
 * the fallback).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';

/** Where node-gyp puts the addon (node native/build.mjs). */
export const defaultAddonPath = join(packageRoot, 'native', 'build', 'Release', 'warroom_fpga.node');

/** One card as the addon copies it out: state fields as their codes (layout.ts), times in Unix ms (NaN: none). */
export interface RawFpgaCard {
  card: number;
  tcp: number;
  login: number;
  multicast: number;
  activePath: number;
  rejectCode: number;
  toeSessions: number;
  toeLimit: number;
  sinceMs: number;
  updatedAtMs: number;
  firmware: string;
  bitstream: string;
  /** CHANNEL_STRIDE numbers per channel in CHANNEL_FIELDS order (tools/fpga/layout.ts). */
  channels: Float64Array;
}

export interface RawFpgaSnapshot {
  version: number;
  cards: RawFpgaCard[];
  /** Copies thrown away because the writer was mid-update (or a checksum did not match). */
  retries: number;
}

/** A mapping of one block, kept open for repeated reads. */
export interface RawFpgaReader {
  read(maxTries: number): RawFpgaSnapshot;
  close(): void;
}

/** A read-write MAP_SHARED mapping: records written under the seqlock. */
export interface RawFpgaWriter {
  readonly cardCount: number;
  readonly channelSlots: number;
  /** Write card `index`'s record from `record` (bytes [12, size) used; seq and checksum done here). */
  writeRecord(index: number, record: Uint8Array): void;
  close(): void;
}

export interface FpgaAddon {
  /** The addon's copy of the layout constants, compared with tools/fpga/layout.ts before use. */
  layout: Record<string, number>;
  openReader(path: string): RawFpgaReader;
  openWriter(path: string): RawFpgaWriter;
}

const addonShape = z.object({
  layout: z.record(z.number()),
  openReader: z.function(),
  openWriter: z.function(),
});

export type AddonLoad = { loaded: true; addon: FpgaAddon; path: string } | { loaded: false; error: string; path: string };

let cached: AddonLoad | undefined;

/** Load the addon once (per path); never throws. */
export function loadFpgaAddon(): AddonLoad {
  const path = process.env.WARROOM_FPGA_ADDON || defaultAddonPath;
  if (cached && cached.path === path) return cached;
  cached = tryLoad(path);
  return cached;
}

function tryLoad(path: string): AddonLoad {
  if (!existsSync(path)) {
    return { loaded: false, path, error: `the addon is not built (${path} is missing): run \`node native/build.mjs\` (needs a C++ compiler, make and python3)` };
  }
  try {
    const mod: unknown = createRequire(import.meta.url)(path);
    const parsed = addonShape.safeParse(mod);
    if (!parsed.success) return { loaded: false, path, error: `${path} is not the FPGA status addon (${parsed.error.issues[0]?.message ?? 'wrong exports'})` };
    return { loaded: true, path, addon: mod as FpgaAddon };
  } catch (err) {
    return { loaded: false, path, error: `cannot load ${path}: ${errorMessage(err).split('\n')[0]}` };
  }
}

/** An error the addon threw about the block: its `code` (fpga_block_*) and what it found. */
export function addonFault(err: unknown): { code: string; detail: string } | undefined {
  if (!(err instanceof Error)) return undefined;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('fpga_block_') ? { code, detail: err.message } : undefined;
}
