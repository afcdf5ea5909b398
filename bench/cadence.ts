/**
 * `npm run bench:cadence` — what people experience, beside plain `ws`, in the same run. Figures,
 * never pass/fail.
 *
 * For each scenario, twice — against attune (`attune serve` in its own process, SQLite in a
 * temporary file) and against a plain-ws server (bench/support/cadenceWsServer.ts, its own
 * process) broadcasting pulses of the byte size attune's had, at the same rates — the same
 * client processes (bench/support/cadenceClients.ts; one process saturates first), each person
 * the project's protocol client (src/client), measure:
 *
 * - joins: first join sent → last welcome, and → the 10,000th welcome;
 * - pulses that arrive at participants and at displays, against duration × rate;
 * - tap → display: a probe participant per space moves between two cells no one else uses; the
 *   space's display (in the same process, one clock) notes the first pulse that shows the move;
 * - ack latency of every tap (participants tap every `--tap-every` s, jittered);
 * - server CPU in the window, and the client processes' CPU (a saturated client process would
 *   make the server look worse than it is: flagged in the report).
 *
 * Usage:
 *   npm run bench:cadence                                  # --quick: 2 spaces × 1,000, ~1 minute
 *   npm run bench:cadence -- --spaces 20 --participants-per-space 200 --displays-per-space 1 --minutes 10
 *   npm run bench:cadence -- --spaces 1 --participants 19000 --minutes 10
 *   npm run bench:cadence -- --preset moderate            # 1 × 5,000 and 20 × 50, 2 minutes each
 *   npm run bench:cadence -- --preset issue               # 20 × 250 and 1 × 19,000, 10 minutes each
 * Other flags: --seconds S, --tap-every S (10), --probe-group K (1), --probe-every MS (500),
 * --workers W, --join-concurrency C (joins in flight over all client processes, 400), --warmup S, --participant-hz N (2),
 * --display-hz N (20), --client-nice N (10: the client processes run at this lower priority so the
 * load generator does not starve the server it measures; the same for both targets), --targets attune,ws (also attune-v8: attune without `attune serve`'s default Node flags, src/cli/nodeFlags.ts — the A/B of those flags in one run), --attune-root DIR (run the server of another checkout,
 * e.g. an exported older commit, for an A/B), --observer true|false (true: every space's displays
 * and probes in one process of their own, apart from the participants' load generators, as a
 * venue's screen is apart from the phones). Every flag can also be set as CADENCE_<FLAG>
 * (e.g. CADENCE_MINUTES=10).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg, setPriority } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkerPlan, WorkerResult } from './support/cadenceClients.ts';
import { LatencyHistogram } from './support/latencyHistogram.ts';
import { cpuSeconds } from './support/procCpu.ts';
import { meanPulseBytes } from './support/pulseBytes.ts';
import { type ProbedServer, startProbedServer } from './support/probedServers.ts';

const FLAGS = {
  quick: { type: 'boolean' },
  preset: { type: 'string' },
  spaces: { type: 'string' },
  participants: { type: 'string' },
  'participants-per-space': { type: 'string' },
  'displays-per-space': { type: 'string' },
  minutes: { type: 'string' },
  seconds: { type: 'string' },
  warmup: { type: 'string' },
  'tap-every': { type: 'string' },
  'probe-group': { type: 'string' },
  'probe-every': { type: 'string' },
  workers: { type: 'string' },
  'join-concurrency': { type: 'string' },
  'participant-hz': { type: 'string' },
  'display-hz': { type: 'string' },
  targets: { type: 'string' },
  'attune-root': { type: 'string' },
  'client-nice': { type: 'string' },
  observer: { type: 'string' },
} as const;

const { values: argv } = parseArgs({ args: process.argv.slice(2), options: FLAGS, strict: true });
const flag = (name: keyof typeof FLAGS): string | undefined => {
  const v = argv[name];
  if (typeof v === 'string') return v;
  if (v === true) return 'true';
  return process.env[`CADENCE_${name.toUpperCase().replaceAll('-', '_')}`];
};
const num = (name: keyof typeof FLAGS, fallback: number): number => {
  const raw = flag(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got '${raw}'`);
  return n;
};

interface Scenario {
  readonly spaces: number;
  readonly perSpace: number;
  readonly displaysPerSpace: number;
  readonly seconds: number;
}

function scenarios(): Scenario[] {
  const preset = flag('preset');
  const seconds = flag('seconds') !== undefined ? num('seconds', 15) : flag('minutes') !== undefined ? num('minutes', 1) * 60 : undefined;
  const d = num('displays-per-space', 1);
  if (preset === 'moderate') return [{ spaces: 1, perSpace: 5000, displaysPerSpace: d, seconds: seconds ?? 120 }, { spaces: 20, perSpace: 50, displaysPerSpace: d, seconds: seconds ?? 120 }];
  if (preset === 'issue') return [{ spaces: 20, perSpace: 250, displaysPerSpace: d, seconds: seconds ?? 600 }, { spaces: 1, perSpace: 19_000, displaysPerSpace: d, seconds: seconds ?? 600 }];
  if (preset !== undefined) throw new Error(`unknown --preset '${preset}' (moderate | issue)`);
  const spaces = num('spaces', 2);
  const perSpace = flag('participants-per-space') !== undefined ? num('participants-per-space', 1000) : flag('participants') !== undefined ? Math.ceil(num('participants', 2000) / spaces) : 1000;
  return [{ spaces, perSpace, displaysPerSpace: d, seconds: seconds ?? 15 }];
}

const participantHz = num('participant-hz', 2);
const displayHz = num('display-hz', 20);
const clientNice = num('client-nice', 10);
const tapEveryMs = num('tap-every', 10) * 1000;
const probeGroup = Math.max(1, Math.round(num('probe-group', 1)));
const probeEveryMs = num('probe-every', 500);
const observer = (flag('observer') ?? 'true') !== 'false';
// Joins in flight at once, over all client processes: below Node's default listen backlog
// (511) so that the kernel's accept queue never overflows (a dropped SYN costs a 1 s retransmit,
// which would time the kernel, not the server).
const joinConcurrency = Math.max(1, Math.round(num('join-concurrency', 400)));
/** `attune-v8`: attune with V8's own young-generation sizing instead of `attune serve`'s default flags (src/cli/nodeFlags.ts), for their A/B in one run. */
type Target = 'attune' | 'attune-v8' | 'ws';
const targets = (flag('targets') ?? 'attune,ws').split(',').map((s) => s.trim()) as Target[];
const targetLabel = (t: string): string => (t === 'attune' ? 'attune' : t === 'attune-v8' ? 'attune, V8’s default flags' : 'plain ws (same bytes)');

