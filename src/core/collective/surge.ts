/**
 * Surge detection on one metric (a quadrant's share or the mean arousal), one observation per
 * window, by three detectors voting, with alerts raised and cleared with hysteresis.
 *
 *   window value x ──► standardise z = (x − μ̂)/σ̂ ──► CUSUM (k, h)        ─┐
 *                  │                               └► EWMA (λ, L)        ─┼─► raise?
 *                  └──────────────────────────────► BOCPD P(change) ─────┘
 *
 * - BOCPD runs on the raw values with a vague prior on the mean (κ₀ = 0.01, so a new segment may
 *   sit at any level) and prior variance σ̂² (α₀ = 1, β₀ = σ̂²) fixed when the detectors arm.
 * - μ̂ is the mean of the current segment (since start, or since the last detected change);
 *   σ̂ = max(minSigma, median moving range / 0.954) over the last 40 windows — the median
 *   moving range is robust to the level shifts being detected (Montgomery, Introduction to
 *   Statistical Quality Control, §6.4; 0.954 = √2·Φ⁻¹(0.75)).
 * - RAISE when the CUSUM side crosses h AND (the EWMA chart is out of control on the same side
 *   OR BOCPD gives P(change since the CUSUM's change estimate) ≥ raiseProbability) AND the last
 *   `confirmWindows` window values all lie ≥ max(σ̂, minMagnitude) beyond the level on that side. The alert's
 *   `startedAt` is the change-point estimate: the CUSUM's (the window after the statistic was last
 *   0), refined by Hinkley's (1970) least-squares split over the windows from 12 before it.
 *   A change whose estimated start lies more than `maxRiseWindows` before the alarm is a slow
 *   drift, not a surge: the level is re-learnt and nothing is raised.
 *   The detectors then restart on the new level (μ̂ re-estimated from the windows since
 *   `startedAt`) and re-arm after `rearmWindows`; a further alarm on the same side while the
 *   alert is active extends it when that change began within `maxRiseWindows` of the alert's
 *   start (the surge is still building), and otherwise supersedes it with a new alert.
 * - CLEAR when the value has been within clearZ·σ̂ of the pre-change level for `clearWindows`
 *   consecutive windows ('returned'), when the opposite side raises ('reversed'), when a new
 *   surge on the same side replaces it ('superseded'), or after
 *   `settleMs` at the new level ('settled'). Raising needs h = 6 σ-units of accumulated
 *   evidence, clearing needs a sustained return: that gap is the hysteresis.
 *
 * Sources: cusum.ts (Page 1954), ewma.ts (Roberts 1959), bocpd.ts (Adams & MacKay 2007).
 */
import { Bocpd } from './bocpd.ts';
import { Cusum, type Direction } from './cusum.ts';
import { EwmaChart } from './ewma.ts';

/** Settings of surge detection (shared by every metric of a tracker). */
export interface SurgeOptions {
  /** Window length in ms; the detectors see one value (the window mean) per window. */
  readonly windowMs: number;
  /** CUSUM reference value k (σ units). */
  readonly cusumK: number;
  /** CUSUM decision interval h (σ units). */
  readonly cusumH: number;
  /** EWMA weight λ. */
  readonly ewmaLambda: number;
  /** EWMA limit L (σ units of the EWMA statistic). */
  readonly ewmaL: number;
  /** BOCPD expected segment length, in windows. */
  readonly expectedRun: number;
  /** BOCPD run-length truncation, in windows. */
  readonly maxRun: number;
  /** BOCPD probability that confirms a CUSUM alarm when the EWMA does not. */
  readonly raiseProbability: number;
  /**
   * Consecutive windows whose value must sit at least max(σ̂, minMagnitude) beyond the level on the alarming side
   * before an alarm raises: a single outlying window (the CUSUM and EWMA remember it) does not.
   */
  readonly confirmWindows: number;
  /**
   * Smallest deviation from the level, in the metric's units, that counts toward confirming an
   * alarm: a 2-point drift in a quadrant's share is real but is not a surge.
   */
  readonly minMagnitude: number;
  /**
   * A surge is abrupt: when the estimated start lies more than this many windows before the
   * alarm, the change was a slow drift — the level is re-learnt silently and nothing is raised.
   */
  readonly maxRiseWindows: number;
  /** Windows of history before the first detection. */
  readonly warmupWindows: number;
  /** Windows after a detected change before the detectors re-arm. */
  readonly rearmWindows: number;
  /** Floor on σ̂, in the metric's units (a room that never moves must not alarm on a 1 % twitch). */
  readonly minSigma: number;
  /** Clearing band around the pre-change level, in σ̂. */
  readonly clearZ: number;
  /** Consecutive windows inside the band that clear an alert. */
  readonly clearWindows: number;
  /** An alert older than this clears as 'settled' (the new level is the new normal). */
  readonly settleMs: number;
}

