/**
 * A client process of bench/cadence.ts: a share of a scenario's people, each one the project's
 * protocol client (src/client) over `ws`, measuring what they experience. The same process
 * measures attune and the plain-ws baseline (both speak the protocol's happy path).
 *
 * Measured here, in the window [from, to) given by the coordinator (epoch ms; all processes
 * share the machine's clock):
 * - pulses that arrive, per role and per client (the coordinator divides by duration × rate),
 *   each checked to be a pulse (the client's parser: type, numeric seq and count) whose seq is
 *   above the last one that client counted: a pulse seen again (the latest pulse after a resume's
 *   welcome) is not counted twice, and one that goes back on the same socket is counted under
 *   errors as PULSE_ORDER — except the latest pulse that follows a welcome (W3), which may be a
 *   display pulse newer than the next participant pulse. Participants' sockets hand pulses to the client by their head only
 *   (pulseHeadSocket.ts: checked on the bytes, not parsed whole); displays parse them whole.
 *   CADENCE_FULL_PARSE=1 gives participants the plain socket too (to measure what it saves);
 * - this process's own CPU over the window (user + system), so a run says what the driver took.
 *   A pulse counts for the window its tick (`at`, server clock = this machine's clock) fell in,
 *   whenever it arrives before the window's results are sent (1 s after it closes): counting
 *   by arrival time would let a delivery lag that differs between the window's two ends add or
 *   remove pulses (a shared machine's lag moves by hundreds of ms);
 * - ack latency of every tap sent in the window (send → ack, this process's monotonic clock);
 * - tap → display: per space, a probe group of K participants moves between two cells no other
 *   participant uses (the two top corners; everyone else taps inside [-0.8, 0.8]²), and this
 *   process's display of that space notes the first pulse whose histogram shows the move (the
 *   target corner holds more than half the group and more than the other corner). Probe and
 *   display live in this process, so one monotonic clock times both ends.
 *
 * IPC (parent → child → parent):
 *   { cmd: 'displays' }                    → { ev: 'displays', ok, failed }
 *   { cmd: 'join' }                        → { ev: 'joined', firstSentAt, welcomes: number[], failed }
 *   { cmd: 'measure', from, to }           → { ev: 'result', … } at `to`
 *   { cmd: 'progress' }                    → { ev: 'progress', … }
 *   { cmd: 'quiet' }                       → { ev: 'quiet' }: stops tapping (sockets stay open)
 *   { cmd: 'exit' }
 */
import WebSocket from 'ws';
import { AttuneClient } from '../../src/client/attuneClient.ts';
import type { PulseMessage } from '../../src/core/protocol.ts';
import { LatencyHistogram } from './latencyHistogram.ts';
import { pulseHeadSocket } from './pulseHeadSocket.ts';

/** The share of a scenario this process plays. */
export interface WorkerPlan {
  readonly url: string;
  readonly spaces: readonly { readonly code: string; readonly participants: number; readonly displays: number; readonly probes: number }[];
  readonly tapEveryMs: number;
  readonly probeEveryMs: number;
  readonly joinConcurrency: number;
  readonly joinTimeoutMs: number;
  /** More nodes of a cluster (SPEC §K, `attune load --url` repeated): clients spread over `[url, ...urls]`, each knowing the others for failover. */
  readonly urls?: readonly string[];
  /** Spread the participants' joins over this long, ms (`attune load --ramp`). */
  readonly rampMs?: number;
  /** Report every participant's acknowledged seqs (to check a store for lost inputs). */
  readonly reportAcked?: boolean;
  /**
   * Join a space's probe group to the node of the display that times it, instead of spreading it
   * round robin with everyone else. For servers that share nothing (bench:scale's plain-ws
   * processes, each broadcasting its own participants only): a display sees only its own
   * server's probes, so a spread group would never show the move. A cluster node's pulse holds
   * the whole space, so cluster runs leave it off and time the cross-node path.
   */
  readonly probesBesideDisplay?: boolean;
}

