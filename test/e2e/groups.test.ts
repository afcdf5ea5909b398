/**
 * Groups and linked spaces in a real headless Chromium (Debian's, via playwright-core), against
 * a real server: a phone joins through the consent screen and chooses its group; the simulator
 * (src/sim/groupCrowd.ts) drives two groups that converge while the display shows them side by
 * side and the bridging score rises; two live spaces linked by both stewards are shown on the
 * compare view with the bridging between them and their histories: the live tail, and each one's
 * released DP series once its steward made one (none before: the page says so).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { type RunningServer, createServer } from '../../src/server/createServer.ts';
import { GroupCrowd } from '../../src/sim/groupCrowd.ts';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  // A generous privacy budget, so that one release of a few 10-second windows has little noise.
  server = await createServer({ port: 0, dbPath: ':memory:', minCohort: 3, privacyBudget: 20 });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function page(width = 1280, height = 900): Promise<Page> {
  const p = await (await browser.newContext({ viewport: { width, height } })).newPage();
  p.on('pageerror', (e) => {
    throw e;
  });
  return p;
}

async function create(body: object): Promise<{ code: string; stewardToken: string }> {
  const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(201);
  return (await r.json()) as { code: string; stewardToken: string };
}

const scoreOf = async (p: Page, testId: string) => {
  const s = await p.getByTestId(testId).getAttribute('data-score');
  return s ? Number(s) : null;
};

describe('groups and linked spaces in a real browser', () => {
  it('[E2E-G1] a phone chooses its group on the consent screen; two simulated groups converge and the display’s bridging score rises', async () => {
    const { code } = await create({ name: 'A divided city', groups: ['Alterna', 'Glimmers'] });
    const display = await page();
    await display.goto(`${server.url}/d/${code}`);
    await expect.poll(() => display.getByTestId('group-card-Alterna').isVisible(), { timeout: 10_000 }).toBe(true);

    const phone = await page(360, 740);
    await phone.goto(`${server.url}/j/${code}`);
    await expect.poll(() => phone.getByTestId('consent-groups').textContent(), { timeout: 10_000 }).toContain("your group's pulse is shown");
    await phone.getByTestId('group-Alterna').check();
    await phone.getByTestId('consent-yes').click();
    await expect.poll(() => phone.getByTestId('group-Alterna').isChecked(), { timeout: 10_000 }).toBe(true);

    const crowd = new GroupCrowd({
      url: server.url,
      code,
      groups: [
        { name: 'Alterna', people: 6, pole: { valence: 0.75, arousal: -0.6 } },
        { name: 'Glimmers', people: 6, pole: { valence: -0.7, arousal: 0.7 } },
      ],
      meeting: { valence: 0.3, arousal: 0.1 },
      pull: 0.4,
      scatter: 0.02,
      seed: 'e2e-groups',
    });
    await crowd.start();
    try {
      await expect.poll(() => scoreOf(display, 'bridging'), { timeout: 15_000 }).not.toBeNull();
      const first = (await scoreOf(display, 'bridging')) as number;
      expect(first).toBeLessThan(0.2);
      expect(await display.getByTestId('group-text-Glimmers').textContent()).toContain('6 people');
      const scores = [first];
      for (let i = 0; i < 10; i++) {
        crowd.step();
        await expect.poll(() => crowd.settled, { timeout: 10_000 }).toBe(true);
        const before = crowd.last?.seq ?? 0;
        await expect.poll(() => (crowd.last?.seq ?? 0) > before + 1, { timeout: 10_000 }).toBe(true);
        await expect.poll(() => display.getByTestId('bridging').getAttribute('data-score'), { timeout: 10_000 }).toBe(String(crowd.last?.bridging?.score ?? ''));
        scores.push((await scoreOf(display, 'bridging')) as number);
      }
      expect(scores.at(-1)).toBeGreaterThanOrEqual(0.5);
      expect(scores.at(-1) as number).toBeGreaterThan(first + 0.4);
      expect(Number(await display.getByTestId('bridging').getAttribute('data-closeness'))).toBeGreaterThan(0.9);
      // The field overlays both groups' means and, once they meet, common ground.
      expect(await display.getByTestId('group-dot-Alterna').count()).toBe(1);
      expect(await display.getByTestId('common-ground').count()).toBeGreaterThan(0);
      expect(await display.getByTestId('bridging-history').count()).toBe(1);
    } finally {
      crowd.stop();
    }
  }, 120_000);

  it('[E2E-G2] two live spaces linked by both stewards, side by side on /compare with the bridging between them and their histories', async () => {
    const a = await create({ name: 'Alterna tonight' });
    const b = await create({ name: 'Glimmers tonight' });
    const link = (from: { code: string; stewardToken: string }, to: string) =>
      fetch(`${server.url}/api/spaces/${from.code}/links`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${from.stewardToken}` }, body: JSON.stringify({ with: to }) });
    const cmp = await page();
    await cmp.goto(`${server.url}/compare?spaces=${a.code},${b.code}`);
    await expect.poll(() => cmp.getByTestId('error').textContent(), { timeout: 10_000 }).toContain('not linked');
    expect((await link(a, b.code)).status).toBe(200);
    expect((await link(b, a.code)).status).toBe(200);

    const crowds = [a, b].map(
      (s, i) =>
        new GroupCrowd({ url: server.url, code: s.code, groups: [{ name: null, people: 5, pole: i === 0 ? { valence: 0.6, arousal: -0.5 } : { valence: -0.6, arousal: 0.5 } }], meeting: { valence: 0.2, arousal: 0 }, pull: 0.5, scatter: 0.02, seed: `cmp-${i}` }),
    );
    await Promise.all(crowds.map((c) => c.start()));
    try {
      await cmp.goto(`${server.url}/compare?spaces=${a.code},${b.code}`);
      await expect.poll(() => cmp.getByTestId(`side-count-${a.code}`).textContent(), { timeout: 15_000 }).toContain('5 present');
      await expect.poll(() => cmp.getByTestId(`side-count-${b.code}`).textContent(), { timeout: 15_000 }).toContain('5 present');
      await expect.poll(() => scoreOf(cmp, 'compare-bridging'), { timeout: 15_000 }).not.toBeNull();
      const apart = (await scoreOf(cmp, 'compare-bridging')) as number;
      for (let i = 0; i < 5; i++) for (const c of crowds) c.step();
      await expect.poll(async () => ((await scoreOf(cmp, 'compare-bridging')) ?? 0) > apart + 0.3, { timeout: 20_000 }).toBe(true);
      // Both live tails on one time axis.
      await expect.poll(async () => ((await cmp.getByTestId(`history-${a.code}`).getAttribute('points')) ?? '').length > 0, { timeout: 20_000 }).toBe(true);
      await expect.poll(async () => ((await cmp.getByTestId(`history-${b.code}`).getAttribute('points')) ?? '').length > 0, { timeout: 20_000 }).toBe(true);
      // No released series yet: the page says so plainly, and how a steward releases one.
      for (const s of [a, b]) {
        await expect.poll(() => cmp.getByTestId(`history-note-${s.code}`).getAttribute('data-released')).toBe('no');
        expect(await cmp.getByTestId(`history-note-${s.code}`).textContent()).toContain('has no released history yet');
        expect(await cmp.getByTestId(`history-note-${s.code}`).textContent()).toContain('Release the series so far');
      }
      // A's steward releases its series (R8: a DP release, on the public log first); the page
      // draws it on the same axis without a reload, and B still has none.
      const release = (s: { code: string; stewardToken: string }) =>
        fetch(`${server.url}/api/spaces/${s.code}/privacy/releases`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.stewardToken}` }, body: JSON.stringify({ what: 'series', bucketSeconds: 10, rho: 10 }) });
      const ra = await release(a);
      expect(ra.status).toBe(201);
      const relA = (await ra.json()) as { n: number; points: { valence: number | null }[] };
      expect(relA.points.some((p) => p.valence !== null)).toBe(true);
      await expect.poll(() => cmp.getByTestId(`history-note-${a.code}`).getAttribute('data-released'), { timeout: 20_000 }).toBe('yes');
      expect(await cmp.getByTestId(`history-note-${a.code}`).textContent()).toContain(`released history #${relA.n}`);
      expect(((await cmp.getByTestId(`history-released-${a.code}`).getAttribute('d')) ?? '').length).toBeGreaterThan(0);
      expect(await cmp.getByTestId(`history-note-${b.code}`).getAttribute('data-released')).toBe('no');
      expect(await cmp.getByTestId(`history-released-${b.code}`).getAttribute('d')).toBe('');
      const spentAfterA = ((await (await fetch(`${server.url}/api/spaces/${a.code}/privacy`)).json()) as { spent: { rho: number } }).spent.rho;
      expect((await release(b)).status).toBe(201);
      await expect.poll(() => cmp.getByTestId(`history-note-${b.code}`).getAttribute('data-released'), { timeout: 20_000 }).toBe('yes');
      expect(((await cmp.getByTestId(`history-released-${b.code}`).getAttribute('d')) ?? '').length).toBeGreaterThan(0);
      // Both released series and both live tails on one axis; re-serving them spent nothing more.
      await cmp.reload();
      await expect.poll(async () => ((await cmp.getByTestId(`history-released-${a.code}`).getAttribute('d')) ?? '').length > 0, { timeout: 15_000 }).toBe(true);
      expect(((await (await fetch(`${server.url}/api/spaces/${a.code}/privacy`)).json()) as { spent: { rho: number } }).spent.rho).toBe(spentAfterA);
    } finally {
      for (const c of crowds) c.stop();
    }
  }, 120_000);
});
