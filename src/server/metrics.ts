/**
 * Prometheus metrics of one attune process (SPEC O1), on prom-client, served at `/metrics` in
 * the text exposition format 0.0.4 (what `promtool check metrics` lints).
 *
 * Who feeds what: the WebSocket edge reports inputs, acks (with their latency) and pulses it
 * skipped for backpressure (`WsEdgeObserver`, src/ws/wsEdge.ts); the space host's beats are timed
 * by wrapping its scheduler (`timedScheduler`), so a tick's duration is the time its beat
 * callback held the event loop (step, publish and the fan-out's first slice); connections by
 * role and the health of storage and bus are read when scraped; a cluster node sets the tick
 * lease gauges through {@link LeaseMetrics}.
 *
 * prom-client's default Node metrics come along, except the three gauges it names `*_total`
 * (`nodejs_active_handles_total` …), which promtool rejects as non-counters: their per-type
 * breakdowns (`nodejs_active_handles{type}` …) stay.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BeatHandler, Cancel, Scheduler } from '../space/scheduler.ts';
import type { WsEdgeObserver } from '../ws/wsEdge.ts';

/** What a cluster node reports about tick leases (SPEC O1; src/space/cluster calls it). */
export interface LeaseMetrics {
  /** Whether this node holds the tick lease of `spaceId` (1) or not (0). */
  setLeaseOwned(spaceId: string, owned: boolean): void;
  /** This node just acquired the lease of `spaceId` (a start or a takeover). */
  leaseAcquired(spaceId: string): void;
  /** The space is gone from this node: drop its lease series. */
  forgetLease(spaceId: string): void;
}

/** A dependency's reachability, as `/readyz` and the `attune_dependency_up` gauge see it. */
export interface DependencyCheck {
  /** `storage` or `bus`. */
  readonly name: string;
  /** What it is: `sqlite`, `postgres`, `memory`, `local`, `nats`. */
  readonly kind: string;
  /** Resolves true when reachable; false (or a rejection, or no answer within the timeout) when not. */
  check(): Promise<boolean>;
}

/** Settings of {@link Metrics}. */
export interface MetricsOptions {
  /** Open connections by role, read at scrape time. */
  readonly connections?: () => { readonly participant: number; readonly display: number; readonly other: number };
  /** Storage and bus checks, run at scrape time. */
  readonly dependencies?: readonly DependencyCheck[];
  /** The host's durable writes not settled yet (W5b), read at scrape time. */
  readonly writeBacklog?: () => { readonly queued: number; readonly lagMs: number };
  /** This node's id (cluster), exported as `attune_node_info{node_id}`. */
  readonly nodeId?: string;
  /** Collect prom-client's default Node metrics (default true). */
  readonly defaults?: boolean;
}

/** Longest a dependency check may take before it counts as down, ms. */
export const CHECK_TIMEOUT_MS = 1000;

