/**
 * Keep-alive pings (W12): the edge pings every socket once per interval, spread over the interval
 * in small steps rather than in one synchronous burst (at 20,000 sockets a burst is 20,000
 * writes that would hold a pulse pass back), and terminates a socket that did not answer the
 * previous ping. Real sockets on loopback, the manual scheduler for time.
 */
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, createServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';

let server: RunningServer | null = null;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await server?.close();
  server = null;
});

/** A WebSocket handshake over raw TCP that never answers a ping (a phone that went away). */
async function silentSocket(port: number): Promise<{ socket: Socket; closed: Promise<void>; pings: () => number }> {
  const socket = tcpConnect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let upgraded = false;
  let pings = 0;
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      if (!upgraded) {
        expect(d.toString('latin1')).toMatch(/^HTTP\/1\.1 101/);
        upgraded = true;
        resolve();
        return;
      }
      // Server frames are unmasked: opcode 0x9 is a ping (a read may hold several frames).
      for (let i = 0; i + 1 < d.length; ) {
        if (((d[i] as number) & 0x0f) === 0x9) pings++;
        i += 2 + ((d[i + 1] as number) & 0x7f);
      }
    });
  });
  return { socket, closed, pings: () => pings };
}

describe('keep-alive pings (W12)', () => {
  it('[W12] every socket is pinged once per interval, a few per step rather than all at once; a socket that never answers is closed, the others stay', async () => {
    const clock = new ManualScheduler(Date.now());
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null }, { scheduler: clock });
    const port = Number(new URL(server.url).port);
    const n = 90;
    const pingedAt: number[][] = [];
    for (let i = 0; i < n; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      sockets.push(ws);
      const mine: number[] = [];
      pingedAt.push(mine);
      ws.on('ping', () => mine.push(clock.now()));
      await new Promise<void>((r, j) => {
        ws.once('open', () => r());
        ws.once('error', j);
      });
    }
    const silent = await silentSocket(port);
    let closedSilent = false;
    void silent.closed.then(() => (closedSilent = true));

    const total = () => pingedAt.reduce((s, p) => s + p.length, 0) + silent.pings();
    const perStep: number[] = [];
    const intervalMs = 30_000;
    const stepMs = 1_000;
    for (let t = 0; t < 2 * intervalMs; t += stepMs) {
      const before = total();
      clock.advance(stepMs);
      // Let the pings of this step cross loopback (they were written synchronously in advance()).
      await fetch(`${server.url}/api/spaces/NONE/pulse`).catch(() => undefined);
      await new Promise<void>((r) => setImmediate(r));
      perStep.push(total() - before);
    }
    const firstInterval = perStep.slice(0, intervalMs / stepMs).reduce((a, b) => a + b, 0);
    // Within 2.5 s of wall time on a loaded machine, every ping has arrived long since; a
    // bounded wait on the close (not a sleep) ends the test as soon as it happens.
    await Promise.race([silent.closed, new Promise((r) => setTimeout(r, 5_000))]);

    expect(firstInterval).toBe(n + 1);
    for (const p of pingedAt) expect(p.length).toBe(2);
    expect(Math.max(...perStep)).toBeLessThanOrEqual(Math.ceil((n + 1) / 30) + 1);
    expect(closedSilent).toBe(true);
    for (const ws of sockets) expect(ws.readyState).toBe(WebSocket.OPEN);
  });
});
