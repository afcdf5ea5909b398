/**
 * bench:churn — does the server's memory stay bounded under connection churn and hostile
 * frames? (issue 9). Loopback only, bounded in count and time.
 *
 * For each server — a plain `ws` server as the baseline, then attune as `attune serve` runs it —
 * in its own child process: `CLIENT_PROCS` client processes open CONNECTIONS WebSockets in all,
 * CONCURRENCY at a time, each sending FRAMES/CONNECTIONS hostile frames (bad JSON, arrays,
 * unknown types, non-finite numbers, binary, wrong join codes, replays, padded frames, and as the
 * last frame of two in three connections an oversized or invalid-UTF-8 frame), then drop it — half
 * with a close handshake, half by resetting. Every 10,000 connections the server's RSS, JS heap and
 * external memory are printed; after the churn the server idles, is asked to collect garbage, and
 * is measured again. Figures, never pass/fail.
 *
 * What the figures showed (2026-12-01): both servers' RSS rises ≈ 160–190 MiB and then stays
 * flat; the JS heap after GC is back where it started. The rise is V8's young generation: the
 * scavenger grows the semi-spaces to 64 MiB under allocation bursts (`--trace-gc-nvp`:
 * `new_space_capacity=67108864`), and after a full GC the freed pages stay in V8's page pool
 * (`pool_local_chunks≈522`, ≈ 130 MiB) — resident, reused, bounded. `--max-semi-space-size=4`
 * lowers the plateau (CHURN_SERVER_FLAGS below).
 *
 *   npm run bench:churn
 *   CHURN_CONNECTIONS=20000 CHURN_FRAMES=200000 npm run bench:churn   (a quick run)
 *   CHURN_HEAP_MB=64 …                                                 (cap the server's JS heap)
 *   CHURN_SERVER_FLAGS='--max-semi-space-size=4' …                     (cap V8's young generation)
 *   CHURN_ADDRESSES=1 …                                                (every client from one address)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

const CONNECTIONS = Number(process.env.CHURN_CONNECTIONS ?? 100_000);
const FRAMES = Number(process.env.CHURN_FRAMES ?? 1_000_000);
const CONCURRENCY = Number(process.env.CHURN_CONCURRENCY ?? 2000);
const CLIENT_PROCS = Number(process.env.CHURN_CLIENT_PROCS ?? 2);
const HEAP_MB = process.env.CHURN_HEAP_MB ? Number(process.env.CHURN_HEAP_MB) : null;
const DEADLINE_MS = Number(process.env.CHURN_DEADLINE_S ?? 900) * 1000;
const EVERY = 10_000;
const ONLY = process.env.CHURN_ONLY;
/** Distinct client addresses the connections claim (X-Forwarded-For; attune trusts one hop here). */
const ADDRESSES = Number(process.env.CHURN_ADDRESSES ?? 50_000);

type Mem = { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; handles: number; newSpace: number };
const MiB = (b: number) => (b / 1048576).toFixed(1);

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly httpUrl: string | null;
  mem(gc: boolean): Promise<Mem>;
}

async function spawnServer(kind: 'ws' | 'attune'): Promise<Server> {
  const execArgv = ['--expose-gc', ...(HEAP_MB ? [`--max-old-space-size=${HEAP_MB}`] : []), ...(process.env.CHURN_SERVER_FLAGS ?? '').split(' ').filter(Boolean)];
  const child = fork(join(import.meta.dirname, 'support', 'churnServer.ts'), [kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const ready = await new Promise<{ url: string; httpUrl: string | null }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; httpUrl: string | null }));
    child.once('exit', (c) => reject(new Error(`${kind} server exited with ${c}`)));
  });
  const pending: ((m: Mem) => void)[] = [];
  child.on('message', (m) => {
    const r = pending.shift();
    r?.(m as Mem);
  });
  return {
    child,
    ...ready,
    mem(gc) {
      return new Promise((r) => {
        pending.push(r);
        child.send({ cmd: 'mem', gc });
      });
    },
  };
}

