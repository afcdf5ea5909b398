/**
 * Stories end to end in a real headless Chromium (SPEC §ST): two participants, a steward and a
 * gathering display. Each participant goes through the story's own consent step and shares
 * one (one of them a hostile payload); the steward turns stories on and moderates from the
 * keyboard; the display shows an approved story only once the cohort is present, as inert text,
 * with the pulse underneath; pin and skip move it; the author sees each state and withdraws —
 * the story leaves the display at once and is erased; the public log holds counts only.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/log/entry.ts';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';
import { launchChromium } from '../support/chromium.ts';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', minCohort: 3 });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function page(viewport: { width: number; height: number }, mobile = false): Promise<Page> {
  const ctx = await browser.newContext({ viewport, ...(mobile ? { hasTouch: true, isMobile: true } : {}) });
  const p = await ctx.newPage();
  p.on('pageerror', (e) => {
    throw e;
  });
  return p;
}

async function joinAndTap(p: Page, code: string, fx: number, fy: number): Promise<void> {
  await p.goto(`${server.url}/j/${code}`);
  await p.getByTestId('consent-yes').click();
  await expect.poll(() => p.getByTestId('status').textContent(), { timeout: 10_000 }).toBe('connected');
  const box = await p.getByTestId('grid').boundingBox();
  if (!box) throw new Error('grid not visible');
  await p.touchscreen.tap(box.x + box.width * fx, box.y + box.height * fy);
  await expect.poll(() => p.getByTestId('note').textContent(), { timeout: 10_000 }).toBe('Saved.');
}

async function shareStory(p: Page, text: string, name: string | null): Promise<void> {
  await p.getByTestId('story-open').click();
  const consent = p.getByTestId('story-consent');
  await expect.poll(() => consent.isVisible(), { timeout: 10_000 }).toBe(true);
  const words = (await consent.textContent()) ?? '';
  for (const must of ['gathering display', 'moderation queue', 'story export', 'pseudonym', 'no name', 'withdraw', 'never linked to your taps']) expect(words, must).toContain(must);
  await p.getByTestId('story-consent-yes').click();
  await p.getByTestId('story-text').fill(text);
  if (name) {
    await p.getByTestId('story-anonymous').uncheck();
    await p.getByTestId('story-name').fill(name);
  }
  await p.getByTestId('story-send').click();
  await expect.poll(() => p.getByTestId('story-note').textContent(), { timeout: 10_000 }).toMatch(/waiting for the steward\. Its words read as (pleasant|unpleasant|mixed) and/);
}

const stateOf = (p: Page) => p.getByTestId('my-story-state').first().textContent();

describe('stories in a real browser', () => {
  it('[ST-E2E1] consent, share, moderate from the keyboard, show with the cohort, pin and skip, withdraw', async () => {
    const made = await server.host.createSpace({ name: 'After the storm' });
    if (!made.ok) throw new Error(made.message);
    const { code, id } = made.value.space;
    const token = made.value.stewardToken;

    // The steward turns stories on from the steward page (an act on the public log).
    const steward = await page({ width: 1280, height: 1000 });
    await steward.goto(`${server.url}/s/${code}#token=${token}`);
    await expect.poll(() => steward.getByTestId('story-queue').isVisible(), { timeout: 10_000 }).toBe(true);
    await steward.getByTestId('stories-enabled').click();
    await expect.poll(() => steward.getByTestId('stories-note').textContent(), { timeout: 10_000 }).toContain('Stories on (pre-moderation)');

    const display = await page({ width: 1280, height: 720 });
    await display.goto(`${server.url}/d/${code}?mode=stories`);
    await expect.poll(() => display.getByTestId('canvas').getAttribute('data-mode'), { timeout: 10_000 }).toBe('stories');

    const alice = await page({ width: 390, height: 900 }, true);
    const bob = await page({ width: 390, height: 900 }, true);
    await joinAndTap(alice, code, 0.8, 0.2);
    await joinAndTap(bob, code, 0.2, 0.8);

    const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>\nOur street flooded \u{1F30A} and we carried the kids out. \u05E9\u05DC\u05D5\u05DD';
    await shareStory(alice, hostile, null);
    await shareStory(bob, 'The neighbours came with boats and hot tea.', 'River');
    // What is refused is refused with a clear message, and nothing is stored.
    await bob.getByTestId('story-text').fill('x'.repeat(10_000));
    expect(await bob.getByTestId('story-count').textContent()).toBe('10000 / 1000 characters');
    await bob.getByTestId('story-send').click();
    await expect.poll(() => bob.getByTestId('story-note').textContent(), { timeout: 10_000 }).toBe('a story may have at most 1000 characters (this one has 10000)');
    await bob.getByTestId('story-text').fill('invoice \u202Egnp.exe and a bell \u0007');
    await bob.getByTestId('story-send').click();
    await expect.poll(() => bob.getByTestId('story-note').textContent(), { timeout: 10_000 }).toContain('direction control U+202E');
    expect(await bob.getByTestId('my-story').count()).toBe(1);
    await expect.poll(() => stateOf(alice), { timeout: 10_000 }).toContain('waiting for the steward');

    // Keyboard moderation: the queue lists both as waiting, flags none; approve both with `a`.
    const queue = steward.getByTestId('story-queue');
    await expect.poll(() => steward.getByTestId('queue-item').count(), { timeout: 10_000 }).toBe(2);
    expect(await steward.getByTestId('queue-text').first().textContent()).toBe(hostile);
    await queue.focus();
    await steward.keyboard.press('a');
    await expect.poll(() => steward.getByTestId('stories-note').textContent(), { timeout: 10_000 }).toContain('Approved');
    // Waiting stories sort first and the cursor goes back to the first one waiting.
    await steward.keyboard.press('a');
    await expect.poll(async () => (await steward.locator('[data-testid=queue-item][data-status=shown]').count()), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => stateOf(alice), { timeout: 10_000 }).toBe('shown on the gathering display · no name');
    await expect.poll(() => stateOf(bob), { timeout: 10_000 }).toBe('shown on the gathering display · as River');

    // Two people present (< 3): the display holds every story back.
    await expect.poll(() => display.getByTestId('stories-wait').textContent(), { timeout: 10_000 }).toBe('stories appear once 3 people are here');
    expect(await display.getByTestId('story-card').count()).toBe(0);

    // A third person arrives (through the host): the first approved story surfaces, as text.
    const ref = server.host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
    await server.host.join(ref, code, 'participant', true);
    server.host.input(ref, { t: 'input', seq: 1, valence: 0.1, arousal: 0.1, confidence: 1, source: 'tap' }, false);
    await expect.poll(() => display.getByTestId('story-text').textContent(), { timeout: 10_000 }).toBe(hostile);
    expect(await display.getByTestId('story-name').textContent()).toBe('— anonymous');
    expect(await display.locator('[data-testid=stories-layer] img, [data-testid=stories-layer] script').count()).toBe(0);
    expect(await display.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await display.getByTestId('count').textContent()).toBe('3');

    // Skip moves to the next; pin holds the one chosen (from the keyboard).
    await queue.focus();
    await steward.keyboard.press('s');
    await expect.poll(() => display.getByTestId('story-text').textContent(), { timeout: 10_000 }).toBe('The neighbours came with boats and hot tea.');
    expect(await display.getByTestId('story-name').textContent()).toBe('— River');
    await steward.keyboard.press('ArrowUp');
    await steward.keyboard.press('p');
    await expect.poll(() => display.getByTestId('story-name').textContent(), { timeout: 10_000 }).toBe('— anonymous · pinned');

    // Alice withdraws: gone from the display at once, from the queue and from storage.
    await alice.getByTestId('story-withdraw').first().click();
    await expect.poll(() => alice.getByTestId('story-note').textContent(), { timeout: 10_000 }).toBe('Withdrawn: it is gone from every screen and deleted.');
    await expect.poll(() => display.getByTestId('story-text').textContent(), { timeout: 10_000 }).toBe('The neighbours came with boats and hot tea.');
    await expect.poll(() => steward.getByTestId('queue-item').count(), { timeout: 10_000 }).toBe(1);
    expect(await alice.getByTestId('my-story').count()).toBe(0);
    const html = await display.content();
    expect(html).not.toContain('Our street flooded');

    // The public log: the settings act and two approvals, as counts; no text, name or id.
    const log = server.log;
    if (!log) throw new Error('no log');
    const entries = (await log.readEntries(0, log.size)).map((b) => {
      const e = decodeEntry(b);
      if (!e.ok) throw new Error(e.message);
      return e.value;
    });
    const mine = entries.filter((e) => JSON.stringify(e).includes(id) && /^stor/.test(String((e as { type?: string }).type)));
    expect(mine.map((e) => (e as { type: string }).type)).toEqual(['stories.settings', 'story.moderated', 'story.moderated']);
    const all = JSON.stringify(entries);
    for (const secret of ['flooded', 'neighbours', 'River', 'onerror']) expect(all).not.toContain(secret);
    for (const p of [alice, bob, steward, display]) await p.context().close();
  }, 120_000);
});
