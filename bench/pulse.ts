/**
 * `npm run bench:pulse` — figures, never pass/fail.
 *
 * 1. Tick cost of the pulse core at 1k / 10k / 100k participants (incremental histogram and
 *    sums), beside a naive tick that recomputes the same snapshot from every participant.
 *    Then the whole space machine's tick (release included) under the default release beside
 *    R2 alone, and with 8 declared groups beside none (bench/support/groupTicks.ts).
 * 2. Server CPU per delivered pulse message with N real WebSocket clients on loopback: the
 *    attune server (child process) beside a plain `ws` server broadcasting pulses of the same
 *    byte size at the same rate (the raw-ws floor) and a plain Socket.IO server (other
 *    children), in the same run. CPU is the server process's own user+system time; deliveries
 *    are counted on the client side.
 *
 * Options (env): BENCH_CLIENTS (default 2000), BENCH_SECONDS (measurement window, default 10).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { AttuneClient } from '../src/client/attuneClient.ts';
import type { Affect } from '../src/core/affect.ts';
import { quadrantOf } from '../src/core/affect.ts';
import { createRng } from '../src/core/collective/prng.ts';
import { binIndex } from '../src/core/histogram.ts';
import { PulseState } from '../src/core/pulse.ts';
import { groupTickBench, releaseTickBench } from './support/groupTicks.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);


/** The naive baseline: recompute everything from the participant map on every tick. */
function naiveTick(points: Map<string, { v: number; a: number; until: number }>, now: number, bins: number) {
  const hist = new Array<number>(bins * bins).fill(0);
  const quads = [0, 0, 0, 0];
  let n = 0;
  let sv = 0;
  let sa = 0;
  let svv = 0;
  let saa = 0;
  for (const p of points.values()) {
    if (p.until <= now) continue;
    n++;
    sv += p.v;
    sa += p.a;
    svv += p.v * p.v;
    saa += p.a * p.a;
    const c = binIndex(p.a, bins) * bins + binIndex(p.v, bins);
    hist[c] = (hist[c] ?? 0) + 1;
    const q = quadrantOf(p.v, p.a);
    quads[q] = (quads[q] ?? 0) + 1;
  }
  return { n, mean: [sv / n, sa / n], spread: [Math.sqrt(svv / n - (sv / n) ** 2), Math.sqrt(saa / n - (sa / n) ** 2)], hist, quads };
}

function tickBench(): void {
  console.log('\n## Pulse tick cost (pure core, one core, 16×16 bins, 1 % of people re-tap between ticks)\n');
  console.log('| participants | attune tick (µs) | naive tick (µs) | naive / attune | input upsert (ns) |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const n of [1_000, 10_000, 100_000]) {
    const g = createRng(n);
    const r = () => g.next();
    const s = new PulseState({ minCohort: 1, ttlMs: 3_600_000 });
    const naive = new Map<string, { v: number; a: number; until: number }>();
    const affect = (v: number, a: number): Affect => ({ valence: v, arousal: a, confidence: 1, source: 'tap', at: 0 });
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const v = r() * 2 - 1;
      const a = r() * 2 - 1;
      s.upsert(`p${i}`, affect(v, a), 0);
      naive.set(`p${i}`, { v, a, until: 3_600_000 });
    }
    const upsertNs = ((performance.now() - t0) * 1e6) / n;
    const ticks = n >= 100_000 ? 200 : 1000;
    const churn = Math.max(1, Math.floor(n / 100));
    let attuneMs = 0;
    let naiveMs = 0;
    let sink = 0;
    for (let k = 0; k < ticks; k++) {
      for (let j = 0; j < churn; j++) {
        const id = `p${Math.floor(r() * n)}`;
        const v = r() * 2 - 1;
        const a = r() * 2 - 1;
        s.upsert(id, affect(v, a), k);
        naive.set(id, { v, a, until: 3_600_000 });
      }
      t0 = performance.now();
      const snap = s.tick(k);
      attuneMs += performance.now() - t0;
      t0 = performance.now();
      const nv = naiveTick(naive, k, 16);
      naiveMs += performance.now() - t0;
      sink += snap.count + nv.n;
    }
    if (sink === 0) console.log('');
    const a = (attuneMs * 1000) / ticks;
    const b = (naiveMs * 1000) / ticks;
    console.log(`| ${n.toLocaleString('en')} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(1)}× | ${upsertNs.toFixed(0)} |`);
  }
}

