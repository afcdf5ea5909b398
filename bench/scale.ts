/**
 * `npm run bench:scale` — one space on 1, 2 and 3 `attune serve --cluster` nodes on this machine
 * (NATS + PostgreSQL), each figure beside its baselines from the same run: one plain `attune serve`
 * on SQLite (no cluster) under the same load, and the floor — plain `ws`
 * (bench/support/cadenceWsServer.ts) in as many processes as the row has nodes, sent the same
 * clients by the same driver, broadcasting pulses of the size attune's had. Figures, never
 * pass/fail. The load is `attune load`
 * (src/cli/commands/load.ts: several client processes of bench/support/cadenceClients.ts), on the
 * same 2 cores as the servers, so every figure here is a floor of what the servers can do.
 *
 *   1. participants held: pulses that arrive (participants, displays) against the expected
 *      count, tap → display p50/p95, ack p99, and the servers' CPU per delivered message, the
 *      load driver's CPU and the load average; rows: the one-node SQLite baseline and plain ws in
 *      one process, then each cluster of N followed by "plain ws × N processes" (each of which
 *      broadcasts its own participants' pulse: a floor of the fan-out, not a cluster);
 *   2. durable inputs/s: input rates stepped up until ack p99 passes 250 ms, PostgreSQL
 *      (cluster of 1 and 3 nodes) beside SQLite (one node);
 *   3. failover: kill -9 a node that does not own the tick, then the owner, during a run: time
 *      for its clients to resume (p50/p95), time until a surviving display gets the new owner's
 *      first pulse, and acknowledged inputs missing from PostgreSQL (must be 0).
 *
 * Usage:
 *   npm run bench:scale                                   # modest sizes: a few minutes
 *   npm run bench:scale -- --participants 10000 --displays 10 --seconds 60
 *   npm run bench:scale -- --participants 5000,10000,15000,20000 --sections held --baseline false --input-every 10000
 *   npm run bench:scale -- --rates 2000,4000,8000,16000 --rate-seconds 10
 *   npm run bench:scale -- --sections held,failover
 *   npm run bench:scale -- --participants 30000 --nodes 3 --sections held --baseline false
 *   npm run bench:scale -- --participants 1500 --nodes 3 --sections held --baseline none
 *   npm run bench:scale -- --participants 30000 --nodes 3 --sections held --baseline false --variants default,unbounded --repeat 2
 *
 * `--participants` takes one size or a list (a sweep): section 1 runs at each size, smallest
 * first, then prints the largest size each setup held — everyone joined, participant pulses
 * ≥ 99.9 % and display pulses ≥ 99.5 % — beside what the first size it did not hold got. A row
 * whose processes would each need more sockets than a process may open here (/proc/self/limits,
 * less 500 for the rest) is not run and counts as not held.
 *
 * `--baseline` (section 1): `true` (default) runs every baseline; `false` drops the single-process
 * rows (the SQLite node and plain ws × 1: past one process's 20,000 open files neither holds
 * everyone) but keeps plain ws × N beside each cluster of N, the only baseline possible there;
 * `none` runs the cluster rows alone.
 *
 * `--variants` (section 1) runs each cluster row once per variant, interleaved (`--repeat` times),
 * so an A/B on this shared machine compares runs of the same minutes: `default`; `unbounded`, the
 * nodes without the write-backlog bound (SPEC W5b: `--max-write-lag 600000 --max-queued-writes
 * 10000000`); `fullparse`, the load driver's participants parsing every pulse whole
 * (CADENCE_FULL_PARSE=1, as before bench/support/pulseHeadSocket.ts); `eager`, the nodes
 * committing each group as soon as the last returned (`--commit-interval 0`, as before the 10 ms
 * default); `workers=N`, the load
 * driver in N client processes instead of `attune load`'s default (one per 2,500 clients). The
 * plain-ws rows run once per round (after a round's variants), with the first variant's driver.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { type LoadReport, runLoad } from '../src/cli/commands/load.ts';
import { NatsKv } from '../src/bus/nats/natsKv.ts';
import { decodeLease } from '../src/core/cluster/lease.ts';
import { type AttuneNode, adminQuery, type ClusterEnv, clusterEnv, NATS_URL } from './support/attuneNodes.ts';
import type { MemoryReading } from './support/memoryProbe.ts';
import { cpuSeconds } from './support/procCpu.ts';
import { startProbedServer } from './support/probedServers.ts';

const { values } = parseArgs({
  options: {
    participants: { type: 'string', default: '1500' },
    displays: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '15' },
    ramp: { type: 'string', default: '5' },
    'input-every': { type: 'string', default: '2000' },
    rates: { type: 'string', default: '500,1000,2000,4000' },
    'rate-seconds': { type: 'string', default: '6' },
    'rate-participants': { type: 'string', default: '1000' },
    'failover-participants': { type: 'string', default: '300' },
    nodes: { type: 'string', default: '1,2,3' },
    sections: { type: 'string', default: 'held,rates,failover' },
    baseline: { type: 'string', default: 'true' },
    variants: { type: 'string', default: 'default' },
    repeat: { type: 'string', default: '1' },
  },
  strict: true,
});
const num = (k: keyof typeof values) => Number(values[k]);
const sections = new Set(String(values.sections).split(','));
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const pct = (a: number, b: number) => (b > 0 ? `${fmt((100 * a) / b)} %` : '–');
const log = (s: string) => process.stdout.write(`${s}\n`);

interface Setup {
  readonly label: string;
  readonly env: ClusterEnv;
  readonly nodes: AttuneNode[];
}

/** What a variant changes (see --variants above): the nodes' flags, the load driver's environment. */
interface Variant {
  readonly serve: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workers?: number;
}
const VARIANTS: Record<string, Variant> = {
  default: { serve: [], env: {} },
  unbounded: { serve: ['--max-write-lag', '600000', '--max-queued-writes', '10000000'], env: {} },
  fullparse: { serve: [], env: { CADENCE_FULL_PARSE: '1' } },
  eager: { serve: ['--commit-interval', '0'], env: {} },
};
const variantOf = (v: string): Variant | undefined => {
  const w = /^workers=(\d+)$/.exec(v);
  return w ? { serve: [], env: {}, workers: Number(w[1]) } : VARIANTS[v];
};
const variants = String(values.variants).split(',');
for (const v of variants) if (!variantOf(v)) throw new Error(`--variants: unknown '${v}' (${Object.keys(VARIANTS).join(', ')}, workers=N)`);

