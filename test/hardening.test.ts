/**
 * Hardening of the WebSocket edge against a real server on loopback (issue 9): join-code
 * guessing from a shared address (W13), the cross-origin check on the upgrade (H11), and every
 * close code the server can send being in the E1 table.
 */
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ERROR_CODES, wsCloseCodeOf } from '../src/core/errors.ts';
import { type RunningServer, createServer } from '../src/server/createServer.ts';

let server: RunningServer | null = null;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await server?.close();
  server = null;
});

type Msg = { t: string; code?: string; token?: string };

/** Opens a socket with the given headers and collects its messages and close. */
function open(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; next: () => Promise<Msg>; closed: Promise<number> }> {
  const ws = new WebSocket(url, { headers });
  sockets.push(ws);
  const inbox: Msg[] = [];
  const waiting: ((m: Msg) => void)[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as Msg;
    if (m.t === 'pulse') return;
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed, next: () => new Promise<Msg>((r) => (inbox.length ? r(inbox.shift() as Msg) : waiting.push(r))) }));
    ws.once('error', reject);
  });
}

async function createFrom(address: string): Promise<{ code: string }> {
  const r = await fetch(`${server?.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': address }, body: '{"name":"venue"}' });
  expect(r.status).toBe(201);
  return (await r.json()) as { code: string };
}

describe('join-code guessing (W13)', () => {
  it('[W13] an attacker and 50 honest joiners behind one address: every honest join and a valid resume get in; guesses stay within budget', async () => {
    // A fast budget so the test does not wait long: 5 free guesses, then one per 100 ms (backing off to 800 ms).
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, capacity: 200, trustProxyHops: 1, joinThrottle: { freeGuesses: 5, guessesPerMinute: 600 } });
    const url = `${server.url.replace('http', 'ws')}/ws`;
    const venue = { 'x-forwarded-for': '203.0.113.7' };
    // The steward created the space from elsewhere, so the venue's address has not seen the code.
    const { code } = await createFrom('198.51.100.9');
    const started = Date.now();
    let stop = false;
    let guessesAnswered = 0;
    let attackerRefused = 0;
    let serial = 0;
    const attacker = async () => {
      while (!stop) {
        const c = await open(url, venue);
        c.ws.send(JSON.stringify({ t: 'join', code: `G${(serial++).toString().padStart(7, '2')}`, consent: true }));
        const m = await Promise.race([c.next(), c.closed.then(() => null)]);
        if (m?.code === 'NOT_FOUND') guessesAnswered++;
        if (m?.code === 'RATE_LIMITED') attackerRefused++;
        c.ws.terminate();
      }
    };
    const attackers = Array.from({ length: 10 }, attacker);
    while (guessesAnswered < 5) await new Promise((r) => setTimeout(r, 5)); // the free budget is gone
    const honest = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const c = await open(url, venue);
        c.ws.send(JSON.stringify({ t: 'join', code, consent: true }));
        return (await c.next()) as Msg;
      }),
    );
    expect(honest.map((m) => m.t)).toEqual(Array(50).fill('welcome'));
    // Someone's Wi-Fi drops: their resume is never throttled.
    const back = await open(url, venue);
    back.ws.send(JSON.stringify({ t: 'resume', token: honest[0]?.token }));
    expect((await back.next()).t).toBe('welcome');
    stop = true;
    await Promise.all(attackers);
    const elapsedMin = (Date.now() - started) / 60_000;
    // The budget: 5 at once, then at most 600 a minute (back-off makes it fewer). Answers can
    // lag the guesses but never exceed them.
    expect(guessesAnswered).toBeLessThanOrEqual(5 + Math.ceil(600 * elapsedMin) + 10);
    expect(attackerRefused).toBeGreaterThanOrEqual(0);
  }, 30_000);
});

describe('cross-origin WebSocket (H11)', () => {
  it('[H11] refuses an upgrade from another site with 403; same-origin pages and non-browsers connect', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
    const url = `${server.url.replace('http', 'ws')}/ws`;
    const host = new URL(server.url).host;
    await expect(open(url, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    await expect(open(url, { 'sec-fetch-site': 'cross-site' })).rejects.toThrow(/403/);
    await expect(open(url, { origin: 'http://127.0.0.1:1' })).rejects.toThrow(/403/);
    for (const headers of [{}, { origin: `http://${host}` }, { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' }] as Record<string, string>[]) {
      const c = await open(url, headers);
      c.ws.close();
    }
  });
});

/** A raw client: does the RFC 6455 handshake by hand so it can send frames `ws` would refuse to. */
async function rawSocket(url: string): Promise<{ sock: Socket; closeCode: Promise<number> }> {
  const u = new URL(url);
  const sock = tcpConnect(Number(u.port), u.hostname);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(`GET /ws HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let buf = Buffer.alloc(0);
  let upgraded = false;
  const closeCode = new Promise<number>((resolve) => {
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        buf = buf.subarray(end + 4);
      }
      // Server frames are unmasked; look for a close frame (opcode 8) and read its code.
      while (buf.length >= 2) {
        const len = (buf[1] as number) & 0x7f;
        if (len > 125 || buf.length < 2 + len) return;
        if (((buf[0] as number) & 0x0f) === 8) resolve(buf.readUInt16BE(2));
        buf = buf.subarray(2 + len);
      }
    });
  });
  await new Promise<void>((r) => {
    const check = () => (upgraded ? r() : setTimeout(check, 2));
    check();
  });
  return { sock, closeCode };
}

/** A masked client frame. */
function frame(firstByte: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([firstByte, 0x80 | payload.length]), mask, body]);
}

describe('close codes (E1)', () => {
  it('[E1][W1] a text frame that is not UTF-8 fails the connection with 1007, BAD_ENCODING in the table', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
    const { sock, closeCode } = await rawSocket(`${server.url}/ws`);
    sock.write(frame(0x81, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))); // "{", a broken 2-byte sequence, "}"
    expect(await closeCode).toBe(1007);
    expect(wsCloseCodeOf('BAD_ENCODING')).toBe(1007);
    sock.destroy();
  });

  it('[E1] a frame that breaks RFC 6455 framing (reserved bit) fails with 1002, PROTOCOL_ERROR in the table', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
    const { sock, closeCode } = await rawSocket(`${server.url}/ws`);
    sock.write(frame(0x81 | 0x20, Buffer.from('{}'))); // RSV2 set, no extension negotiated
    expect(await closeCode).toBe(1002);
    expect(wsCloseCodeOf('PROTOCOL_ERROR')).toBe(1002);
    sock.destroy();
  });

  it('[E1] every close code the edge sends is 1000/1001 or a code of the one table', () => {
    const table = new Set<number>(Object.values(ERROR_CODES).map((e) => e.ws));
    const edge = ['../src/ws/wsEdge.ts', '../src/space/spaceHost.ts'].map((f) => readFileSync(new URL(f, import.meta.url), 'utf8')).join('\n');
    const literal = [...edge.matchAll(/\.close\(\s*(\d{4})/g)].map((m) => Number(m[1]));
    expect(literal.length).toBeGreaterThan(0);
    for (const c of literal) expect([1000, 1001].includes(c) || table.has(c), `close code ${c}`).toBe(true);
    // What the ws library sends by itself (receiver.js): 1002, 1007, 1009.
    for (const c of [1002, 1007, 1009]) expect(table.has(c), `close code ${c}`).toBe(true);
  });
});
