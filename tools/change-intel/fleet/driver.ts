import { z } from 'zod';

/**
 * How a fleet collection reaches a host. A driver only fetches the host's snapshot document; the
 * collector (collect.ts) owns concurrency, timeouts, validation and results, so the three drivers
 * behave alike and a new one is one small file.
 */
export const fleetDriverNames = ['ssh', 'http', 'drop'] as const;
export type FleetDriverName = (typeof fleetDriverNames)[number];

export interface FleetDriver {
  readonly name: FleetDriverName;
  /** What it does, for plans and notes: `GET http://{host}:9100/snapshot` (never a secret). */
  readonly describe: string;
  /**
   * The host's snapshot document, parsed JSON (validated by the collector). Rejects with a
   * `HostFailure` whose message people read ("HTTP 500", "exited with 255: Permission denied");
   * stops promptly, releasing what it holds, when `signal` aborts (timeout or cancellation).
   */
  fetch(host: string, signal: AbortSignal): Promise<unknown>;
}

/** A host could not give its snapshot: the message is the reason shown for that host. */
export class HostFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostFailure';
  }
}

/** Largest snapshot document one host may send; beyond it the host fails (a runaway sensor, a wrong endpoint). */
export const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;

/** The body as JSON, or a host failure that quotes the start of what came instead. */
export function parseJsonDocument(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const start = text.trim().slice(0, 60).replace(/\s+/g, ' ');
    throw new HostFailure(`invalid JSON (${err instanceof Error ? err.message : String(err)})${start ? `; it starts "${start}"` : '; it is empty'}`);
  }
}

/**
 * Host names as a fleet list may give them: a DNS name or IPv4 address, or a bracketed IPv6 address,
 * with an optional `:port`. Nothing else: the name goes into a command line, a URL and a file
 * name, so no spaces, slashes, `@`, quotes, `%` or a leading `-` (which ssh would read as an option).
 */
export const fleetHostPattern = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

export const fleetHostSchema = z
  .string()
  .trim()
  .regex(fleetHostPattern, 'expected a host name or address such as trd-app-03, 10.8.1.23 or [fd00::1]:9100 (letters, digits, ".", "-", "_" and an optional :port)');