async function setup(label: string, n: number, database: 'postgres' | 'sqlite', serve: readonly string[] = []): Promise<Setup> {
  const env = await clusterEnv({ prefix: 'bs', database });
  const nodes: AttuneNode[] = [];
  // --capacity: the space holds everyone; --ttl long enough that nobody's point expires mid-run.
  for (let i = 0; i < n; i++) nodes.push(await env.start(`n${i + 1}`, ['--capacity', '100000', ...serve], { probe: true }));
  return { label, env, nodes };
}

/** Memory of the servers of a run, summed over its processes (bench/support/memoryProbe.ts, after full collections). */
interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
}

const sumMemory = async (readers: readonly (() => Promise<MemoryReading>)[]): Promise<Memory> => {
  const rs = await Promise.all(readers.map((f) => f().catch(() => null)));
  return rs.reduce<Memory>((a, m) => (m ? { rss: a.rss + m.rss, heapUsed: a.heapUsed + m.heapUsed } : a), { rss: 0, heapUsed: 0 });
};

/** Runs a load against servers and measures their CPU over the window, and their memory from before the joins to the window's end. */
async function measureOn(
  servers: readonly { readonly url: string; readonly pid: number; readonly alive: () => boolean; readonly memory: () => Promise<MemoryReading> }[],
  o: Omit<Parameters<typeof runLoad>[0], 'urls'>,
): Promise<{ r: LoadReport; cpuS: number; wallS: number; rssPer: number; heapPer: number }> {
  // The servers' CPU over the measured window only (joins excluded).
  const cpu = () => servers.reduce((a, n) => a + (n.alive() ? cpuSeconds(n.pid) : 0), 0);
  let cpu0 = Number.NaN;
  let cpu1 = Number.NaN;
  let t0 = 0;
  let t1 = 0;
  const mem0 = await sumMemory(servers.map((n) => n.memory));
  let mem1: Promise<Memory> = Promise.resolve(mem0);
  const r = await runLoad({
    urls: servers.map((n) => n.url),
    ...o,
    onWindow: (edge) => {
      if (edge === 'open') {
        cpu0 = cpu();
        t0 = Date.now();
      } else {
        cpu1 = cpu();
        t1 = Date.now();
        // Everyone is still connected at the window's end.
        mem1 = sumMemory(servers.map((n) => n.memory));
      }
    },
  });
  const m1 = await mem1;
  const per = Math.max(1, r.joined);
  return { r, cpuS: cpu1 - cpu0, wallS: (t1 - t0) / 1000, rssPer: (m1.rss - mem0.rss) / per, heapPer: (m1.heapUsed - mem0.heapUsed) / per };
}

