/**
 * `attune council …` and `attune policy …` against a real server on a SQLite file, then the
 * recorded session read back offline: `attune policy test` (dry run), `attune replay`
 * (decisions re-derived), `attune audit` (the acts verify on the public log).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { captureIO } from './support/captureIO.ts';
import { policyJson } from '../src/core/policy/policyJson.ts';

let dir: string;
let server: RunningServer;
const scheduler = new ManualScheduler(Date.parse('2026-12-01T12:00:00Z'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-council-cli-'));
  server = await createServer({ port: 0, dbPath: join(dir, 'attune.db'), webRoot: null, minCohort: 3 }, { scheduler });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIO({ cwd: dir });
  const code = await main(args, c.io);
  return { code, out: c.out(), err: c.err() };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

describe('attune council and policy', () => {
  it('[Q1][Q2][Q11][Q11a] a council of two adopts a policy from the CLI; dry run, replay and audit read it back', async () => {
    const url = server.url;
    const made = await run(['space', 'create', 'Hall', '--url', url, '--json']);
    expect(made.code).toBe(0);
    const space = JSON.parse(made.out) as { code: string; stewardToken: string };
    const steward = ['--url', url, '--token', space.stewardToken];
    expect((await run(['council', 'create', space.code, '--quorum', 'majority', '--prompt', 'What would help you right now?', ...steward])).code).toBe(0);
    const ada = JSON.parse((await run(['council', 'invite', space.code, 'Ada', ...steward, '--json'])).out) as { memberToken: string };
    const bo = JSON.parse((await run(['council', 'invite', space.code, 'Bo', ...steward, '--json'])).out) as { memberToken: string };
    writeFileSync(join(dir, 'calm.json'), JSON.stringify(policyJson({ name: 'calm when racing', when: 'pulse.mean.arousal > 0.5', action: { feedback: { mode: 'calm', minutes: 1 } }, cooldownSeconds: 30, reason: 'the room is racing' })));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(policyJson({ name: 'bad', when: 'pulse.mean.arousel > 0.5', action: { feedback: { mode: 'calm', minutes: 1 } } })));
    const bad = await run(['policy', 'check', 'bad.json']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('POLICY_UNKNOWN_FIELD');
    expect(bad.err).toContain('^');
    expect((await run(['policy', 'check', 'calm.json'])).code).toBe(0);
    const proposed = await run(['policy', 'propose', 'calm.json', '--space', space.code, '--url', url, '--token', ada.memberToken, '--json']);
    expect(proposed.code).toBe(0);
    const id = (JSON.parse(proposed.out) as { proposal: string }).proposal;
    expect((await run(['policy', 'vote', id, 'yes', '--space', space.code, '--url', url, '--token', ada.memberToken])).out).toContain('open');
    expect((await run(['policy', 'vote', id, 'yes', '--space', space.code, '--url', url, '--token', bo.memberToken])).out).toContain('adopted');
    expect((await run(['policy', 'list', '--space', space.code, '--url', url])).out).toContain('[active] "calm when racing"');
    // A second policy tells the council when the room races (Q16).
    writeFileSync(join(dir, 'tell.json'), JSON.stringify(policyJson({ name: 'tell the council', when: 'pulse.mean.arousal > 0.5', action: { notify: { audience: 'council', message: 'racing again' } }, cooldownSeconds: 30 })));
    const told = JSON.parse((await run(['policy', 'propose', 'tell.json', '--space', space.code, '--url', url, '--token', bo.memberToken, '--json'])).out) as { proposal: string };
    await run(['policy', 'vote', told.proposal, 'yes', '--space', space.code, '--url', url, '--token', ada.memberToken]);
    await run(['policy', 'vote', told.proposal, 'yes', '--space', space.code, '--url', url, '--token', bo.memberToken]);

    // A room that races, calms, races again (through the host, on the manual clock).
    const host = server.host;
    const refs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const ref = host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
      await host.join(ref, space.code, 'participant', true);
      refs.push(ref);
    }
    for (let k = 0; k < 240; k++) {
      if (k % 40 === 0) for (const [i, ref] of refs.entries()) host.input(ref, { t: 'input', seq: 1 + k / 40, valence: 0.1 * i, arousal: k % 80 === 0 ? 0.9 : 0.1, confidence: 1, source: 'tap' }, false);
      scheduler.advance(500);
      await settle();
    }
    await host.drain();
    const shown = await run(['council', 'show', space.code, '--url', url]);
    expect(shown.out).toMatch(/fired [1-9]/);
    const notes = await run(['council', 'notifications', space.code, ...steward]);
    expect(notes.code).toBe(0);
    expect(notes.out).toMatch(/^[1-9]\d* notification\(s\) for the steward/);
    expect(notes.out).toContain('#1 ');
    expect(notes.out).toContain('to the council: racing again — policy "tell the council" v1, log entry');
    const forAda = await run(['council', 'notifications', space.code, '--url', url, '--token', ada.memberToken, '--after', '1', '--json']);
    expect(JSON.parse(forAda.out)).toMatchObject({ audience: 'council' });
    expect((JSON.parse(forAda.out) as { notifications: { n: number }[] }).notifications.every((x) => x.n > 1)).toBe(true);
    expect((await run(['council', 'notifications', space.code, '--url', url])).code).toBe(1);

    const dry = await run(['policy', 'test', 'calm.json', '--db', join(dir, 'attune.db'), '--space', space.code]);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/it would have fired [1-9]\d*×/);
    expect(dry.out).toContain('pulse.mean.arousal');
    expect(dry.out).toContain('▲');

    const replayed = await run(['replay', '--db', join(dir, 'attune.db'), '--space', space.code]);
    expect(replayed.err + replayed.out).toMatch(/re-derived [1-9]\d* decisions \([1-9]\d* recorded\): [1-9]\d* identical, 0 differ/);
    expect(replayed.code).toBe(0);

    const key = server.log?.verifierKeys[0] ?? '';
    const audited = await run(['audit', url, '--key', key, '--state', join(dir, 'audit-state.json')]);
    expect(audited.code).toBe(0);
  });

  it('has --help on council and policy', async () => {
    for (const c of ['council', 'policy']) {
      const r = await run([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: attune /);
    }
  });
});
