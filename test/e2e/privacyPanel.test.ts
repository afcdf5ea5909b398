/**
 * The steward page's privacy panel follows every DP release made from the page (SPEC R8, H16,
 * H17), in a real headless Chromium: the contagion index spends the same budget as the series,
 * so after "Release contagion" the panel shows the new spent ρ and lists the release — without a
 * reload of the page.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';
import { launchChromium } from '../support/chromium.ts';

let browser: Browser;
let server: RunningServer;

beforeAll(async () => {
  browser = await launchChromium();
  server = await createServer({ port: 0, dbPath: ':memory:', minCohort: 3, privacyBudget: 2 });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await browser?.close();
});

describe('the steward privacy panel', () => {
  it('[R8][H16] a contagion release refreshes the budget panel: spent ρ and the release list follow at once', async () => {
    const made = await server.host.createSpace({ name: 'privacy panel' });
    if (!made.ok) throw new Error(made.message);
    const { code } = made.value.space;
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (e) => {
      throw e;
    });
    await page.goto(`${server.url}/s/${code}#token=${made.value.stewardToken}`);
    await expect.poll(() => page.getByTestId('privacy-spent').textContent(), { timeout: 10_000 }).toBe('ρ 0.000');
    await page.getByTestId('contagion-rho').fill('0.25');
    await page.getByRole('button', { name: 'Release contagion' }).click();
    await expect.poll(() => page.getByTestId('contagion').textContent(), { timeout: 10_000 }).toContain('release #1, ρ 0.25 spent');
    // The panel loaded the budget again: what the server says is spent, and the release listed.
    await expect.poll(() => page.getByTestId('privacy-spent').textContent(), { timeout: 10_000 }).toBe('ρ 0.250');
    expect(await page.getByTestId('privacy-releases').textContent()).toContain('#1 contagion');
    const status = (await (await fetch(`${server.url}/api/spaces/${code}/privacy`)).json()) as { spent: { rho: number } };
    expect(status.spent.rho).toBe(0.25);
    await page.context().close();
  });
});
