/**
 * The collective state of one space, updated once per pulse tick: dissonance (per tick), camps
 * (per tick, with k hysteresis and stable ids) and surge alerts (per window of `windowMs`, on
 * each quadrant's share and on the mean arousal). Pure: `now` comes in with every update, the
 * only randomness (k-means++) is seeded.
 *
 *   pulse tick ──► update({grid, quadrantShares, meanArousal, count, now})
 *                    ├─ measureDissonance(grid)            every tick, O(m²)
 *                    ├─ CampTracker.update(cells)          every tick, O(m·Σk·iter)
 *                    └─ window accumulator ──(window closes)──► SurgeMonitor × 5
 *                  ◄── CollectiveState (plain JSON)
 *
 * Methods and sources: dissonance.ts, camps.ts, surge.ts; definitions and measured figures in
 * docs/collective-state.md.
 */
import { QUADRANTS } from '../affect.ts';
import type { GridView } from '../histogram.ts';
import type { PulseSnapshot } from '../pulse.ts';
import { type Camp, type CampOptions, CampTracker } from './camps.ts';
import { type Dissonance, dissonanceOfPoints, NO_DISSONANCE } from './dissonance.ts';
import { type ClearedAlert, DEFAULT_SURGE_OPTIONS, type SurgeAlert, SurgeMonitor, type SurgeOptions } from './surge.ts';
import { weightedPointsOf } from './weightedPoints.ts';

/** The metrics watched for surges, in this order: the four quadrant shares, then mean arousal. */
export const SURGE_METRICS = [...QUADRANTS.map((q) => `share:${q}` as const), 'meanArousal'] as const;

/** A metric watched for surges. */
export type SurgeMetric = (typeof SURGE_METRICS)[number];

/** What the pulse tick hands the tracker. */
export interface CollectiveInput {
  /** The space's grid histogram (read only; not retained). */
  readonly grid: GridView;
  /** Shares per quadrant in QUADRANTS order (sum 1), or null/empty when nobody counts. */
  readonly quadrantShares: readonly number[] | null;
  /** Mean arousal of the people who count, or null when nobody counts. */
  readonly meanArousal: number | null;
  /** People who currently count. */
  readonly count: number;
  /** Tick time, epoch ms (non-decreasing). */
  readonly now: number;
}

/**
 * The tracker's input from a pulse tick: the space's grid and the tick's snapshot (a suppressed
 * snapshot — fewer people than the minimum cohort — gives no shares and no mean, which the
 * tracker treats as "too few people").
 */
export function collectiveInputOf(grid: GridView, snapshot: Pick<PulseSnapshot, 'quadrants' | 'mean' | 'count' | 'at'>): CollectiveInput {
  return { grid, quadrantShares: snapshot.quadrants, meanArousal: snapshot.mean?.arousal ?? null, count: snapshot.count, now: snapshot.at };
}

/** A change of the number of camps in force. */
export interface KChange {
  readonly at: number;
  readonly k: number;
}

/** The collective state after a tick: small, plain, JSON-serialisable. */
export interface CollectiveState {
  /** Schema version of this object. */
  readonly v: 1;
  readonly at: number;
  /** People counted this tick. */
  readonly count: number;
  /** Dissonance and all its components (zeros below `minPeople`). */
  readonly dissonance: Dissonance;
  /** Camps shown (never one under `minPeople` people), by share descending. */
  readonly camps: readonly Camp[];
  /** Number of camps in force (after hysteresis) and this tick's winner. */
  readonly k: number;
  readonly kWinner: number;
  /** The last few changes of k, oldest first. */
  readonly kHistory: readonly KChange[];
  /** Active surge alerts, oldest first. */
  readonly alerts: readonly SurgeAlert[];
  /** Alerts cleared within the last `clearedRetentionMs` (at most 20), newest first. */
  readonly cleared: readonly ClearedAlert[];
}

/** Settings of a {@link CollectiveTracker}. All optional. */
export interface CollectiveTrackerOptions {
  /** ER identification weight α in [0.25, 1.6] (default 1). */
  readonly alpha?: number;
  /** Camp options (k range, silhouette threshold, k hysteresis, ≥ minPeople rule, seed). */
  readonly camps?: Partial<CampOptions>;
  /** Surge options (window length, CUSUM k/h, EWMA λ/L, BOCPD hazard, hysteresis). */
  readonly surge?: Partial<SurgeOptions>;
  /** How long cleared alerts stay in the state (ms, default 60 000). */
  readonly clearedRetentionMs?: number;
  /** How many changes of k to keep (default 8). */
  readonly kHistoryLength?: number;
}

/** Most cleared alerts kept in the state, whatever the retention. */
const MAX_CLEARED = 20;

interface WindowAcc {
  start: number;
  ticks: number;
  sums: number[];
}

