/**
 * Replay of a grouped session (SPEC M6–M8, R6, S10) on the real server with its SQLite file:
 * people join with their groups, change them, tap while the groups converge; the server
 * restarts (groups of the space and of each participant come back from the file) and the
 * session goes on; `attune replay` must then reproduce every published pulse — groups, bridging
 * and all — byte for byte.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { createRng } from '../src/core/collective/prng.ts';
import type { PulseMessage } from '../src/core/protocol.ts';
import { createServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { type ConnSink, type SpaceHost, subjects } from '../src/space/spaceHost.ts';
import { captureIO } from './support/captureIO.ts';

let dir: string;
let dbPath: string;
let code: string;
let published = 0;
const shown = { before: 0, after: 0 };

interface Person {
  ref: number;
  frames: string[];
  token: string;
  seq: number;
  group: 'east' | 'west' | null;
}

const attach = (host: SpaceHost, frames: string[]) => host.attach({ send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} } satisfies ConnSink);
const clamp = (x: number) => Math.max(-1, Math.min(1, x));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-groups-replay-'));
  dbPath = join(dir, 'attune.db');
  const rng = createRng('groups-replay');
  const scheduler = new ManualScheduler();
  const server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 3 }, { scheduler });
  const created = await server.host.createSpace({ name: 'City', groups: ['east', 'west'], ttlSeconds: 60 });
  if (!created.ok) throw new Error(created.message);
  code = created.value.space.code;
  const id = created.value.space.id;
  const count = (when: 'before' | 'after') => (bytes: Uint8Array) => {
    published++;
    const p = JSON.parse(new TextDecoder().decode(bytes)) as PulseMessage;
    if (p.groups?.east?.count && p.groups.west?.count) shown[when]++;
  };
  server.host.bus.subscribe(subjects.displayPulse(id), count('before'));
  await server.host.join(attach(server.host, []), code, 'display', false);
  const people: Person[] = [];
  for (let i = 0; i < 30; i++) {
    const frames: string[] = [];
    const ref = attach(server.host, frames);
    const group = i % 3 === 0 ? 'east' : i % 3 === 1 ? 'west' : null;
    await server.host.join(ref, code, 'participant', true, group);
    people.push({ ref, frames, token: '', seq: 0, group });
  }
  await server.host.drain();
  for (const p of people) p.token = (JSON.parse(p.frames[0] ?? '{}') as { token: string }).token;
  const where = (p: Person, t: number): [number, number] => {
    const k = Math.min(1, t / 60_000);
    const pole: [number, number] = p.group === 'east' ? [0.7, -0.5] : p.group === 'west' ? [-0.7, 0.6] : [0, 0];
    return [pole[0] * (1 - k) + 0.2 * k, pole[1] * (1 - k) + 0.1 * k];
  };
  const run = async (host: SpaceHost, sch: ManualScheduler, steps: number, t0: number, who: Person[]) => {
    for (let step = 0; step < steps; step++) {
      for (const p of who) {
        if (rng.next() > 0.02) continue;
        const [v, a] = where(p, t0 + step * 50);
        p.seq++;
        host.input(p.ref, { t: 'input', seq: p.seq, valence: clamp(v + 0.05 * rng.normal()), arousal: clamp(a + 0.05 * rng.normal()), confidence: 1, source: 'tap' }, true);
      }
      if (step === 300) {
        // Some unaffiliated people choose a group; two people switch.
        for (const p of who.filter((x) => x.group === null).slice(0, 5)) {
          p.group = 'east';
          host.setGroup(p.ref, 'east');
        }
        for (const p of who.filter((x) => x.group === 'west').slice(0, 2)) {
          p.group = null;
          host.setGroup(p.ref, null);
        }
      }
      sch.advance(50);
      if (step % 25 === 0) {
        await host.drain();
        await new Promise((r) => setImmediate(r));
      }
    }
    await host.drain();
  };
  await run(server.host, scheduler, 800, 0, people);
  await server.close();
  // A restart: the same file; everyone resumes (their group comes back from storage) and taps on.
  const later = new ManualScheduler(scheduler.now() + 2_000);
  const again = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 3 }, { scheduler: later });
  again.host.bus.subscribe(subjects.displayPulse(id), count('after'));
  await again.host.join(attach(again.host, []), code, 'display', false);
  for (const p of people) {
    p.frames = [];
    p.ref = attach(again.host, p.frames);
    await again.host.resume(p.ref, p.token);
  }
  await again.host.drain();
  // The welcome of a resumed participant carries their stored group.
  for (const p of people) expect((JSON.parse(p.frames[0] ?? '{}') as { group?: string | null }).group ?? null).toBe(p.group);
  await run(again.host, later, 400, 40_000, people);
  await again.close();
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('replay of a grouped session', () => {
  it('[M8][R6][S10] attune replay reproduces every pulse with groups and bridging, across a restart', async () => {
    expect(shown.before).toBeGreaterThan(100);
    expect(shown.after).toBeGreaterThan(50);
    const cap = captureIO();
    const rc = await main(['replay', '--db', dbPath, '--space', code, '--json'], cap.io);
    const report = JSON.parse(cap.out()) as { pulses: number; identical: number; differ: number; unexpected: number; gaps: number[] };
    expect(report).toMatchObject({ differ: 0, unexpected: 0, gaps: [] });
    expect(report.pulses).toBeGreaterThanOrEqual(published);
    expect(report.identical).toBe(report.pulses);
    expect(rc).toBe(0);
  });
});