/** Runs a check, false on rejection or after `timeoutMs`. */
export async function runCheck(d: DependencyCheck, timeoutMs = CHECK_TIMEOUT_MS): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), timeoutMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([d.check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ack latency buckets, seconds: 1 ms … 5 s (the aims are 100 and 250 ms). */
const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Tick duration buckets, seconds: 50 µs … 250 ms (a beat every 50 ms at 20 Hz). */
const TICK_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** The metrics of one process; {@link Metrics.render} is what `/metrics` serves. */
export class Metrics implements LeaseMetrics, WsEdgeObserver {
  readonly registry = new Registry();
  readonly #inputs: Counter;
  readonly #acks: Counter;
  readonly #ackLatency: Histogram;
  readonly #tick: Histogram;
  readonly #beatsSkipped: Counter;
  readonly #pulsesSkipped: Counter<'role'>;
  readonly #pulsesSuperseded: Counter<'role'>;
  readonly #overloaded: Counter;
  readonly #leaseOwned: Gauge<'space'>;
  readonly #leaseAcquired: Counter<'space'>;

  constructor(o: MetricsOptions = {}) {
    const registers = [this.registry];
    if (o.defaults ?? true) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    }
    const connections = o.connections;
    new Gauge({
      name: 'attune_connections',
      help: 'Open WebSocket connections by role (other: not yet joined).',
      labelNames: ['role'],
      registers,
      collect() {
        if (!connections) return;
        const c = connections();
        this.set({ role: 'participant' }, c.participant);
        this.set({ role: 'display' }, c.display);
        this.set({ role: 'other' }, c.other);
      },
    });
    this.#inputs = new Counter({ name: 'attune_inputs_received_total', help: 'Participant inputs handed to the space host.', registers });
    this.#acks = new Counter({ name: 'attune_inputs_acknowledged_total', help: 'Inputs acknowledged, each once its write committed (its rate is durable inputs per second).', registers });
    this.#ackLatency = new Histogram({ name: 'attune_ack_latency_seconds', help: 'From an input frame handled to its ack sent (the durable write in between).', buckets: ACK_BUCKETS, registers });
    this.#tick = new Histogram({ name: 'attune_tick_duration_seconds', help: "A space's beat: stepping the tick, publishing the pulse and the fan-out's first slice.", buckets: TICK_BUCKETS, registers });
    this.#beatsSkipped = new Counter({ name: 'attune_beats_skipped_total', help: 'Beats dropped because the event loop was more than the catch-up window late.', registers });
    this.#pulsesSkipped = new Counter({ name: 'attune_pulses_dropped_backpressure_total', help: 'Pulses not sent to a socket whose send buffer was backed up (W9), by role.', labelNames: ['role'], registers });
    for (const role of ['participant', 'display']) this.#pulsesSkipped.inc({ role }, 0);
    this.#pulsesSuperseded = new Counter({ name: 'attune_pulses_superseded_total', help: 'Pulses not sent to a socket because a newer pulse replaced them while the fan-out was still sending the one before (W9), by role: one per socket.', labelNames: ['role'], registers });
    for (const role of ['participant', 'display']) this.#pulsesSuperseded.inc({ role }, 0);
    this.#overloaded = new Counter({ name: 'attune_inputs_refused_overloaded_total', help: 'Inputs refused with OVERLOADED because the durable writes were behind (W5b): never counted, stored or acknowledged.', registers });
    const backlog = o.writeBacklog;
    if (backlog) {
      new Gauge({ name: 'attune_write_backlog', help: 'Durable writes asked for and not settled yet (W5b; inputs are refused at --max-queued-writes).', registers, collect() { this.set(backlog().queued); } });
      new Gauge({ name: 'attune_write_lag_seconds', help: 'How long the oldest unsettled durable write has waited (W5b; inputs are refused past --max-write-lag).', registers, collect() { this.set(backlog().lagMs / 1000); } });
    }
    this.#leaseOwned = new Gauge({ name: 'attune_tick_lease_owned', help: "1 when this node holds the space's tick lease (cluster), else 0.", labelNames: ['space'], registers });
    this.#leaseAcquired = new Counter({ name: 'attune_tick_lease_acquired_total', help: "Times this node acquired a space's tick lease (starts and takeovers).", labelNames: ['space'], registers });
    if (o.nodeId !== undefined) new Gauge({ name: 'attune_node_info', help: 'This node (value 1).', labelNames: ['node_id'], registers }).set({ node_id: o.nodeId }, 1);
    const deps = o.dependencies ?? [];
    new Gauge({
      name: 'attune_dependency_up',
      help: 'Whether a dependency answered its check at scrape time (1) or not (0): storage (sqlite, postgres, memory) and bus (local, nats).',
      labelNames: ['dependency', 'kind'],
      registers,
      async collect() {
        const up = await Promise.all(deps.map((d) => runCheck(d)));
        deps.forEach((d, i) => {
          this.set({ dependency: d.name, kind: d.kind }, up[i] ? 1 : 0);
        });
      },
    });
  }

  /** The Content-Type of {@link render}: `text/plain; version=0.0.4; charset=utf-8`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (runs the scrape-time collectors). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  inputReceived(): void {
    this.#inputs.inc();
  }

  inputAcked(ms: number): void {
    this.#acks.inc();
    this.#ackLatency.observe(ms / 1000);
  }

  pulseSkipped(role: 'participant' | 'display'): void {
    this.#pulsesSkipped.inc({ role });
  }

  pulseSuperseded(role: 'participant' | 'display', sockets: number): void {
    this.#pulsesSuperseded.inc({ role }, sockets);
  }

  inputOverloaded(): void {
    this.#overloaded.inc();
  }

  /** A beat took `ms`. */
  tick(ms: number): void {
    this.#tick.observe(ms / 1000);
  }

  /** `n` beats were dropped past the catch-up window. */
  beatsSkipped(n: number): void {
    if (n > 0) this.#beatsSkipped.inc(n);
  }

  setLeaseOwned(spaceId: string, owned: boolean): void {
    this.#leaseOwned.set({ space: spaceId }, owned ? 1 : 0);
  }

  leaseAcquired(spaceId: string): void {
    this.#leaseAcquired.inc({ space: spaceId });
    this.setLeaseOwned(spaceId, true);
  }

  forgetLease(spaceId: string): void {
    this.#leaseOwned.remove({ space: spaceId });
    this.#leaseAcquired.remove({ space: spaceId });
  }
}

/**
 * The host's scheduler with every `every` beat timed (the host's only periodic callback is a
 * space's beat) and its skipped beats counted; `at`, `defer` and `now` pass through.
 */
export function timedScheduler(inner: Scheduler, metrics: Pick<Metrics, 'tick' | 'beatsSkipped'>, clock: () => number = () => performance.now()): Scheduler {
  return {
    now: () => inner.now(),
    at: (t, fn) => inner.at(t, fn),
    defer: (fn) => inner.defer(fn),
    every(periodMs: number, fn: BeatHandler, start?: number): Cancel & { readonly skipped: number } {
      let reported = 0;
      let handle: (Cancel & { readonly skipped: number }) | null = null;
      const timed: BeatHandler = (at, k) => {
        const t0 = clock();
        try {
          fn(at, k);
        } finally {
          metrics.tick(clock() - t0);
          const skipped = handle?.skipped ?? 0;
          if (skipped > reported) {
            metrics.beatsSkipped(skipped - reported);
            reported = skipped;
          }
        }
      };
      handle = start === undefined ? inner.every(periodMs, timed) : inner.every(periodMs, timed, start);
      return handle;
    },
  };
}