const log = (s: string): void => {
  process.stderr.write(`[cadence ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ——— processes ——————————————————————————————————————————————————————————————————————

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** This process's file limit (soft, hard), read from the shell: Node has no getrlimit. */
function fileLimits(): { soft: number; hard: number } {
  try {
    const [s, h] = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
    const n = (x: string | undefined) => (x === 'unlimited' ? Number.POSITIVE_INFINITY : Number(x));
    return { soft: n(s), hard: n(h) };
  } catch {
    return { soft: 1024, hard: 1024 };
  }
}
const LIMITS = fileLimits();

/** Forks a Node script with IPC, raising its file limit to the hard limit when the soft one is lower. */
function forkNode(script: string, args: string[]): ChildProcess {
  const raise = LIMITS.hard > LIMITS.soft && Number.isFinite(LIMITS.hard);
  // CADENCE_CLIENT_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the client processes.
  const nodeArgs = (process.env.CADENCE_CLIENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = raise
    ? spawn('sh', ['-c', `ulimit -n ${LIMITS.hard} && exec "$0" "$@"`, process.execPath, ...nodeArgs, script, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...nodeArgs] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function nextMessage<T>(child: ChildProcess, ev: string, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${ev}' from child ${child.pid} within ${timeoutMs} ms`)), timeoutMs);
    const onMsg = (m: { ev?: string }) => {
      if (m.ev !== ev) return;
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`child ${child.pid} exited (${code}) before '${ev}'`));
    };
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}

