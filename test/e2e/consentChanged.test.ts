/**
 * A changed consent text asks again, in a real headless Chromium (SPEC V1): a person joined and
 * agreed; the server then restarts with a new consent text (an upgrade) while their page stays
 * open. The page reconnects and resumes under the text it agreed to; the server refuses
 * (`CONSENT_CHANGED`) and the page shows the consent screen again. Agreeing resumes the same
 * session, and the new agreement is recorded on the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';
import { launchChromium } from '../support/chromium.ts';

let browser: Browser;
let dir: string;

beforeAll(async () => {
  browser = await launchChromium();
  dir = mkdtempSync(join(tmpdir(), 'attune-consent-'));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The consent versions stored for each participant, oldest first. */
function consents(dbPath: string): { participant_id: string; hash: string }[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return db.prepare('SELECT participant_id, hash FROM consents ORDER BY at, rowid').all() as { participant_id: string; hash: string }[];
  } finally {
    db.close();
  }
}

describe('a changed consent text in a real browser', () => {
  it('[V1] after an upgrade changed the consent text, the server refuses the open page’s resume and it shows the consent screen again; agreeing resumes the same session', async () => {
    const dbPath = join(dir, 'attune.db');
    let server: RunningServer = await createServer({ port: 0, dbPath, minCohort: 1 });
    const port = server.port;
    const before = server.host.consentVersion;
    try {
      const made = await server.host.createSpace({ name: 'Consent test' });
      if (!made.ok) throw new Error(made.message);
      const code = made.value.space.code;
      const page = await (await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true })).newPage();
      page.on('pageerror', (e) => {
        throw e;
      });
      await page.goto(`${server.url}/j/${code}`);
      await page.getByTestId('consent-yes').click();
      await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 10_000 }).toBe('connected');
      const token = await page.evaluate((c) => localStorage.getItem(`attune:${c}:token`), code);
      await server.host.drain();
      const [agreed] = consents(dbPath);
      expect(agreed?.hash).toBe(before);

      // The upgrade: the same database and port, a new consent text. The page stays open.
      await server.close();
      const after = 'e1'.repeat(32);
      server = await createServer({ port, dbPath, minCohort: 1 }, { consentVersion: after });
      await page.getByTestId('consent').waitFor({ timeout: 20_000 });
      expect(consents(dbPath).map((c) => c.hash)).toEqual([before]);
      await page.getByTestId('consent-yes').click();
      await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 20_000 }).toBe('connected');
      // The same session (token and participant), now agreed to the new text.
      expect(await page.evaluate((c) => localStorage.getItem(`attune:${c}:token`), code)).toBe(token);
      await expect.poll(() => consents(dbPath).map((c) => [c.participant_id, c.hash]).at(-1), { timeout: 10_000 }).toEqual([agreed?.participant_id, after]);
    } finally {
      await server.close();
    }
  });
});
