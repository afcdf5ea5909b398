/**
 * Export and erasure end to end in a real headless Chromium (SPEC V2, S16): a person joins and
 * taps; their inputs are stored sealed (nothing readable in the database file); they download
 * their data as JSON and EmotionML from their screen, then erase it: their point leaves the
 * display at once, the database holds nothing of theirs, and a restart does not bring it back.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, createServer } from '../../src/server/createServer.ts';
import { launchChromium } from '../support/chromium.ts';

let browser: Browser;
let dir: string;

beforeAll(async () => {
  browser = await launchChromium();
  dir = mkdtempSync(join(tmpdir(), 'attune-erase-'));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function phone(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true, acceptDownloads: true });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  return page;
}

async function tap(page: Page, fx: number, fy: number): Promise<void> {
  await page.getByTestId('grid').scrollIntoViewIfNeeded();
  const box = await page.getByTestId('grid').boundingBox();
  if (!box) throw new Error('grid not visible');
  await page.touchscreen.tap(box.x + box.width * fx, box.y + box.height * fy);
  await expect.poll(() => page.getByTestId('note').textContent(), { timeout: 10_000 }).toBe('Saved.');
}

const rows = (dbPath: string, sql: string, ...args: string[]) => {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return db.prepare(sql).all(...args) as Record<string, unknown>[];
  } finally {
    db.close();
  }
};

describe('export and erasure in a real browser', () => {
  it('[V2][S16] download JSON and EmotionML, erase: the point leaves the display, nothing readable stays, a restart does not bring it back', async () => {
    const dbPath = join(dir, 'attune.db');
    let server: RunningServer = await createServer({ port: 0, dbPath, minCohort: 1 });
    const port = server.port;
    let closed = false;
    try {
      const made = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Erasure test' }) });
      const { code, id } = (await made.json()) as { code: string; id: string };
      const display = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
      await display.goto(`${server.url}/d/${code}`);
      const alice = await phone();
      await alice.goto(`${server.url}/j/${code}`);
      await alice.getByTestId('consent-yes').click();
      await tap(alice, 0.85, 0.15);
      await tap(alice, 0.2, 0.8);
      await expect.poll(() => display.getByTestId('count').textContent(), { timeout: 10_000 }).toBe('1');
      await server.host.drain();
      const token = (await alice.evaluate((c) => localStorage.getItem(`attune:${c}:token`), code)) as string;
      expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);

      // Stored sealed: the plain columns hold placeholders, the key is in its own table.
      const [p] = rows(dbPath, 'SELECT id FROM participants WHERE space_id = ?', id);
      const pid = String(p?.id);
      const stored = rows(dbPath, 'SELECT v, a, sealed FROM inputs WHERE participant_id = ?', pid);
      expect(stored).toHaveLength(2);
      for (const r of stored) expect([r.v, r.a, typeof r.sealed]).toEqual([0, 0, 'string']);
      // The key is in the key store beside the database (S18), not in the database file.
      const keysPath = join(dir, 'attune.keys.db');
      expect(rows(keysPath, 'SELECT key FROM participant_keys WHERE participant_id = ?', pid)).toHaveLength(1);
      expect(rows(dbPath, "SELECT name FROM sqlite_master WHERE name = 'participant_keys'")).toEqual([]);
      // A copy of the database taken now (a backup) holds the sealed inputs but no key.
      const backup = join(dir, 'backup.db');
      new DatabaseSync(dbPath).exec(`VACUUM INTO '${backup}'`);
      expect(rows(dbPath, 'SELECT hash FROM consents WHERE participant_id = ?', pid).map((r) => r.hash)).toEqual([server.host.consentVersion]);

      // Export from their screen: JSON and EmotionML, both holding their two taps.
      await alice.getByTestId('your-data').locator('summary').click();
      const [json] = await Promise.all([alice.waitForEvent('download'), alice.getByTestId('export-json').click()]);
      const data = JSON.parse(readFileSync((await json.path()) as string, 'utf8')) as { inputs: { valence: number; arousal: number }[]; consents: { version: string }[] };
      expect(data.inputs).toHaveLength(2);
      expect(data.inputs[0]?.valence).toBeGreaterThan(0.5);
      expect(data.consents.map((c) => c.version)).toEqual([server.host.consentVersion]);
      const [eml] = await Promise.all([alice.waitForEvent('download'), alice.getByTestId('export-emotionml').click()]);
      const xml = readFileSync((await eml.path()) as string, 'utf8');
      expect(xml).toContain('<emotionml');
      expect(xml.match(/<emotion /g)).toHaveLength(2);

      // Erase: the point leaves the display at once; the database holds nothing of theirs.
      await alice.getByTestId('erase').click();
      await alice.getByTestId('erase-confirm').click();
      await expect.poll(() => alice.getByTestId('ended').textContent(), { timeout: 10_000 }).toContain('erased');
      await expect.poll(() => display.getByTestId('count').textContent(), { timeout: 10_000 }).toBe('0');
      await server.host.drain();
      for (const t of ['inputs', 'consents']) expect(rows(dbPath, `SELECT * FROM ${t} WHERE participant_id = ?`, pid)).toEqual([]);
      expect(rows(keysPath, 'SELECT * FROM participant_keys WHERE participant_id = ?', pid)).toEqual([]);
      // The backup still holds their sealed inputs, but the key that opened them is gone everywhere.
      expect(rows(backup, 'SELECT sealed FROM inputs WHERE participant_id = ?', pid)).toHaveLength(2);
      expect(rows(dbPath, 'SELECT * FROM participants WHERE id = ?', pid)).toEqual([]);
      expect(rows(dbPath, 'SELECT * FROM events WHERE participant_id = ?', pid)).toEqual([]);
      expect(await alice.evaluate((c) => localStorage.getItem(`attune:${c}:token`), code)).toBeNull();
      // secure_delete: the sealed bytes are not left in free pages of the file either.
      const sealed = String(stored[0]?.sealed);
      await alice.context().close();
      await display.context().close();
      await server.close();
      closed = true;
      expect(readFileSync(dbPath).toString('latin1').includes(sealed.slice(0, 40))).toBe(false);

      // A restart does not bring them back: nobody present, the session key opens nothing.
      server = await createServer({ port, dbPath, minCohort: 1 });
      closed = false;
      const info = (await (await fetch(`${server.url}/api/spaces/${code}`)).json()) as { present: number };
      expect(info.present).toBe(0);
      expect((await fetch(`${server.url}/api/me/export`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    } finally {
      if (!closed) await server.close();
    }
  }, 180_000);
});