/** A probed server (bench/support/probedServers.ts): memory readings after full collections, for the memory rows. */
async function startServer(target: Target, sc: Scenario, pulseBytes: number): Promise<ProbedServer> {
  // CADENCE_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server alone.
  const nodeArgs = (process.env.CADENCE_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const raise = LIMITS.hard > LIMITS.soft && Number.isFinite(LIMITS.hard);
  const attuneRoot = flag('attune-root');
  const server = await startProbedServer(target === 'ws' ? 'ws' : 'attune', { serveNodeFlags: target !== 'attune-v8', spaces: sc.spaces, capacity: sc.perSpace + probeGroup + 10, participantHz, displayHz, pulseBytes, nodeArgs, ...(raise ? { fileLimit: LIMITS.hard } : {}), ...(attuneRoot ? { attuneRoot } : {}) });
  return server;
}

// ——— one measured run ——————————————————————————————————————————————————————————————

interface Measured {
  readonly target: string;
  readonly joinAllS: number;
  readonly join10kS: number | null;
  readonly joined: number;
  readonly joinFailed: number;
  /** CPU seconds over the join storm (first join sent → last welcome): the server's, and all client processes' together. */
  readonly joinServerCpuS: number;
  /** Of joinServerCpuS, the server's main thread (the event loop). */
  readonly joinServerMainCpuS: number;
  readonly joinClientCpuS: number;
  readonly participantShare: number;
  readonly displayShare: number;
  readonly worstParticipant: number;
  readonly worstDisplay: number;
  readonly participantsUnder99: number;
  readonly ack: LatencyHistogram;
  readonly tap: LatencyHistogram;
  readonly probeSeen: number;
  readonly probeMoves: number;
  readonly tapsSent: number;
  readonly tapsAcked: number;
  readonly serverCpu: number;
  /** Server RSS growth from before the participants joined to the end of the window, per participant (both after full collections). */
  readonly rssPerParticipant: number;
  /** V8 heap growth (live bytes after full collections) over the same span, per participant. */
  readonly heapPerParticipant: number;
  /** The young generation's growth over the span, per participant: a step (capped by V8), part of the RSS growth. */
  readonly youngPerParticipant: number;
  readonly rssEnd: number;
  /** Server CPU in the window over the pulses delivered in it (participants' and displays'). */
  readonly cpuPerMessageUs: number;
  readonly clientCpuMax: number;
  readonly pulseBytes: number;
  readonly disconnects: number;
  readonly errors: Record<string, number>;
  /** The machine's 1-minute load average at the window's start and end (2 cores here). */
  readonly load: readonly [number, number];
}

function workerCount(sc: Scenario): number {
  const total = sc.spaces * (sc.perSpace + sc.displaysPerSpace + probeGroup);
  const w = flag('workers') !== undefined ? num('workers', 2) : Math.min(6, Math.max(2, Math.ceil(total / 4000)));
  if (total / w > LIMITS.soft - 500) throw new Error(`${Math.ceil(total / w)} sockets per client process exceeds the file limit (${LIMITS.soft}); use more --workers`);
  return w;
}

async function measure(target: Target, sc: Scenario, pulseBytes: number): Promise<Measured> {
  const total = sc.spaces * (sc.perSpace + sc.displaysPerSpace + probeGroup);
  if (total > LIMITS.soft - 500) throw new Error(`${total} sockets on one server exceeds its file limit (${LIMITS.soft} open files per process)`);
  const server = await startServer(target, sc, pulseBytes);
  const W = workerCount(sc);
  const workers: ChildProcess[] = [];
  try {
    // W processes of participants, and one more — the observer — holding every space's displays
    // and probes: a venue's screen and a phone are devices of their own, not one of thousands of
    // emulated phones in a saturated load generator, so what they see is timed by a process that
    // is free to read it (one clock for a space's probe and display). --observer false puts them
    // back among the participants, as before.
    for (let w = 0; w < W + (observer ? 1 : 0); w++) {
      const isObserver = w === W;
      const spaces = server.codes.map((code, s) => {
        const share = isObserver ? 0 : Math.floor(sc.perSpace / W) + (w < sc.perSpace % W ? 1 : 0);
        const home = observer ? isObserver : s % W === w; // this space's displays and probe live here, so one clock times both
        return { code, participants: share, displays: home ? sc.displaysPerSpace : 0, probes: home && sc.displaysPerSpace > 0 ? probeGroup : 0 };
      });
      const lanes = isObserver ? 1 : Math.max(1, Math.floor(joinConcurrency / W) + (w < joinConcurrency % W ? 1 : 0));
      const plan: WorkerPlan = { url: server.wsUrl, spaces, tapEveryMs, probeEveryMs, joinConcurrency: lanes, joinTimeoutMs: 120_000 };
      const child = forkNode(join(import.meta.dirname, 'support', 'cadenceClients.ts'), [JSON.stringify(plan)]);
      // The load generator must not starve the server it measures: on a real venue the phones
      // are other machines. Here they share 2 cores with the server, so they run at a lower
      // priority (the same for both targets); --client-nice 0 turns that off.
      if (clientNice > 0 && child.pid !== undefined) setPriority(child.pid, clientNice);
      workers.push(child);
      await nextMessage(child, 'ready', 60_000);
    }
    const all = <T>(ev: string, cmd: object): Promise<T[]> =>
      Promise.all(
        workers.map((c) => {
          const reply = nextMessage<T>(c, ev);
          c.send(cmd);
          return reply;
        }),
      );
    const d = await all<{ ok: number; failed: number }>('displays', { cmd: 'displays' });
    log(`${target}: ${d.reduce((a, x) => a + x.ok, 0)} displays and probes in${observer ? ' (the observer process)' : ''}${d.some((x) => x.failed) ? ` (${d.reduce((a, x) => a + x.failed, 0)} failed)` : ''}; ${sc.spaces * sc.perSpace} participants joining from ${W} processes…`);
    // Before the participants join, after full collections (the probe): the baseline of the memory rows.
    const mem0 = await server.memory();
    // The server's main thread apart: the rest of its CPU is its other threads' (attune's SQLite writer, libuv's pool).
    const joinCpuOf = () => [cpuSeconds(server.pid), cpuSeconds(server.pid, `/proc/${server.pid}/task/${server.pid}/stat`), ...workers.map((w) => cpuSeconds(w.pid))];
    const joinCpu0 = joinCpuOf();
    const joins = await all<{ firstSentAt: number; welcomes: number[]; failed: number }>('joined', { cmd: 'join' });
    const joinCpu = joinCpuOf().map((c, i) => c - (joinCpu0[i] as number));
    const first = Math.min(...joins.map((j) => j.firstSentAt));
    const welcomes = joins.flatMap((j) => j.welcomes).sort((a, b) => a - b);
    const joinAllS = welcomes.length ? ((welcomes.at(-1) as number) - first) / 1000 : Number.NaN;
    const join10kS = welcomes.length >= 10_000 ? ((welcomes[9_999] as number) - first) / 1000 : null;
    const joinFailed = joins.reduce((a, j) => a + j.failed, 0);
    log(`${target}: ${welcomes.length} joined in ${joinAllS.toFixed(2)} s${join10kS !== null ? ` (10,000th at ${join10kS.toFixed(2)} s)` : ''}${joinFailed ? `, ${joinFailed} failed` : ''}`);

    const warmupMs = num('warmup', Math.min(10, 3 + sc.spaces * sc.perSpace / 2000)) * 1000;
    const from = Date.now() + warmupMs;
    const to = from + sc.seconds * 1000;
    for (const c of workers) c.send({ cmd: 'measure', from, to });
    const results = Promise.all(workers.map((c) => nextMessage<WorkerResult>(c, 'result', sc.seconds * 1000 + warmupMs + 120_000)));
    await sleep(Math.max(0, from - Date.now()));
    const cpu0 = [cpuSeconds(server.pid), ...workers.map((w) => cpuSeconds(w.pid))];
    const load0 = loadavg()[0] ?? Number.NaN;
    const t0 = Date.now();
    // Progress every ~10 % of the window (at least every 5 s, at most every 60 s).
    const every = Math.min(60_000, Math.max(5_000, (sc.seconds * 1000) / 10));
    let cpu1 = cpu0;
    let t1 = t0;
    while (Date.now() < to - 500) {
      await sleep(Math.min(every, to - Date.now() - 400));
      if (Date.now() >= to - 400) break;
      const ps = await all<{ participantPulses: number; displayPulses: number; tapsSent: number; tapsAcked: number; ackP95: number; tapP95: number; probeSeen: number; probeMoves: number; disconnects: number }>('progress', { cmd: 'progress' });
      const el = (Date.now() - from) / 1000;
      const pp = ps.reduce((a, p) => a + p.participantPulses, 0) / Math.max(1, sc.spaces * sc.perSpace * el * participantHz);
      const dp = ps.reduce((a, p) => a + p.displayPulses, 0) / Math.max(1, sc.spaces * sc.displaysPerSpace * el * displayHz);
      log(`${target}: ${el.toFixed(0)}/${sc.seconds} s — participant pulses ${(pp * 100).toFixed(2)} %, display ${(dp * 100).toFixed(2)} %, acks ${ps.reduce((a, p) => a + p.tapsAcked, 0)}/${ps.reduce((a, p) => a + p.tapsSent, 0)}, worst process ack p95 ${Math.max(...ps.map((p) => p.ackP95 || 0)).toFixed(0)} ms, tap→display p95 ${Math.max(...ps.map((p) => p.tapP95 || 0)).toFixed(0)} ms`);
    }
    await sleep(Math.max(0, to - Date.now()));
    cpu1 = [cpuSeconds(server.pid), ...workers.map((w) => cpuSeconds(w.pid))];
    t1 = Date.now();
    const rs = await results;
    // After the window (and its results: nothing of the measurement is timed any more), with everyone still connected.
    const mem1 = await server.memory();
    const span = (t1 - t0) / 1000;
    const cpuShare = (i: number) => ((cpu1[i] as number) - (cpu0[i] as number)) / span;

    const pClients = rs.reduce((a, r) => a + r.participantClients, 0);
    const dClients = rs.reduce((a, r) => a + r.displayClients, 0);
    const pExpected = sc.seconds * participantHz;
    const dExpected = sc.seconds * displayHz;
    const pPer = rs.flatMap((r) => r.participantPerClient);
    const dPer = rs.flatMap((r) => r.displayPerClient);
    const ack = new LatencyHistogram();
    const tap = new LatencyHistogram();
    const errors: Record<string, number> = {};
    for (const r of rs) {
      ack.merge(LatencyHistogram.from(r.acks));
      tap.merge(LatencyHistogram.from(r.tapToDisplay));
      for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    }
    return {
      target,
      joinAllS,
      join10kS,
      joined: welcomes.length,
      joinFailed,
      joinServerCpuS: joinCpu[0] as number,
      joinServerMainCpuS: joinCpu[1] as number,
      joinClientCpuS: joinCpu.slice(2).reduce((a, x) => a + x, 0),
      participantShare: rs.reduce((a, r) => a + r.participantPulses, 0) / Math.max(1, pClients * pExpected),
      displayShare: rs.reduce((a, r) => a + r.displayPulses, 0) / Math.max(1, dClients * dExpected),
      worstParticipant: pPer.length ? Math.min(...pPer) / pExpected : Number.NaN,
      worstDisplay: dPer.length ? Math.min(...dPer) / dExpected : Number.NaN,
      participantsUnder99: pPer.filter((c) => c < 0.99 * pExpected).length,
      ack,
      tap,
      probeSeen: rs.reduce((a, r) => a + r.probeSeen, 0),
      probeMoves: rs.reduce((a, r) => a + r.probeMoves, 0),
      tapsSent: rs.reduce((a, r) => a + r.tapsSent, 0),
      tapsAcked: rs.reduce((a, r) => a + r.tapsAcked, 0),
      serverCpu: cpuShare(0),
      rssPerParticipant: (mem1.rss - mem0.rss) / Math.max(1, welcomes.length),
      heapPerParticipant: (mem1.heapUsed - mem0.heapUsed) / Math.max(1, welcomes.length),
      youngPerParticipant: (mem1.newSpace - mem0.newSpace) / Math.max(1, welcomes.length),
      cpuPerMessageUs: (((cpu1[0] as number) - (cpu0[0] as number)) * 1e6) / Math.max(1, rs.reduce((a, r) => a + r.participantPulses + r.displayPulses, 0)),
      rssEnd: mem1.rss,
      clientCpuMax: Math.max(...workers.map((_, i) => cpuShare(i + 1))),
      pulseBytes: meanPulseBytes(rs),
      disconnects: rs.reduce((a, r) => a + r.disconnects, 0),
      errors,
      load: [load0, loadavg()[0] ?? Number.NaN],
    };
  } finally {
    for (const c of workers) if (c.connected) c.send({ cmd: 'exit' });
    await Promise.all(workers.map((c) => (c.exitCode !== null ? Promise.resolve() : Promise.race([new Promise<void>((r) => c.once('exit', () => r())), sleep(10_000).then(() => c.kill('SIGKILL'))]))));
    await server.stop();
  }
}

// ——— report ————————————————————————————————————————————————————————————————————————

const pct = (x: number, digits = 2): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)} %` : '—');
const ms = (x: number): string => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : x.toFixed(0)}` : '—');
const lat = (h: LatencyHistogram): string => (h.total ? `${ms(h.quantile(0.5))} / ${ms(h.quantile(0.95))} / ${ms(h.quantile(0.99))} ms` : '—');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

