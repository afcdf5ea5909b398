/**
 * End to end in a real headless Chromium (Debian's, driven by playwright-core): two people
 * join and tap different quadrants, the display shows both, one reloads and is resumed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { type RunningServer, createServer } from '../../src/server/createServer.ts';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', minCohort: 2 });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function phone(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  return page;
}

async function tap(page: Page, fx: number, fy: number): Promise<void> {
  const grid = page.getByTestId('grid');
  const box = await grid.boundingBox();
  if (!box) throw new Error('grid not visible');
  await page.touchscreen.tap(box.x + box.width * fx, box.y + box.height * fy);
  await expect.poll(() => page.getByTestId('note').textContent(), { timeout: 10_000 }).toBe('Saved.');
}

describe('a running space in a real browser', () => {
  it('[E2E1] two people join and tap; the display shows 2 people in both quadrants; a reload resumes', async () => {
    const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Browser test' }) });
    const { code } = (await r.json()) as { code: string };

    const display = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    await display.goto(`${server.url}/d/${code}`);

    const alice = await phone();
    await alice.goto(`${server.url}/j/${code}`);
    await expect.poll(() => alice.getByTestId('consent').isVisible()).toBe(true);
    // The page is usable at 360 px: nothing overflows horizontally.
    expect(await alice.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await alice.getByTestId('consent-yes').click();
    await tap(alice, 0.85, 0.15); // pleasant · energised

    // One person: the display shows the count but withholds the shape (minimum cohort 2).
    await expect.poll(() => display.getByTestId('count').textContent(), { timeout: 10_000 }).toBe('1');
    expect(await display.getByTestId('quadrant-0').textContent()).toBe('–');

    const bob = await phone();
    await bob.goto(`${server.url}/j/${code}`);
    await bob.getByTestId('consent-yes').click();
    await tap(bob, 0.15, 0.85); // unpleasant · calm

    await expect.poll(() => display.getByTestId('count').textContent(), { timeout: 10_000 }).toBe('2');
    await expect.poll(() => display.getByTestId('quadrant-0').textContent(), { timeout: 10_000 }).toBe('50%');
    expect(await display.getByTestId('quadrant-2').textContent()).toBe('50%');
    expect(await display.getByTestId('quadrant-1').textContent()).toBe('0%');

    // Each person sees their own point against the crowd.
    await expect.poll(() => alice.getByTestId('you').count()).toBe(1);
    await expect.poll(() => alice.getByTestId('crowd-mean').count(), { timeout: 10_000 }).toBe(1);

    // Bob reloads: resumed, same point, no second consent, still 2 people.
    await bob.reload();
    await expect.poll(() => bob.getByTestId('status').textContent(), { timeout: 10_000 }).toBe('connected');
    expect(await bob.getByTestId('consent').count()).toBe(0);
    await expect.poll(() => bob.getByTestId('you').count()).toBe(1);
    const you = bob.getByTestId('you').locator('circle');
    const cx = Number(await you.getAttribute('cx'));
    const cy = Number(await you.getAttribute('cy'));
    expect(cx).toBeLessThan(500);
    expect(cy).toBeGreaterThan(500);
    await new Promise((res) => setTimeout(res, 600));
    expect(await display.getByTestId('count').textContent()).toBe('2');

    // The display animates (frame rate recorded for the report, not asserted: machines are shared).
    await expect.poll(() => display.getByTestId('canvas').getAttribute('data-fps'), { timeout: 5_000 }).not.toBeNull();
    console.log(`display frame rate in headless Chromium: ${await display.getByTestId('canvas').getAttribute('data-fps')} fps`);
  }, 90_000);

  it('[E2E2] a keyboard-only person can set their point', async () => {
    const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Keyboard test' }) });
    const { code } = (await r.json()) as { code: string };
    const page = await (await browser.newContext({ viewport: { width: 800, height: 900 } })).newPage();
    await page.goto(`${server.url}/j/${code}`);
    await page.getByTestId('consent-yes').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('grid').focus();
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('note').textContent(), { timeout: 10_000 }).toBe('Saved.');
    const p = (await (await fetch(`${server.url}/api/spaces/${code}`)).json()) as { present: number };
    expect(p.present).toBe(1);
  }, 60_000);
});

describe('reconnection', () => {
  it('[E2E3] a participant page reconnects on its own after a server restart', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dbPath = join(mkdtempSync(join(tmpdir(), 'attune-e2e-')), 'attune.db');
    let s = await createServer({ port: 0, dbPath, minCohort: 1 });
    const port = s.port;
    try {
      const r = await fetch(`${s.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Restart test' }) });
      const { code } = (await r.json()) as { code: string };
      const page = await phone();
      await page.goto(`${s.url}/j/${code}`);
      await page.getByTestId('consent-yes').click();
      await tap(page, 0.8, 0.8);
      await s.close();
      await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 10_000 }).toBe('reconnecting');
      s = await createServer({ port, dbPath, minCohort: 1 });
      await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 20_000 }).toBe('connected');
      await tap(page, 0.2, 0.2);
      const p = (await (await fetch(`${s.url}/api/spaces/${code}`)).json()) as { present: number };
      expect(p.present).toBe(1);
    } finally {
      await s.close();
    }
  }, 60_000);
});