/** Defaults, tuned on seeds disjoint from the benchmark's (docs/collective-state.md). */
export const DEFAULT_SURGE_OPTIONS: SurgeOptions = {
  windowMs: 5_000,
  cusumK: 0.5,
  cusumH: 6,
  ewmaLambda: 0.1,
  ewmaL: 2.8,
  expectedRun: 250,
  maxRun: 120,
  raiseProbability: 0.5,
  confirmWindows: 2,
  minMagnitude: 0.08,
  maxRiseWindows: 12,
  warmupWindows: 12,
  rearmWindows: 4,
  minSigma: 0.02,
  clearZ: 1.5,
  clearWindows: 3,
  settleMs: 180_000,
};

/** A surge alert (plain data, JSON-serialisable). */
export interface SurgeAlert {
  readonly id: string;
  /** What surged: `share:<quadrant>` or `meanArousal`. */
  readonly metric: string;
  readonly direction: Direction;
  /** Estimated start of the change (epoch ms, a window start). */
  readonly startedAt: number;
  /** When the alert was raised (epoch ms). */
  readonly raisedAt: number;
  /** Current value minus the pre-change level, in the metric's units (share or arousal). */
  readonly magnitude: number;
  /** The same in σ̂ units. */
  readonly z: number;
  /** BOCPD probability that the level changed since startedAt. */
  readonly probability: number;
  /** The pre-change level. */
  readonly baseline: number;
}

/** An alert that has cleared. */
export interface ClearedAlert extends SurgeAlert {
  readonly clearedAt: number;
  readonly reason: 'returned' | 'reversed' | 'superseded' | 'settled';
}

/** What one window did to a metric's alerts. */
export interface SurgeStep {
  readonly raised: SurgeAlert | null;
  readonly cleared: ClearedAlert | null;
}

interface Window {
  readonly at: number;
  readonly x: number;
}

const MAX_SEGMENT = 720;
const MR_WINDOWS = 40;
const LOOKBACK = 12;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Surge detection on one metric. */
export class SurgeMonitor {
  readonly metric: string;
  readonly options: SurgeOptions;
  private lastX: number | null = null;
  /** Windows observed so far; `segmentStart` and `cusumFrom` are indices in this count. */
  private observed = 0;
  private segmentStart = 0;
  private cusumFrom: number | null = null;
  private readonly ranges: number[] = [];
  private segment: Window[] = [];
  private mean = 0;
  private armedAfter: number;
  private readonly cusum: Cusum;
  private readonly ewma: EwmaChart;
  private bocpd: Bocpd | null = null;
  private streakSide: Direction | null = null;
  private streak = 0;
  private active: (SurgeAlert & { sigma: number; inBand: number }) | null = null;
  private readonly nextId: () => string;

  /** `nextId` names new alerts (unique within a tracker). */
  constructor(metric: string, options: SurgeOptions, nextId: () => string) {
    this.metric = metric;
    this.options = options;
    this.nextId = nextId;
    this.cusum = new Cusum(options.cusumK, options.cusumH);
    this.ewma = new EwmaChart(options.ewmaLambda, options.ewmaL);
    this.armedAfter = options.warmupWindows;
  }

  /** The active alert, if any. */
  get alert(): SurgeAlert | null {
    if (!this.active) return null;
    const { sigma: _s, inBand: _i, ...alert } = this.active;
    return alert;
  }

  /** σ̂: the robust noise level. */
  get sigma(): number {
    const mr = this.ranges.length >= 3 ? median(this.ranges) / 0.954 : 0;
    return Math.max(this.options.minSigma, mr);
  }

