/**
 * The collective state of one space, updated once per pulse tick: dissonance and camps (k
 * hysteresis, share hysteresis, stable ids) and alert events from per-tick change detection on
 * the room's whole distribution. Pure: `now` comes in with every update, the only randomness
 * (k-means++) is seeded.
 *
 *   pulse tick ──► update({grid, quadrantShares, meanValence, meanArousal, dispersion, count, now})
 *                    ├─ measureDissonance(grid)                  every tick, O(m²)
 *                    ├─ CampTracker.update(cells)                every tick, O(m·Σk·iter)
 *                    ├─ RoomChangeDetector.observe(features)     every tick, O(features)
 *                    └─ AlertBook.step(alarms)                   raised / updated / cleared, trends
 *                  ◄── CollectiveState (plain JSON)
 *
 * Methods and sources: dissonance.ts, camps.ts, roomChange.ts, alertBook.ts; definitions and
 * measured figures in docs/collective-state.md.
 */
import { QUADRANTS } from '../affect.ts';
import type { GridView } from '../histogram.ts';
import type { PulseSnapshot } from '../pulse.ts';
import { type AlertBookOptions, type AlertMessage, AlertBook, type ClearedRoomAlert, type RoomAlert, type RoomTrend } from './alertBook.ts';
import { type Camp, type CampOptions, CampTracker } from './camps.ts';
import { type Dissonance, dissonanceOfPoints, NO_DISSONANCE } from './dissonance.ts';
import { ROOM_FEATURES, RoomChangeDetector, type RoomChangeOptions } from './roomChange.ts';
import { type WeightedPoints, weightedPointsOf } from './weightedPoints.ts';

/** The metrics an alert can list: the room features (quadrant shares, mean, dispersion) and camps. */
export const ALERT_METRICS = [...ROOM_FEATURES, 'camps'] as const;

/** A metric an alert can list. */
export type AlertMetricName = (typeof ALERT_METRICS)[number];

/** What the pulse tick hands the tracker. */
export interface CollectiveInput {
  /** The space's grid histogram (read only; not retained). */
  readonly grid: GridView;
  /**
   * Shares per quadrant in QUADRANTS order (sum 1), or null/empty when nobody counts. Used only
   * when the grid has an odd number of bins; otherwise the shares are counted on the grid itself
   * (exact: the quadrant boundaries are cell boundaries).
   */
  readonly quadrantShares: readonly number[] | null;
  /** Mean arousal of the people who count, or null when nobody counts. */
  readonly meanArousal: number | null;
  /** Mean valence (from the grid's cell centres when absent). */
  readonly meanValence?: number | null;
  /** var(valence) + var(arousal) of the people who count (from the grid when absent). */
  readonly dispersion?: number | null;
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
export function collectiveInputOf(grid: GridView, snapshot: Pick<PulseSnapshot, 'quadrants' | 'mean' | 'spread' | 'count' | 'at'>): CollectiveInput {
  const sp = snapshot.spread;
  return {
    grid,
    quadrantShares: snapshot.quadrants,
    meanArousal: snapshot.mean?.arousal ?? null,
    meanValence: snapshot.mean?.valence ?? null,
    dispersion: sp ? sp.valence * sp.valence + sp.arousal * sp.arousal : null,
    count: snapshot.count,
    now: snapshot.at,
  };
}

/** A change of the number of camps in force. */
export interface KChange {
  readonly at: number;
  readonly k: number;
}

/** The collective state after a tick: small, plain, JSON-serialisable. */
export interface CollectiveState {
  /** Schema version of this object. */
  readonly v: 2;
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
  /** The active alert event (at most one: one change, one alert), as of this tick. */
  readonly alerts: readonly RoomAlert[];
  /** This tick's alert messages — raised, updated, cleared — in order. */
  readonly events: readonly AlertMessage[];
  /** Alerts cleared within the last `clearedRetentionMs` (at most 20), newest first. */
  readonly cleared: readonly ClearedRoomAlert[];
  /** The active slow trend, if any (at most one). */
  readonly trends: readonly RoomTrend[];
}

/** Settings of a {@link CollectiveTracker}. All optional. */
export interface CollectiveTrackerOptions {
  /** ER identification weight α in [0.25, 1.6] (default 1). */
  readonly alpha?: number;
  /** Camp options (k range, silhouette threshold, k and share hysteresis, ≥ minPeople rule, seed). */
  readonly camps?: Partial<CampOptions>;
  /** Change detection (CUSUM rates and thresholds, jump test, noise). */
  readonly change?: Partial<RoomChangeOptions>;
  /** Alert events and trends (quiet, settle, trend rates). */
  readonly alerts?: Partial<AlertBookOptions>;
  /** How long cleared alerts stay in the state (ms, default 60 000). */
  readonly clearedRetentionMs?: number;
  /** How many changes of k to keep (default 8). */
  readonly kHistoryLength?: number;
}

/** Most cleared alerts kept in the state, whatever the retention. */
const MAX_CLEARED = 20;

/** Quadrant shares counted on the grid (QUADRANTS order), or null when the bins are odd. */
function gridShares(grid: GridView): number[] | null {
  const B = grid.bins;
  if (B % 2 !== 0 || !(grid.total > 0)) return null;
  const c = [0, 0, 0, 0];
  const half = B / 2;
  for (let iy = 0; iy < B; iy++) {
    const energised = iy >= half;
    for (let ix = 0; ix < B; ix++) {
      const w = grid.counts[iy * B + ix] ?? 0;
      if (w === 0) continue;
      const pleasant = ix >= half;
      const q = pleasant ? (energised ? 0 : 1) : energised ? 3 : 2;
      c[q] = (c[q] as number) + w;
    }
  }
  return c.map((x) => x / grid.total);
}

/** Mean and dispersion from the cell centres (when the snapshot's exact ones are not given). */
function momentsOf(points: WeightedPoints): { v: number; a: number; dispersion: number } {
  let sv = 0;
  let sa = 0;
  for (let i = 0; i < points.n; i++) {
    sv += (points.w[i] as number) * (points.x[i] as number);
    sa += (points.w[i] as number) * (points.y[i] as number);
  }
  const v = sv / points.total;
  const a = sa / points.total;
  let d = 0;
  for (let i = 0; i < points.n; i++) d += (points.w[i] as number) * (((points.x[i] as number) - v) ** 2 + ((points.y[i] as number) - a) ** 2);
  return { v, a, dispersion: d / points.total };
}

/** One per space: feed it every pulse tick, put its result into the pulse message. */
export class CollectiveTracker {
  readonly alpha: number;
  private readonly camps: CampTracker;
  private readonly detector: RoomChangeDetector;
  private readonly book: AlertBook;
  private readonly clearedRetentionMs: number;
  private readonly kHistoryLength: number;
  private cleared: ClearedRoomAlert[] = [];
  private kHistory: KChange[] = [];
  private lastK = 1;
  private lastNow = -Infinity;

