import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium (`.ci/run` installs the package). */
export const CHROMIUM = process.env.JIT_CHROMIUM ?? '/usr/bin/chromium';

/** Where end-to-end tests leave their screenshots. */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/**
 * Why the browser tests cannot run here (chromium missing), or false. In CI a missing browser
 * fails the run instead: the tests are part of what CI proves.
 */
export async function browserSkip(): Promise<string | false> {
  try {
    await access(CHROMIUM);
    return false;
  } catch {
    const why = `${CHROMIUM} is missing (install Debian's chromium package: apt-get install chromium)`;
    if (process.env.CI === 'true') throw new Error(`${why}; CI needs it`);
    return why;
  }
}

/**
 * Chromium headless, as a root sandbox needs it, with its background networking off (this
 * machine's network is closed and it would keep trying).
 */
export async function launch(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
