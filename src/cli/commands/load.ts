/**
 * `attune load`: a load driver over real WebSockets — participants and displays of one space,
 * spread over one or several nodes (SPEC §K), played by several client processes (one client
 * process saturates before the server does). Each process is bench/support/cadenceClients.ts,
 * the worker bench:cadence uses (the project's protocol client, src/client, over `ws`), so the
 * benchmark and this command measure the same things the same way: pulses counted by their tick
 * time, ack latency from send to ack, tap → display with a probe group moving between two corner
 * cells nobody else taps, errors by code, reconnections and the time to resume.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkerPlan, WorkerResult } from '../../../bench/support/cadenceClients.ts';
import { LatencyHistogram } from '../../../bench/support/latencyHistogram.ts';
import { meanPulseBytes } from '../../../bench/support/pulseBytes.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';

const WORKER = join(import.meta.dirname, '..', '..', '..', 'bench', 'support', 'cadenceClients.ts');

const HELP = `Usage: attune load [options]

Drives one space with many participants and displays over real WebSockets, from several client
processes, then prints what they experienced: joined, inputs sent and acknowledged, ack latency,
pulses received against the rate expected per role, tap → display latency, the pulses' size,
errors by code and the client processes' own CPU. Without --code it creates a space (capacity: the participants)
on the first --url.

A pulse counts once per client, and only if its seq is above the last that client counted (a
step back is the error PULSE_ORDER). Participants check each pulse by its head (type, seq, tick
time, count) on the bytes instead of parsing it whole; displays parse it whole (tap → display
reads the histogram). An input the server refuses because its database is behind (OVERLOADED,
SPEC W5b) is kept by the client and sent again after a back-off: it shows under errors by code,
and in ack latency, which runs from the first send.

Options:
  --url URL            a node (http://HOST:PORT); repeat for the nodes of a cluster: clients are
                       spread over them round robin and reconnect to the next on failure
                       (env ATTUNE_URL, default http://127.0.0.1:8787)
  --code CODE          join this space instead of creating one
  --participants N     participants, 3…200000 (default 100)
  --displays N         displays, 0…1000 (default 2)
  --input-every MS     each participant sends an input this often, on average (default 1000)
  --duration SECONDS   the measured window, after the ramp (default 30)
  --ramp SECONDS       spread the joins over this long (default 5)
  --workers N          client processes (default: one per 2,500 clients, at least 2)
  --participant-hz N   the server's participant pulse rate, for the expected count (default 2)
  --display-hz N       the server's display pulse rate (default 20)
  --json               print the figures as one JSON object instead of a table
  --acked              with --json: every participant's acknowledged seqs (to check a store)
  --quiet              no progress bar
  -h, --help           show this help

Environment: CADENCE_CLIENT_NODE_ARGS adds node flags to the client processes (e.g.
"--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them); CADENCE_FULL_PARSE=1 makes participants
parse every pulse whole too (to measure what the head check saves).

Example (three nodes of a cluster, see DEPLOY.md):
  attune load --url http://10.0.0.1:8787 --url http://10.0.0.2:8787 --url http://10.0.0.3:8787 \\
              --participants 30000 --displays 10 --duration 60 --ramp 30
`;

function intFlag(name: string, raw: string | undefined, fallback: number, lo: number, hi: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < lo || n > hi) throw new UsageError(`--${name} must be an integer in [${lo}, ${hi}], got '${raw}'`);
  return n;
}

/** The figures of a load run (`--json`). */
export interface LoadReport {
  readonly urls: readonly string[];
  readonly code: string;
  readonly workers: number;
  readonly durationS: number;
  readonly joined: number;
  readonly participants: number;
  readonly displays: number;
  readonly inputsSent: number;
  readonly inputsAcked: number;
  readonly ackMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly n: number };
  readonly participantPulses: { readonly received: number; readonly expected: number; readonly worstClientShare: number };
  readonly displayPulses: { readonly received: number; readonly expected: number; readonly worstClientShare: number };
  readonly tapToDisplayMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly n: number; readonly moves: number };
  readonly reconnects: number;
  readonly resumeMs: { readonly p50: number; readonly p95: number; readonly max: number; readonly n: number };
  readonly errors: Record<string, number>;
  /** The client processes' CPU over the window, summed, s (what the load driver itself took). */
  readonly driverCpuS: number;
  /** The mean size of the pulses the displays got, bytes (0 without displays): what a plain-ws baseline pads its pulses to. */
  readonly pulseBytes: number;
  readonly acked?: Record<string, number[]>;
}