  constructor(options: CollectiveTrackerOptions = {}) {
    this.alpha = options.alpha ?? 1;
    if (!(this.alpha >= 0.25 && this.alpha <= 1.6)) throw new RangeError('alpha must be in [0.25, 1.6]');
    this.camps = new CampTracker(options.camps);
    this.detector = new RoomChangeDetector(options.change);
    this.book = new AlertBook(options.alerts);
    this.clearedRetentionMs = options.clearedRetentionMs ?? 60_000;
    this.kHistoryLength = options.kHistoryLength ?? 8;
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
    const events: AlertMessage[] = [];
    if (enough) {
      const points = weightedPointsOf(input.grid);
      dissonance = dissonanceOfPoints(points, input.grid, { alpha: this.alpha, people: input.count });
      const report = this.camps.update(points, input.count);
      camps = report.camps;
      k = report.k;
      kWinner = report.winner;
      const shares = gridShares(input.grid) ?? (input.quadrantShares && input.quadrantShares.length === QUADRANTS.length ? input.quadrantShares : null);
      const approx = input.meanValence === undefined || input.dispersion === undefined || input.meanValence === null || input.dispersion === null ? momentsOf(points) : null;
      const meanValence = approx ? approx.v : (input.meanValence as number);
      const meanArousal = input.meanArousal ?? approx?.a ?? null;
      const dispersion = approx ? approx.dispersion : (input.dispersion as number);
      if (shares && meanArousal !== null && Number.isFinite(meanValence) && Number.isFinite(meanArousal) && Number.isFinite(dispersion)) {
        this.detector.freezeNoise(this.book.building);
        const step = this.detector.observe({ count: input.count, shares, meanValence, meanArousal, dispersion, now });
        events.push(...this.book.step(this.detector, step.alarms, k, now));
      }
    } else if (this.alpha !== 1) {
      dissonance = { ...NO_DISSONANCE, alpha: this.alpha };
    }
    if (k !== this.lastK) {
      this.kHistory.push({ at: now, k });
      if (this.kHistory.length > this.kHistoryLength) this.kHistory.shift();
      this.lastK = k;
    }
    const newlyCleared = events.filter((e) => e.type === 'cleared').map((e) => e.alert as ClearedRoomAlert);
    this.cleared = [...newlyCleared.reverse(), ...this.cleared].filter((c) => now - c.clearedAt <= this.clearedRetentionMs).slice(0, MAX_CLEARED);
    const active = this.book.active;
    const trend = this.book.activeTrend;
    return {
      v: 2,
      at: now,
      count: input.count,
      dissonance,
      camps,
      k,
      kWinner,
      kHistory: this.kHistory.slice(),
      alerts: active ? [active] : [],
      events,
      cleared: this.cleared.slice(),
      trends: trend ? [trend] : [],
    };
  }
}
