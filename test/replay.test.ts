/**
 * Record and replay (SPEC M6–M8): a whole session — 220 people joining, tapping, a surge, a
 * split into two camps, people leaving, dropping and resuming, points expiring, the server
 * restarting — runs on the
 * real server (createServer, SQLite file) under a manual scheduler; `attune replay` then folds
 * the recorded events through the machine and must reproduce every published pulse, byte for
 * byte. Tampering with one stored input must make it fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { createRng } from '../src/core/collective/prng.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { type ConnSink, type SpaceHost, subjects } from '../src/space/spaceHost.ts';
import { captureIO } from './support/captureIO.ts';

interface Person {
  ref: number;
  frames: string[];
  token: string | null;
  seq: number;
  gone: boolean;
}

let dir: string;
let dbPath: string;
let code: string;
let pulses = 0;

function attach(host: SpaceHost, frames: string[]): number {
  const sink: ConnSink = { send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} };
  return host.attach(sink);
}

const clamp = (x: number) => Math.max(-1, Math.min(1, x));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-replay-'));
  dbPath = join(dir, 'attune.db');
  const scheduler = new ManualScheduler();
  const server: RunningServer = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 3 }, { scheduler });
  const host = server.host;
  const created = await host.createSpace({ name: 'replayed', capacity: 500, ttlSeconds: 40 });
  if (!created.ok) throw new Error(created.message);
  code = created.value.space.code;
  const display: string[] = [];
  await host.join(attach(host, display), code, 'display', false);
  // What displays get travels on the bus (the WebSocket edge fans it out): count what arrives.
  host.bus.subscribe(subjects.displayPulse(created.value.space.id), () => {
    pulses++;
  });
  const rng = createRng('replay-session');
  const people: Person[] = [];
  const settle = async () => {
    await host.drain();
    await new Promise((r) => setImmediate(r));
  };
  for (let i = 0; i < 220; i++) {
    const frames: string[] = [];
    const ref = attach(host, frames);
    await host.join(ref, code, 'participant', true);
    people.push({ ref, frames, token: null, seq: 0, gone: false });
    if (i % 20 === 19) {
      scheduler.advance(50);
      await settle();
    }
  }
  await settle();
  for (const p of people) {
    const w = p.frames.map((f) => JSON.parse(f) as { t: string; token?: string }).find((m) => m.t === 'welcome');
    p.token = w?.token ?? null;
  }
  // 0–60 s calm; 60–120 s a surge into unpleasant-energised spreads; 120–180 s a split; 180–240 s
  // quiet (points expire after 40 s); along the way 20 leave, 30 drop and resume.
  const target = (i: number, t: number): [number, number] => {
    if (t < 60_000) return [0.3, -0.2];
    if (t < 120_000) return (i % 100) / 100 < (t - 60_000) / 60_000 ? [-0.6, 0.7] : [0.3, -0.2];
    return i % 2 === 0 ? [0.7, 0.6] : [-0.7, -0.6];
  };
  const start = scheduler.now();
  for (let step = 0; step < 3600; step++) {
    const t = scheduler.now() - start;
    for (const [i, p] of people.entries()) {
      if (p.gone || t >= 180_000 || rng.next() > 0.004) continue;
      const [v, a] = target(i, t);
      p.seq++;
      host.input(p.ref, { t: 'input', seq: p.seq, valence: clamp(v + 0.15 * rng.normal()), arousal: clamp(a + 0.15 * rng.normal()), confidence: 1, source: 'tap' }, rng.next() < 0.8);
    }
    if (step === 1500) for (const p of people.slice(0, 20)) host.leave(p.ref);
    if (step === 1600) {
      for (const p of people.slice(20, 50)) host.detach(p.ref);
    }
    if (step === 2000) {
      for (const p of people.slice(20, 50)) {
        p.frames = [];
        p.ref = attach(host, p.frames);
        await host.resume(p.ref, p.token as string);
      }
    }
    if (step === 1700) for (const p of people.slice(0, 20)) p.gone = true;
    scheduler.advance(50);
    if (step % 25 === 0) await settle();
  }
  await settle();
  await server.close();
  // A restart: the same database, time moved on; 40 people resume and tap for 30 s.
  const later = new ManualScheduler(scheduler.now() + 5_000);
  const again = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 3 }, { scheduler: later });
  again.host.bus.subscribe(subjects.displayPulse(created.value.space.id), () => {
    pulses++;
  });
  await again.host.join(attach(again.host, []), code, 'display', false);
  const back = people.slice(60, 100);
  for (const p of back) {
    p.frames = [];
    p.ref = attach(again.host, p.frames);
    await again.host.resume(p.ref, p.token as string);
  }
  for (let step = 0; step < 600; step++) {
    for (const p of back) {
      if (rng.next() > 0.01) continue;
      p.seq++;
      again.host.input(p.ref, { t: 'input', seq: p.seq, valence: clamp(0.5 + 0.1 * rng.normal()), arousal: clamp(0.1 * rng.normal()), confidence: 1, source: 'tap' }, true);
    }
    later.advance(50);
    if (step % 25 === 0) {
      await again.host.drain();
      await new Promise((r) => setImmediate(r));
    }
  }
  await again.host.drain();
  await again.close();
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('record and replay', () => {
  it('[M7][M8] attune replay reproduces every pulse of a recorded session with 220 people and a restart', async () => {
    expect(pulses).toBeGreaterThan(4000);
    const cap = captureIO();
    const rc = await main(['replay', '--db', dbPath, '--space', code, '--json'], cap.io);
    const report = JSON.parse(cap.out()) as { pulses: number; identical: number; differ: number; unexpected: number; gaps: number[] };
    expect(report.differ).toBe(0);
    expect(report.unexpected).toBe(0);
    expect(report.gaps).toEqual([]);
    expect(report.pulses).toBeGreaterThanOrEqual(pulses);
    expect(report.identical).toBe(report.pulses);
    expect(rc).toBe(0);
    const plain = captureIO();
    expect(await main(['replay', '--db', dbPath, '--space', code], plain.io)).toBe(0);
    expect(plain.out()).toBe(`replayed ${report.pulses} pulses: ${report.pulses} identical, 0 differ\n`);
  });

  it('[M8] a changed stored input makes the replay differ and exit 1', async () => {
    const db = new DatabaseSync(dbPath);
    // Inputs are sealed (S16): a changed byte fails AES-GCM's tag, so the input no longer opens.
    db.exec("UPDATE inputs SET sealed = (CASE substr(sealed, 1, 1) WHEN 'A' THEN 'B' ELSE 'A' END) || substr(sealed, 2) WHERE rowid = (SELECT rowid FROM inputs ORDER BY n LIMIT 1 OFFSET 500)");
    db.close();
    const cap = captureIO();
    expect(await main(['replay', '--db', dbPath, '--space', code], cap.io)).toBe(1);
    expect(cap.out()).toMatch(/replayed \d+ pulses: \d+ identical, [1-9]\d* differ/);
  });

  it('[M8] says what is wrong with bad arguments', async () => {
    const cap = captureIO();
    expect(await main(['replay', '--db', dbPath, '--space', 'NOPE2345'], cap.io)).toBe(2);
    expect(cap.err()).toMatch(/no space with the code/);
    const none = captureIO();
    expect(await main(['replay', '--db', join(dir, 'missing.db'), '--space', code], none.io)).toBe(2);
    expect(none.err()).toMatch(/no database/);
  });
});
