/**
 * The WebSocket protocol (SPEC.md §W) against a real server on an ephemeral loopback port.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningServer, createServer } from '../src/server/createServer.ts';
import { connect, isType, type TestClient } from './support/wsClient.ts';

let server: RunningServer;
let wsUrl: string;
const clients: TestClient[] = [];

async function createSpace(body: Record<string, unknown> = { name: 'test room' }): Promise<{ code: string; stewardToken: string }> {
  const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(201);
  return (await r.json()) as { code: string; stewardToken: string };
}

async function client(): Promise<TestClient> {
  const c = await connect(wsUrl);
  clients.push(c);
  return c;
}

async function joined(code: string): Promise<{ c: TestClient; token: string }> {
  const c = await client();
  c.send({ t: 'join', code, consent: true });
  const w = await c.next(isType('welcome'));
  return { c, token: String(w.token) };
}

beforeEach(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, ratePerSec: 20 });
  wsUrl = `${server.url.replace('http', 'ws')}/ws`;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

describe('WebSocket protocol', () => {
  it('[W3][W5] joins with consent, gets a welcome and a pulse, and an input is acked and counted', async () => {
    const { code } = await createSpace();
    const { c, token } = await joined(code);
    expect(token.length).toBeGreaterThan(20);
    c.send({ t: 'input', seq: 1, valence: 0.5, arousal: -0.25 });
    const ack = await c.next(isType('ack'));
    expect(ack.seq).toBe(1);
    expect(ack.affect).toMatchObject({ valence: 0.5, arousal: -0.25, confidence: 1, source: 'tap' });
    const pulse = await c.next((m) => m.t === 'pulse' && m.count === 1);
    expect(pulse.mean).toEqual({ valence: 0.5, arousal: -0.25 });
  });

  it('[W3] a joiner gets the space\'s last pulse right behind the welcome, before any later one', async () => {
    const { code } = await createSpace();
    const first = await joined(code);
    await first.c.next(isType('pulse'));
    const c = await client();
    c.send({ t: 'join', code, consent: true });
    await c.next(isType('welcome'));
    await c.next(isType('pulse'));
    expect(c.messages.slice(0, 2).map((m) => m.t)).toEqual(['welcome', 'pulse']);
  });

  it('[W3] refuses a participant join without consent, and keeps the connection', async () => {
    const { code } = await createSpace();
    const c = await client();
    c.send({ t: 'join', code });
    expect(await c.next(isType('error'))).toMatchObject({ code: 'CONSENT_REQUIRED' });
    c.send({ t: 'join', code, consent: true });
    await c.next(isType('welcome'));
  });

  it('[W3][E1] closes with 4404 on a wrong join code', async () => {
    const c = await client();
    c.send({ t: 'join', code: 'NOSUCHCODE', consent: true });
    expect(await c.next(isType('error'))).toMatchObject({ code: 'NOT_FOUND' });
    expect((await c.closed).code).toBe(4404);
  });

  it('[W13] after 30 wrong codes from one address, a code already found there and a valid resume still get in at once', async () => {
    const { code } = await createSpace();
    const { token } = await joined(code);
    for (let i = 0; i < 30; i++) {
      const c = await client();
      c.send({ t: 'join', code: `WRONG${i}XX`, consent: true });
      expect(await c.next(isType('error'))).toMatchObject({ code: 'NOT_FOUND' });
    }
    const d = await client();
    d.send({ t: 'join', code, consent: true });
    await d.next(isType('welcome'));
    const e = await client();
    e.send({ t: 'resume', token });
    await e.next(isType('welcome'));
    const again = await client();
    again.send({ t: 'join', code: 'wrong0-xx', consent: true }); // the same typo again: answered, not charged
    expect(await again.next(isType('error'))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('[W4] resumes a participant with their point and last seq', async () => {
    const { code } = await createSpace();
    const { c, token } = await joined(code);
    c.send({ t: 'input', seq: 3, valence: -0.7, arousal: 0.7 });
    await c.next(isType('ack'));
    c.close();
    const d = await client();
    d.send({ t: 'resume', token });
    const w = await d.next(isType('welcome'));
    expect(w.lastSeq).toBe(3);
    expect(w.you).toMatchObject({ valence: -0.7, arousal: 0.7 });
    expect(w.token).toBeUndefined();
  });

  it('[W4] a second socket resuming the same participant replaces the first', async () => {
    const { code } = await createSpace();
    const { c, token } = await joined(code);
    const d = await client();
    d.send({ t: 'resume', token });
    await d.next(isType('welcome'));
    expect(await c.next(isType('bye'))).toMatchObject({ reason: 'replaced' });
  });

  it('[W5] acks a replayed seq without counting it twice', async () => {
    const { code } = await createSpace();
    const { c } = await joined(code);
    c.send({ t: 'input', seq: 1, valence: 0.1, arousal: 0.1 });
    await c.next(isType('ack'));
    c.send({ t: 'input', seq: 1, valence: 0.9, arousal: 0.9 });
    const ack = await c.next(isType('ack'));
    expect(ack.affect).toMatchObject({ valence: 0.1 });
  });

  it('[W2][E1] rejects out-of-range and non-finite numbers with a coded error; the connection stays up', async () => {
    const { code } = await createSpace();
    const { c } = await joined(code);
    c.send({ t: 'input', seq: 1, valence: 1.5, arousal: 0 });
    expect(await c.next(isType('error'))).toMatchObject({ code: 'BAD_REQUEST', seq: 1 });
    c.sendRaw('{"t":"input","seq":2,"valence":1e999,"arousal":0}');
    const e = await c.next(isType('error'));
    expect(e).toMatchObject({ code: 'BAD_REQUEST', seq: 2 });
    expect(String(e.message)).toMatch(/valence/);
    c.send({ t: 'input', seq: 3, valence: 0, arousal: 'high' });
    expect(await c.next(isType('error'))).toMatchObject({ code: 'BAD_REQUEST' });
    c.sendRaw('not json');
    expect(await c.next(isType('error'))).toMatchObject({ code: 'BAD_REQUEST' });
    c.send({ t: 'input', seq: 4, valence: 0.2, arousal: 0.2 });
    expect(await c.next(isType('ack'))).toMatchObject({ seq: 4 });
  });

  it('[W1][E1] answers an unknown message type with UNKNOWN_TYPE and keeps the connection', async () => {
    const c = await client();
    c.send({ t: 'hack', x: 1 });
    expect(await c.next(isType('error'))).toMatchObject({ code: 'UNKNOWN_TYPE' });
    c.send({ t: 'input', seq: 1, valence: 0, arousal: 0 });
    expect(await c.next(isType('error'))).toMatchObject({ code: 'NOT_JOINED' });
  });

  it('[W2] closes with 1009 on an oversized frame; what was accepted before stays', async () => {
    const { code } = await createSpace();
    const { c } = await joined(code);
    c.send({ t: 'input', seq: 1, valence: 0.3, arousal: 0.3 });
    await c.next(isType('ack'));
    c.sendRaw(JSON.stringify({ t: 'input', seq: 2, text: 'x'.repeat(5000) }));
    expect((await c.closed).code).toBe(1009);
    // H5: the HTTP pulse is the last published one; wait for a pulse published after the close.
    const pulse = async () => (await (await fetch(`${server.url}/api/spaces/${code}/pulse`)).json()) as { seq: number; count: number };
    const before = (await pulse()).seq;
    let p = await pulse();
    for (let i = 0; i < 60 && p.seq <= before; i++) {
      await new Promise((res) => setTimeout(res, 50));
      p = await pulse();
    }
    expect(p.seq).toBeGreaterThan(before);
    expect(p.count).toBe(1);
  });

  it('[W6] rate-limits a flood: excess is dropped with one RATE_LIMITED notice, accepted inputs are all acked', async () => {
    const { code } = await createSpace();
    const { c } = await joined(code);
    for (let i = 1; i <= 200; i++) c.send({ t: 'input', seq: i, valence: 0, arousal: 0 });
    await c.next(isType('error'));
    await new Promise((r) => setTimeout(r, 300));
    const acks = c.messages.filter(isType('ack'));
    const limited = c.messages.filter((m) => m.t === 'error' && m.code === 'RATE_LIMITED');
    expect(limited.length).toBe(1);
    expect(acks.length).toBeGreaterThan(10);
    expect(acks.length).toBeLessThan(100);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('[W10] tells a joiner at capacity that the space is full, and closes 4409', async () => {
    const { code } = await createSpace({ name: 'small', capacity: 2 });
    await joined(code);
    await joined(code);
    const c = await client();
    c.send({ t: 'join', code, consent: true });
    expect(await c.next(isType('full'))).toMatchObject({ capacity: 2 });
    expect((await c.closed).code).toBe(4409);
  });

  it('[W11][H3] closing a space says bye to everyone; later joins get SPACE_CLOSED', async () => {
    const { code, stewardToken } = await createSpace();
    const { c, token } = await joined(code);
    const r = await fetch(`${server.url}/api/spaces/${code}/close`, { method: 'POST', headers: { authorization: `Bearer ${stewardToken}` } });
    expect(r.status).toBe(200);
    expect(await c.next(isType('bye'))).toMatchObject({ reason: 'space-closed' });
    expect((await c.closed).code).toBe(4410);
    const d = await client();
    d.send({ t: 'join', code, consent: true });
    expect(await d.next(isType('error'))).toMatchObject({ code: 'SPACE_CLOSED' });
    const e = await client();
    e.send({ t: 'resume', token });
    expect(await e.next(isType('error'))).toMatchObject({ code: 'SPACE_CLOSED' });
  });

  it('[W7] bye removes the point at once', async () => {
    const { code } = await createSpace();
    const { c } = await joined(code);
    c.send({ t: 'input', seq: 1, valence: 0.3, arousal: 0.3 });
    await c.next(isType('ack'));
    c.send({ t: 'bye' });
    await c.closed;
    const r = await fetch(`${server.url}/api/spaces/${code}/pulse`);
    // The next tick reflects it.
    await new Promise((res) => setTimeout(res, 120));
    const r2 = await fetch(`${server.url}/api/spaces/${code}/pulse`);
    expect(r.status).toBe(200);
    expect(((await r2.json()) as { count: number }).count).toBe(0);
  });

  it('[P6] displays get pulses at the display rate, participants at theirs, the same bytes to all', async () => {
    const { code } = await createSpace();
    const disp = await client();
    disp.send({ t: 'join', code, role: 'display' });
    await disp.next(isType('welcome'));
    const { c } = await joined(code);
    c.send({ t: 'input', seq: 1, valence: 0.3, arousal: 0.3 });
    await c.next(isType('ack'));
    const start = c.messages.length;
    const dStart = disp.messages.length;
    await new Promise((r) => setTimeout(r, 1500));
    const pPulses = c.messages.slice(start).filter(isType('pulse')).length;
    const dPulses = disp.messages.slice(dStart).filter(isType('pulse')).length;
    expect(pPulses).toBeGreaterThanOrEqual(2);
    expect(pPulses).toBeLessThanOrEqual(4);
    expect(dPulses).toBeGreaterThan(pPulses * 4);
    const seqs = new Set(c.messages.filter(isType('pulse')).map((m) => m.seq));
    const shared = disp.messages.filter((m) => m.t === 'pulse' && seqs.has(m.seq));
    expect(shared.length).toBeGreaterThan(0);
  });
});