/** What this process measured in the window. */
export interface WorkerResult {
  readonly ev: 'result';
  readonly participantPulses: number;
  readonly participantClients: number;
  /** Per participant: pulses in the window (for the worst-client figure). */
  readonly participantPerClient: number[];
  readonly displayPulses: number;
  readonly displayClients: number;
  readonly displayPerClient: number[];
  readonly acks: { counts: number[]; max: number };
  readonly tapsSent: number;
  readonly tapsAcked: number;
  readonly tapToDisplay: { counts: number[]; max: number };
  readonly probeMoves: number;
  readonly probeSeen: number;
  /** Mean byte length of pulses seen by displays (JSON of the parsed message). */
  readonly pulseBytes: number;
  readonly disconnects: number;
  readonly errors: Record<string, number>;
  /** Socket lost → welcome again (resume), ms, for every reconnection. */
  readonly resumes: { counts: number[]; max: number };
  /** Participants that joined. */
  readonly joined: number;
  /** This process's CPU time over the window, ms (user + system). */
  readonly cpuMs: number;
  /** With `reportAcked`: participant id → every seq acknowledged to them. */
  readonly acked?: Record<string, number[]>;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as WorkerPlan;
const epoch = (): number => performance.timeOrigin + performance.now();
const send = (m: unknown): void => {
  process.send?.(m);
};
const connect = (url: string): WebSocket => new WebSocket(url, { perMessageDeflate: false });
const participantSocket = process.env.CADENCE_FULL_PARSE === '1' ? connect : pulseHeadSocket;
const nodes = [plan.url, ...(plan.urls ?? [])];
let spread = 0;
/** The next client's node and its fallbacks, round robin over the nodes (SPEC K7). */
const where = (): { url: string; urls?: string[] } => {
  if (nodes.length === 1) return { url: plan.url };
  const i = spread++ % nodes.length;
  return { url: nodes[i] as string, urls: [...nodes.slice(i + 1), ...nodes.slice(0, i)] };
};

let from = Number.POSITIVE_INFINITY;
let to = Number.NEGATIVE_INFINITY;
const inWindow = (t: number): boolean => t >= from && t < to;
let tapping = false;

const errors: Record<string, number> = {};
let disconnects = 0;
const resumes = new LatencyHistogram();
const acks = new LatencyHistogram();
const tapToDisplay = new LatencyHistogram();
let tapsSent = 0;
let tapsAcked = 0;
let probeMoves = 0;
let probeSeen = 0;
let pulseByteSum = 0;
let pulseByteN = 0;

/** A client's pulse order: the last seq it counted, and the last on its socket (-1: the next is the welcome's latest pulse). */
interface PulseOrder {
  seq: number;
  sock: number;
}

/** Whether a client's pulse `seq` counts: above the last it counted (a repeat is skipped; a step back on one socket is an error). */
function inOrder(o: PulseOrder, seq: number): boolean {
  if (o.sock === -1) o.sock = 0;
  else if (seq < o.sock) errors.PULSE_ORDER = (errors.PULSE_ORDER ?? 0) + 1;
  else o.sock = seq;
  if (seq <= o.seq) return false;
  o.seq = seq;
  return true;
}

/** A welcome (a new socket): its first pulse is the latest one, which sets no order. */
const welcomed = (o: PulseOrder) => () => {
  o.sock = -1;
};

function watch(c: AttuneClient): void {
  c.on('error', (e) => {
    errors[e.code] = (errors[e.code] ?? 0) + 1;
  });
  c.on('full', () => {
    errors.SPACE_FULL = (errors.SPACE_FULL ?? 0) + 1;
  });
  let lostAt: number | null = null;
  c.on('status', (s) => {
    if (s.state === 'waiting') {
      disconnects++;
      lostAt ??= performance.now();
    } else if (s.state === 'live' && lostAt !== null) {
      resumes.record(performance.now() - lostAt);
      lostAt = null;
    }
  });
}

/** Opens a client and resolves at its first welcome (false if it stopped or timed out). */
function open(c: AttuneClient, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const offW = c.on('welcome', () => done(true));
    const offS = c.on('status', (s) => {
      if (s.state === 'stopped') done(false);
    });
    function done(ok: boolean): void {
      clearTimeout(timer);
      offW();
      offS();
      resolve(ok);
    }
    c.start();
  });
}

// ——— displays and probes ————————————————————————————————————————————————————————————

