import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';

/**
 * Debian's `chromium`, driven by playwright-core (never a downloaded browser). `scripts/test-all.sh`
 * installs it and sets WARROOM_INTEGRATION=1, so there a missing browser fails a named test;
 * elsewhere browser tests are skipped with a message.
 */
export const chromiumPath = process.env.WARROOM_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

/** Call at the top of a browser test file: warns (skipped) or fails (integration) when there is no Chromium. */
export function requireChromium(suite: string): void {
  if (hasChromium) return;
  if (process.env.WARROOM_INTEGRATION !== '1') {
    console.warn(`${suite} skipped: no Chromium at ${chromiumPath} (apt-get install chromium, or set WARROOM_CHROMIUM)`);
    return;
  }
  describe(suite, () => {
    it('has a Chromium to run in', () => {
      throw new Error(`WARROOM_INTEGRATION=1 but there is no Chromium at ${chromiumPath}: install Debian's chromium package (scripts/test-all.sh does)`);
    });
  });
}

/** Headless, and quiet on the network: without these flags Chromium calls out to Google at every start. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A screenshot that really is a picture, and pages that asked nothing of anyone but Warroom and threw nothing. */
export function expectScreenshotAndLocalOnly(file: string, requests: string[], base: string, pageErrors: string[]): void {
  const png = readFileSync(file);
  expect(png.length).toBeGreaterThan(5000);
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:'))).toEqual([]);
  expect(pageErrors).toEqual([]);
}
