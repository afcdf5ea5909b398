/**
 * Councils end to end in a real Chromium (SPEC §Q): the steward creates a council on the council
 * page and invites two members, who open their invite links, propose a calm policy and adopt it
 * by majority; the simulator drives a surge; the participant's and the display's screens show
 * calm with the policy's name, its reason and a link to its log entry — a slower heartbeat and a
 * cooler palette; a display policy smooths the screens and hides the crowd on the phone (its own
 * point stays) until it expires; a notify policy's notification appears on the council and
 * steward pages; /audit lists the acts in order, and `attune audit` verifies the log. A template's
 * words name the axes on the phone and the display. The server's clock is a manual scheduler.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';
import { Crowd } from '../../src/sim/crowd.ts';
import { driveCrowdOnHost } from '../../src/sim/hostCrowd.ts';
import { ManualScheduler } from '../../src/space/scheduler.ts';
import { policyJson } from '../../src/core/policy/policyJson.ts';
import { captureIO } from '../support/captureIO.ts';
import { launchChromium } from '../support/chromium.ts';

let server: RunningServer;
let browser: Browser;
let dir: string;
const scheduler = new ManualScheduler(Date.now());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-council-e2e-'));
  server = await createServer({ port: 0, dbPath: ':memory:', minCohort: 3 }, { scheduler });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(path: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.goto(`${server.url}${path}`);
  return page;
}

/** A second policy: while the room races, smooth the screens' mean over 20 s and hide the crowd on phones for a minute. */
const QUIET = policyJson({ name: 'quiet screens', when: 'pulse.mean.arousal > 0.3', action: { display: { smoothingSeconds: 20, showCrowd: false, minutes: 1 } }, cooldownSeconds: 900, reason: 'fewer moving dots while the room races' });

/** A third: tell the council when the room races (a notification on its own channel). */
const TELL = policyJson({ name: 'tell the council', when: 'pulse.mean.arousal > 0.3', action: { notify: { audience: 'council', message: 'the room is racing — have a look' } }, cooldownSeconds: 900 });

const POLICY = policyJson({ name: 'calm when racing', when: 'pulse.mean.arousal > 0.3', action: { feedback: { mode: 'calm', minutes: 10, breathsPerMinute: 6 } }, cooldownSeconds: 900, reason: 'the room is racing; a slower screen for ten minutes' });

