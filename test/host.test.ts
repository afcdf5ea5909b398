/**
 * The space host (SPEC §M) on a manual scheduler: effects in order, the public log before any
 * governance effect, reads that never publish, joins through the group commit, the bus chosen
 * by configuration (NATS for real), and regressions from the hostile tests over real sockets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../src/bus/local/localBus.ts';
import type { GovernanceAct, GovernanceSink } from '../src/core/governance.ts';
import { createServer, MemoryGovernance, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler, RealScheduler } from '../src/space/scheduler.ts';
import { type ConnSink, SpaceHost, subjects } from '../src/space/spaceHost.ts';
import { participantTokenKey } from '../src/space/tokens.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';
import type { Storage } from '../src/storage/port.ts';
import { connect, isType, type TestClient } from './support/wsClient.ts';

const trail: string[] = [];

/** Storage that notes every write call in the shared trail. */
function tracedStorage(): MemoryStorage {
  const s = new MemoryStorage();
  for (const m of ['createParticipant', 'appendInputs', 'appendEvents', 'clearLatest', 'closeSpace', 'updateStewardTokenHash'] as const) {
    const original = (s[m] as (...a: unknown[]) => Promise<void>).bind(s);
    (s as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
      // Tick records are written lazily, before the next write (M6): leave them out of the trail.
      const kinds = m === 'appendEvents' ? (a[0] as { kind: string }[]).map((r) => r.kind).filter((k) => k !== 'tick') : [];
      if (m !== 'appendEvents') trail.push(m);
      else for (const k of kinds) trail.push(`event:${k}`);
      return original(...a);
    };
  }
  return s;
}

class ScriptedLog implements GovernanceSink {
  fail = false;
  readonly acts: GovernanceAct[] = [];
  async record(act: GovernanceAct): Promise<void> {
    trail.push(`log:${act.type}`);
    if (this.fail) throw new Error('log store unavailable');
    this.acts.push(act);
  }
}

function sink(frames: string[]): ConnSink {
  return { send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: (code) => frames.push(`close:${code}`), welcomed: () => {} };
}

async function hostWith(storage: Storage, governance: GovernanceSink, scheduler = new ManualScheduler()) {
  const host = new SpaceHost({ storage, bus: new LocalBus(), governance, scheduler, machine: { release: { minCohort: 1 }, collective: false }, report: () => {} });
  await host.start();
  return { host, scheduler };
}

afterEach(() => {
  trail.length = 0;
});

