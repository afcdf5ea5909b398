/**
 * `npm run bench:memory` — server memory per connected participant, and what it is made of:
 * attune beside a plain `ws` server broadcasting the same bytes (bench/support/cadenceWsServer.ts),
 * in the same run. Figures, never pass/fail.
 *
 * Each server runs in its own process with bench/support/memoryProbe.ts preloaded (`--expose-gc`):
 * at each reading it runs full collections until the heap is settled, then reports RSS (and its
 * anonymous part), V8's committed heap and live bytes, external memory and ArrayBuffers.
 *
 * One pass per target:
 *   1. a warm-up crowd joins and taps (code compiled, first-socket costs paid, the space's
 *      fixed state built): reading 0, heap snapshot 0;
 *   2. N more participants join (the project's protocol client over `ws`, from client processes
 *      of bench/support/cadenceClients.ts, as `attune load` and bench:cadence run them) and get
 *      2 Hz pulses; every one taps every `--tap-every` s for `--fill` s — enough inputs for a
 *      participant's state to be full (the machine keeps the last 8 for duplicate acks, the
 *      pulse an expiry entry per input within the TTL) — then they stop, so that nothing is in
 *      flight (acks, commits) at the reading; after `--drain` s: reading 1, snapshot 1.
 * Per participant = (reading 1 − reading 0) / N, so fixed costs stay out of it; the snapshots'
 * difference is summed by class (bench/support/heapSnapshotSummary.ts: own sizes, the way
 * DevTools' Summary sums them; arrays, strings and contexts named after their holder).
 * A snapshot costs the process memory of its own (V8 builds the graph in C++), so with
 * snapshots the RSS figures come from a separate pass without them (`--snapshots false` skips
 * the heap pass).
 *
 * Usage:
 *   npm run bench:memory                                  # 5,000 participants, both targets
 *   npm run bench:memory -- --participants 10000 --top 30
 *   npm run bench:memory -- --env MALLOC_ARENA_MAX=2       # the same env for both servers
 *   npm run bench:memory -- --targets attune,attune-v8,ws             # attune serve's default flags vs V8's own
 *   npm run bench:memory -- --node-args=--max-semi-space-size=16 --targets attune,ws
 *   npm run bench:memory -- --targets attune,before --attune-root /tmp/main-checkout --passes rss --smaps /tmp/maps
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkerPlan } from './support/cadenceClients.ts';
import { diffPer, summariseHeapSnapshot } from './support/heapSnapshotSummary.ts';
import type { MemoryFigures, MemoryReading } from './support/memoryProbe.ts';
import { type ProbedServer, startProbedServer } from './support/probedServers.ts';

const { values } = parseArgs({
  options: {
    participants: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '300' },
    fill: { type: 'string', default: '30' },
    drain: { type: 'string', default: '3' },
    'tap-every': { type: 'string', default: '3' },
    targets: { type: 'string', default: 'attune,ws' },
    snapshots: { type: 'string', default: 'true' },
    /** `heap` alone: only the snapshot pass (its readings then fill the RSS table too). */
    passes: { type: 'string', default: 'rss,heap' },
    top: { type: 'string', default: '22' },
    env: { type: 'string', multiple: true, default: [] },
    'node-args': { type: 'string', default: '' },
    'attune-root': { type: 'string' },
    'pulse-bytes': { type: 'string' },
    /** attune's --db (e.g. `:memory:`: no SQLite writer thread), for both attune targets. */
    db: { type: 'string' },
    /** Keep a copy of each server's /proc/self/smaps at both readings of the RSS pass here. */
    smaps: { type: 'string' },
  },
  strict: true,
});
const N = Number(values.participants);
const WARM = Number(values.warmup);
const FILL_MS = Number(values.fill) * 1000;
const DRAIN_MS = Number(values.drain) * 1000;
const TAP_MS = Number(values['tap-every']) * 1000;
const TOP = Number(values.top);
/** `before`: attune from `--attune-root` (another checkout, e.g. main before a change), for an A/B in one run. */
/** `attune-v8`: attune without `attune serve`'s default Node flags and environment (src/cli/nodeFlags.ts; `attune` has them, as `attune serve` runs). */
type Target = 'attune' | 'attune-v8' | 'ws' | 'before';
const targets = String(values.targets).split(',') as Target[];
if (targets.includes('before') && !values['attune-root']) throw new Error('--targets before needs --attune-root DIR (a checkout to compare with)');
const badPass = String(values.passes).split(',').find((x) => x !== 'rss' && x !== 'heap');
if (badPass !== undefined) throw new Error(`--passes takes rss, heap or both (rss,heap), got '${badPass}'`);
const label = (t: Target) => (t === 'attune' ? 'attune' : t === 'attune-v8' ? 'attune, V8’s default flags' : t === 'ws' ? 'plain ws (same bytes)' : `attune before (${values['attune-root']})`);
const env = Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const nodeArgs = String(values['node-args']).split(' ').filter(Boolean);
const log = (s: string) => process.stderr.write(`[memory ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function next<T>(child: ChildProcess, ev: string, timeoutMs = 300_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${ev}' from client ${child.pid}`)), timeoutMs);
    const on = (m: { ev?: string }) => {
      if (m.ev !== ev) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

/** Client processes joining `n` participants to the server's first space, tapping from then on. */
async function crowd(server: ProbedServer, n: number): Promise<{ joined: number; failed: number; quiet: () => Promise<void>; stop: () => Promise<void> }> {
  const k = Math.max(1, Math.ceil(n / 2500));
  const procs: ChildProcess[] = [];
  for (let i = 0; i < k; i++) {
    const share = Math.floor(n / k) + (i < n % k ? 1 : 0);
    const plan: WorkerPlan = { url: server.wsUrl, spaces: [{ code: server.codes[0] as string, participants: share, displays: 0, probes: 0 }], tapEveryMs: TAP_MS, probeEveryMs: 1000, joinConcurrency: Math.max(1, Math.floor(200 / k)), joinTimeoutMs: 120_000 };
    const c = fork(join(import.meta.dirname, 'support', 'cadenceClients.ts'), [JSON.stringify(plan)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(c);
    await next(c, 'ready');
    procs.push(c);
  }
  const joins = await Promise.all(
    procs.map((c) => {
      const r = next<{ welcomes: number[]; failed: number }>(c, 'joined');
      c.send({ cmd: 'join' });
      return r;
    }),
  );
  // 'measure' starts every participant tapping (the window itself is not used here).
  const now = Date.now();
  for (const c of procs) c.send({ cmd: 'measure', from: now, to: now + 3_600_000 });
  return {
    joined: joins.reduce((a, j) => a + j.welcomes.length, 0),
    failed: joins.reduce((a, j) => a + j.failed, 0),
    quiet: async () => {
      await Promise.all(
        procs.map((c) => {
          const r = next(c, 'quiet');
          c.send({ cmd: 'quiet' });
          return r;
        }),
      );
      // Until every tap sent is acknowledged (durable, SPEC W5): nothing in flight at the reading.
      const until = Date.now() + 120_000;
      for (;;) {
        const ps = await Promise.all(
          procs.map((c) => {
            const r = next<{ tapsSent: number; tapsAcked: number }>(c, 'progress');
            c.send({ cmd: 'progress' });
            return r;
          }),
        );
        const sent = ps.reduce((a, p) => a + p.tapsSent, 0);
        const acked = ps.reduce((a, p) => a + p.tapsAcked, 0);
        if (acked >= sent || Date.now() > until) {
          if (acked < sent) log(`${sent - acked} taps still unacknowledged after 120 s`);
          return;
        }
        await sleep(500);
      }
    },
    stop: async () => {
      await Promise.all(
        procs.map((c) => {
          const gone = new Promise<void>((r) => c.once('exit', () => r()));
          if (c.connected) c.send({ cmd: 'exit' });
          return Promise.race([gone, sleep(10_000).then(() => c.kill('SIGKILL'))]);
        }),
      );
    },
  };
}

interface Pass {
  readonly r0: MemoryReading;
  readonly r1: MemoryReading;
  readonly joined: number;
  readonly classes: { key: string; count: number; bytes: number }[] | null;
}

let pulseBytes = values['pulse-bytes'] ? Number(values['pulse-bytes']) : 1500;

async function pass(target: Target, snapshots: boolean): Promise<Pass> {
  const dir = snapshots ? mkdtempSync(join(tmpdir(), 'attune-heap-')) : null;
  const server = await startProbedServer(target === 'ws' ? 'ws' : 'attune', { serveNodeFlags: target !== 'attune-v8', spaces: 1, capacity: N + WARM + 10, pulseBytes, env, nodeArgs, ...(target === 'before' && values['attune-root'] ? { attuneRoot: values['attune-root'] } : {}), ...(values.db ? { attuneDb: values.db } : {}) });
  const crowds: Awaited<ReturnType<typeof crowd>>[] = [];
  // One display in both readings: it notes attune's pulse size for the plain-ws server to pad to.
  const screen = await display(server);
  try {
    const warm = await crowd(server, WARM);
    crowds.push(warm);
    await sleep(FILL_MS);
    await warm.quiet();
    await sleep(DRAIN_MS);
    const smaps = !snapshots && values.smaps ? (k: number) => join(values.smaps as string, `${target}-${k}.smaps`) : null;
    const r0 = await server.memory({ ...(dir ? { snapshot: join(dir, '0.heapsnapshot') } : {}), ...(smaps ? { smaps: smaps(0) } : {}), reduce: !snapshots });
    log(`${target}${snapshots ? ' (heap pass)' : ''}: warm-up of ${WARM} in, RSS ${(r0.rss / 1048576).toFixed(1)} MiB; ${N} joining…`);
    const big = await crowd(server, N);
    crowds.push(big);
    log(`${target}: ${big.joined} joined${big.failed ? `, ${big.failed} failed` : ''}; tapping for ${FILL_MS / 1000} s, then quiet for ${DRAIN_MS / 1000} s`);
    await sleep(FILL_MS);
    await big.quiet();
    await sleep(DRAIN_MS);
    const r1 = await server.memory({ ...(dir ? { snapshot: join(dir, '1.heapsnapshot') } : {}), ...(smaps ? { smaps: smaps(1) } : {}), reduce: !snapshots });
    if (target !== 'ws' && !values['pulse-bytes'] && screen.bytes() > 0) pulseBytes = screen.bytes();
    const classes = dir && r0.snapshot && r1.snapshot ? diffPer(summariseHeapSnapshot(r0.snapshot), summariseHeapSnapshot(r1.snapshot), big.joined) : null;
    return { r0, r1, joined: big.joined, classes };
  } finally {
    screen.close();
    for (const c of crowds) await c.stop();
    await server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => (Number.isFinite(bytes) ? (bytes / 1024).toFixed(2) : '—');

/** A display in this process that notes the byte size of the pulses it gets (the plain-ws server pads to attune's). */
async function display(server: ProbedServer): Promise<{ bytes: () => number; close: () => void }> {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(server.wsUrl, { perMessageDeflate: false });
  let last = 0;
  ws.on('open', () => ws.send(JSON.stringify({ t: 'join', code: server.codes[0], role: 'display' })));
  ws.on('message', (d: Buffer) => {
    if (d.subarray(0, 12).toString() === '{"t":"pulse"') last = d.byteLength;
  });
  ws.on('error', () => {});
  return { bytes: () => last, close: () => ws.terminate() };
}

console.log(`# bench:memory — ${new Date().toISOString()} — node ${process.version} — ${N.toLocaleString('en')} participants after a warm-up of ${WARM}, each tapping every ${TAP_MS / 1000} s for ${FILL_MS / 1000} s (then quiet ${DRAIN_MS / 1000} s) — load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (Object.keys(env).length || nodeArgs.length) console.log(`server env ${JSON.stringify(env)} node args ${JSON.stringify(nodeArgs)} (both targets)`);

const results = new Map<string, { rss: Pass; heap: Pass | null }>();
for (const t of targets) {
  const passes = String(values.passes).split(',');
  const heap = values.snapshots === 'true' && passes.includes('heap') ? await pass(t, true) : null;
  const rss = passes.includes('rss') || !heap ? await pass(t, false) : heap;
  results.set(t, { rss, heap });
}

const cols = targets.map(label);
const both = results.has('attune') && results.has('ws');
if (!String(values.passes).split(',').includes('rss')) console.log('\n(heap pass only: its RSS rows include what the first snapshot left in the allocator — read the heap rows)');
console.log(`\n## Per connected participant (reading after ${N.toLocaleString('en')} joined − reading after the warm-up, ÷ joined), KB = 1024 bytes\n`);
console.log(`| measure | ${cols.join(' | ')} |${both ? ' attune − ws |' : ''}`);
console.log(`|---|${targets.map(() => '---:|').join('')}${both ? '---:|' : ''}`);
const row = (name: string, f: (p: Pass) => number) => {
  const xs = targets.map((t) => f((results.get(t) as { rss: Pass }).rss));
  console.log(`| ${name} | ${xs.map(kb).join(' | ')} |${both ? ` ${kb((xs[targets.indexOf('attune')] as number) - (xs[targets.indexOf('ws')] as number))} |` : ''}`);
};
/** (after − before) ÷ joined, of one figure of two readings; NaN when a reading is missing (no reduced reading in a heap pass). */
const diff = (p: Pass, a: MemoryFigures | undefined, b: MemoryFigures | undefined, k: keyof MemoryFigures) => (a && b ? (b[k] - a[k]) / Math.max(1, p.joined) : Number.NaN);
const per = (p: Pass, k: keyof MemoryFigures) => diff(p, p.r0, p.r1, k);
row('RSS growth', (p) => per(p, 'rss'));
row('  of which anonymous (malloc + V8 heap)', (p) => per(p, 'rssAnon'));
row('V8 heap, live bytes (heapUsed)', (p) => per(p, 'heapUsed'));
row('V8 heap, committed (heapTotal)', (p) => per(p, 'heapTotal'));
row('external (Buffers, ArrayBuffers’ stores)', (p) => per(p, 'external'));
row('  of which ArrayBuffers', (p) => per(p, 'arrayBuffers'));
row('  of which the young generation (new space)', (p) => per(p, 'newSpace'));
row('native rest: RSS − heapTotal − external', (p) => per(p, 'rss') - per(p, 'heapTotal') - per(p, 'external'));
row('  worker threads’ V8 heaps (committed)', (p) => per(p, 'workersHeap'));
row('  malloc, main arena ([heap], brk)', (p) => per(p, 'brkHeap'));
row('  64 MiB-aligned anonymous maps (glibc’s thread arenas; V8’s young generation may sit in one too)', (p) => per(p, 'threadArenas'));
row('anonymous RSS growth less the young generation’s step', (p) => per(p, 'rssAnon') - per(p, 'newSpace'));
const reduced = (p: Pass, k: keyof MemoryFigures) => diff(p, p.r0.reduced, p.r1.reduced, k);
row('after memory-reducing collections (what the process keeps; see below): RSS growth', (p) => reduced(p, 'rss'));
row('  of which V8 heap, committed', (p) => reduced(p, 'heapTotal'));
row('  of which V8 heap, live bytes', (p) => reduced(p, 'heapUsed'));
row('  of which the young generation (new space)', (p) => reduced(p, 'newSpace'));
console.log(`\n(joined: ${targets.map((t) => `${t} ${(results.get(t) as { rss: Pass }).rss.joined}`).join(', ')}; RSS at the end: ${targets.map((t) => `${t} ${((results.get(t) as { rss: Pass }).rss.r1.rss / 1048576).toFixed(0)} MiB`).join(', ')}; plain ws pads its pulses to ${pulseBytes} bytes; load average now ${loadavg()[0]?.toFixed(2)})`);
console.log(
  `\n(after memory-reducing collections — \`gc()\`'s last-resort flavour, as under memory pressure; V8's memory reducer reduces memory the same way once a process's allocation rate falls — V8 gives back its pool of freed pages and shrinks the heap to what is live; a plain full collection keeps both, so the first rows also hold whatever the garbage's peak before the reading left resident. RSS at the end after it: ${targets.map((t) => { const r = (results.get(t) as { rss: Pass }).rss.r1.reduced; return `${t} ${r ? (r.rss / 1048576).toFixed(0) : '—'} MiB`; }).join(', ')})`,
);

const mib = (x: number) => (Number.isFinite(x) ? (x / 1048576).toFixed(1) : '—');
console.log('\nThe readings themselves (MiB, after the warm-up → after everyone joined):\n');
console.log('| target | RSS | V8 heap used | V8 heap committed | young generation | worker threads’ heaps | malloc main arena | 64 MiB-aligned maps |');
console.log('|---|---|---|---|---|---|---|---|');
for (const t of targets) {
  const p = (results.get(t) as { rss: Pass }).rss;
  const f = (k: keyof MemoryFigures) => `${mib(p.r0[k])} → ${mib(p.r1[k])}`;
  console.log(`| ${label(t)} | ${f('rss')} | ${f('heapUsed')} | ${f('heapTotal')} | ${f('newSpace')} | ${f('workersHeap')} | ${f('brkHeap')} | ${f('threadArenas')} |`);
}

if (values.snapshots === 'true') {
  console.log('\n## V8 heap per participant by class (own sizes, snapshot after − snapshot after the warm-up, ÷ joined)\n');
  for (const t of targets) {
    const h = (results.get(t) as { heap: Pass | null }).heap;
    if (!h?.classes) continue;
    const total = h.classes.reduce((a, c) => a + c.bytes, 0);
    console.log(`### ${label(t)}: ${kb(total)} KB per participant in the snapshot (heapUsed growth in this pass ${kb(per(h, 'heapUsed'))} KB)\n`);
    console.log('| class (← the first object holding it) | objects per participant | bytes per participant |');
    console.log('|---|---:|---:|');
    for (const c of h.classes.slice(0, TOP)) console.log(`| ${c.key.replaceAll('|', '\\|')} | ${c.count.toFixed(2)} | ${c.bytes.toFixed(0)} |`);
    const rest = h.classes.slice(TOP).reduce((a, c) => a + c.bytes, 0);
    console.log(`| (everything else, ${h.classes.length - TOP} classes) | | ${rest.toFixed(0)} |\n`);
  }
}
process.exit(0);