describe('[Q1][Q2][Q8][Q10] a council in the browser', () => {
  it('a council of two adopts a calm policy; a surge fires it; participant and display show calm with the policy; /audit lists the acts in order; attune audit verifies', async () => {
    const made = await server.host.createSpace({ name: 'Assembly' });
    if (!made.ok) throw new Error(made.message);
    const { code, id } = made.value.space;

    // The steward: create the council and invite two members on the council page.
    const steward = await open(`/c/${code}#token=${made.value.stewardToken}`);
    await steward.getByTestId('council-create').click();
    await expect.poll(() => steward.getByTestId('members').isVisible(), { timeout: 10_000 }).toBe(true);
    const links: string[] = [];
    for (const name of ['Ada', 'Bo']) {
      await steward.getByTestId('invite-name').fill(name);
      await steward.getByTestId('invite').click();
      // Wait for this invite's own link: the field still shows the previous member's until the answer arrives.
      const fresh = async () => {
        if ((await steward.getByTestId('invite-link').count()) === 0) return false;
        const link = await steward.getByTestId('invite-link').inputValue();
        return link.includes('#member=') && !links.includes(new URL(link).hash);
      };
      await expect.poll(fresh, { timeout: 10_000 }).toBe(true);
      links.push(new URL(await steward.getByTestId('invite-link').inputValue()).hash);
      await expect.poll(() => steward.getByTestId('members').textContent(), { timeout: 10_000 }).toContain(name);
    }

    // Members: Ada checks a mistyped policy (coded error, caret), then proposes; both vote yes.
    const ada = await open(`/c/${code}${links[0]}`);
    await expect.poll(() => ada.getByTestId('me').textContent(), { timeout: 10_000 }).toBe('Ada');
    await ada.getByTestId('policy-json').fill(JSON.stringify({ ...POLICY, when: 'pulse.mean.arousl > 0.3' }));
    await ada.getByTestId('policy-check').click();
    await expect.poll(() => ada.getByTestId('policy-message').textContent(), { timeout: 10_000 }).toContain('POLICY_UNKNOWN_FIELD');
    expect(await ada.getByTestId('policy-caret').textContent()).toContain('^');
    await ada.getByTestId('policy-json').fill(JSON.stringify(POLICY));
    await ada.getByTestId('policy-propose').click();
    await expect.poll(() => ada.getByTestId('proposal').count(), { timeout: 10_000 }).toBe(1);
    await ada.getByTestId('vote-yes').click();
    const bo = await open(`/c/${code}${links[1]}`);
    await expect.poll(() => bo.getByTestId('me').textContent(), { timeout: 10_000 }).toBe('Bo');
    await expect.poll(() => bo.getByTestId('vote-yes').count(), { timeout: 10_000 }).toBe(1);
    await bo.getByTestId('vote-yes').click();
    await expect.poll(() => bo.getByTestId('proposal-status').textContent(), { timeout: 10_000 }).toBe('adopted');
    await expect.poll(() => bo.getByTestId('policy-row').textContent(), { timeout: 10_000 }).toContain('active');
    // The second policy through the API (the same acts): proposed by Ada, adopted with both votes.
    const tokenOf = (hash: string) => decodeURIComponent(/member=([^&]+)/.exec(hash)?.[1] ?? '');
    const quiet = await server.host.propose(code, tokenOf(links[0] ?? ''), { policy: QUIET });
    if (!quiet.ok) throw new Error(quiet.message);
    await server.host.vote(code, tokenOf(links[0] ?? ''), quiet.value.proposal, 'yes');
    expect(await server.host.vote(code, tokenOf(links[1] ?? ''), quiet.value.proposal, 'yes')).toMatchObject({ ok: true, value: { status: 'adopted' } });
    const tell = await server.host.propose(code, tokenOf(links[1] ?? ''), { policy: TELL });
    if (!tell.ok) throw new Error(tell.message);
    await server.host.vote(code, tokenOf(links[0] ?? ''), tell.value.proposal, 'yes');
    await server.host.vote(code, tokenOf(links[1] ?? ''), tell.value.proposal, 'yes');
    // The steward's page and a member's council page list notifications; none yet.
    const stewardPage = await open(`/s/${code}#token=${made.value.stewardToken}`);
    await expect.poll(() => stewardPage.getByTestId('notifications-none').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => ada.getByTestId('notifications-none').count(), { timeout: 10_000 }).toBe(1);

    // A participant (through the consent screen, which tells of councils) and the display.
    const phone = await open(`/j/${code}`);
    expect(await phone.getByTestId('consent-council').textContent()).toContain('Keep showing me the room as it is');
    await phone.getByTestId('consent-yes').click();
    // The phone's own point (it stays when the crowd is hidden).
    await phone.getByTestId('grid').click({ position: { x: 300, y: 120 } });
    await expect.poll(() => phone.getByTestId('you').count(), { timeout: 10_000 }).toBe(1);
    const screen = await open(`/d/${code}`);

    // The simulator drives a surge (an energised crowd) into the host on the manual clock.
    const epoch = scheduler.now();
    const crowd = new Crowd({ seed: 11, participants: 30, durationMs: 120_000, scenario: 'surge', reach: 1 });
    const stop = await driveCrowdOnHost({ host: server.host, scheduler, code, spaceId: id, crowd, epoch });
    let fired = false;
    for (let s = 0; s < 240 && !fired; s++) {
      scheduler.advance(500);
      await new Promise((r) => setTimeout(r, 5));
      fired = (server.host.councilView(id) as { ok: true; value: { policies: { fired: number }[] } }).value.policies[0]?.fired === 1;
    }
    stop.cancel();
    expect(fired).toBe(true);
    const view = () => (server.host.councilView(id) as { ok: true; value: { policies: { fired: number }[] } }).value;
    for (let s = 0; s < 20 && view().policies[2]?.fired !== 1; s++) {
      scheduler.advance(500);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(view().policies[1]?.fired).toBe(1);
    expect(view().policies[2]?.fired).toBe(1);
    // The notification reaches the council page and the steward page live, with its log entry.
    for (const page of [ada, stewardPage]) {
      await expect.poll(() => page.getByTestId('notification').textContent(), { timeout: 10_000 }).toContain('the room is racing — have a look');
      expect(await page.getByTestId('notification').textContent()).toContain('tell the council');
      expect(await page.getByTestId('notification').locator('a').getAttribute('href')).toMatch(/^\/audit#entry-\d+$/);
    }
    for (let s = 0; s < 4; s++) {
      scheduler.advance(500);
      await new Promise((r) => setTimeout(r, 20));
    }

    for (const page of [phone, screen]) {
      await expect.poll(() => page.getByTestId('feedback-mode').textContent(), { timeout: 15_000 }).toContain('Calm');
      expect(await page.getByTestId('feedback-policy').textContent()).toContain('calm when racing');
      expect(await page.getByTestId('feedback-policy').textContent()).toContain('the room is racing');
      expect(await page.getByTestId('feedback-entry').getAttribute('href')).toMatch(/^\/audit#entry-\d+$/);
      expect(await page.getByTestId('breathe').count()).toBe(1);
      // The display policy, shown with the policy that set it and its log entry (Q8).
      await expect.poll(() => page.getByTestId('display-override-policy').textContent(), { timeout: 10_000 }).toContain('quiet screens');
      expect(await page.getByTestId('display-override').getAttribute('data-smoothing')).toBe('20');
      expect(await page.getByTestId('display-override-entry').getAttribute('href')).toMatch(/^\/audit#entry-\d+$/);
    }
    // Calm slows the heartbeat (0.6 of the room's rate: at most 79 bpm) and cools the colours, on both screens.
    expect(await phone.getByTestId('grid').getAttribute('data-calm')).toBe('yes');
    expect(await phone.getByTestId('calm-tint').count()).toBe(1);
    await expect.poll(() => screen.getByTestId('canvas').getAttribute('data-palette'), { timeout: 10_000 }).toBe('calm');
    const bpm = Number(await screen.getByTestId('canvas').getAttribute('data-bpm'));
    expect(bpm).toBeGreaterThan(0);
    expect(bpm).toBeLessThanOrEqual(132 * 0.6 + 0.1);
    // The crowd is hidden on the phone while the policy lasts; its own point stays.
    expect(await phone.getByTestId('grid').getAttribute('data-crowd')).toBe('hidden');
    expect(await phone.getByTestId('crowd-mean').count()).toBe(0);
    expect(await phone.getByTestId('you').count()).toBe(1);
    expect(await phone.getByTestId('display-override-what').textContent()).toContain('your own point stays');
    // A minute later the display policy expires (logged): the crowd is back, the note gone.
    for (let s = 0; s < 125; s++) {
      scheduler.advance(500);
      await new Promise((r) => setTimeout(r, 5));
    }
    await expect.poll(() => phone.getByTestId('grid').getAttribute('data-crowd'), { timeout: 15_000 }).toBe('shown');
    await expect.poll(() => phone.getByTestId('crowd-mean').count(), { timeout: 10_000 }).toBe(1);
    expect(Number(await phone.getByTestId('crowd-mean').getAttribute('data-bpm'))).toBeLessThanOrEqual(132 * 0.6 + 0.1);
    await expect.poll(() => screen.getByTestId('display-override').count(), { timeout: 10_000 }).toBe(0);
    expect(await phone.getByTestId('feedback-mode').textContent()).toContain('Calm');
    // Opting out: the phone keeps mirror, and still says what the council set.
    await phone.getByTestId('optout').check();
    await expect.poll(() => phone.getByTestId('feedback-mode').textContent(), { timeout: 10_000 }).toContain('Mirror');
    expect(await phone.getByTestId('feedback-optout').textContent()).toContain('calm');

    // The public log, in the browser: every act in order (the page lists newest first).
    const key = server.log?.verifierKeys[0] ?? '';
    const audit = await open(`/audit?key=${encodeURIComponent(key)}`);
    await expect.poll(() => audit.locator('body').textContent(), { timeout: 20_000 }).toMatch(/(\d+) of \1 entries shown verified as included/);
    const types = (await audit.getByTestId('audit-type').allTextContents()).reverse();
    expect(types).toEqual(['space.created', 'council.created', 'council.member.added', 'council.member.added', 'policy.proposed', 'policy.vote', 'policy.vote', 'policy.adopted', 'policy.proposed', 'policy.vote', 'policy.vote', 'policy.adopted', 'policy.proposed', 'policy.vote', 'policy.vote', 'policy.adopted', 'policy.fired', 'policy.fired', 'policy.fired', 'feedback.changed']);

    // And from outside: attune audit verifies the whole log.
    const cli = captureIO();
    expect(await main(['audit', server.url, '--key', key, '--state', join(dir, 'audit-state.json')], cli.io)).toBe(0);
    for (const p of [steward, ada, bo, phone, screen, audit, stewardPage]) await p.context().close();
  }, 180_000);

  it('[Q14] the front page’s template picker creates a space from a template; its join page offers only the inputs it allows', async () => {
    const page = await open('/');
    await expect.poll(() => page.getByTestId('template').locator('option').count(), { timeout: 10_000 }).toBe(6);
    await page.getByTestId('template').selectOption('performance');
    expect(await page.getByTestId('template-description').textContent()).toContain('concert');
    await page.locator('#name').fill('Friday concert');
    await page.getByRole('button', { name: 'Create space' }).click();
    await expect.poll(() => page.getByTestId('created-code').count(), { timeout: 10_000 }).toBe(1);
    const code = String(await page.getByTestId('created-code').textContent());
    const council = (await (await fetch(`${server.url}/api/spaces/${code}/council`)).json()) as { settings: { template: string }; display: { mode: string }; proposals: unknown[] };
    expect(council).toMatchObject({ settings: { template: 'performance' }, display: { mode: 'threads' } });
    expect(council.proposals).toHaveLength(2);
    const phone = await open(`/j/${code}`);
    await phone.getByTestId('consent-yes').click();
    // The template's grid words name the axes (Q14): on the phone and on the display.
    await expect.poll(() => phone.getByTestId('axis-energised').textContent(), { timeout: 10_000 }).toContain('electric');
    expect(await phone.getByTestId('axis-calm').textContent()).toContain('still');
    expect(await phone.getByTestId('axis-pleasant').textContent()).toContain('moved');
    expect(await phone.getByTestId('axis-unpleasant').textContent()).toContain('unsettled');
    expect(await phone.locator('#words').count()).toBe(0);
    // Three more people, so the room's shape (and the grid under it) shows on the display.
    for (let i = 0; i < 3; i++) {
      const ref = server.host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
      await server.host.join(ref, code, 'participant', true);
      server.host.input(ref, { t: 'input', seq: 1, valence: 0.2 * i, arousal: 0.1, confidence: 1, source: 'tap' }, false);
    }
    const display = await open(`/d/${code}?mode=field`);
    for (let s = 0; s < 10; s++) {
      scheduler.advance(500);
      await new Promise((r) => setTimeout(r, 20));
    }
    await expect.poll(() => display.getByTestId('canvas').getAttribute('data-axes'), { timeout: 10_000 }).toBe('unsettled|moved|still|electric');
    await display.context().close();
    await page.context().close();
    await phone.context().close();
  }, 60_000);
});