function report(sc: Scenario, rows: Measured[]): void {
  const n = sc.spaces * sc.perSpace;
  console.log(`\n## ${sc.spaces} space${sc.spaces === 1 ? '' : 's'} × ${sc.perSpace.toLocaleString('en')} participants + ${sc.displaysPerSpace} display${sc.displaysPerSpace === 1 ? '' : 's'} each, ${sc.seconds} s window, taps every ${tapEveryMs / 1000} s (${participantHz} Hz / ${displayHz} Hz)\n`);
  const a = rows.find((r) => r.target === 'attune');
  const w = rows.find((r) => r.target === 'ws');
  const cols = rows.map((r) => targetLabel(r.target));
  console.log(`| measure | ${cols.join(' | ')} |${a && w ? ' attune / ws |' : ''} issue's aim |`);
  console.log(`|---|${rows.map(() => '---:|').join('')}${a && w ? '---:|' : ''}---|`);
  const line = (name: string, f: (r: Measured) => string, aim: string, r?: (m: Measured) => number) => console.log(`| ${name} | ${rows.map(f).join(' | ')} |${a && w ? ` ${r ? ratio(r(a), r(w)) : ''} |` : ''} ${aim} |`);
  line(`join: all ${n.toLocaleString('en')} (first sent → last welcome)`, (r) => `${r.joinAllS.toFixed(2)} s${r.joinFailed ? ` (${r.joinFailed} failed)` : ''}`, n >= 10_000 ? '' : '', (m) => m.joinAllS);
  line('join: CPU over the joins, server (its main thread) / all client processes, core-seconds; server µs per join', (r) => `${r.joinServerCpuS.toFixed(2)} (${r.joinServerMainCpuS.toFixed(2)}) / ${r.joinClientCpuS.toFixed(2)} s; ${((r.joinServerCpuS * 1e6) / Math.max(1, r.joined)).toFixed(0)} µs`, '', (m) => m.joinServerCpuS);
  if (n >= 10_000) line('join: first 10,000', (r) => (r.join10kS !== null ? `${r.join10kS.toFixed(2)} s` : '—'), '≤ 3 s', (m) => m.join10kS ?? Number.NaN);
  line('participant pulses arrived', (r) => pct(r.participantShare), '≥ 99.9 %');
  line('display pulses arrived', (r) => pct(r.displayShare), '≥ 99.5 %');
  line('worst participant / worst display', (r) => `${pct(r.worstParticipant, 1)} / ${pct(r.worstDisplay, 1)}`, '');
  line('participants under 99 % of pulses', (r) => `${r.participantsUnder99}`, '');
  line('tap → display p50 / p95 / p99', (r) => `${lat(r.tap)} (${r.probeSeen}/${r.probeMoves})`, 'p95 ≤ 100 ms', (m) => m.tap.quantile(0.95));
  line('ack p50 / p95 / p99', (r) => `${lat(r.ack)} (${r.tapsAcked}/${r.tapsSent})`, '', (m) => m.ack.quantile(0.95));
  line('server CPU (cores)', (r) => r.serverCpu.toFixed(2), '', (m) => m.serverCpu);
  line('server CPU per delivered pulse (µs; everything the server did, over pulses that arrived)', (r) => r.cpuPerMessageUs.toFixed(1), '', (m) => m.cpuPerMessageUs);
  line('server memory per participant: RSS growth, joins → end (after full GCs) / RSS at end', (r) => `${(r.rssPerParticipant / 1024).toFixed(1)} KB / ${(r.rssEnd / 1048576).toFixed(0)} MiB`, '≤ 9 KB', (m) => m.rssPerParticipant);
  line('  of which V8 heap, live bytes / the young generation’s step', (r) => `${(r.heapPerParticipant / 1024).toFixed(1)} KB / ${(r.youngPerParticipant / 1024).toFixed(1)} KB`, '', (m) => m.heapPerParticipant);
  line('busiest client process CPU (cores)', (r) => `${r.clientCpuMax.toFixed(2)}${r.clientCpuMax > 0.9 ? ' ⚠ saturated' : ''}`, '');
  line('pulse size seen by displays (bytes)', (r) => r.pulseBytes.toFixed(0), '');
  line('machine load, 1-min average (start → end)', (r) => `${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)}`, '');
  line('reconnections / errors', (r) => `${r.disconnects} / ${Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || '0'}`, '');
  console.log('\n(tap → display: a probe participant per space moves between two cells nobody else uses; counted as (seen/moves); ratios are attune / plain ws on the p95 or time)');
  console.log(`(pulses count for the window their tick time \`at\` falls in; a tick falls on either side of an edge, ±${(100 / (sc.seconds * participantHz)).toFixed(2)} % for participants and ±${(100 / (sc.seconds * displayHz)).toFixed(2)} % for displays in this window, and a server that stamps late catch-up ticks with the time they went out (not the time they were due) can add the ticks a stall at the window's start held back; run longer windows for the 99.9 % figures)`);
  console.log(`(client processes ran at nice ${clientNice}, the servers at the bench's own priority: the load generator shares the server's 2 cores here, where phones would not)`);
}

console.log(`# bench:cadence — ${new Date().toISOString()} — node ${process.version} — ${availableParallelism()} cores — file limit ${LIMITS.soft}`);
for (const sc of scenarios()) {
  const rows: Measured[] = [];
  let bytes = 1500;
  for (const t of targets) {
    log(`${t}: ${sc.spaces} × ${sc.perSpace} participants, ${sc.seconds} s window`);
    const m = await measure(t, sc, bytes);
    if (t !== 'ws' && m.pulseBytes > 0) bytes = Math.round(m.pulseBytes);
    rows.push(m);
    await sleep(1000);
  }
  report(sc, rows);
}
process.exit(0);
