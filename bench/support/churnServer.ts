/**
 * A child process for bench/churn.ts: runs the real attune server (as `attune serve` does, with
 * an in-memory store) or a plain `ws` server as the baseline, and reports its memory
 * on request.
 *
 *   child → { ready: true, url, httpUrl }
 *   parent → { cmd: 'mem', gc: boolean } → child: { rss, heapUsed, heapTotal, external, arrayBuffers, handles }
 *   parent → { cmd: 'exit' }
 */
import type { AddressInfo } from 'node:net';
import { getHeapSpaceStatistics } from 'node:v8';
import { WebSocketServer } from 'ws';

const kind = process.argv[2];
const send = (m: unknown) => process.send?.(m);
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (m: { cmd: string; gc?: boolean }) => {
  if (m.cmd === 'mem') {
    if (m.gc && gc) {
      gc();
      gc();
    }
    const u = process.memoryUsage();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]));
    send({ rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, handles: process.getActiveResourcesInfo().length, newSpace: spaces.new_space ?? 0 });
  } else if (m.cmd === 'exit') process.exit(0);
});

if (kind === 'attune') {
  // Imported here so that the baseline process does not load attune at all. The whole server
  // as `attune serve` runs it (log, collective state, text), with an in-memory store.
  const { createServer } = await import('../../src/server/createServer.ts');
  // One trusted proxy hop: each client connection names its own address (churnClients.ts).
  const server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, trustProxyHops: 1 });
  send({ ready: true, url: `${server.url.replace('http', 'ws')}/ws`, httpUrl: server.url });
} else if (kind === 'ws') {
  // The baseline: ws with the same frame limit, answering every text frame the way a minimal
  // JSON protocol server would (parse, reply with an error), holding nothing per connection.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 4096, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      let code = 'BAD_REQUEST';
      if (!isBinary) {
        try {
          const m = JSON.parse(String(data)) as { t?: unknown };
          code = typeof m?.t === 'string' ? 'UNKNOWN_TYPE' : 'BAD_REQUEST';
        } catch {
          code = 'BAD_REQUEST';
        }
      }
      ws.send(JSON.stringify({ t: 'error', code, message: 'no' }));
    });
    ws.on('error', () => {});
  });
  const port = (wss.address() as AddressInfo).port;
  send({ ready: true, url: `ws://127.0.0.1:${port}/ws`, httpUrl: null });
} else {
  throw new Error(`unknown server kind ${kind}`);
}