  /** Feeds the value of the window that started at `at`; `now` is when it closed. */
  observe(at: number, x: number, now: number): SurgeStep {
    const o = this.options;
    if (this.lastX !== null) {
      this.ranges.push(Math.abs(x - this.lastX));
      if (this.ranges.length > MR_WINDOWS) this.ranges.shift();
    }
    this.lastX = x;
    const absIndex = this.observed++;
    this.segment.push({ at, x });
    // A long quiet segment only needs enough history for the level and the start estimate:
    // bound it, so a space open for days holds O(1) state.
    if (this.segment.length > MAX_SEGMENT) {
      const drop = this.segment.length - MAX_SEGMENT;
      if (this.segment.length - drop > this.armedAfter) {
        this.segment.splice(0, drop);
        this.segmentStart += drop;
      }
    }
    let raised: SurgeAlert | null = null;
    let cleared: ClearedAlert | null = null;

    if (this.segment.length <= this.armedAfter) {
      // Learning the level: no detection yet.
      this.mean = this.segment.reduce((s, v) => s + v.x, 0) / this.segment.length;
    } else {
      const sigma = this.sigma;
      if (!this.bocpd) {
        this.bocpd = new Bocpd({ expectedRun: o.expectedRun, maxRun: o.maxRun, mu0: this.mean, kappa0: 0.01, alpha0: 1, beta0: sigma * sigma });
      }
      const z = (x - this.mean) / sigma;
      if (this.cusumFrom === null) this.cusumFrom = absIndex;
      const c = this.cusum.step(z);
      const e = this.ewma.step(z);
      this.bocpd.step(x);
      const dev = x - this.mean;
      const big = Math.abs(dev) >= Math.max(sigma, o.minMagnitude);
      const side: Direction | null = big ? (dev > 0 ? 'up' : 'down') : null;
      if (side !== null && side === this.streakSide) this.streak++;
      else {
        this.streakSide = side;
        this.streak = side === null ? 0 : 1;
      }
      const stats = this.cusum.statistics;
      if (stats.upper <= o.cusumH / 2 && stats.lower <= o.cusumH / 2) {
        // In control: let the level follow slow drift.
        const n = this.segment.length;
        this.mean += (x - this.mean) / n;
      }
      if (c.alarm && c.changeIndex !== null) {
        // The CUSUM's i-th observation since its reset is window cusumFrom + i overall.
        const cusumStart = Math.max(0, Math.min(this.segment.length - 1, (this.cusumFrom ?? absIndex) + c.changeIndex - this.segmentStart));
        const startIdx = this.locateChange(cusumStart);
        const start = this.segment[startIdx] as Window;
        const windowsSince = this.segment.length - startIdx;
        // Run length r counts the observations of the current run, so a run that began at the
        // change estimate has length windowsSince; P(r ≤ windowsSince) = "changed since then".
        const p = this.bocpd.probabilityOfChangeWithin(windowsSince + 1);
        const persistent = this.streakSide === c.alarm && this.streak >= o.confirmWindows;
        if (persistent && (e === c.alarm || p >= o.raiseProbability)) {
          const post = this.segment.slice(startIdx);
          const drift = post.length - 1 > o.maxRiseWindows;
          // Same side again while active: if this change began within maxRiseWindows of the
          // active surge's start, the surge is still building; later, it is a new surge.
          const building = this.active !== null && this.active.direction === c.alarm && start.at - this.active.startedAt <= o.maxRiseWindows * o.windowMs;
          if (drift || building) {
            // Follow the new level without raising.
          } else {
            if (this.active) cleared = this.clear(now, this.active.direction === c.alarm ? 'superseded' : 'reversed');
            const id = this.nextId();
            this.active = {
              id,
              metric: this.metric,
              direction: c.alarm,
              startedAt: start.at,
              raisedAt: now,
              magnitude: x - this.mean,
              z: (x - this.mean) / sigma,
              probability: p,
              baseline: this.mean,
              sigma,
              inBand: 0,
            };
            raised = this.alert;
          }
          // Restart on the new level.
          this.segment = post;
          this.segmentStart = absIndex - post.length + 1;
          this.mean = post.reduce((s, v) => s + v.x, 0) / post.length;
          this.armedAfter = Math.max(post.length, o.rearmWindows);
          this.cusum.reset();
          this.cusumFrom = null;
          this.ewma.reset();
          this.streak = 0;
          this.streakSide = null;
        }
      }
    }

    if (this.active && !raised) {
      const a = this.active;
      const windowsSince = Math.max(1, Math.round((at - a.startedAt) / o.windowMs) + 1);
      const prob = this.bocpd ? this.bocpd.probabilityOfChangeWithin(windowsSince + 1) : a.probability;
      const inside = Math.abs(x - a.baseline) < o.clearZ * a.sigma;
      this.active = { ...a, magnitude: x - a.baseline, z: (x - a.baseline) / a.sigma, probability: Math.max(prob, 0), inBand: inside ? a.inBand + 1 : 0 };
      if (this.active.inBand >= o.clearWindows) cleared = this.clear(now, 'returned');
      else if (now - a.raisedAt >= o.settleMs) cleared = this.clear(now, 'settled');
    }
    return { raised, cleared };
  }

  /**
   * Refines the CUSUM's change-point estimate (which drifts early when the level crept up
   * before the jump) by the least-squares two-segment fit (D. V. Hinkley, "Inference about the
   * change-point in a sequence of random variables", Biometrika 57, 1970): over the windows from
   * `lookback` before the CUSUM's estimate to now, the split τ maximising
   * n₁n₂/(n₁+n₂)·(x̄₂ − x̄₁)². Returns a segment index.
   */
  private locateChange(cusumStart: number): number {
    const seg = this.segment;
    const end = seg.length;
    const from = Math.max(0, cusumStart - LOOKBACK);
    let total = 0;
    for (let i = from; i < end; i++) total += (seg[i] as Window).x;
    let best = cusumStart;
    let bestStat = -1;
    let left = 0;
    for (let tau = from + 1; tau < end; tau++) {
      left += (seg[tau - 1] as Window).x;
      const n1 = tau - from;
      const n2 = end - tau;
      const d = (total - left) / n2 - left / n1;
      const stat = ((n1 * n2) / (n1 + n2)) * d * d;
      if (stat > bestStat) {
        bestStat = stat;
        best = tau;
      }
    }
    return best;
  }

  private clear(now: number, reason: ClearedAlert['reason']): ClearedAlert {
    const a = this.alert as SurgeAlert;
    this.active = null;
    return { ...a, clearedAt: now, reason };
  }
}