describe('space host', () => {
  it('[M5][G1] a governance act is logged before it takes effect; a failing log changes nothing', async () => {
    const log = new ScriptedLog();
    const storage = tracedStorage();
    const { host } = await hostWith(storage, log);
    const made = await host.createSpace({ name: 'governed' });
    if (!made.ok) throw new Error(made.message);
    const { code } = made.value.space;
    trail.length = 0;
    log.fail = true;
    const close = await host.closeSpace(code, made.value.stewardToken);
    expect(close).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    const rotate = await host.rotateStewardToken(code, made.value.stewardToken);
    expect(rotate).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    await host.drain();
    // Nothing but the attempts to log: no close, no token change, and the old token still works.
    expect(trail).toEqual(['log:space.closed', 'log:steward.changed']);
    expect((await host.authorise(code, made.value.stewardToken)).ok).toBe(true);
    expect(host.presence(made.value.space.id)).toBeDefined();
    const frames: string[] = [];
    expect((await host.join(host.attach(sink(frames)), code, 'participant', true)).ok).toBe(true);
    await host.drain();
    expect(frames.some((f) => f.includes('"t":"welcome"'))).toBe(true);
    // With the log back: logged first, then stored, then recorded.
    log.fail = false;
    trail.length = 0;
    expect((await host.closeSpace(code, made.value.stewardToken)).ok).toBe(true);
    expect(trail).toEqual(['log:space.closed', 'closeSpace', 'event:act-logged']);
    expect(frames.at(-1)).not.toBe('close:1000');
    await host.stop();
  });

  it('[M5] a space whose creation cannot be logged is never opened', async () => {
    const log = new ScriptedLog();
    log.fail = true;
    const { host } = await hostWith(tracedStorage(), log);
    const made = await host.createSpace({ name: 'unlogged' });
    expect(made).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    const spaces = await host.listSpaces();
    expect(spaces.map((s) => s.status)).toEqual(['closed']);
    await host.stop();
  });

  it('[M2] effects run in step order: a join is stored and recorded before its welcome; an ack waits for its input to be durable', async () => {
    const { host } = await hostWith(tracedStorage(), new MemoryGovernance());
    const made = await host.createSpace({ name: 'ordered' });
    if (!made.ok) throw new Error(made.message);
    trail.length = 0;
    const frames: string[] = [];
    const ref = host.attach(sink(frames));
    await host.join(ref, made.value.space.code, 'participant', true);
    expect(trail).toEqual(['createParticipant', 'event:joined']);
    expect(frames).toEqual([]); // not durable yet: no welcome
    await host.drain();
    expect(JSON.parse(frames[0] as string)).toMatchObject({ t: 'welcome', lastSeq: 0 });
    host.input(ref, { t: 'input', seq: 1, valence: 0.4, arousal: 0.2, confidence: 1, source: 'tap' }, false);
    host.leave(ref);
    expect(trail.slice(2)).toEqual(['appendInputs', 'clearLatest', 'event:left']);
    const before = frames.length;
    await host.drain();
    const after = frames.slice(before);
    expect(JSON.parse(after[0] as string)).toMatchObject({ t: 'ack', seq: 1 });
    expect(after[1]).toBe('close:1000');
    await host.stop();
  });

  it('[H5][M2] reads never step the machine: the pulse read twice is the same bytes, and nothing is published', async () => {
    const { host, scheduler } = await hostWith(new MemoryStorage(), new MemoryGovernance());
    const made = await host.createSpace({ name: 'read only' });
    if (!made.ok) throw new Error(made.message);
    const id = made.value.space.id;
    let published = 0;
    host.bus.subscribe(subjects.participantPulse(id), () => published++);
    host.bus.subscribe(subjects.displayPulse(id), () => published++);
    const a = host.latestPulse(id);
    const b = host.latestPulse(id);
    expect(a).toBe(b);
    expect(host.stateOf(id)?.pulse.lastSeq).toBe(1);
    expect(published).toBe(0);
    scheduler.advance(499);
    expect(host.latestPulse(id)).toBe(a); // no participant beat yet
    await host.stop();
  });

  it('[M2] ticks are drift-free beats: the participant pulse every 500 ms, displays every 50 ms, none lost', async () => {
    const { host, scheduler } = await hostWith(new MemoryStorage(), new MemoryGovernance());
    const made = await host.createSpace({ name: 'beats' });
    if (!made.ok) throw new Error(made.message);
    const id = made.value.space.id;
    const ats = { p: [] as number[], d: [] as number[] };
    host.bus.subscribe(subjects.participantPulse(id), (bytes) => ats.p.push((JSON.parse(new TextDecoder().decode(bytes)) as { at: number }).at));
    host.bus.subscribe(subjects.displayPulse(id), (bytes) => ats.d.push((JSON.parse(new TextDecoder().decode(bytes)) as { at: number }).at));
    await host.join(host.attach(sink([])), made.value.space.code, 'participant', true);
    await host.join(host.attach(sink([])), made.value.space.code, 'display', false);
    const t0 = scheduler.now();
    scheduler.advance(10_000);
    expect(ats.d.length).toBe(200);
    expect(ats.p.length).toBe(20);
    expect(ats.p.every((t, i) => i === 0 || t - (ats.p[i - 1] as number) === 500)).toBe(true);
    expect(ats.d.every((t) => (t - t0) % 50 === 0)).toBe(true);
    await host.stop();
  });

  it('[M2] a real-timer beat that runs late keeps the grid: the beats it missed run at once, each at its own target time', async () => {
    let t = 1_000_000;
    const sch = new RealScheduler(() => t);
    const beats: number[] = [];
    const fired = new Promise<void>((resolve) => {
      const b = sch.every(
        50,
        (at) => {
          beats.push(at - 1_000_000);
          if (beats.length === 1) t += 230; // the first beat itself took 230 ms
          if (beats.length === 5) {
            b.cancel();
            expect(b.skipped).toBe(0);
            resolve();
          }
        },
        t,
      );
    });
    await fired;
    expect(beats).toEqual([0, 50, 100, 150, 200]);
  });

  it('[M2] after a stall longer than MAX_CATCH_UP_MS the oldest missed beats are skipped and counted', async () => {
    let t = 2_000_000;
    const sch = new RealScheduler(() => t);
    const beats: number[] = [];
    let skipped = -1;
    await new Promise<void>((resolve) => {
      const b = sch.every(
        100,
        (at) => {
          beats.push(at - 2_000_000);
          if (beats.length === 1) t += 5_050; // suspended for 5 s
          if (beats.length === 11) {
            b.cancel();
            skipped = b.skipped;
            resolve();
          }
        },
        t,
      );
    });
    // Due: beats 1…50; the last second's ten (41…50) run, 40 are skipped.
    expect(beats).toEqual([0, 4100, 4200, 4300, 4400, 4500, 4600, 4700, 4800, 4900, 5000]);
    expect(skipped).toBe(40);
  });

  it('[M2][S3] 2,000 joins in one turn go through a handful of group commits', async () => {
    const storage = new MemoryStorage();
    const { host } = await hostWith(storage, new MemoryGovernance());
    const made = await host.createSpace({ name: 'storm', capacity: 5000 });
    if (!made.ok) throw new Error(made.message);
    const before = storage.commits;
    const frames: string[] = [];
    await Promise.all(Array.from({ length: 2000 }, () => host.join(host.attach(sink(frames)), made.value.space.code, 'participant', true)));
    await host.drain();
    expect(frames.filter((f) => f.includes('"t":"welcome"'))).toHaveLength(2000);
    expect(storage.commits - before).toBeLessThanOrEqual(3);
    expect(host.presence(made.value.space.id).connected).toBe(2000);
    await host.stop();
  });

  it('[S19] participants joining later get ids and stored token keys that sort after the earlier ones; their tokens resume', async () => {
    const storage = new MemoryStorage();
    const { host, scheduler } = await hostWith(storage, new MemoryGovernance());
    const made = await host.createSpace({ name: 'order', capacity: 100 });
    if (!made.ok) throw new Error(made.message);
    const joined: { id: string; token: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const frames: string[] = [];
      await host.join(host.attach(sink(frames)), made.value.space.code, 'participant', true);
      await host.drain();
      const w = JSON.parse(frames.find((f) => f.includes('"t":"welcome"')) as string) as { participant: string; token: string };
      joined.push({ id: w.participant, token: w.token });
      scheduler.advance(1 + (i % 3) * 700);
    }
    const keys = await Promise.all(joined.map(async (j) => (await storage.getParticipantByTokenHash(participantTokenKey(j.token)))?.tokenHash));
    const ids = joined.map((j) => j.id);
    expect(keys.every((k) => typeof k === 'string' && k.length === 71)).toBe(true);
    // Later joins sort after earlier ones (by their prefix; equal prefixes only within one millisecond).
    const prefixes = (xs: readonly string[]) => xs.map((x) => x.slice(0, 7));
    expect(prefixes(ids)).toEqual([...prefixes(ids)].sort());
    expect(prefixes(keys as string[])).toEqual([...prefixes(keys as string[])].sort());
    expect(new Set(prefixes(ids)).size).toBe(40);
    // Each token still finds its own participant, and no stored key holds the token.
    for (const [k, j] of joined.entries()) {
      expect((await storage.getParticipantByTokenHash(participantTokenKey(j.token)))?.id).toBe(j.id);
      expect(keys[k]).not.toContain(j.token.slice(7));
    }
    await host.stop();
  });
});

