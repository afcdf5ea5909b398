/**
 * A reflective gathering end to end in a real Chromium (SPEC Q14, ST1, ST2, V1, Q5, Q8): the
 * front page's template picker creates a space from `reflective-gathering`; the display follows
 * the template's gathering mode; a phone opens "Share a story", agrees in the story's own consent
 * step — recorded on the server as a `stories` consent to the current text — and shares; when the
 * story consent on record is for an older text, the step asks again before another story; the
 * council adopts one of the template's reflection policies and the phone shows its prompt.
 * The server's clock is a manual scheduler.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';
import { ManualScheduler } from '../../src/space/scheduler.ts';
import { MemoryStorage } from '../../src/storage/memory/memoryStorage.ts';
import { launchChromium } from '../support/chromium.ts';

let server: RunningServer;
let browser: Browser;
const scheduler = new ManualScheduler(Date.now());
const storage = new MemoryStorage();

beforeAll(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', minCohort: 3 }, { scheduler, storage });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(path: string, viewport = { width: 1100, height: 900 }): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.goto(`${server.url}${path}`);
  return page;
}

/** Lets the manual clock run for `ms` (the machine ticks), giving the pages time to draw. */
async function run(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 250) {
    scheduler.advance(250);
    await new Promise((r) => setTimeout(r, 15));
  }
}

describe('a reflective gathering in the browser', () => {
  it('[Q14][ST1][ST2][V1][Q8] the picker creates it; the story consent is recorded and asked again when its text changed; the council’s reflection prompt shows', async () => {
    // The front page's picker: the reflective-gathering template and its description.
    const front = await open('/');
    await expect.poll(() => front.getByTestId('template').locator('option[value="reflective-gathering"]').count(), { timeout: 10_000 }).toBe(1);
    await front.getByTestId('template').selectOption('reflective-gathering');
    expect(await front.getByTestId('template-description').textContent()).toContain('stories');
    await front.locator('#name').fill('After the storm');
    await front.getByRole('button', { name: 'Create space' }).click();
    await expect.poll(() => front.getByTestId('created-code').count(), { timeout: 10_000 }).toBe(1);
    const code = String(await front.getByTestId('created-code').textContent());
    const stewardToken = new URL(String(await front.getByRole('link', { name: 'Open the steward page' }).getAttribute('href')), server.url).hash.replace('#token=', '');
    const space = await server.host.spaceByCode(code);
    if (!space) throw new Error('no space');

    // The display follows the template's gathering mode.
    const display = await open(`/d/${code}`, { width: 1280, height: 720 });
    await expect.poll(() => display.getByTestId('canvas').getAttribute('data-mode'), { timeout: 10_000 }).toBe('stories');

    // A phone joins; stories are on, so it offers "Share a story" with its own consent step.
    const phone = await open(`/j/${code}`, { width: 390, height: 900 });
    await phone.getByTestId('consent-yes').click();
    await expect.poll(() => phone.getByTestId('status').textContent(), { timeout: 10_000 }).toBe('connected');
    await expect.poll(() => phone.getByTestId('story-open').count(), { timeout: 10_000 }).toBe(1);
    await phone.getByTestId('story-open').click();
    await expect.poll(() => phone.getByTestId('story-consent').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await phone.getByTestId('story-consent').textContent()).toContain('once the steward approves it');
    expect(await phone.getByTestId('story-consent-changed').count()).toBe(0);
    await phone.getByTestId('story-consent-yes').click();
    await expect.poll(() => phone.getByTestId('story-form').isVisible(), { timeout: 10_000 }).toBe(true);

    // On the server: a `stories` consent to the current story consent text, for this participant.
    const token = String(await phone.evaluate((c) => localStorage.getItem(`attune:${c}:token`), code));
    const exported = (await (await fetch(`${server.url}/api/me/export`, { headers: { authorization: `Bearer ${token}` } })).json()) as { participant: { id: string }; consents: { version: string; purposes: string[] }[] };
    const versions = (await (await fetch(`${server.url}/api/consent`)).json()) as { version: string; stories: { version: string } };
    expect(exported.consents.map((c) => [c.version, c.purposes])).toEqual([
      [versions.version, ['pulse']],
      [versions.stories.version, ['stories']],
    ]);
    await phone.getByTestId('story-text').fill('The water came up to the second step and we waited together.');
    await phone.getByTestId('story-send').click();
    await expect.poll(() => phone.getByTestId('story-note').textContent(), { timeout: 10_000 }).toContain('waiting for the steward');

    // The story consent on record is for an older text (the wording changed): the step asks again.
    await storage.recordConsent({ participantId: exported.participant.id, at: scheduler.now(), hash: '0'.repeat(64), purposes: ['stories'] });
    await phone.getByTestId('story-text').fill('And in the morning the neighbours came.');
    await phone.getByTestId('story-send').click();
    await expect.poll(() => phone.getByTestId('story-consent-changed').count(), { timeout: 10_000 }).toBe(1);
    expect(await phone.getByTestId('story-note').textContent()).toContain('changed');
    expect(await phone.getByTestId('my-story').count()).toBe(1);
    await phone.getByTestId('story-consent-yes').click();
    await expect.poll(() => phone.getByTestId('story-form').isVisible(), { timeout: 10_000 }).toBe(true);
    await phone.getByTestId('story-text').fill('And in the morning the neighbours came.');
    await phone.getByTestId('story-send').click();
    await expect.poll(() => phone.getByTestId('my-story').count(), { timeout: 10_000 }).toBe(2);

    // The council (quorum 1) adopts the template's plain reflection policy; with the room present,
    // it fires and the phone shows the approved prompt with the policy's name.
    const member = await server.host.addMember(code, stewardToken, 'Ada');
    if (!member.ok) throw new Error(member.message);
    const view = server.host.councilView(space.id) as unknown as { ok: true; value: { proposals: { id: string; policy: { name: string } }[] } };
    const proposal = view.value.proposals.find((p) => p.policy.name === 'a question to sit with');
    expect(await server.host.vote(code, member.value.memberToken, proposal?.id as string, 'yes')).toMatchObject({ ok: true, value: { status: 'adopted' } });
    for (let i = 0; i < 3; i++) {
      const ref = server.host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
      await server.host.join(ref, code, 'participant', true);
      server.host.input(ref, { t: 'input', seq: 1, valence: 0.1 * i, arousal: 0.1, confidence: 1, source: 'tap' }, false);
    }
    await run(3000);
    await expect.poll(() => phone.getByTestId('prompt').textContent(), { timeout: 15_000 }).toBe('What did you hear tonight that stays with you?');
    expect(await phone.getByTestId('feedback-policy').textContent()).toContain('a question to sit with');
    for (const p of [front, display, phone]) await p.context().close();
  }, 120_000);
});