interface Child {
  url: string;
  code?: string;
  mark(): Promise<{ cpuMicros: number; userMicros: number; systemMicros: number }>;
  kill(): void;
}

async function spawnServer(kind: Kind, bytes: number): Promise<Child> {
  const child = fork(join(import.meta.dirname, 'support', 'fanoutServer.ts'), [kind, String(CLIENTS), String(bytes)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ url: string; code?: string }>((res, rej) => {
    child.once('message', (m) => res(m as { url: string; code?: string }));
    child.once('exit', (c) => rej(new Error(`${kind} server exited with ${c}`)));
  });
  return {
    ...ready,
    mark: () =>
      new Promise((res) => {
        child.once('message', (m) => res(m as { cpuMicros: number; userMicros: number; systemMicros: number }));
        child.send({ cmd: 'mark' });
      }),
    kill: () => child.kill(),
  };
}

function progress(label: string, done: number, total: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${label}: ${done}/${total}   `);
}

/** The byte size of the pulses attune delivered (JSON text), for the ws baseline. */
let attunePulseBytes = 0;

interface Clients {
  count: () => number;
  close: () => void;
}

/**
 * Connects CLIENTS clients, 200 at a time: `open` connects one, calls `delivered` for each pulse
 * it gets, and resolves once it is in; `stop` closes it.
 */
async function connectAll<C>(label: string, open: (delivered: () => void) => { client: C; ready: Promise<void> }, stop: (c: C) => void): Promise<Clients> {
  let delivered = 0;
  const clients: C[] = [];
  const batch = 200;
  for (let i = 0; i < CLIENTS; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, CLIENTS - i) }, () => {
        const o = open(() => {
          delivered++;
        });
        clients.push(o.client);
        return o.ready;
      }),
    );
    progress(`${label} clients`, Math.min(i + batch, CLIENTS), CLIENTS);
  }
  return {
    count: () => delivered,
    close: () => {
      for (const c of clients) stop(c);
    },
  };
}

const attuneClients = (child: Child): Promise<Clients> =>
  connectAll(
    'attune',
    (delivered) => {
      // The project's own protocol client, as phones run it (src/client), over ws.
      const c = new AttuneClient({ url: child.url, code: child.code ?? '', role: 'participant', consent: true, connect: (url) => new WebSocket(url, { perMessageDeflate: false }) });
      let n = 0;
      c.on('pulse', (m) => {
        delivered();
        if ((n++ & 1023) === 0) attunePulseBytes = Math.max(attunePulseBytes, JSON.stringify(m).length);
      });
      const ready = new Promise<void>((res, rej) => {
        c.on('welcome', () => {
          c.send({ valence: Math.random() * 2 - 1, arousal: Math.random() * 2 - 1 });
          res();
        });
        c.on('status', (st) => {
          if (st.state === 'stopped' || st.state === 'waiting') rej(new Error(`attune client ${st.state}: ${st.reason ?? st.closeCode ?? ''}`));
        });
        c.start();
      });
      return { client: c, ready };
    },
    (c) => c.stop(),
  );

const socketioClients = (child: Child, label: string): Promise<Clients> =>
  connectAll(
    label,
    (delivered) => {
      const s = ioClient(child.url, { transports: ['websocket'], reconnection: false, forceNew: true });
      s.on('pulse', delivered);
      const ready = new Promise<void>((res, rej) => {
        s.once('connect', () => res());
        s.once('connect_error', rej);
      });
      return { client: s, ready };
    },
    (s: Socket) => s.disconnect(),
  );

const wsClients = (child: Child): Promise<Clients> =>
  connectAll(
    'ws',
    (delivered) => {
      const s = new WebSocket(child.url, { perMessageDeflate: false });
      s.on('message', delivered);
      const ready = new Promise<void>((res, rej) => {
        s.once('open', () => res());
        s.once('error', rej);
      });
      return { client: s, ready };
    },
    (s) => s.terminate(),
  );

interface Measured {
  cpuPerMsg: number;
  userPerMsg: number;
  systemPerMsg: number;
  delivered: number;
  cpuMs: number;
}

type Kind = 'attune' | 'ws' | 'socketio' | 'socketio-binary';

async function measure(kind: Kind): Promise<Measured> {
  const child = await spawnServer(kind, attunePulseBytes || 1500);
  try {
    const clients = kind === 'attune' ? await attuneClients(child) : kind === 'ws' ? await wsClients(child) : await socketioClients(child, kind);
    await new Promise((r) => setTimeout(r, 3000)); // warm up
    await child.mark();
    const before = clients.count();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const cpu = await child.mark();
    const delivered = clients.count() - before;
    clients.close();
    const d = Math.max(1, delivered);
    return { cpuPerMsg: cpu.cpuMicros / d, userPerMsg: cpu.userMicros / d, systemPerMsg: cpu.systemMicros / d, delivered, cpuMs: cpu.cpuMicros / 1000 };
  } finally {
    child.kill();
  }
}

async function fanoutBench(): Promise<void> {
  console.log(`\n## Server CPU per delivered pulse message (${CLIENTS} WebSocket clients on loopback, ${SECONDS} s window, participant rate 2 Hz)\n`);
  if (process.env.BENCH_ONLY_ATTUNE) {
    const only = await measure('attune');
    console.log(`attune only: ${only.cpuPerMsg.toFixed(2)} CPU-µs per message (user ${only.userPerMsg.toFixed(2)}, system ${only.systemPerMsg.toFixed(2)}), ${only.delivered} delivered`);
    return;
  }
  const a = await measure('attune');
  const w = await measure('ws');
  const s = await measure('socketio');
  const sb = await measure('socketio-binary');
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log('| server | delivered | server CPU (ms) | CPU-µs per delivered message | of which user (JS) | of which system (kernel) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const row = (name: string, m: Measured) => console.log(`| ${name} | ${m.delivered} | ${m.cpuMs.toFixed(0)} | ${m.cpuPerMsg.toFixed(2)} | ${m.userPerMsg.toFixed(2)} | ${m.systemPerMsg.toFixed(2)} |`);
  row('attune (ws, one encoding per tick, same bytes to every socket)', a);
  row(`plain ws, ws.send to every client (${attunePulseBytes} B, the raw-ws floor)`, w);
  row('Socket.IO 4 io.emit of the JSON string (baseline)', s);
  row('Socket.IO 4 io.emit of the same bytes as binary (baseline)', sb);
  console.log(`\nattune / plain ws: total CPU per message ${(a.cpuPerMsg / w.cpuPerMsg).toFixed(2)}× (aim ≤ 1.10×), user-space (JS) ${(a.userPerMsg / w.userPerMsg).toFixed(2)}×, kernel ${(a.systemPerMsg / w.systemPerMsg).toFixed(2)}×`);
  console.log(`Socket.IO string / attune: total CPU per message ${(s.cpuPerMsg / a.cpuPerMsg).toFixed(2)}×, user-space (JS) ${(s.userPerMsg / a.userPerMsg).toFixed(2)}×`);
  console.log(`Socket.IO binary / attune: total CPU per message ${(sb.cpuPerMsg / a.cpuPerMsg).toFixed(2)}×, user-space (JS) ${(sb.userPerMsg / a.userPerMsg).toFixed(2)}×`);
  console.log('(attune\'s figure includes its whole server: ticks, per-space encoding, the participant time series and the collective-state tracker.)');
}

console.log(`# bench:pulse — ${new Date().toISOString()} — node ${process.version}`);
// BENCH_ONLY=groups runs the group row alone (no child servers).
if (process.env.BENCH_ONLY !== 'groups') tickBench();
if (process.env.BENCH_ONLY !== 'groups') releaseTickBench();
groupTickBench();
if (process.env.BENCH_ONLY !== 'groups') await fanoutBench();