/** One per space: feed it every pulse tick, put its result into the pulse message. */
export class CollectiveTracker {
  readonly alpha: number;
  readonly surgeOptions: SurgeOptions;
  private readonly camps: CampTracker;
  private readonly monitors: SurgeMonitor[];
  private readonly clearedRetentionMs: number;
  private readonly kHistoryLength: number;
  private acc: WindowAcc | null = null;
  private cleared: ClearedAlert[] = [];
  private kHistory: KChange[] = [];
  private lastK = 1;
  private alertSeq = 0;
  private lastNow = -Infinity;

  constructor(options: CollectiveTrackerOptions = {}) {
    this.alpha = options.alpha ?? 1;
    if (!(this.alpha >= 0.25 && this.alpha <= 1.6)) throw new RangeError('alpha must be in [0.25, 1.6]');
    this.surgeOptions = { ...DEFAULT_SURGE_OPTIONS, ...options.surge };
    if (!(this.surgeOptions.windowMs > 0)) throw new RangeError('windowMs must be positive');
    this.camps = new CampTracker(options.camps);
    this.clearedRetentionMs = options.clearedRetentionMs ?? 60_000;
    this.kHistoryLength = options.kHistoryLength ?? 8;
    const nextId = (): string => `a${++this.alertSeq}`;
    this.monitors = SURGE_METRICS.map((m) => new SurgeMonitor(m, this.surgeOptions, nextId));
  }

  /** The smallest camp (and room) shown, in people. */
  get minPeople(): number {
    return this.camps.options.minPeople;
  }

  /** Updates from one pulse tick. Cost O(m² + m·Σk·iterations) for m occupied cells. */
  update(input: CollectiveInput): CollectiveState {
    const now = Math.max(input.now, this.lastNow);
    this.lastNow = now;
    const enough = input.count >= this.minPeople && input.grid.total > 0;
    let dissonance = NO_DISSONANCE;
    let camps: readonly Camp[] = [];
    let k = this.camps.currentK;
    let kWinner = k;
    if (enough) {
      const points = weightedPointsOf(input.grid);
      dissonance = dissonanceOfPoints(points, input.grid, { alpha: this.alpha, people: input.count });
      const report = this.camps.update(points, input.count);
      camps = report.camps;
      k = report.k;
      kWinner = report.winner;
    } else if (this.alpha !== 1) {
      dissonance = { ...NO_DISSONANCE, alpha: this.alpha };
    }
    if (k !== this.lastK) {
      this.kHistory.push({ at: now, k });
      if (this.kHistory.length > this.kHistoryLength) this.kHistory.shift();
      this.lastK = k;
    }
    this.accumulate(input, now, enough);
    this.cleared = this.cleared.filter((c) => now - c.clearedAt <= this.clearedRetentionMs).slice(0, MAX_CLEARED);
    const alerts: SurgeAlert[] = [];
    for (const m of this.monitors) {
      const a = m.alert;
      if (a) alerts.push(a);
    }
    alerts.sort((a, b) => a.raisedAt - b.raisedAt);
    return {
      v: 1,
      at: now,
      count: input.count,
      dissonance,
      camps,
      k,
      kWinner,
      kHistory: this.kHistory.slice(),
      alerts,
      cleared: this.cleared.slice(),
    };
  }

  /** Adds this tick to the current window; closes windows that `now` has passed. */
  private accumulate(input: CollectiveInput, now: number, enough: boolean): void {
    const w = this.surgeOptions.windowMs;
    const start = Math.floor(now / w) * w;
    if (this.acc && start > this.acc.start) {
      this.closeWindow(this.acc, now);
      this.acc = null;
    }
    if (!this.acc) this.acc = { start, ticks: 0, sums: SURGE_METRICS.map(() => 0) };
    const shares = input.quadrantShares;
    if (enough && shares && shares.length === QUADRANTS.length && input.meanArousal !== null && Number.isFinite(input.meanArousal)) {
      const acc = this.acc;
      for (let i = 0; i < QUADRANTS.length; i++) acc.sums[i] = (acc.sums[i] as number) + (shares[i] ?? 0);
      acc.sums[QUADRANTS.length] = (acc.sums[QUADRANTS.length] as number) + input.meanArousal;
      acc.ticks++;
    }
  }

  private closeWindow(acc: WindowAcc, now: number): void {
    if (acc.ticks === 0) return;
    const newlyCleared: ClearedAlert[] = [];
    this.monitors.forEach((m, i) => {
      const step = m.observe(acc.start, (acc.sums[i] as number) / acc.ticks, now);
      if (step.cleared) newlyCleared.push(step.cleared);
    });
    this.cleared = [...newlyCleared.reverse(), ...this.cleared];
  }
}