describe('the server as configured', () => {
  let server: RunningServer | null = null;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = null;
  });

  async function space(s: RunningServer): Promise<string> {
    const r = await fetch(`${s.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'configured' }) });
    return ((await r.json()) as { code: string }).code;
  }

  it('[B1][M9] --bus nats:// carries the pulses through a real NATS server', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, bus: 'nats://127.0.0.1:4222' });
    const code = await space(server);
    const c = await connect(`${server.url.replace('http', 'ws')}/ws`);
    clients.push(c);
    c.send({ t: 'join', code, consent: true });
    await c.next(isType('welcome'));
    c.send({ t: 'input', seq: 1, valence: 0.5, arousal: -0.5 });
    await c.next(isType('ack'));
    const p = await c.next((m) => m.t === 'pulse' && m.count === 1, 5000);
    expect(p).toMatchObject({ t: 'pulse', count: 1, space: code });
  });

  it('[M9] a bad bus is refused with a clear message', async () => {
    await expect(createServer({ port: 0, dbPath: ':memory:', webRoot: null, bus: 'redis://x' })).rejects.toThrow(/local' or nats:\/\/HOST:PORT/);
  });

  it('[W7][S6] an input and a bye sent back to back: the point leaves and does not come back after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-host-'));
    try {
      const dbPath = join(dir, 'attune.db');
      server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 1 });
      const port = server.port;
      const code = await space(server);
      const c = await connect(`${server.url.replace('http', 'ws')}/ws`);
      c.send({ t: 'join', code, consent: true });
      await c.next(isType('welcome'));
      c.sendRaw(`${JSON.stringify({ t: 'input', seq: 1, valence: 0.7, arousal: 0.7 })}`);
      c.sendRaw('{"t":"bye"}');
      await c.closed;
      await server.close();
      server = await createServer({ port, dbPath, webRoot: null, minCohort: 1 });
      const pulse = (await (await fetch(`${server.url}/api/spaces/${code}/pulse`)).json()) as { count: number };
      expect(pulse.count).toBe(0);
    } finally {
      await server?.close();
      server = null;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('[M3][W5] a burst of seq 2, then 1, then 5, then 3: acks for 2 and 5 with their own values, coded refusals for 1 and 3', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 });
    const code = await space(server);
    const c = await connect(`${server.url.replace('http', 'ws')}/ws`);
    clients.push(c);
    c.send({ t: 'join', code, consent: true });
    await c.next(isType('welcome'));
    for (const [seq, v] of [
      [2, 0.2],
      [1, 0.1],
      [5, 0.5],
      [3, 0.3],
      [0, 0],
    ] as const)
      c.send({ t: 'input', seq, valence: v, arousal: 0 });
    await c.next((m) => m.t === 'error' && m.seq === 0);
    await c.next((m) => m.t === 'ack' && m.seq === 5);
    const replies = c.messages.filter((m) => m.t === 'ack' || m.t === 'error').map((m) => [m.t, m.seq, m.t === 'ack' ? (m.affect as { valence: number }).valence : m.code]);
    expect(replies).toEqual(
      expect.arrayContaining([
        ['ack', 2, 0.2],
        ['error', 1, 'BAD_REQUEST'],
        ['ack', 5, 0.5],
        ['error', 3, 'BAD_REQUEST'],
        ['error', 0, 'BAD_REQUEST'],
      ]),
    );
    expect(replies).toHaveLength(5);
  });
});

describe('re-entrancy', () => {
  it('[M6] an event stepped from inside another event\'s publish is stepped after it, and numbered after it', async () => {
    const storage = new MemoryStorage();
    const { host } = await hostWith(storage, new MemoryGovernance());
    const made = await host.createSpace({ name: 're-entrant' });
    if (!made.ok) throw new Error(made.message);
    const { id, code } = made.value.space;
    // A display that joins from inside the participant pulse's delivery (the bus is synchronous).
    let joined = false;
    host.bus.subscribe(subjects.participantPulse(id), () => {
      if (joined) return;
      joined = true;
      void host.join(host.attach(sink([])), code, 'display', false);
    });
    await host.join(host.attach(sink([])), code, 'participant', true);
    (host.scheduler as ManualScheduler).advance(1000);
    await host.drain();
    const events = await storage.listEvents(id, 1, 1000);
    const inputs = await storage.listInputsByN(id, 1, 1000);
    const ns = [...events.map((e) => e.n), ...inputs.map((i) => i.n)].sort((a, b) => a - b);
    expect(new Set(ns).size).toBe(ns.length);
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
    expect(events.map((e) => e.kind)).toContain('display-joined');
    await host.stop();
  });
});
