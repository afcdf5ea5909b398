/**
 * `attune replay`, `attune policy test` and their errors on a session a server recorded in
 * PostgreSQL (SPEC M8, S11): the same reader as for SQLite, so a single-node PostgreSQL
 * deployment can be replayed and dry-run too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { createRng } from '../src/core/collective/prng.ts';
import { createServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { type ConnSink, type SpaceHost, subjects } from '../src/space/spaceHost.ts';
import { captureIO } from './support/captureIO.ts';
import { TEST_PG, testSchemas } from './support/postgres.ts';

const schemas = testSchemas();
let url: string;
let code: string;
let dir: string;
let pulses = 0;

function attach(host: SpaceHost, frames: string[]): number {
  const sink: ConnSink = { send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} };
  return host.attach(sink);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-replay-pg-'));
  const schema = await schemas.fresh('replay');
  url = `${TEST_PG}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const scheduler = new ManualScheduler();
  const server = await createServer({ port: 0, dbPath: url, dataDir: dir, webRoot: null, minCohort: 3 }, { scheduler });
  const host = server.host;
  const created = await host.createSpace({ name: 'replayed on postgres', capacity: 200, ttlSeconds: 30 });
  if (!created.ok) throw new Error(created.message);
  code = created.value.space.code;
  host.bus.subscribe(subjects.displayPulse(created.value.space.id), () => {
    pulses++;
  });
  await host.join(attach(host, []), code, 'display', false);
  const rng = createRng('replay-postgres');
  const people: { ref: number; seq: number }[] = [];
  for (let i = 0; i < 40; i++) {
    const ref = attach(host, []);
    await host.join(ref, code, 'participant', true);
    people.push({ ref, seq: 0 });
  }
  await host.drain();
  for (let step = 0; step < 1200; step++) {
    for (const [i, p] of people.entries()) {
      if (rng.next() > 0.01) continue;
      p.seq++;
      const camp = step > 600 && i % 2 === 0 ? -0.6 : 0.5;
      host.input(p.ref, { t: 'input', seq: p.seq, valence: camp + 0.1 * rng.normal(), arousal: 0.2 * rng.normal(), confidence: 1, source: 'tap' }, true);
    }
    if (step === 900) for (const p of people.slice(0, 5)) host.leave(p.ref);
    scheduler.advance(50);
    if (step % 25 === 0) {
      await host.drain();
      await new Promise((r) => setImmediate(r));
    }
  }
  await host.drain();
  await server.close();
}, 120_000);

afterAll(async () => {
  await schemas.dropAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('[M8][S11] replaying a session recorded in PostgreSQL', () => {
  it('attune replay --db postgres://… reproduces every published pulse', async () => {
    expect(pulses).toBeGreaterThan(1000);
    const cap = captureIO();
    expect(await main(['replay', '--db', url, '--space', code], cap.io)).toBe(0);
    const m = /^replayed (\d+) pulses: (\d+) identical, 0 differ\n/.exec(cap.out());
    expect(m, cap.out() + cap.err()).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(pulses);
    expect(m?.[2]).toBe(m?.[1]);
  });

  it('attune policy test --db postgres://… dry-runs a policy over it', async () => {
    const file = join(dir, 'policy.json');
    writeFileSync(file, '{"name": "count", "when": "pulse.count > 10", "then": {"feedback": {"mode": "calm", "minutes": 1}}, "cooldownSeconds": 30}');
    const cap = captureIO();
    expect(await main(['policy', 'test', file, '--db', url, '--space', code], cap.io)).toBe(0);
    expect(cap.out()).toMatch(/released pulses evaluated/);
    expect(cap.out()).toMatch(/it would have fired \d+×/);
  });

  it('says which space or server is missing, without the password', async () => {
    const none = captureIO();
    expect(await main(['replay', '--db', url, '--space', 'NOPE2345'], none.io)).toBe(2);
    expect(none.err()).toMatch(/no space with the code NOPE2345/);
    const down = captureIO();
    expect(await main(['replay', '--db', 'postgres://someone:secret@127.0.0.1:1/test', '--space', code], down.io)).toBe(2);
    expect(down.err()).toMatch(/could not open the PostgreSQL database postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/test/);
    expect(down.err()).not.toMatch(/secret/);
  });
});
