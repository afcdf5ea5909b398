import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { sendFrame, textFrame } from './wsEdge.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('[W9] prepared fan-out frames', () => {
  it('arrive as the same text messages as ws.send, in order, for every payload-length encoding', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => { wss.close(); http.close(() => r()); }));
    // 7-bit, 16-bit and 64-bit payload lengths (RFC 6455 §5.2), and UTF-8 beyond ASCII.
    const payloads = ['x', `{"t":"pulse","s":"${'é'.repeat(100)}"}`, 'y'.repeat(70_000), ''];
    const frames = payloads.map((p) => textFrame(new TextEncoder().encode(p)));
    let direct = 0;
    wss.on('connection', (ws) => {
      // Count the prepared frames that went to the socket itself, not through ws.send.
      const socket = (ws as unknown as { _socket: { write: (b: unknown) => boolean } })._socket;
      const write = socket.write.bind(socket);
      socket.write = (b: unknown) => {
        if (Buffer.isBuffer(b) && frames.some((f) => f.equals(b))) direct++;
        return write(b);
      };
      ws.send('first');
      for (const p of payloads) {
        const bytes = new TextEncoder().encode(p);
        sendFrame(ws, textFrame(bytes), bytes);
        ws.send('between');
      }
    });
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      client.on('message', (data, isBinary) => {
        expect(isBinary).toBe(false);
        got.push(data.toString());
        if (got.length === 1 + payloads.length * 2) resolve();
      });
      client.on('error', reject);
    });
    client.close();
    expect(got).toEqual(['first', ...payloads.flatMap((p) => [p, 'between'])]);
    expect(direct).toBe(payloads.length);
  });

  it('frames a text message with the shortest length encoding', () => {
    const frame = (n: number) => textFrame(new Uint8Array(n));
    expect([...frame(3).subarray(0, 2)]).toEqual([0x81, 3]);
    expect([...frame(300).subarray(0, 4)]).toEqual([0x81, 126, 1, 44]);
    expect(frame(70_000).length).toBe(70_000 + 10);
  });
});
