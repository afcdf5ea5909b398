/**
 * Real headless Chromium for the end-to-end tests: Debian's `/usr/bin/chromium` (or
 * `CHROMIUM_PATH`), driven by playwright-core, with the flags this machine needs, and the web
 * app built first. One place, so every browser test launches the browser alike.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { buildWebIfNeeded } from '../../src/cli/commands/serve.ts';

/** The browser binary. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags: headless as root, no GPU, and nothing that reaches out on its own (background
 * networking, QUIC, component updates, sync, first-run): the machine's network is closed.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
] as const;

/**
 * Launches Chromium (with `extraArgs`), first building web/dist if it is missing or stale —
 * unless `buildWeb` is false (a test that serves its own build or no pages).
 */
export async function launchChromium(extraArgs: readonly string[] = [], o: { readonly buildWeb?: boolean } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (the CI script does)`);
  if (o.buildWeb !== false) await buildWebIfNeeded({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: new AbortController().signal });
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