interface Probe {
  readonly code: string;
  readonly group: AttuneClient[];
  /** 0: left top corner, 1: right top corner. */
  target: 0 | 1;
  sentAt: number;
  waiting: boolean;
  countIt: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

const displays: { client: AttuneClient; count: number }[] = [];
const probes: Probe[] = [];

function moveProbe(p: Probe): void {
  p.target = p.target === 0 ? 1 : 0;
  const valence = p.target === 0 ? -0.97 : 0.97;
  p.sentAt = performance.now();
  p.countIt = tapping && inWindow(epoch());
  for (const c of p.group) c.send({ valence, arousal: 0.97 });
  p.waiting = true;
  if (p.countIt) probeMoves++;
  // Not seen within 5 s: counted as a miss, move on.
  p.timer = setTimeout(() => {
    p.waiting = false;
    if (tapping) moveProbe(p);
  }, 5_000);
}

function onDisplayPulse(p: Probe | undefined, m: PulseMessage): void {
  if (!p?.waiting || !m.hist) return;
  const row = (m.bins - 1) * m.bins;
  const left = m.hist[row] ?? 0;
  const right = m.hist[row + m.bins - 1] ?? 0;
  const [mine, other] = p.target === 0 ? [left, right] : [right, left];
  if (mine > p.group.length / 2 && mine > other) {
    const latency = performance.now() - p.sentAt;
    p.waiting = false;
    if (p.timer) clearTimeout(p.timer);
    if (p.countIt) {
      tapToDisplay.record(latency);
      probeSeen++;
    }
    if (tapping) p.timer = setTimeout(() => moveProbe(p), Math.max(0, plan.probeEveryMs - latency) + Math.random() * 100);
  }
}

async function openDisplays(): Promise<{ ok: number; failed: number }> {
  const jobs: Promise<boolean>[] = [];
  for (const s of plan.spaces) {
    let probe: Probe | undefined;
    // The node of the space's first display (the one that times the probe), with probesBesideDisplay.
    const home = plan.probesBesideDisplay && s.probes > 0 && s.displays > 0 ? where() : null;
    if (s.probes > 0) {
      probe = { code: s.code, group: [], target: 1, sentAt: 0, waiting: false, countIt: false, timer: null };
      probes.push(probe);
      for (let i = 0; i < s.probes; i++) {
        const c = new AttuneClient({ ...(home ?? where()), code: s.code, role: 'participant', consent: true, connect: participantSocket });
        watch(c);
        probe.group.push(c);
        jobs.push(open(c, plan.joinTimeoutMs));
      }
    }
    for (let i = 0; i < s.displays; i++) {
      const c = new AttuneClient({ ...(i === 0 && home ? home : where()), code: s.code, role: 'display', connect });
      watch(c);
      const d = { client: c, count: 0, seq: 0, sock: -1 };
      displays.push(d);
      c.on('welcome', welcomed(d));
      const first = i === 0 ? probe : undefined;
      c.on('pulse', (m) => {
        if (inOrder(d, m.seq) && inWindow(m.at)) d.count++;
        if (first) onDisplayPulse(first, m);
        if (pulseByteN < 2000 && (d.count & 31) === 1) {
          pulseByteSum += JSON.stringify(m).length;
          pulseByteN++;
        }
      });
      jobs.push(open(c, plan.joinTimeoutMs));
    }
  }
  const r = await Promise.all(jobs);
  return { ok: r.filter(Boolean).length, failed: r.filter((x) => !x).length };
}

// ——— participants ———————————————————————————————————————————————————————————————————

interface Person {
  readonly client: AttuneClient;
  count: number;
  /** The last pulse seq counted, and the last on the current socket (PulseOrder). */
  seq: number;
  sock: number;
  readonly sent: Map<number, number>;
  id: string | null;
  readonly acked: Set<number>;
}

const people: Person[] = [];

async function joinParticipants(): Promise<{ firstSentAt: number; welcomes: number[]; failed: number }> {
  const todo: string[] = [];
  for (const s of plan.spaces) for (let i = 0; i < s.participants; i++) todo.push(s.code);
  const welcomes: number[] = [];
  let failed = 0;
  const firstSentAt = epoch();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < todo.length) {
      const code = todo[next++] as string;
      // --ramp: join i starts no sooner than its share of the ramp.
      const due = firstSentAt + ((plan.rampMs ?? 0) * (next - 1)) / Math.max(1, todo.length);
      // One reading of the clock: read twice, a pause between the two (a GC on a loaded machine)
      // made the wait negative, and Node warns (TimeoutNegativeWarning) on every such join.
      const wait = due - epoch();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const c = new AttuneClient({ ...where(), code, role: 'participant', consent: true, connect: participantSocket });
      watch(c);
      const p: Person = { client: c, count: 0, seq: 0, sock: -1, sent: new Map(), id: null, acked: new Set() };
      c.on('welcome', (w) => {
        p.id ??= w.participant ?? null;
        p.sock = -1;
      });
      c.on('pulse', (m) => {
        if (inOrder(p, m.seq) && inWindow(m.at)) p.count++;
      });
      c.on('ack', (a) => {
        if (plan.reportAcked) p.acked.add(a.seq);
        const t = p.sent.get(a.seq);
        if (t === undefined) return;
        p.sent.delete(a.seq);
        acks.record(performance.now() - t);
        tapsAcked++;
      });
      people.push(p);
      if (await open(c, plan.joinTimeoutMs)) welcomes.push(epoch());
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, plan.joinConcurrency) }, lane));
  return { firstSentAt, welcomes, failed };
}

