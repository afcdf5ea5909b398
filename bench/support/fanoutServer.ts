/**
 * A child process for bench/pulse.ts: runs the real attune server, a plain `ws` server, or a
 * plain Socket.IO server, the baselines broadcasting pulses of the same size at the same rate,
 * and reports its own CPU time between two messages from the parent.
 *
 *   parent → { cmd: 'start' }  → child: { url, code? , ready: true }
 *   parent → { cmd: 'mark' }   → child: { cpuMicros }  (user + system since the previous mark)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketIOServer } from 'socket.io';
import { WebSocket, WebSocketServer } from 'ws';
import { createServer as createAttune } from '../../src/server/createServer.ts';

const kind = process.argv[2];
const clients = Number(process.argv[3] ?? '1000');
const send = (m: unknown) => process.send?.(m);

let last = process.cpuUsage();
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'mark') {
    const now = process.cpuUsage();
    send({ cpuMicros: now.user - last.user + (now.system - last.system), userMicros: now.user - last.user, systemMicros: now.system - last.system });
    last = now;
  } else if (m.cmd === 'exit') process.exit(0);
});

if (kind === 'attune') {
  // The whole server as `attune serve` runs it (text analyser, collective tracker, log), with
  // an in-memory store so that joining thousands of clients does not wait on fsync.
  // The default release (k = 5, R7's batches and noise), as `attune serve` releases.
  const server = await createAttune({ port: 0, dbPath: ':memory:', webRoot: null, capacity: clients + 10 });
  const created = await server.host.createSpace({ name: 'bench', capacity: clients + 10 });
  if (!created.ok) throw new Error(created.message);
  send({ ready: true, url: `${server.url.replace('http', 'ws')}/ws`, code: created.value.space.code });
} else if (kind === 'socketio' || kind === 'socketio-binary') {
  // The same payload a participant gets from attune: a pulse snapshot with a 16×16 histogram.
  const hist = Array.from({ length: 256 }, (_, i) => (i * 7919) % 13);
  const http = createServer();
  const io = new SocketIOServer(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  let seq = 0;
  setInterval(() => {
    seq++;
    const msg = JSON.stringify({ t: 'pulse', seq, at: Date.now(), count: clients, suppressed: false, minCohort: 1, mean: { valence: 0.1, arousal: 0.2 }, smoothed: { valence: 0.1, arousal: 0.2 }, spread: { valence: 0.3, arousal: 0.3 }, quadrants: [0.25, 0.25, 0.25, 0.25], bins: 16, hist, space: 'BENCH123' });
    // 'socketio' emits the JSON string (one frame); 'socketio-binary' the same bytes as a
    // binary attachment (Socket.IO sends a placeholder frame plus the binary frame).
    io.emit('pulse', kind === 'socketio' ? msg : Buffer.from(msg));
  }, 500);
  send({ ready: true, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
} else if (kind === 'ws') {
  // The raw-ws floor: a plain `ws` server (the library attune's edge is built on) broadcasting
  // a pulse of the byte size attune's pulses had in the same run, at the same rate, the way ws's
  // README broadcasts: `client.send(msg)` for every open client. Nothing parsed, stored or released.
  const bytes = Number(process.argv[4] ?? '1500');
  const http = createServer();
  const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: false });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  let seq = 0;
  const hist = Array.from({ length: 256 }, (_, i) => (i * 7919) % 13);
  setInterval(() => {
    seq++;
    const body = JSON.stringify({ t: 'pulse', seq, at: Date.now(), count: clients, suppressed: false, minCohort: 5, mean: { valence: 0.1, arousal: 0.2 }, smoothed: { valence: 0.1, arousal: 0.2 }, spread: { valence: 0.3, arousal: 0.3 }, quadrants: [0.25, 0.25, 0.25, 0.25], bins: 16, hist, space: 'BENCH123' });
    const msg = body.length >= bytes ? body : `${body.slice(0, -1)},"pad":"${'x'.repeat(Math.max(0, bytes - body.length - 9))}"}`;
    for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(msg);
  }, 500);
  send({ ready: true, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws` });
} else {
  throw new Error(`unknown server kind ${kind}`);
}
