/**
 * `attune privacy report CODE` (SPEC V4) against a real server on a SQLite file with the manual
 * scheduler: from the database (`--db`) and from the server with the steward token (`--url`,
 * `--token`, as the other commands), before and after a DP release, an erasure and retention.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { DAY_MS } from '../src/core/retention.ts';
import { createServer, MemoryGovernance, type RunningServer } from '../src/server/createServer.ts';
import type { PrivacyReport } from '../src/space/privacyReport.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import type { ConnSink } from '../src/space/spaceHost.ts';
import { captureIO } from './support/captureIO.ts';

let dir: string;
let dbPath: string;
let server: RunningServer;
const scheduler = new ManualScheduler(Date.parse('2026-12-01T12:00:00Z'));
let code: string;
let token: string;
const tokens: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-privacy-cli-'));
  dbPath = join(dir, 'attune.db');
  server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 3, text: false, privacyBudget: 0.4 }, { scheduler, governance: new MemoryGovernance() });
  const made = await server.host.createSpace({ name: 'reported', retentionDays: 10 });
  if (!made.ok) throw new Error(made.message);
  code = made.value.space.code;
  token = made.value.stewardToken;
  const host = server.host;
  for (let i = 0; i < 5; i++) {
    const sent: string[] = [];
    const sink: ConnSink = { send: (m) => void sent.push(typeof m === 'string' ? m : new TextDecoder().decode(m)), close: () => {}, welcomed: () => {} };
    const ref = host.attach(sink);
    const j = await host.join(ref, code, 'participant', true);
    if (!j.ok) throw new Error(j.message);
    await host.drain();
    const welcome = sent.map((m) => JSON.parse(m) as { t: string; token?: string }).find((m) => m.t === 'welcome');
    tokens.push(String(welcome?.token));
    for (let k = 1; k <= 3; k++) {
      host.input(ref, { t: 'input', seq: k, valence: 0.5, arousal: i / 10, confidence: 1, source: 'tap' }, true);
      scheduler.advance(5_000);
      await host.drain();
    }
  }
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const c = captureIO({ cwd: dir, env });
  const exit = await main(args, c.io);
  return { code: exit, out: c.out(), err: c.err() };
}

describe('attune privacy report', () => {
  it('[V4] --help says what it prints and how to reach the data', async () => {
    const r = await run(['privacy', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('attune privacy report CODE');
    expect(r.out).toMatch(/--db PATH\|URL/);
    expect(r.out).toMatch(/--token TOKEN/);
    expect((await run(['--help'])).out).toMatch(/privacy\s+what is stored/);
  });

  it('[V4][S17] from the database: counts, sealed inputs, budget and retention date; as text and JSON', async () => {
    await server.host.drain();
    const text = await run(['privacy', 'report', code, '--db', dbPath, '--privacy-budget', '0.4']);
    expect(text.err).toBe('');
    expect(text.code).toBe(0);
    expect(text.out).toContain(`Privacy report for ${code} "reported" (open`);
    expect(text.out).toMatch(/participants\s+5/);
    expect(text.out).toMatch(/inputs\s+15 \(15 sealed/);
    expect(text.out).toMatch(/remaining\s+ρ 0\.4/);
    expect(text.out).toContain('kept 10 day(s) after the space closes');
    const json = await run(['privacy', 'report', code.toLowerCase(), '--db', dbPath, '--privacy-budget', '0.4', '--json']);
    const r = JSON.parse(json.out) as PrivacyReport;
    expect(r.stored).toMatchObject({ participants: 5, inputs: 15, sealedInputs: 15, erased: 0, consents: 5 });
    expect(r.budget).toMatchObject({ rho: 0.4, spentRho: 0, releases: [] });
    expect(r.retention).toEqual({ days: 10, retainUntil: null, purgedAt: null });
  });

  it('[V4] from a running server with the steward token, after a release, an erasure and the close', async () => {
    const rel = await fetch(`${server.url}/api/spaces/${code}/privacy/releases`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ what: 'series', bucketSeconds: 60, rho: 0.1 }) });
    expect(rel.status).toBe(201);
    const erased = await fetch(`${server.url}/api/me/erase`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` }, body: '{}' });
    expect(erased.status).toBe(200);
    expect((await server.host.closeSpace(code, token)).ok).toBe(true);
    const closedAt = scheduler.now();
    await server.host.drain();

    expect((await run(['privacy', 'report', code, '--url', server.url])).err).toMatch(/UNAUTHORIZED/);
    const r = await run(['privacy', 'report', code, '--url', server.url, '--json'], { ATTUNE_STEWARD_TOKEN: token });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as PrivacyReport;
    expect(report.stored).toMatchObject({ participants: 4, inputs: 12, sealedInputs: 12, erased: 1 });
    expect(report.budget).toMatchObject({ rho: 0.4, spentRho: 0.1, remainingRho: 0.3, releases: [{ n: 1, what: 'series', rho: 0.1 }] });
    expect(report.retention).toEqual({ days: 10, retainUntil: closedAt + 10 * DAY_MS, purgedAt: null });
    const text = await run(['privacy', 'report', code, '--url', server.url, '--token', token]);
    expect(text.out).toContain(`deleted on    ${new Date(closedAt + 10 * DAY_MS).toISOString().replace('.000Z', 'Z')}`);

    // After retention: nothing raw stays, and the report says when it went.
    scheduler.advance(10 * DAY_MS);
    const run1 = await server.retention.run();
    expect(run1.purged).toHaveLength(1);
    const after = JSON.parse((await run(['privacy', 'report', code, '--db', dbPath, '--json'])).out) as PrivacyReport;
    expect(after.stored).toEqual({ participants: 0, inputs: 0, sealedInputs: 0, erased: 0, consents: 0, stories: 0, events: 0 });
    expect(after.retention.purgedAt).toBe(run1.at);
    expect(after.budget.releases).toHaveLength(1);
  });

  it('[V4] coded failures: unknown space, missing database, bad arguments', async () => {
    expect(await run(['privacy', 'report', 'ZZZZ2222', '--db', dbPath])).toMatchObject({ code: 1, err: expect.stringContaining('NOT_FOUND') });
    expect(await run(['privacy', 'report', code, '--db', join(dir, 'nope.db')])).toMatchObject({ code: 2, err: expect.stringContaining('no database') });
    expect((await run(['privacy', 'report'])).code).toBe(2);
    expect((await run(['privacy', 'forget', code])).code).toBe(2);
    expect((await run(['privacy', 'report', code, '--db', dbPath, '--retention', 'soon'])).code).toBe(2);
  });
});