/**
 * Where the nodes dropped pulses, over the whole row (joins included), from their /metrics:
 * sockets skipped for backpressure, sockets that never got a pulse because a newer one replaced
 * it before its fan-out pass (W9), and beats dropped past the catch-up window.
 */
async function skippedNote(urls: readonly string[]): Promise<string> {
  const total = { backpressure: 0, superseded: 0, beats: 0 };
  for (const url of urls) {
    const text = await fetch(`${url}/metrics`).then((r) => r.text()).catch(() => '');
    for (const line of text.split('\n')) {
      const [series, value] = line.split(' ');
      const v = Number(value);
      if (!series || !Number.isFinite(v)) continue;
      if (series.startsWith('attune_pulses_dropped_backpressure_total{')) total.backpressure += v;
      else if (series.startsWith('attune_pulses_superseded_total{')) total.superseded += v;
      else if (series === 'attune_beats_skipped_total') total.beats += v;
    }
  }
  return `, nodes skipped: ${total.backpressure} socket-pulses for backpressure, ${total.superseded} superseded, ${total.beats} beats`;
}

/** Runs a load against a setup's nodes. */
function measure(s: Setup, o: Omit<Parameters<typeof runLoad>[0], 'urls'>): ReturnType<typeof measureOn> {
  return measureOn(
    s.nodes.map((n) => ({ url: n.url, pid: n.pid, alive: () => n.proc.exitCode === null && n.proc.signalCode === null, memory: () => n.memory() })),
    o,
  );
}

/** A row of section 1: attune on nodes, or the plain-ws floor in as many processes. */
type HeldRow =
  | { readonly kind: 'attune'; readonly label: string; readonly n: number; readonly db: 'postgres' | 'sqlite'; readonly variant: string }
  | { readonly kind: 'ws'; readonly n: number; readonly variant: string };

/**
 * The rows of section 1, in the order they run. `--baseline true`: the one-node SQLite row and
 * plain ws in one process first; `false`: no single-process baseline (past one process's 20,000
 * open files neither can hold everyone); `none`: no baseline at all. Unless `none`, each round of
 * a cluster of N (its variants) is followed by plain ws in N processes, the floor of that load on
 * this machine (a cluster of 1's is the one-process row, with `true`).
 */
function heldRows(baseline: string, nodes: readonly number[], repeat: number): HeldRow[] {
  const rows: HeldRow[] = [];
  const driver = variants[0] as string;
  if (baseline === 'true') rows.push({ kind: 'attune', label: 'baseline: 1 node, SQLite, no cluster', n: 1, db: 'sqlite', variant: 'default' }, { kind: 'ws', n: 1, variant: driver });
  for (const n of nodes) {
    for (let i = 0; i < repeat; i++) {
      for (const v of variants) rows.push({ kind: 'attune', label: `cluster of ${n}, PostgreSQL${v === 'default' && variants.length === 1 ? '' : `, ${v}`}`, n, db: 'postgres', variant: v });
      if (baseline !== 'none' && !(baseline === 'true' && n === 1)) rows.push({ kind: 'ws', n, variant: driver });
    }
  }
  return rows;
}

