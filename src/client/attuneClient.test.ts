/**
 * The client's state machine over an in-memory socket pair and a hand-driven clock: joining,
 * resuming, seqs, resend after reconnection, refusals, back-off and fatal closes — no network,
 * no sleeping. The same client against a real server: attuneClient.server.test.ts.
 */
import fc from 'fast-check';
import type WsWebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { AttuneClient, type AttuneClientOptions, backoffDelay, memoryStorage, type StatusEvent } from './attuneClient.ts';
import { ManualClock, type MemoryPeer, memorySockets } from './memorySocket.ts';
import type { WebSocketLike } from './webSocketLike.ts';

const SPACE = { code: 'ABCD2345', name: 'room', status: 'open', capacity: 10, ttlMs: 120_000 } as const;
const welcome = (o: { token?: string; lastSeq?: number; role?: 'participant' | 'display' } = {}) => ({ t: 'welcome', role: o.role ?? 'participant', participant: 'p1', ...(o.token ? { token: o.token } : {}), space: SPACE, you: null, lastSeq: o.lastSeq ?? 0, pulseHz: 2 });
const ack = (seq: number) => ({ t: 'ack', seq, affect: { valence: 0, arousal: 0, confidence: 1, source: 'tap', at: 1 } });
const inputs = (p: MemoryPeer) => p.received.filter((m) => m.t === 'input').map((m) => m.seq);

function setup(extra: Partial<AttuneClientOptions> = {}) {
  const clock = new ManualClock(1_000);
  const sockets = memorySockets();
  const storage = extra.storage ?? memoryStorage();
  const statuses: StatusEvent[] = [];
  const client = new AttuneClient({ url: 'ws://test/ws', code: 'abcd-2345', role: 'participant', consent: true, connect: sockets.connect, clock, storage, random: () => 0.5, ...extra });
  client.on('status', (s) => statuses.push(s));
  return { clock, sockets, storage, client, statuses };
}

/** Opens the next socket and answers its join/resume with a welcome. */
function live(s: ReturnType<typeof setup>, w = welcome({ token: 'tok-123456789' })): MemoryPeer {
  const p = s.sockets.last();
  p.accept();
  p.send(w);
  return p;
}

