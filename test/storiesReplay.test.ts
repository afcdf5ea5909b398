/**
 * Stories and replay (SPEC ST13, M6–M8): a session with stories — settings, submissions in pre-
 * and post-moderation, decisions, display controls, a withdrawal, a restart — on the real server
 * (createServer, SQLite file, manual scheduler). `attune replay` must still reproduce every pulse
 * with no unexpected event, the machine's story state must replay exactly, and the database must
 * hold no trace of a withdrawn story's text, nor any story text outside the stories table.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { type RecordedEvent, type RecordedInput, replay } from '../src/core/space/record.ts';
import { createSpaceState, step } from '../src/core/space/machine.ts';
import { eventOf } from '../src/core/space/record.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import type { ConnSink, SpaceHost } from '../src/space/spaceHost.ts';
import { captureIO } from './support/captureIO.ts';

let dir: string;
let dbPath: string;
let code: string;
let spaceId: string;
let liveShown: string[] = [];
let liveStatuses: [string, string][] = [];
const SECRET = 'Withdrawn-secret-wording-7f3a';
const KEPT = 'Kept story about the lantern';

function attach(host: SpaceHost, frames: string[]): number {
  const sink: ConnSink = { send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} };
  return host.attach(sink);
}

async function call(server: RunningServer, method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}/api/spaces/${code}/stories${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-stories-replay-'));
  dbPath = join(dir, 'attune.db');
  const scheduler = new ManualScheduler(Date.now());
  const server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 3 }, { scheduler });
  const host = server.host;
  const made = await host.createSpace({ name: 'stories replayed', ttlSeconds: 3600 });
  if (!made.ok) throw new Error(made.message);
  code = made.value.space.code;
  spaceId = made.value.space.id;
  const steward = made.value.stewardToken;
  const settle = async () => {
    await host.drain();
    await new Promise((r) => setImmediate(r));
  };
  await host.join(attach(host, []), code, 'display', false);
  const tokens: string[] = [];
  for (let i = 0; i < 5; i++) {
    const frames: string[] = [];
    const ref = attach(host, frames);
    await host.join(ref, code, 'participant', true);
    await settle();
    const token = (frames.map((f) => JSON.parse(f)).find((m) => m.t === 'welcome') as { token: string }).token;
    tokens.push(token);
    // Each author's story consent is recorded on the server (ST2) and survives the restart below.
    const agreed = await host.consentAgain(token, host.storyConsentVersion, 'stories');
    if (!agreed.ok) throw new Error(agreed.message);
    host.input(ref, { t: 'input', seq: 1, valence: 0.1 * i, arousal: -0.1 * i, confidence: 1, source: 'tap' }, true);
  }
  const tick = async (ms: number) => {
    for (let t = 0; t < ms; t += 50) scheduler.advance(50);
    await settle();
  };
  await tick(1000);
  expect((await call(server, 'PUT', '/settings', steward, { enabled: true })).status).toBe(200);
  const ids: string[] = [];
  for (const [i, text] of [KEPT, SECRET, 'Third: the river and the boats', 'Fourth: the river again, boats'].entries()) {
    const r = await call(server, 'POST', '', tokens[i] as string, { text, name: i === 0 ? 'Lamp' : null, consent: true });
    expect(r.status).toBe(201);
    ids.push(((await r.json()) as { id: string }).id);
    await tick(500);
  }
  for (const id of ids) expect((await call(server, 'POST', `/${id}/decision`, steward, { decision: 'approve' })).status).toBe(200);
  await tick(25_000);
  expect((await call(server, 'POST', `/${ids[3]}/decision`, steward, { decision: 'decline', reason: 'off-topic' })).status).toBe(200);
  expect((await call(server, 'POST', '/display', steward, { control: 'pin', story: ids[1] })).status).toBe(200);
  await tick(2000);
  expect((await call(server, 'DELETE', `/${ids[1]}`, tokens[1] as string)).status).toBe(200);
  await tick(1000);
  expect((await call(server, 'PUT', '/settings', steward, { enabled: true, moderation: 'post' })).status).toBe(200);
  expect((await call(server, 'POST', '', tokens[4] as string, { text: 'Posted at once, then hidden', consent: true })).status).toBe(201);
  await tick(21_000);
  await settle();
  await server.close();
  // Restart: stories and settings come back from storage; one more story, a skip, ticks.
  const later = new ManualScheduler(scheduler.now() + 5000);
  const again = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 3 }, { scheduler: later });
  await again.host.join(attach(again.host, []), code, 'display', false);
  const after = await call(again, 'POST', '', tokens[2] as string, { text: 'After the restart', consent: true });
  expect(after.status).toBe(201);
  expect((await call(again, 'POST', '/display', steward, { control: 'skip' })).status).toBe(200);
  for (let t = 0; t < 30_000; t += 50) later.advance(50);
  await again.host.drain();
  const st = again.host.stateOf(spaceId);
  liveShown = [...(st?.stories.shown ?? [])];
  liveStatuses = [...(st?.stories.byId.values() ?? [])].map((s) => [s.id, s.status] as [string, string]).sort();
  await again.close();
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('stories and replay', () => {
  it('[ST13][M8] attune replay reproduces every pulse of a session with stories, decisions, controls, a withdrawal and a restart', async () => {
    const cap = captureIO();
    const rc = await main(['replay', '--db', dbPath, '--space', code, '--json'], cap.io);
    const report = JSON.parse(cap.out()) as { pulses: number; identical: number; differ: number; unexpected: number; gaps: number[] };
    expect(report).toMatchObject({ differ: 0, unexpected: 0, gaps: [] });
    expect(report.pulses).toBeGreaterThan(100);
    expect(rc).toBe(0);
  });

  it('[ST13] the replayed machine holds the same stories, states and rotation order as the live one', () => {
    const db = new DatabaseSync(dbPath);
    const events = db.prepare('SELECT n, at, kind, participant_id AS participantId, body FROM events WHERE space_id = ? ORDER BY n').all(spaceId) as unknown as RecordedEvent[];
    const inputs = (db.prepare('SELECT n, participant_id, seq, v, a, c, src, at, exposed FROM inputs WHERE space_id = ? AND n IS NOT NULL ORDER BY n').all(spaceId) as Record<string, number | string>[]).map(
      (r): RecordedInput => ({ n: Number(r.n), participantId: String(r.participant_id), seq: Number(r.seq), affect: { valence: Number(r.v), arousal: Number(r.a), confidence: Number(r.c), source: r.src as 'tap', at: Number(r.at) }, exposed: Number(r.exposed) === 1 }),
    );
    const space = db.prepare('SELECT * FROM spaces WHERE id = ?').get(spaceId) as Record<string, string | number>;
    db.close();
    const settings = { id: spaceId, code, name: String(space.name), capacity: Number(space.capacity), ttlMs: Number(space.ttl_ms) };
    const report = replay(settings, { release: { minCohort: 3 } }, events, inputs, (b) => b);
    expect(report.unexpected).toBe(0);
    // Fold again by hand to read the final story state.
    const state = createSpaceState(settings, { release: { minCohort: 3 } });
    const all = [...events.map((e) => ({ n: e.n, ev: eventOf(e) })), ...inputs.map((i) => ({ n: i.n, ev: { kind: 'input' as const, at: i.affect.at, conn: 0, participantId: i.participantId, seq: i.seq, affect: i.affect, exposed: i.exposed } }))].sort((a, b) => a.n - b.n);
    for (const { ev } of all) step(state, ev);
    expect([...state.stories.shown]).toEqual(liveShown);
    expect([...state.stories.byId.values()].map((s) => [s.id, s.status] as [string, string]).sort()).toEqual(liveStatuses);
    expect(liveShown.length).toBeGreaterThanOrEqual(3);
  });

  it('[ST11][ST13] no trace of a withdrawn story in the database files; story text only in the stories table', () => {
    const db = new DatabaseSync(dbPath);
    const bodies = (db.prepare("SELECT body FROM events WHERE kind LIKE 'story%' OR kind = 'act-logged'").all() as { body: string }[]).map((r) => r.body).join('\n');
    expect(bodies).not.toContain('lantern');
    expect(bodies).not.toContain('Lamp');
    expect(db.prepare('SELECT count(*) AS n FROM stories WHERE text LIKE ?').get('%Withdrawn-secret%')).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM stories WHERE text = ?').get(KEPT)).toEqual({ n: 1 });
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    db.close();
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).includes(Buffer.from(SECRET)), f).toBe(false);
  });
});
