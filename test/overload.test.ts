/**
 * W5b over real sockets, on a manual scheduler: a node whose durable writes are behind refuses
 * new inputs with OVERLOADED (naming the seq, the socket open, pulses going on, /metrics
 * counting), takes them again once the writes caught up, and loses nothing it acknowledged.
 * The storage is the real in-memory adapter; only its commits are held back, as a slow
 * database's would be.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';
import { connect, isType, type TestClient } from './support/wsClient.ts';

/** A MemoryStorage whose write calls wait while `hold()` is in force, then commit in call order. */
function slowStorage() {
  const s = new MemoryStorage();
  let gate: Promise<void> | null = null;
  let open = () => {};
  let queue: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  for (const m of ['appendInputs', 'appendEvents', 'appendPulsePoints', 'createParticipant', 'clearLatest'] as const) {
    const original = (s[m] as (...a: unknown[]) => Promise<void>).bind(s);
    (s as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
      // Unheld and nothing waiting: straight through, so the call order with the other writes stays as it was.
      if (gate === null && waiting === 0) return original(...a);
      const held = gate;
      waiting++;
      const p = queue.then(() => held).then(() => original(...a));
      queue = p.catch(() => {}).finally(() => waiting--);
      return p;
    };
  }
  return {
    storage: s,
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      gate = null;
      open();
    },
  };
}

const sample = (text: string, name: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
};

describe('overload (SPEC W5b)', () => {
  let server: RunningServer | null = null;
  const clients: TestClient[] = [];
  let release = () => {};
  afterEach(async () => {
    release();
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = null;
  });

  it('[W5b][E1][O1] past --max-write-lag an input is refused with OVERLOADED and its seq; the socket and the pulse stay; after the backlog drains inputs are taken again and every acknowledged one is stored', async () => {
    const scheduler = new ManualScheduler(Date.now());
    const slow = slowStorage();
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, maxWriteLagMs: 1000 }, { scheduler, storage: slow.storage, writeClock: () => scheduler.now() });
    const made = (await (await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'slow' }) })).json()) as { code: string; id: string };
    const ws = `${server.url.replace('http', 'ws')}/ws`;
    const p = await connect(ws);
    const d = await connect(ws);
    clients.push(p, d);
    p.send({ t: 'join', code: made.code, role: 'participant', consent: true });
    d.send({ t: 'join', code: made.code, role: 'display', consent: false });
    await p.next(isType('welcome'));
    await d.next(isType('welcome'));

    slow.hold();
    release = slow.release;
    const host = server.host;
    p.send({ t: 'input', seq: 1, valence: 0.5, arousal: 0.5 });
    // The input reached the host (its write now waits): seen in the pulse the display gets.
    await expect.poll(() => host.backlog.queued).toBe(1);
    scheduler.advance(100);
    await d.next((m) => m.t === 'pulse' && m.count === 1);
    // Within the bound, more inputs are taken (and wait too).
    p.send({ t: 'input', seq: 2, valence: 0.4, arousal: 0.5 });
    await expect.poll(() => host.backlog.queued).toBeGreaterThanOrEqual(3);
    scheduler.advance(950);
    await d.next(isType('pulse'));
    p.send({ t: 'input', seq: 3, valence: 0.3, arousal: 0.5 });
    const refused = await p.next(isType('error'));
    expect(refused).toMatchObject({ t: 'error', code: 'OVERLOADED', seq: 3 });
    // Not fatal: the participant's socket stays, the display's pulse goes on.
    scheduler.advance(100);
    const later = await d.next(isType('pulse'));
    expect(later.count).toBe(1);
    let text = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(text, 'attune_inputs_refused_overloaded_total')).toBe(1);
    expect(sample(text, 'attune_write_backlog')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'attune_write_lag_seconds')).toBeGreaterThan(1);

    slow.release();
    await p.next((m) => m.t === 'ack' && m.seq === 1);
    await p.next((m) => m.t === 'ack' && m.seq === 2);
    text = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(text, 'attune_write_lag_seconds')).toBeLessThan(1);
    // The same seq again (the client's retry): taken now.
    p.send({ t: 'input', seq: 3, valence: 0.3, arousal: 0.5 });
    await p.next((m) => m.t === 'ack' && m.seq === 3);
    await server.host.drain();
    const stored = await slow.storage.listInputs(made.id, 0, Number.MAX_SAFE_INTEGER, 100);
    expect(stored.map((i) => i.seq)).toEqual([1, 2, 3]);
    expect(sample(await (await fetch(`${server.url}/metrics`)).text(), 'attune_inputs_acknowledged_total')).toBe(3);
  });

  it('[W5b] past --max-queued-writes inputs are refused at once, without waiting for the lag', async () => {
    const scheduler = new ManualScheduler(Date.now());
    const slow = slowStorage();
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, maxQueuedWrites: 100 }, { scheduler, storage: slow.storage, writeClock: () => scheduler.now() });
    const made = (await (await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'slow', capacity: 200 }) })).json()) as { code: string; id: string };
    const ws = `${server.url.replace('http', 'ws')}/ws`;
    const people = await Promise.all(Array.from({ length: 101 }, () => connect(ws)));
    clients.push(...people);
    for (const c of people) c.send({ t: 'join', code: made.code, role: 'participant', consent: true });
    await Promise.all(people.map((c) => c.next(isType('welcome'))));
    slow.hold();
    release = slow.release;
    const answers = people.map((c) => c.next((m) => m.t === 'ack' || m.t === 'error'));
    for (const c of people.slice(0, 100)) c.send({ t: 'input', seq: 1, valence: 0.1, arousal: 0.1 });
    // Every one of the 100 reached the host before the 101st is sent (frames of one socket are handled in order, but these are 100 sockets).
    await expect.poll(() => server?.host.backlog.queued).toBeGreaterThanOrEqual(100);
    people[100]?.send({ t: 'input', seq: 1, valence: 0.1, arousal: 0.1 });
    expect(await answers[100]).toMatchObject({ t: 'error', code: 'OVERLOADED', seq: 1 });
    slow.release();
    const rest = await Promise.all(answers.slice(0, 100));
    expect(rest.every((m) => m.t === 'ack')).toBe(true);
    await server.host.drain();
    expect((await slow.storage.listInputs(made.id, 0, Number.MAX_SAFE_INTEGER, 1000)).length).toBe(100);
  });
});