interface Worker {
  readonly child: ChildProcess;
  readonly plan: WorkerPlan;
  readonly wait: (ev: string) => Promise<Record<string, unknown>>;
  last: Record<string, unknown> | null;
}

function startWorker(plan: WorkerPlan): Promise<Worker> {
  // CADENCE_CLIENT_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the client processes (as bench:cadence).
  const nodeArgs = (process.env.CADENCE_CLIENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = fork(WORKER, [JSON.stringify(plan)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...nodeArgs] });
  const waiting = new Map<string, (m: Record<string, unknown>) => void>();
  const w: Worker = {
    child,
    plan,
    last: null,
    wait: (ev) =>
      new Promise((res, rej) => {
        waiting.set(ev, res);
        child.once('exit', (code) => rej(new Error(`a client process exited (${code})`)));
      }),
  };
  child.on('message', (m: Record<string, unknown>) => {
    if (m.ev === 'progress') w.last = m;
    const f = waiting.get(String(m.ev));
    if (f) {
      waiting.delete(String(m.ev));
      f(m);
    }
  });
  return w.wait('ready').then(() => w);
}

/** Splits n into k near-equal shares. */
function shares(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const int = (x: number) => x.toLocaleString('en-US');

/** Runs a load test; resolves with its figures. `onProgress` gets one line now and then. */
export async function runLoad(o: {
  readonly urls: readonly string[];
  readonly code?: string;
  readonly participants: number;
  readonly displays: number;
  readonly inputEveryMs: number;
  readonly durationS: number;
  readonly rampS: number;
  readonly workers?: number;
  readonly participantHz?: number;
  readonly displayHz?: number;
  readonly acked?: boolean;
  /** Each process's probe group joins the node of the display that times it (servers that share nothing: see WorkerPlan.probesBesideDisplay). */
  readonly probesBesideDisplay?: boolean;
  readonly onProgress?: (line: string) => void;
  /** Called when the measured window opens and when it closes (a benchmark samples server CPU there). */
  readonly onWindow?: (edge: 'open' | 'close') => void;
  readonly signal?: AbortSignal;
}): Promise<LoadReport> {
  const base = o.urls.map((u) => u.replace(/\/+$/, ''));
  let code = o.code;
  if (!code) {
    const r = await fetch(`${base[0]}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'attune load', capacity: Math.max(1, o.participants) }) });
    if (r.status !== 201) throw new Error(`could not create a space on ${base[0]}: ${r.status} ${await r.text()}`);
    code = ((await r.json()) as { code: string }).code;
  }
  const ws = base.map((u) => `${u.replace(/^http/, 'ws')}/ws`);
  const clients = o.participants + o.displays;
  const k = Math.max(1, Math.min(o.workers ?? Math.max(2, Math.ceil(clients / 2500)), Math.max(1, clients)));
  const dispShares = shares(o.displays, k);
  // A probe group of 3 (the default minimum cohort) in every process with a display measures tap → display.
  const probeShares: number[] = dispShares.map((d) => (d > 0 ? 3 : 0));
  const probes = probeShares.reduce((a, b) => a + b, 0);
  const partShares = shares(Math.max(0, o.participants - probes), k);
  const workers = await Promise.all(
    partShares.map((p, i) => {
      // Each process starts its round robin at another node, so the whole crowd is spread evenly.
      const rot = [...ws.slice(i % ws.length), ...ws.slice(0, i % ws.length)];
      return startWorker({
        url: rot[0] as string,
        urls: rot.slice(1),
        spaces: [{ code: code as string, participants: p, displays: dispShares[i] ?? 0, probes: probeShares[i] ?? 0 }],
        tapEveryMs: o.inputEveryMs,
        probeEveryMs: 1000,
        joinConcurrency: 50,
        joinTimeoutMs: 30_000,
        rampMs: o.rampS * 1000,
        reportAcked: o.acked ?? false,
        ...(o.probesBesideDisplay ? { probesBesideDisplay: true } : {}),
      });
    }),
  );
  const kill = () => {
    for (const w of workers) w.child.kill('SIGKILL');
  };
  o.signal?.addEventListener('abort', kill, { once: true });
  const progress = setInterval(() => {
    for (const w of workers) w.child.send({ cmd: 'progress' });
    const joined = workers.reduce((a, w) => a + Number(w.last?.joined ?? 0), 0);
    const acked = workers.reduce((a, w) => a + Number(w.last?.tapsAcked ?? 0), 0);
    o.onProgress?.(`${phase()}  joined ${int(joined)}/${int(o.participants - probes)}  acks ${int(acked)}`);
  }, 500);
  let measureFrom = 0;
  const phase = () => {
    if (!measureFrom) return 'joining…';
    const el = Math.max(0, Math.min(o.durationS, (Date.now() - measureFrom) / 1000));
    const width = 24;
    const fill = Math.round((el / o.durationS) * width);
    return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${fmt(el, 0)}/${o.durationS} s`;
  };
  try {
    const ask = (w: Worker, cmd: Record<string, unknown>, ev: string) => {
      const answer = w.wait(ev);
      w.child.send(cmd);
      return answer;
    };
    await Promise.all(workers.map((w) => ask(w, { cmd: 'displays' }, 'displays')));
    await Promise.all(workers.map((w) => ask(w, { cmd: 'join' }, 'joined')));
    measureFrom = Date.now() + 500;
    const to = measureFrom + o.durationS * 1000;
    const edges = [setTimeout(() => o.onWindow?.('open'), measureFrom - Date.now()), setTimeout(() => o.onWindow?.('close'), to - Date.now())];
    o.signal?.addEventListener('abort', () => edges.forEach(clearTimeout), { once: true });
    const results = (await Promise.all(workers.map((w) => ask(w, { cmd: 'measure', from: measureFrom, to }, 'result')))) as unknown as WorkerResult[];
    const acks = new LatencyHistogram();
    const taps = new LatencyHistogram();
    const resumes = new LatencyHistogram();
    const errors: Record<string, number> = {};
    const acked: Record<string, number[]> = {};
    for (const r of results) {
      acks.merge(LatencyHistogram.from(r.acks));
      taps.merge(LatencyHistogram.from(r.tapToDisplay));
      resumes.merge(LatencyHistogram.from(r.resumes));
      for (const [c, n] of Object.entries(r.errors)) errors[c] = (errors[c] ?? 0) + n;
      Object.assign(acked, r.acked ?? {});
    }
    const sum = (f: (r: WorkerResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const pHz = o.participantHz ?? 2;
    const dHz = o.displayHz ?? 20;
    const worst = (per: (r: WorkerResult) => number[], hz: number) => {
      const all = results.flatMap(per);
      return all.length ? Math.min(...all) / (o.durationS * hz) : Number.NaN;
    };
    const report: LoadReport = {
      urls: base,
      code: code as string,
      workers: k,
      durationS: o.durationS,
      joined: sum((r) => r.joined) + probes,
      participants: o.participants,
      displays: sum((r) => r.displayClients),
      inputsSent: sum((r) => r.tapsSent),
      inputsAcked: sum((r) => r.tapsAcked),
      ackMs: { p50: acks.quantile(0.5), p95: acks.quantile(0.95), p99: acks.quantile(0.99), n: acks.total },
      participantPulses: { received: sum((r) => r.participantPulses), expected: sum((r) => r.participantClients) * o.durationS * pHz, worstClientShare: worst((r) => r.participantPerClient, pHz) },
      displayPulses: { received: sum((r) => r.displayPulses), expected: sum((r) => r.displayClients) * o.durationS * dHz, worstClientShare: worst((r) => r.displayPerClient, dHz) },
      tapToDisplayMs: { p50: taps.quantile(0.5), p95: taps.quantile(0.95), p99: taps.quantile(0.99), n: taps.total, moves: sum((r) => r.probeMoves) },
      reconnects: sum((r) => r.disconnects),
      resumeMs: { p50: resumes.quantile(0.5), p95: resumes.quantile(0.95), max: resumes.max, n: resumes.total },
      errors,
      driverCpuS: sum((r) => r.cpuMs) / 1000,
      pulseBytes: meanPulseBytes(results),
      ...(o.acked ? { acked } : {}),
    };
    return report;
  } finally {
    clearInterval(progress);
    for (const w of workers) if (w.child.connected) w.child.send({ cmd: 'exit' });
    await Promise.all(workers.map((w) => (w.child.exitCode !== null ? null : new Promise((r) => w.child.once('exit', r)))));
  }
}

/** The final table. */
export function formatReport(r: LoadReport): string {
  const pct = (a: number, b: number) => (b > 0 ? `${fmt((100 * a) / b)} %` : '–');
  const rows: [string, string][] = [
    ['joined', `${int(r.joined)} of ${int(r.participants)} participants; ${int(r.displays)} displays`],
    ['inputs sent / acknowledged', `${int(r.inputsSent)} / ${int(r.inputsAcked)} (${pct(r.inputsAcked, r.inputsSent)})`],
    ['ack latency p50 / p95 / p99', `${fmt(r.ackMs.p50)} / ${fmt(r.ackMs.p95)} / ${fmt(r.ackMs.p99)} ms (n = ${int(r.ackMs.n)})`],
    ['participant pulses', `${int(r.participantPulses.received)} of ${int(r.participantPulses.expected)} expected (${pct(r.participantPulses.received, r.participantPulses.expected)}; worst client ${pct(r.participantPulses.worstClientShare, 1)})`],
    ['display pulses', `${int(r.displayPulses.received)} of ${int(r.displayPulses.expected)} expected (${pct(r.displayPulses.received, r.displayPulses.expected)}; worst client ${pct(r.displayPulses.worstClientShare, 1)})`],
    ['tap → display p50 / p95 / p99', `${fmt(r.tapToDisplayMs.p50, 0)} / ${fmt(r.tapToDisplayMs.p95, 0)} / ${fmt(r.tapToDisplayMs.p99, 0)} ms (${r.tapToDisplayMs.n} of ${r.tapToDisplayMs.moves} probe moves seen)`],
    ['reconnections / resume p50 / p95', `${int(r.reconnects)}${r.resumeMs.n ? ` / ${fmt(r.resumeMs.p50, 0)} / ${fmt(r.resumeMs.p95, 0)} ms (max ${fmt(r.resumeMs.max, 0)})` : ''}`],
    ['pulse size (displays)', r.pulseBytes > 0 ? `${fmt(r.pulseBytes, 0)} bytes` : '–'],
    ['load driver CPU', `${fmt((100 * r.driverCpuS) / r.durationS, 0)} % of a core over the window (${r.workers} client processes)`],
    ['errors by code', Object.keys(r.errors).length ? Object.entries(r.errors).map(([c, n]) => `${c} ${int(n)}`).join(', ') : 'none'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const head = `attune load: space ${r.code} on ${r.urls.length} node(s), ${r.workers} client processes, ${r.durationS} s measured\n\n`;
  return `${head}${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

export const command: Command = {
  summary: 'drive a space with many WebSocket clients and report what they experienced',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string', multiple: true },
        code: { type: 'string' },
        participants: { type: 'string' },
        displays: { type: 'string' },
        'input-every': { type: 'string' },
        duration: { type: 'string' },
        ramp: { type: 'string' },
        workers: { type: 'string' },
        'participant-hz': { type: 'string' },
        'display-hz': { type: 'string' },
        json: { type: 'boolean', default: false },
        acked: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const urls = values.url?.length ? values.url : [io.env.ATTUNE_URL ?? 'http://127.0.0.1:8787'];
    for (const u of urls) if (!/^https?:\/\/[^\s/]+\/?$/.test(u)) throw new UsageError(`--url must be http(s)://HOST:PORT, got '${u}'`);
    if (values.acked && !values.json) throw new UsageError('--acked needs --json');
    const quiet = values.quiet || values.json;
    const tty = io.stderr.isTTY === true;
    let lastLine = 0;
    const report = await runLoad({
      urls,
      ...(values.code ? { code: values.code } : {}),
      participants: intFlag('participants', values.participants, 100, 3, 200_000),
      displays: intFlag('displays', values.displays, 2, 0, 1000),
      inputEveryMs: intFlag('input-every', values['input-every'], 1000, 50, 3_600_000),
      durationS: intFlag('duration', values.duration, 30, 1, 86_400),
      rampS: intFlag('ramp', values.ramp, 5, 0, 3600),
      ...(values.workers ? { workers: intFlag('workers', values.workers, 2, 1, 64) } : {}),
      participantHz: intFlag('participant-hz', values['participant-hz'], 2, 1, 60),
      displayHz: intFlag('display-hz', values['display-hz'], 20, 1, 60),
      acked: values.acked,
      signal: io.signal,
      onProgress: (line) => {
        if (quiet) return;
        if (tty) io.stderr.write(`\r${line}\x1b[K`);
        else if (Date.now() - lastLine >= 5000) {
          lastLine = Date.now();
          io.stderr.write(`${line}\n`);
        }
      },
    });
    if (tty && !quiet) io.stderr.write('\n');
    io.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    return 0;
  },
};