function startTapping(): void {
  tapping = true;
  for (const p of people) {
    const tap = (): void => {
      if (!tapping) return;
      if (p.client.state === 'live') {
        const t = performance.now();
        const r = p.client.send({ valence: Math.random() * 1.6 - 0.8, arousal: Math.random() * 1.6 - 0.8 });
        if (r.ok && inWindow(epoch())) {
          p.sent.set(r.value, t);
          tapsSent++;
        }
      }
      setTimeout(tap, plan.tapEveryMs * (0.8 + Math.random() * 0.4));
    };
    setTimeout(tap, Math.random() * plan.tapEveryMs);
  }
  for (const p of probes) moveProbe(p);
}

/** CPU time of this process, ms, at the window's opening (set when measuring starts) and its end. */
let cpuFrom: NodeJS.CpuUsage | null = null;
let cpuWindow: NodeJS.CpuUsage | null = null;

function result(): WorkerResult {
  const cpu = cpuWindow ?? (cpuFrom ? process.cpuUsage(cpuFrom) : null);
  return {
    cpuMs: cpu ? (cpu.user + cpu.system) / 1000 : 0,
    ev: 'result',
    participantPulses: people.reduce((a, p) => a + p.count, 0),
    participantClients: people.length,
    participantPerClient: people.map((p) => p.count),
    displayPulses: displays.reduce((a, d) => a + d.count, 0),
    displayClients: displays.length,
    displayPerClient: displays.map((d) => d.count),
    acks: acks.toJSON(),
    tapsSent,
    tapsAcked,
    tapToDisplay: tapToDisplay.toJSON(),
    probeMoves,
    probeSeen,
    pulseBytes: pulseByteN ? pulseByteSum / pulseByteN : 0,
    disconnects,
    errors,
    resumes: resumes.toJSON(),
    joined: people.filter((p) => p.id !== null).length,
    ...(plan.reportAcked ? { acked: Object.fromEntries(people.filter((p) => p.id !== null).map((p) => [p.id as string, [...p.acked].sort((a, b) => a - b)])) } : {}),
  };
}

process.on('message', (m: { cmd: string; from?: number; to?: number }) => {
  void (async () => {
    if (m.cmd === 'displays') send({ ev: 'displays', ...(await openDisplays()) });
    else if (m.cmd === 'join') send({ ev: 'joined', ...(await joinParticipants()) });
    else if (m.cmd === 'measure') {
      from = m.from ?? epoch();
      to = m.to ?? from;
      startTapping();
      setTimeout(() => {
        cpuFrom = process.cpuUsage();
      }, Math.max(0, from - epoch()));
      setTimeout(() => {
        if (cpuFrom) cpuWindow = process.cpuUsage(cpuFrom);
        // Acks of the last taps may still be in flight: wait a moment past the window.
        setTimeout(() => send(result()), 1_000);
      }, Math.max(0, to - epoch()));
    } else if (m.cmd === 'progress') {
      const r = result();
      send({ ev: 'progress', joined: r.joined, participantPulses: r.participantPulses, displayPulses: r.displayPulses, tapsSent, tapsAcked, probeSeen, probeMoves, ackP95: acks.quantile(0.95), tapP95: tapToDisplay.quantile(0.95), disconnects });
    } else if (m.cmd === 'quiet') {
      tapping = false;
      send({ ev: 'quiet' });
    } else if (m.cmd === 'exit') {
      tapping = false;
      for (const p of people) p.client.stop();
      for (const d of displays) d.client.stop();
      for (const p of probes) for (const c of p.group) c.stop();
      setTimeout(() => process.exit(0), 200);
    }
  })();
});
process.on('disconnect', () => process.exit(0));
send({ ev: 'ready' });