describe('AttuneClient (in memory)', () => {
  it('[W3] joins with consent and the normalised code, then stores the resume token', () => {
    const s = setup();
    s.client.start();
    const p = live(s);
    expect(p.url).toBe('ws://test/ws');
    expect(p.received[0]).toEqual({ t: 'join', code: 'ABCD2345', role: 'participant', consent: true });
    expect(s.client.state).toBe('live');
    expect(s.storage.getItem('attune:ABCD2345:token')).toBe('tok-123456789');
    expect(s.statuses.map((x) => x.state)).toEqual(['connecting', 'joining', 'live']);
  });

  it('[W5] numbers inputs from 1, keeps them until acknowledged, and validates them first', () => {
    const s = setup();
    s.client.start();
    const p = live(s);
    expect(s.client.send({ valence: 0.5, arousal: -0.5 })).toEqual({ ok: true, value: 1 });
    expect(s.client.send({ text: 'fine' })).toEqual({ ok: true, value: 2 });
    expect(p.received.slice(1)).toEqual([
      { t: 'input', seq: 1, valence: 0.5, arousal: -0.5, seen: false },
      { t: 'input', seq: 2, text: 'fine', seen: false },
    ]);
    p.send(ack(1));
    expect(s.client.pending).toEqual([2]);
    const bad = s.client.send({ valence: 2, arousal: 0 });
    expect(bad.ok).toBe(false);
    expect(s.client.seq).toBe(2);
    expect(s.client.pending).toEqual([2]);
    expect(s.storage.getItem('attune:ABCD2345:seq')).toBe('2');
  });

  it('[W5] marks an input seen when a pulse arrived within the exposure window', () => {
    const s = setup({ isVisible: () => true });
    s.client.start();
    const p = live(s);
    p.send({ t: 'pulse', seq: 1, at: 1, count: 0 });
    s.client.send({ valence: 0, arousal: 0 });
    s.clock.advance(10_001);
    s.client.send({ valence: 0, arousal: 0 });
    expect(p.received.slice(1).map((m) => m.seen)).toEqual([true, false]);
  });

  it('[W4][W5][W12] after a drop, backs off, resumes with the token and re-sends every unacknowledged input in order', () => {
    const s = setup();
    s.client.start();
    const p1 = live(s);
    for (let i = 0; i < 4; i++) s.client.send({ valence: 0, arousal: i / 10 });
    p1.send(ack(1));
    p1.send(ack(3));
    p1.close(1006);
    expect(s.client.state).toBe('waiting');
    expect(s.statuses.at(-1)).toMatchObject({ state: 'waiting', attempt: 1, delayMs: 375, closeCode: 1006 });
    s.client.send({ valence: 0.9, arousal: 0.9 }); // queued while away
    s.clock.advance(374);
    expect(s.sockets.peers).toHaveLength(1);
    s.clock.advance(1);
    const p2 = s.sockets.last();
    p2.accept();
    expect(p2.received[0]).toEqual({ t: 'resume', token: 'tok-123456789' });
    p2.send(welcome({ lastSeq: 3 }));
    expect(inputs(p2)).toEqual([2, 4, 5]);
    expect(s.client.send({ valence: 0, arousal: 0 })).toEqual({ ok: true, value: 6 });
  });

  it('[K7] with a cluster\'s node URLs, each reconnection goes to the next node, and resumes there', () => {
    const sockets = memorySockets();
    const s = setup({ urls: ['ws://b/ws', 'ws://c/ws'], connect: sockets.connect });
    s.client.start();
    const p1 = sockets.last();
    p1.accept();
    p1.send(welcome({ token: 'tok-123456789' }));
    s.client.send({ valence: 0.5, arousal: 0.5 });
    p1.close(1006);
    s.clock.advance(500);
    const p2 = sockets.last();
    p2.accept();
    expect(p2.received[0]).toEqual({ t: 'resume', token: 'tok-123456789' });
    expect(inputs(p2)).toEqual([]);
    p2.send(welcome({ lastSeq: 0 }));
    expect(inputs(p2)).toEqual([1]);
    p2.close(1006);
    s.clock.advance(500);
    sockets.last().close(1006);
    s.clock.advance(1000);
    expect(sockets.peers.map((p) => p.url)).toEqual(['ws://test/ws', 'ws://b/ws', 'ws://c/ws', 'ws://test/ws']);
    expect(s.client.url).toBe('ws://test/ws');
  });

  it('[E2][W5] drops an input refused by an error carrying its seq; it is not sent again', () => {
    const s = setup();
    s.client.start();
    const p1 = live(s);
    s.client.send({ valence: 0, arousal: 0 });
    s.client.send({ valence: 0.1, arousal: 0 });
    const errors: unknown[] = [];
    s.client.on('error', (e) => errors.push(e));
    p1.send({ t: 'error', code: 'BAD_REQUEST', message: 'seq 1 was never accepted', seq: 1 });
    expect(errors).toHaveLength(1);
    expect(s.client.pending).toEqual([2]);
    p1.close(1001);
    s.clock.advance(10_000);
    const p2 = live(s, welcome());
    expect(inputs(p2)).toEqual([2]);
  });

  it('[W5b] an OVERLOADED input is kept and sent again after a back-off; newer inputs wait in its place, only the newest is kept', () => {
    const s = setup();
    s.client.start();
    const p = live(s);
    s.client.send({ valence: 0, arousal: 0 });
    const errors: string[] = [];
    s.client.on('error', (e) => errors.push(e.code));
    p.send({ t: 'error', code: 'OVERLOADED', message: 'busy', seq: 1 });
    expect(errors).toEqual(['OVERLOADED']);
    expect(s.client.pending).toEqual([1]);
    expect(s.client.held).toBe(1);
    // While held, new inputs are not sent; each takes the held one's place (never acknowledged, so nothing acknowledged is lost).
    s.client.send({ valence: 0.1, arousal: 0 });
    s.client.send({ valence: 0.2, arousal: 0 });
    expect(inputs(p)).toEqual([1]);
    expect(s.client.pending).toEqual([3]);
    // random 0.5: the first back-off is 375 ms (upper half of 0.5 s).
    s.clock.advance(374);
    expect(inputs(p)).toEqual([1]);
    s.clock.advance(1);
    expect(inputs(p)).toEqual([1, 3]);
    expect(s.client.held).toBe(null);
    // Refused again: the back-off doubles (750 ms); an ack resets it.
    p.send({ t: 'error', code: 'OVERLOADED', message: 'busy', seq: 3 });
    s.clock.advance(749);
    expect(inputs(p)).toEqual([1, 3]);
    s.clock.advance(1);
    expect(inputs(p)).toEqual([1, 3, 3]);
    p.send(ack(3));
    expect(s.client.pending).toEqual([]);
    s.client.send({ valence: 0.3, arousal: 0 });
    p.send({ t: 'error', code: 'OVERLOADED', message: 'busy', seq: 4 });
    s.clock.advance(375);
    expect(inputs(p)).toEqual([1, 3, 3, 4, 4]);
  });

  it('[W5b] a held input gives way to a newer one the server acknowledged, and a reconnection sends what is pending at once', () => {
    const s = setup();
    s.client.start();
    const p1 = live(s);
    s.client.send({ valence: 0, arousal: 0 });
    s.client.send({ valence: 0.1, arousal: 0 });
    // 1 refused while 2 was already on its way and accepted: 1 can never be accepted now (W5).
    p1.send({ t: 'error', code: 'OVERLOADED', message: 'busy', seq: 1 });
    p1.send(ack(2));
    expect(s.client.pending).toEqual([]);
    expect(s.client.held).toBe(null);
    s.clock.advance(10_000);
    expect(inputs(p1)).toEqual([1, 2]);
    s.client.send({ valence: 0.2, arousal: 0 });
    p1.send({ t: 'error', code: 'OVERLOADED', message: 'busy', seq: 3 });
    p1.close(1001);
    s.clock.advance(10_000);
    const p2 = live(s, welcome());
    expect(inputs(p2)).toEqual([3]);
    expect(s.client.held).toBe(null);
  });

  it('[W12] the back-off doubles from 0.5 s to 10 s with jitter, and resets after a welcome', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 12].map((n) => backoffDelay(n, () => 1))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect([1, 2, 6].map((n) => backoffDelay(n, () => 0))).toEqual([250, 500, 5000]);
    const s = setup({ random: () => 0.999999 });
    s.client.start();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      s.sockets.last().close(1006); // refused before opening
      delays.push(Math.round(s.statuses.at(-1)?.delayMs ?? -1));
      s.clock.advance(10_000);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    live(s);
    s.sockets.last().close(1006);
    expect(Math.round(s.statuses.at(-1)?.delayMs ?? -1)).toBe(500);
  });

  it('[W12] keeps trying through a restart (1012, 1001 and 4429 are not fatal)', () => {
    const s = setup();
    s.client.start();
    for (const code of [1012, 1001, 4429, 1011]) {
      live(s).close(code);
      expect(s.client.state).toBe('waiting');
      s.clock.advance(10_000);
    }
    expect(s.sockets.peers).toHaveLength(5);
  });

  it('[E1][W3] stops for good on a wrong code (error NOT_FOUND, close 4404): no timer left, no new socket', () => {
    const s = setup({ role: 'display' });
    s.client.start();
    const p = s.sockets.last();
    p.accept();
    expect(p.received[0]).toEqual({ t: 'join', code: 'ABCD2345', role: 'display', consent: true });
    p.send({ t: 'error', code: 'NOT_FOUND', message: 'no space has that join code' });
    p.close(4404, 'no space has that join code');
    expect(s.statuses.at(-1)).toMatchObject({ state: 'stopped', reason: 'NOT_FOUND', closeCode: 4404 });
    expect(s.clock.pending).toEqual([]);
    s.clock.advance(60_000);
    expect(s.sockets.peers).toHaveLength(1);
  });

  it('[W10] a full space stops the client with SPACE_FULL; a bare 4410 close reads as SPACE_CLOSED', () => {
    const s = setup();
    s.client.start();
    const p = s.sockets.last();
    p.accept();
    p.send({ t: 'full', message: 'this space is full', capacity: 10 });
    p.close(4409);
    expect(s.statuses.at(-1)).toMatchObject({ state: 'stopped', reason: 'SPACE_FULL', message: 'this space is full' });
    const t = setup();
    t.client.start();
    live(t).close(4410);
    expect(t.statuses.at(-1)).toMatchObject({ state: 'stopped', reason: 'SPACE_CLOSED' });
  });

  it('[W4][W8] replaced by another socket: bye then close 1000, and no reconnection', () => {
    const s = setup();
    s.client.start();
    const p = live(s);
    p.send({ t: 'bye', reason: 'replaced' });
    p.close(1000);
    expect(s.statuses.at(-1)).toMatchObject({ state: 'stopped', reason: 'replaced' });
    expect(s.clock.pending).toEqual([]);
  });

  it('[O4][W8] a draining server says bye (shutdown) and closes 1001: the client does not stop, it resumes on the next node and re-sends what was not acknowledged', () => {
    const s = setup({ urls: ['ws://other/ws'] });
    s.client.start();
    const p = live(s);
    s.client.send({ valence: 0.2, arousal: 0.2 });
    p.send({ t: 'bye', reason: 'shutdown' });
    p.close(1001);
    expect(s.client.state).toBe('waiting');
    s.clock.advance(10_000);
    const q = s.sockets.last();
    expect(q.url).toBe('ws://other/ws');
    q.accept();
    expect(q.received[0]).toEqual({ t: 'resume', token: 'tok-123456789' });
    q.send(welcome({ lastSeq: 0 }));
    expect(inputs(q)).toEqual([1]);
  });

  it('[W4] an unknown resume token is forgotten and the participant joins afresh at once', () => {
    const storage = memoryStorage();
    storage.setItem('attune:ABCD2345:token', 'stale-token-123');
    storage.setItem('attune:ABCD2345:seq', '7');
    const s = setup({ storage });
    s.client.start();
    const p1 = s.sockets.last();
    p1.accept();
    expect(p1.received[0]).toEqual({ t: 'resume', token: 'stale-token-123' });
    p1.send({ t: 'error', code: 'NOT_FOUND', message: 'unknown session' });
    p1.close(4404); // whether or not the server closes it, the client already has
    expect(p1.socket.closedByClient).toEqual({ code: 1000, reason: 'rejoin' });
    expect(storage.getItem('attune:ABCD2345:token')).toBeNull();
    expect(s.sockets.peers).toHaveLength(2);
    const p2 = s.sockets.last();
    expect(p2).not.toBe(p1);
    p2.accept();
    expect(p2.received[0]).toMatchObject({ t: 'join', code: 'ABCD2345' });
    p2.send(welcome({ token: 'fresh-token-123' }));
    expect(s.client.send({ valence: 0, arousal: 0 })).toEqual({ ok: true, value: 8 });
  });

  it("keep: 'latest' keeps only the newest unacknowledged input", () => {
    const s = setup({ keep: 'latest' });
    s.client.start();
    live(s);
    s.client.send({ valence: 0, arousal: 0 });
    s.client.send({ valence: 0.2, arousal: 0 });
    expect(s.client.pending).toEqual([2]);
  });

  it('[W7] leave says bye, forgets the session and stops; stop closes with 1000 and clears its timer', () => {
    const s = setup();
    s.client.start();
    const p = live(s);
    s.client.leave();
    expect(p.received.at(-1)).toEqual({ t: 'bye' });
    expect(s.storage.getItem('attune:ABCD2345:token')).toBeNull();
    expect(s.client.state).toBe('stopped');
    expect(s.client.send({ valence: 0, arousal: 0 }).ok).toBe(false);
    const t = setup();
    t.client.start();
    live(t).close(1006);
    expect(t.clock.pending).toHaveLength(1);
    t.client.stop();
    expect(t.clock.pending).toEqual([]);
    expect(t.statuses.at(-1)).toMatchObject({ state: 'stopped', reason: 'stopped' });
  });

  it('ignores frames that are not server messages, and events of a replaced socket', () => {
    const s = setup();
    s.client.start();
    const p = live(s);
    const pulses: unknown[] = [];
    s.client.on('pulse', (x) => pulses.push(x));
    p.send('not json');
    p.send({ t: 'pulse', seq: 'x' });
    p.send({ t: 'welcome' });
    p.send({ t: 'pulse', seq: 3, at: 1, count: 4 });
    expect(pulses).toHaveLength(1);
    expect(s.client.state).toBe('live');
  });

  it('[W5] model: whatever drops happen, every input is acknowledged exactly as sent, and seqs only grow', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('send' as const), fc.constant('ack' as const), fc.constant('drop' as const)), { maxLength: 60 }), (ops) => {
        const s = setup();
        s.client.start();
        // A server model: accepts inputs in order, acks an accepted seq again, remembers lastSeq.
        const accepted = new Map<number, unknown>();
        let lastSeq = 0;
        let p = live(s);
        let seen = 1;
        const serve = () => {
          for (const m of p.received.slice(seen)) {
            if (m.t !== 'input') continue;
            const seq = m.seq as number;
            if (!accepted.has(seq)) {
              expect(seq).toBeGreaterThan(lastSeq);
              accepted.set(seq, m.valence);
              lastSeq = seq;
            }
            p.send(ack(seq));
          }
          seen = p.received.length;
        };
        const sent = new Map<number, number>();
        for (const op of ops) {
          if (op === 'send') {
            const r = s.client.send({ valence: (sent.size % 100) / 100, arousal: 0 });
            if (r.ok) sent.set(r.value, (p.received.at(-1)?.valence as number) ?? Number.NaN);
          } else if (op === 'ack') serve();
          else {
            // The connection drops with some inputs received but not acknowledged.
            for (const m of p.received.slice(seen)) if (m.t === 'input' && !accepted.has(m.seq as number)) {
              accepted.set(m.seq as number, m.valence);
              lastSeq = Math.max(lastSeq, m.seq as number);
            }
            seen = p.received.length;
            p.close(1006);
            s.clock.advance(10_000);
            p = live(s, welcome({ lastSeq }));
            seen = 1;
          }
        }
        serve();
        expect(s.client.pending).toEqual([]);
        expect([...accepted.keys()].sort((a, b) => a - b)).toEqual([...sent.keys()]);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('the browser WebSocket and the ws package both fit WebSocketLike (type-level)', () => {
    const fits = (_: WebSocketLike) => true;
    const browser = (x: WebSocket) => fits(x);
    const node = (x: WsWebSocket) => fits(x);
    expect([typeof browser, typeof node]).toEqual(['function', 'function']);
  });
});
