/**
 * Every page under the real server's Content-Security-Policy (SPEC H12) in a real headless
 * Chromium: each page does its job — create a space from the front page, join and tap, the
 * display and the steward page count the person, the audit page verifies the log — with no CSP
 * violation reported and no page error. Then the audit page's key pinning (A2): a link with
 * another key never replaces the pinned one without asking, and a change is announced.
 *
 * The web app is built with Vite into a temporary directory, so the test sees the current pages.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';
import { launchChromium } from '../support/chromium.ts';

let server: RunningServer;
let browser: Browser;
let out = '';

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'attune-csp-'));
  await build({ configFile: resolve(import.meta.dirname, '../../web/vite.config.ts'), logLevel: 'error', build: { outDir: out, emptyOutDir: true } });
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: out, minCohort: 1 });
  browser = await launchChromium([], { buildWeb: false });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Watched {
  readonly page: Page;
  /** CSP violations (from `securitypolicyviolation` events and console reports) and page errors. */
  readonly problems: string[];
}

/** A fresh page that records every CSP violation and page error. */
async function watched(viewport = { width: 1100, height: 800 }): Promise<Watched> {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  const problems: string[] = [];
  // Injected through the DevTools protocol, so the page's own CSP does not apply to it.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __csp?: string[] }).__csp ??= [];
      (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return { page, problems };
}

async function violations(w: Watched): Promise<string[]> {
  const fromPage = await w.page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
  return [...fromPage, ...w.problems];
}

async function open(w: Watched, path: string): Promise<void> {
  const r = await w.page.goto(`${server.url}${path}`);
  expect(r?.status()).toBe(200);
  const csp = r?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
}

describe('pages under the Content-Security-Policy (H12)', () => {
  it('[H12] every page works with no violation: create, join and tap, display, steward, audit', async () => {
    const front = await watched();
    await open(front, '/');
    await front.page.locator('#name').fill('CSP check 🎉');
    await front.page.getByRole('button', { name: 'Create space' }).click();
    const code = (await front.page.getByTestId('created-code').textContent({ timeout: 15_000 })) ?? '';
    expect(code).toMatch(/^[2-9A-Z]{8}$/);
    const stewardHref = (await front.page.getByRole('link', { name: 'Open the steward page' }).getAttribute('href')) ?? '';

    const phone = await watched({ width: 360, height: 740 });
    await open(phone, `/j/${code}`);
    await phone.page.getByTestId('consent-yes').click();
    const grid = phone.page.getByTestId('grid');
    const box = await grid.boundingBox();
    if (!box) throw new Error('grid not visible');
    await phone.page.mouse.click(box.x + box.width * 0.8, box.y + box.height * 0.2);
    await expect.poll(() => phone.page.getByTestId('note').textContent(), { timeout: 15_000 }).toBe('Saved.');

    const display = await watched();
    await open(display, `/d/${code}`);
    await expect.poll(() => display.page.getByTestId('count').textContent(), { timeout: 15_000 }).toBe('1');

    const steward = await watched();
    await open(steward, new URL(stewardHref, server.url).pathname + new URL(stewardHref, server.url).hash);
    await expect.poll(() => steward.page.getByTestId('steward-count').textContent(), { timeout: 15_000 }).toBe('1');

    const audit = await watched();
    await open(audit, `/audit?key=${encodeURIComponent(server.log?.verifierKeys[0] ?? '')}`);
    await expect.poll(() => audit.page.locator('body').textContent(), { timeout: 15_000 }).toMatch(/✓ signature verified[\s\S]*1 of 1 entries shown verified as included/);

    // The compare view of two linked spaces (docs/bridging.md).
    const made = await Promise.all(['CSP a', 'CSP b'].map(async (name) => (await (await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, groups: ['east', 'west'] }) })).json()) as { code: string; stewardToken: string }));
    for (const [x, y] of [[made[0], made[1]], [made[1], made[0]]] as const) await fetch(`${server.url}/api/spaces/${x?.code}/links`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${x?.stewardToken}` }, body: JSON.stringify({ with: y?.code }) });
    const compare = await watched();
    await open(compare, `/compare?spaces=${made[0]?.code},${made[1]?.code}`);
    await expect.poll(() => compare.page.getByTestId(`side-${made[1]?.code}`).isVisible(), { timeout: 15_000 }).toBe(true);

    // The council page (/c/CODE, SPEC §Q), served at its route like the others.
    const council = await watched();
    await open(council, `/c/${code}`);
    await expect.poll(() => council.page.getByTestId('no-council').isVisible(), { timeout: 15_000 }).toBe(true);

    // Any other page the app has (e.g. one added later) loads cleanly too.
    const known = new Set(['index', 'join', 'display', 'steward', 'audit', 'compare', 'council']);
    const others: Watched[] = [];
    for (const f of readdirSync(out).filter((f) => f.endsWith('.html') && !known.has(f.replace(/\.html$/, '')))) {
      const w = await watched();
      await open(w, `/${f}`);
      others.push(w);
    }

    for (const w of [front, phone, display, steward, audit, compare, council, ...others]) expect(await violations(w), w.page.url()).toEqual([]);
  }, 120_000);

  it('[H12] the watcher does see a violation (the check above can fail)', async () => {
    const w = await watched();
    await open(w, '/audit');
    await w.page.evaluate(() => {
      document.body.insertAdjacentHTML('beforeend', '<img src="data:," onload="document.title=1">');
    });
    await expect.poll(async () => (await violations(w)).length, { timeout: 5_000 }).toBeGreaterThan(0);
  }, 30_000);
});

describe('audit page key pinning (A2)', () => {
  it('[A2] a link with another key asks before replacing the pinned key, and a change is announced', async () => {
    const real = server.log?.verifierKeys[0] ?? '';
    const other = real.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    expect(other).not.toBe(real);
    const w = await watched();
    await open(w, `/audit?key=${encodeURIComponent(real)}`);
    await expect.poll(() => w.page.locator('#key-first').isVisible(), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => w.page.locator('body').textContent(), { timeout: 15_000 }).toContain('✓ signature verified');

    // A link with another key: the pinned key stays and keeps verifying; the page asks.
    await open(w, `/audit?key=${encodeURIComponent(other)}`);
    await expect.poll(() => w.page.locator('#key-offer').isVisible(), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => w.page.locator('body').textContent(), { timeout: 15_000 }).toContain('✓ signature verified');
    expect(await w.page.evaluate(() => localStorage.getItem('attune:log-verifier-key'))).toBe(real);
    await w.page.locator('#key-offer-keep').click();
    expect(await w.page.locator('#key-offer').count()).toBe(0);

    // The visitor chooses to pin it: the page says the key changed, from which to which.
    await open(w, `/audit?key=${encodeURIComponent(other)}`);
    await w.page.locator('#key-offer-use').click();
    await expect.poll(() => w.page.locator('#key-changed').textContent(), { timeout: 15_000 }).toContain('The pinned verifier key changed');
    expect(await w.page.evaluate(() => localStorage.getItem('attune:log-verifier-key'))).toBe(other);
    // A reload still says so, until dismissed.
    await open(w, '/audit');
    await expect.poll(() => w.page.locator('#key-changed').isVisible(), { timeout: 15_000 }).toBe(true);

    // Typing a key into the form over a pinned one asks first too.
    await w.page.locator('#vkey').fill(real);
    await w.page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => w.page.locator('#key-confirm').isVisible()).toBe(true);
    expect(await w.page.evaluate(() => localStorage.getItem('attune:log-verifier-key'))).toBe(other);
    await w.page.locator('#key-confirm-yes').click();
    await expect.poll(() => w.page.evaluate(() => localStorage.getItem('attune:log-verifier-key'))).toBe(real);
    expect(await violations(w)).toEqual([]);
  }, 90_000);
});
