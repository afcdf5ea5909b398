/**
 * The audit page in a real headless Chromium: it verifies the checkpoint's Ed25519 signature with
 * the pinned key and every listed entry's inclusion proof with WebCrypto, and flags a tampered
 * entry. The page is built with Vite into a temporary directory and served with the log routes.
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogRoutes } from '../../src/http/logRoutes.ts';
import { signerFromSeed } from '../../src/log/note.ts';
import { TransparencyLog } from '../../src/log/transparencyLog.ts';
import { MemoryLogStore } from '../../src/storage/memory/memoryLogStore.ts';
import { launchChromium } from '../support/chromium.ts';

const signer = signerFromSeed('page.test/log', new Uint8Array(32).fill(21));
const store = new MemoryLogStore();
let server: ServerType;
let browser: Browser;
let url = '';

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), 'attune-audit-page-'));
  await build({ configFile: resolve(import.meta.dirname, '../../web/vite.config.ts'), logLevel: 'error', build: { outDir: out, emptyOutDir: true } });
  const log = await TransparencyLog.open({ store, signer, now: () => 1_763_000_000_000 });
  await Promise.all(Array.from({ length: 30 }, (_, i) => log.append({ type: 'space.closed', space: `space-${i}`, payload: { reason: 'ttl' } })));
  const app = new Hono();
  app.route('/log', createLogRoutes(log));
  app.use('/*', serveStatic({ root: out }));
  await new Promise<void>((ok) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ok());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The page is this test's own build (above), so the shared launcher builds nothing.
  browser = await launchChromium([], { buildWeb: false });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
});

describe('[A2] audit page in Chromium', () => {
  it('verifies the signature and every entry, then flags a tampered one', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/audit.html?key=${encodeURIComponent(signer.verifierKey)}`);
    await expect.poll(() => page.locator('body').textContent(), { timeout: 15_000 }).toContain('30 of 30 entries shown verified as included');
    expect(await page.locator('body').textContent()).toContain('✓ signature verified (page.test/log+');
    store.tamperEntry(7, new TextEncoder().encode('{"payload":{},"space":"evil","time":1,"type":"space.closed","v":1}'));
    await page.reload();
    await expect.poll(() => page.locator('body').textContent(), { timeout: 15_000 }).toContain('29 of 30 entries shown verified as included');
    expect(errors).toEqual([]);
  });
});