/** Runs `f` with the load driver's environment of a variant (its client processes are forked with this process's). */
async function withEnv<T>(env: Readonly<Record<string, string>>, f: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await f();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** What one row of section 1 saw, for the sweep's summary. */
interface HeldResult {
  readonly label: string;
  readonly participants: number;
  /** Everyone joined, participant pulses ≥ 99.9 % and display pulses ≥ 99.5 % arrived (the issue's bar). */
  readonly held: boolean;
  readonly summary: string;
}

/** The bar a row must clear to count as holding its crowd. */
const HELD_PARTICIPANT = 0.999;
const HELD_DISPLAY = 0.995;

/**
 * The soft limit on open files this process (and so every server and client process it starts)
 * has, from /proc/self/limits; Infinity where that cannot be read (not Linux) or is unlimited.
 */
function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
/** Files a server process keeps open besides its sockets (database, WAL, logs, NATS, PostgreSQL, listeners), with room to spare. */
const FILES_BESIDE_SOCKETS = 500;

async function held(participants: number): Promise<HeldResult[]> {
  const displays = num('displays');
  const seconds = num('seconds');
  const baseline = String(values.baseline);
  const results: HeldResult[] = [];
  const files = openFileLimit();
  log(`\n## 1. One space, ${participants} participants (an input every ${num('input-every')} ms each) and ${displays} displays, ${seconds} s measured`);
  log('setup                                            | participant pulses | display pulses | tap→display p50 / p95 | ack p99  | servers’ CPU | CPU / delivered msg | memory / participant: RSS, heap');
  log('-------------------------------------------------|--------------------|----------------|-----------------------|----------|--------------|---------------------|--------------------------------');
  const row = (label: string, m: Awaited<ReturnType<typeof measureOn>>, note = '') => {
    const { r, cpuS, wallS } = m;
    // Server CPU in the window per pulse delivered in it (acks and inputs ride along: the model's unit).
    const delivered = r.participantPulses.received + r.displayPulses.received;
    const perMsgUs = (cpuS / delivered) * 1e6;
    const pp = pct(r.participantPulses.received, r.participantPulses.expected);
    const dp = pct(r.displayPulses.received, r.displayPulses.expected);
    log(`${label.padEnd(49)}| ${pp.padStart(18)} | ${dp.padStart(14)} | ${`${fmt(r.tapToDisplayMs.p50, 0)} / ${fmt(r.tapToDisplayMs.p95, 0)} ms`.padStart(21)} | ${`${fmt(r.ackMs.p99, 0)} ms`.padStart(8)} | ${`${fmt((100 * cpuS) / wallS, 0)} % of a core`.padStart(12)} | ${`${fmt(perMsgUs, 1)} µs`.padStart(19)} | ${fmt(m.rssPer / 1024)} KB, ${fmt(m.heapPer / 1024)} KB (joined ${r.joined}, load driver ${fmt((100 * r.driverCpuS) / r.durationS, 0)} % of a core, inputs sent / acked ${r.inputsSent} / ${r.inputsAcked}, tap→display seen ${r.tapToDisplayMs.n} of ${r.tapToDisplayMs.moves}, pulse ${fmt(r.pulseBytes, 0)} bytes${note}, errors ${JSON.stringify(r.errors)}, load average ${loadavg()[0]?.toFixed(1)})`);
    const ok =
      r.joined >= participants &&
      r.participantPulses.expected > 0 &&
      r.participantPulses.received >= HELD_PARTICIPANT * r.participantPulses.expected &&
      r.displayPulses.expected > 0 &&
      r.displayPulses.received >= HELD_DISPLAY * r.displayPulses.expected;
    results.push({ label, participants, held: ok, summary: `${pp} / ${dp}, tap→display p95 ${fmt(r.tapToDisplayMs.p95, 0)} ms, joined ${r.joined}` });
  };
  /** A row whose processes would each need more sockets than a process may open: not run, and never held. */
  const beyondFiles = (label: string, n: number): boolean => {
    const perProcess = Math.ceil((participants + displays) / n);
    if (perProcess + FILES_BESIDE_SOCKETS <= files) return false;
    log(`${label.padEnd(49)}| not run: ${perProcess} sockets per process, past the ${files} files a process may open here (less ${FILES_BESIDE_SOCKETS} for the rest)`);
    results.push({ label, participants, held: false, summary: `not run (${perProcess} sockets per process; open-file limit ${files})` });
    return true;
  };
  const load = (vr: Variant) => ({ participants, displays, inputEveryMs: num('input-every'), durationS: seconds, rampS: num('ramp'), ...(vr.workers ? { workers: vr.workers } : {}) });
  // The size of attune's pulses in the last attune row (the load driver's displays note it, as in bench:cadence), for the plain-ws rows to send the same bytes.
  let pulseBytes = 0;
  const nodes = String(values.nodes).split(',').map(Number);
  for (const h of heldRows(baseline, nodes, num('repeat'))) {
    const vr = variantOf(h.variant) ?? { serve: [], env: {} };
    if (h.kind === 'ws') {
      const label = `plain ws × ${h.n} process${h.n === 1 ? '' : 'es'} (same bytes, same driver)`;
      if (beyondFiles(label, h.n)) continue;
      // The floor: N plain ws servers (bench/support/cadenceWsServer.ts), the driver spreading the same clients over them as over N nodes.
      const bytes = Math.round(pulseBytes) || 1500;
      const ws = await Promise.all(Array.from({ length: h.n }, () => startProbedServer('ws', { spaces: 1, capacity: participants + displays + 10, pulseBytes: bytes })));
      try {
        const servers = ws.map((w) => ({ url: w.wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, ''), pid: w.pid, alive: () => true, memory: () => w.memory() }));
        const m = await withEnv(vr.env, () => measureOn(servers, { code: ws[0]?.codes[0] as string, ...load(vr), probesBesideDisplay: h.n > 1 }));
        row(label, m, ` (padded to ${bytes})`);
      } finally {
        await Promise.all(ws.map((w) => w.stop()));
      }
      continue;
    }
    if (beyondFiles(h.label, h.n)) continue;
    const s = await setup(h.label, h.n, h.db, vr.serve);
    try {
      const created = await fetch(`${s.nodes[0]?.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'held', capacity: participants + displays + 10 }) });
      const { code } = (await created.json()) as { code: string };
      const m = await withEnv(vr.env, () => measure(s, { code, ...load(vr) }));
      row(h.label, m, await skippedNote(s.nodes.map((n) => n.url)));
      if (m.r.pulseBytes > 0) pulseBytes = m.r.pulseBytes;
    } finally {
      await s.env.dispose();
    }
  }
  log('(memory: RSS and V8 heap growth of the servers, summed over the nodes, from before the joins to the window’s end, after full collections, per participant joined)');
  if (baseline !== 'none')
    log(
      '(plain ws × N: N processes of bench/support/cadenceWsServer.ts, the load driver spreading the same participants and displays over them round robin as over N nodes, every input acknowledged, pulses padded to the size of the attune row before; each process broadcasts its own pulse of its own participants — no process sees the whole space, so it is the floor of the fan-out on this machine, not a cluster. With N > 1 a display’s tap → display probe group joins that display’s process, which alone could show its move; in the cluster rows it is spread over the nodes)',
    );
  return results;
}

/**
 * Section 1 at each size of `--participants` (a list: a sweep), smallest first, then — for a
 * sweep — the largest size each setup held (everyone joined, participant pulses ≥ 99.9 % and
 * display pulses ≥ 99.5 %), beside the first size it did not.
 */
async function heldSweep(): Promise<void> {
  const sizes = String(values.participants)
    .split(',')
    .map((x) => Number(x.trim()));
  const bad = sizes.find((n) => !Number.isInteger(n) || n < 1);
  if (bad !== undefined) throw new Error(`--participants: a whole number of people, or a list of them (5000,10000,20000), got '${values.participants}'`);
  sizes.sort((a, b) => a - b);
  const all: HeldResult[] = [];
  for (const n of sizes) all.push(...(await held(n)));
  if (sizes.length < 2) return;
  log(`\n## 1b. Participants held (of ${sizes.join(', ')}): everyone joined, participant pulses ≥ ${fmt(HELD_PARTICIPANT * 100)} %, display pulses ≥ ${fmt(HELD_DISPLAY * 100)} %`);
  log('setup                                            | held (largest size that did) | first size that did not: participant / display pulses');
  log('-------------------------------------------------|------------------------------|------------------------------------------------------');
  const labels = [...new Set(all.map((x) => x.label))];
  for (const label of labels) {
    const mine = all.filter((x) => x.label === label);
    const best = mine.filter((x) => x.held).reduce((a, x) => Math.max(a, x.participants), 0);
    const failed = mine.find((x) => !x.held && x.participants > best);
    log(`${label.padEnd(49)}| ${(best > 0 ? String(best) : `none (< ${sizes[0]})`).padStart(28)} | ${failed ? `${failed.participants}: ${failed.summary}` : '–'}`);
  }
}

async function rates(): Promise<void> {
  const steps = String(values.rates).split(',').map(Number);
  const people = num('rate-participants');
  const secs = num('rate-seconds');
  log(`\n## 2. Durable inputs/s: ${people} participants, input rate stepped ${steps.join(', ')}/s, ${secs} s each; the figure is the highest acknowledged rate with ack p99 ≤ 250 ms`);
  const rows: [string, number, 'postgres' | 'sqlite'][] = [
    ['baseline: 1 node, SQLite', 1, 'sqlite'],
    ['cluster of 1, PostgreSQL', 1, 'postgres'],
    ['cluster of 3, PostgreSQL', 3, 'postgres'],
  ];
  for (const [label, n, db] of rows) {
    const s = await setup(label, n, db);
    let best = 0;
    const seen: string[] = [];
    try {
      for (const rate of steps) {
        const { r } = await measure(s, { participants: people, displays: 1, inputEveryMs: Math.max(50, Math.round((1000 * people) / rate)), durationS: secs, rampS: 2 });
        const acked = r.inputsAcked / secs;
        seen.push(`${rate}/s → ${fmt(acked, 0)}/s acked, p99 ${fmt(r.ackMs.p99, 0)} ms`);
        if (r.ackMs.p99 <= 250) best = Math.max(best, acked);
        else break;
      }
    } finally {
      await s.env.dispose();
    }
    log(`${label.padEnd(28)}: ${fmt(best, 0)} inputs/s   (${seen.join('; ')})`);
  }
}

async function failover(): Promise<void> {
  const people = num('failover-participants');
  log(`\n## 3. Failover: 3 nodes, ${people} participants (an input every 500 ms), 2 displays; kill -9 a non-owner 9 s into the run, then the owner 7 s later`);
  const s = await setup('failover', 3, 'postgres');
  try {
    const created = await fetch(`${s.nodes[0]?.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'failover', capacity: people + 10 }) });
    const { code, id } = (await created.json()) as { code: string; id: string };
    const kv = await NatsKv.connect({ servers: NATS_URL.slice('nats://'.length), bucket: `${s.env.name}_cluster` });
    const owner = async () => {
      const e = await kv.get(`lease.${id}`);
      return e ? decodeLease(e.value).node : null;
    };
    // A watcher display on every node notes when pulses arrive (one clock: this process).
    const watch = s.nodes.map((n) => {
      /** [seq, beat time of the pulse (`at`), arrival]: all on this machine's clock. */
      const arrivals: [number, number, number][] = [];
      const ws = new WebSocket(n.wsUrl, { perMessageDeflate: false });
      ws.on('open', () => ws.send(JSON.stringify({ t: 'join', code, role: 'display' })));
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { t: string; seq?: number; at?: number };
        if (m.t === 'pulse' && typeof m.seq === 'number') arrivals.push([m.seq, m.at ?? 0, Date.now()]);
      });
      ws.on('error', () => {});
      return { node: n, ws, arrivals };
    });
    let nonOwnerKill = 0;
    let victimId = '?';
    const runStart = Date.now();
    let ownerKill = 0;
    let ownerNode: AttuneNode | null = null;
    let survivor: AttuneNode | null = null;
    const run = measure(s, { code, participants: people, displays: 2, inputEveryMs: 500, durationS: 20, rampS: 3, acked: true });
    const killer = (async () => {
      await new Promise((r) => setTimeout(r, 9000));
      const first = await owner();
      const victim = s.nodes.find((n) => n.id !== first) as AttuneNode;
      nonOwnerKill = Date.now();
      victimId = victim.id;
      victim.kill();
      await new Promise((r) => setTimeout(r, 7000));
      const o = await owner();
      ownerNode = s.nodes.find((n) => n.id === o) ?? null;
      survivor = s.nodes.find((n) => n !== victim && n !== ownerNode) ?? null;
      ownerKill = Date.now();
      ownerNode?.kill();
    })();
    const [{ r }] = await Promise.all([run, killer]);
    const w = watch.find((x) => x.node === survivor);
    // The new owner's first pulse: the first whose beat is after the kill (the old owner's pulses
    // still in flight arrive after it too, but their beats are before it).
    const firstAfter = w?.arrivals.find(([, at]) => at > ownerKill);
    const takeoverMs = firstAfter ? firstAfter[2] - ownerKill : Number.NaN;
    const seqs = w?.arrivals.map(([q]) => q) ?? [];
    const monotonic = seqs.every((q, i) => i === 0 || q > (seqs[i - 1] as number));
    const rows = await adminQuery<{ participant_id: string; seq: string }>(`SELECT participant_id, seq FROM ${s.env.schema}.inputs WHERE space_id = $1`, [id]);
    const stored = new Set(rows.map((x) => `${x.participant_id}:${x.seq}`));
    let ackedN = 0;
    let lost = 0;
    for (const [pid, list] of Object.entries(r.acked ?? {})) {
      for (const q of list) {
        ackedN++;
        if (!stored.has(`${pid}:${q}`)) lost++;
      }
    }
    log(`reference (same run): ack p50 / p99 over the whole run   ${fmt(r.ackMs.p50, 0)} / ${fmt(r.ackMs.p99, 0)} ms`);
    log(`reconnections after the two kills                          ${r.reconnects} (of ${r.joined} clients)`);
    log(`resume after kill -9 (socket lost → welcome), p50 / p95 / max  ${fmt(r.resumeMs.p50, 0)} / ${fmt(r.resumeMs.p95, 0)} / ${fmt(r.resumeMs.max, 0)} ms (n = ${r.resumeMs.n})`);
    log(`tick taken over after kill -9 of the owner (first new pulse on a survivor)  ${fmt(takeoverMs, 0)} ms; seq ${monotonic ? 'strictly increasing' : 'NOT monotonic'} on that display`);
    log(`acknowledged inputs lost                                    ${lost} of ${ackedN} acknowledged (stored in PostgreSQL: ${rows.length})`);
    log(`killed: ${victimId} (not the owner) at ${fmt((nonOwnerKill - runStart) / 1000)} s, then the owner ${(ownerNode as AttuneNode | null)?.id ?? '?'} at ${fmt((ownerKill - runStart) / 1000)} s; errors by code ${JSON.stringify(r.errors)}`);
    for (const x of watch) x.ws.terminate();
    await kv.close();
  } finally {
    await s.env.dispose();
  }
}

log(`# bench:scale — ${new Date().toISOString()}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores shared with the load driver)`);
if (sections.has('held')) await heldSweep();
if (sections.has('rates')) await rates();
if (sections.has('failover')) await failover();
log(`\nload average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