async function run(kind: 'ws' | 'attune'): Promise<{ start: Mem; rows: { conns: number; frames: number; mem: Mem }[]; end: Mem; idle: Mem; failed: number; seconds: number }> {
  const server = await spawnServer(kind);
  let code = 'NOCODE00';
  if (server.httpUrl) {
    const r = await fetch(`${server.httpUrl}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"churn"}' });
    code = ((await r.json()) as { code: string }).code;
  }
  const start = await server.mem(true);
  const rows: { conns: number; frames: number; mem: Mem }[] = [];
  console.log(`\n${kind}: ${CONNECTIONS.toLocaleString()} connections from ${ADDRESSES.toLocaleString()} addresses, ${FRAMES.toLocaleString()} hostile frames, ${CONCURRENCY} at a time from ${CLIENT_PROCS} processes${HEAP_MB ? `, server heap capped at ${HEAP_MB} MiB` : ''}${process.env.CHURN_SERVER_FLAGS ? `, server flags ${process.env.CHURN_SERVER_FLAGS}` : ''}`);
  console.log(`  ${'connections'.padStart(11)} ${'frames'.padStart(10)} ${'RSS MiB'.padStart(8)} ${'heap used'.padStart(9)} ${'heap held'.padStart(9)} ${'new space'.padStart(9)} ${'external'.padStart(9)} ${'handles'.padStart(8)}`);
  const line = (label: string, frames: number | string, m: Mem) =>
    console.log(`  ${label.padStart(11)} ${String(frames).padStart(10)} ${MiB(m.rss).padStart(8)} ${MiB(m.heapUsed).padStart(9)} ${MiB(m.heapTotal).padStart(9)} ${MiB(m.newSpace).padStart(9)} ${MiB(m.external).padStart(9)} ${String(m.handles).padStart(8)}`);
  line('start', 0, start);
  const t0 = Date.now();
  const per = Math.ceil(CONNECTIONS / CLIENT_PROCS);
  const progress = new Map<number, { done: number; frames: number; failed: number }>();
  let nextRow = EVERY;
  let measuring = Promise.resolve();
  const clients = Array.from({ length: CLIENT_PROCS }, (_, p) => {
    const n = Math.min(per, CONNECTIONS - p * per);
    const child = fork(join(import.meta.dirname, 'support', 'churnClients.ts'), [server.url, code, String(n), String(Math.ceil(CONCURRENCY / CLIENT_PROCS)), String(Math.round(FRAMES / CONNECTIONS)), String(p + 1), String(ADDRESSES)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise<void>((resolve) => {
      child.on('message', (m: { done: number; frames: number; failed: number; finished?: boolean }) => {
        progress.set(p, m);
        const total = [...progress.values()].reduce((a, x) => ({ done: a.done + x.done, frames: a.frames + x.frames }), { done: 0, frames: 0 });
        while (total.done >= nextRow) {
          const at = nextRow;
          const frames = total.frames;
          nextRow += EVERY;
          measuring = measuring.then(async () => {
            const mem = await server.mem(false);
            rows.push({ conns: at, frames, mem });
            line(at.toLocaleString(), frames.toLocaleString(), mem);
          });
        }
        if (m.finished) resolve();
      });
      child.on('exit', () => resolve());
      setTimeout(() => child.kill(), DEADLINE_MS).unref();
    });
  });
  await Promise.all(clients);
  await measuring;
  const seconds = (Date.now() - t0) / 1000;
  const end = await server.mem(false);
  line('end', '', end);
  // Let closing sockets, timers and the pinger settle, then collect garbage.
  await new Promise((r) => setTimeout(r, 3000));
  const idle = await server.mem(true);
  line('idle + GC', '', idle);
  const failed = [...progress.values()].reduce((a, x) => a + x.failed, 0);
  console.log(`  ${seconds.toFixed(1)} s, ${Math.round(CONNECTIONS / seconds).toLocaleString()} connections/s, ${failed} failed to connect`);
  server.child.send({ cmd: 'exit' });
  return { start, rows, end, idle, failed, seconds };
}

const kinds = (ONLY ? [ONLY] : ['ws', 'attune']) as ('ws' | 'attune')[];
const results = new Map<string, Awaited<ReturnType<typeof run>>>();
for (const k of kinds) results.set(k, await run(k));

/** RSS growth over the second half of the churn, MiB per 10,000 connections: ≈ 0 is a plateau. */
function slope(rows: { conns: number; mem: Mem }[]): number {
  const half = rows.filter((r) => r.conns > CONNECTIONS / 2);
  if (half.length < 2) return Number.NaN;
  const a = half[0] as { conns: number; mem: Mem };
  const b = half[half.length - 1] as { conns: number; mem: Mem };
  return (b.mem.rss - a.mem.rss) / 1048576 / ((b.conns - a.conns) / EVERY);
}

console.log('\nsummary (MiB)');
console.log(`  ${'server'.padEnd(8)} ${'start'.padStart(7)} ${'peak'.padStart(7)} ${'end'.padStart(7)} ${'idle+GC'.padStart(8)} ${'heap idle'.padStart(9)} ${'2nd-half slope /10k'.padStart(20)}`);
for (const [k, r] of results) {
  const peak = Math.max(r.start.rss, ...r.rows.map((x) => x.mem.rss), r.end.rss);
  console.log(`  ${k.padEnd(8)} ${MiB(r.start.rss).padStart(7)} ${MiB(peak).padStart(7)} ${MiB(r.end.rss).padStart(7)} ${MiB(r.idle.rss).padStart(8)} ${MiB(r.idle.heapUsed).padStart(9)} ${slope(r.rows).toFixed(2).padStart(20)}`);
}
const a = results.get('attune');
const w = results.get('ws');
if (a && w) console.log(`  attune/ws: idle RSS growth ${MiB(a.idle.rss - a.start.rss)} vs ${MiB(w.idle.rss - w.start.rss)} MiB; throughput ${(CONNECTIONS / a.seconds).toFixed(0)} vs ${(CONNECTIONS / w.seconds).toFixed(0)} connections/s`);
