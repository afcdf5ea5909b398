/**
 * Online change detection on the whole distribution of a room, one observation per pulse tick.
 *
 *   tick features x_t = (4 quadrant shares, mean valence, mean arousal, dispersion)
 *        │
 *        ├─► per feature, a two-sided CUSUM on the increments Δx_t (Page 1954):
 *        │     S⁺ ← max(0, S⁺ + Δx − k·Δt),  S⁻ ← max(0, S⁻ − Δx − k·Δt)
 *        │   i.e. S⁺_t = max over s of (x_t − x_s − k·(t − s)): "x rose by more than k per second
 *        │   plus h since some s". k is a *rate* (what moves slower is a trend, not a change) and
 *        │   h = max(floor, zH·σ̂) a magnitude, σ̂ the robust noise of 5-s differences.
 *        │
 *        └─► a share alarm is confirmed only when the movement is a *jump* — people moving far —
 *            and not one cloud sliding across a quadrant boundary (a slow drift moves many
 *            people across a boundary while the mean and the dispersion hardly change):
 *               m  = Σ_q |q_t − q_s| / 2                (share of the room that changed quadrant)
 *               ĵ₁ = (‖μ_t − μ_s‖ − 2σ̂_μ) / m           (how far the movers moved, from the mean)
 *               ĵ₂ = √((|D| − 2σ̂_D) / m),  D = E_t‖x − μ_s‖² − E_s‖x − μ_s‖²
 *                                                       (the same from the second moment: a
 *                                                        symmetric split hardly moves the mean;
 *                                                        counted only when |D| − 2σ̂_D ≥ h·0.8²)
 *               ĵ₃: a net flow ≥ h between diagonal quadrants beyond what the other two relayed
 *            confirmed when max(ĵ₁, ĵ₂, ĵ₃) ≥ jumpMin. ĵ₁ discounts the mean's own trend over the
 *            30 s before the movement. A cloud of sd σ drifting across a boundary
 *            gives ĵ₁ ≈ σ·√(2π) ≈ 0.3 and ĵ₂ ≈ 0 in the simulator; a surge to the anxious
 *            corner ≈ 1.1. Mean and dispersion alarms need no check: their k lies above drift
 *            speeds.
 *
 * The features come from aggregates only (grid quadrant counts, the snapshot's mean and spread),
 * so a tick costs O(features) plus an O(history) noise refresh every `noiseEvery` ticks; the state
 * is a fixed ring of `historyTicks` ticks. Pure: time comes in with every observation.
 *
 * Sources: E. S. Page, "Continuous inspection schemes", Biometrika 41, 1954 (CUSUM); the CUSUM on
 * increments as a slope test: M. Basseville and I. Nikiforov, Detection of Abrupt Changes, 1993,
 * §2.2; robust σ by the median absolute deviation (Hampel 1974), 0.6745 = Φ⁻¹(0.75).
 */
import type { Direction } from './cusum.ts';

/** The features watched, in this order. */
export const ROOM_FEATURES = [
  'share:pleasant-energised',
  'share:pleasant-calm',
  'share:unpleasant-calm',
  'share:unpleasant-energised',
  'meanValence',
  'meanArousal',
  'dispersion',
] as const;

/** A feature watched for changes. */
export type RoomFeature = (typeof ROOM_FEATURES)[number];

const SHARES = 4;
const MEAN_V = 4;
const MEAN_A = 5;
const DISPERSION = 6;
const F = ROOM_FEATURES.length;

/** One tick of the room, from aggregates. */
export interface RoomObservation {
  /** People counted. */
  readonly count: number;
  /** Quadrant shares (QUADRANTS order, sum 1). */
  readonly shares: readonly number[];
  readonly meanValence: number;
  readonly meanArousal: number;
  /** E‖x − μ‖² = var(valence) + var(arousal). */
  readonly dispersion: number;
  /** Tick time, epoch ms. */
  readonly now: number;
}

/** Settings of the change detector (defaults tuned on the `tune-*` seeds, docs/collective-state.md §4). */
export interface RoomChangeOptions {
  /** Ticks kept (noise estimate, baselines, trend fit). */
  readonly historyTicks: number;
  /** Ticks of history before the first detection. */
  readonly warmupTicks: number;
  /** Lag of the differences whose robust sd is σ̂ (10 ticks = 5 s at 2 Hz). */
  readonly noiseLagTicks: number;
  /** σ̂ is recomputed every this many ticks (frozen while a change is in progress). */
  readonly noiseEvery: number;
  /** h = max(floor, zH·σ̂). */
  readonly zH: number;
  /** Floors of h for a share: max(hPeople / count, hShare). */
  readonly hPeople: number;
  readonly hShare: number;
  /** Floors of h for the mean (affect units) and the dispersion. */
  readonly hMean: number;
  readonly hDispersion: number;
  /** Reference rates k, per second: shares, mean, dispersion. */
  readonly kShare: number;
  readonly kMean: number;
  readonly kDispersion: number;
  /** Smallest jump distance (affect units) that confirms a share alarm. */
  readonly jumpMin: number;
  /** Floors of σ̂ (a room that never moves must not alarm on one person's twitch). */
  readonly minSigmaPeople: number;
  readonly minSigmaMean: number;
  readonly minSigmaDispersion: number;
  /** A gap between ticks longer than this restarts the CUSUMs (ms). */
  readonly maxGapMs: number;
  /** Ticks before a movement over which the mean's own trend is fitted (and discounted from ĵ₁). */
  readonly trendBaselineTicks: number;
  /** ĵ₂ counts only when |D| implies ≥ the share floor of people moving this far (affect units). */
  readonly farJump: number;
}

/** Defaults (docs/collective-state.md §4). */
export const DEFAULT_ROOM_CHANGE_OPTIONS: RoomChangeOptions = {
  historyTicks: 240,
  warmupTicks: 60,
  noiseLagTicks: 10,
  noiseEvery: 20,
  zH: 4,
  hPeople: 5,
  hShare: 0.01,
  hMean: 0.015,
  hDispersion: 0.02,
  kShare: 0.002,
  kMean: 0.006,
  kDispersion: 0.004,
  jumpMin: 0.4,
  minSigmaPeople: 0.5,
  minSigmaMean: 0.002,
  minSigmaDispersion: 0.002,
  maxGapMs: 5_000,
  trendBaselineTicks: 60,
  farJump: 0.8,
};

/** A confirmed alarm on one feature. */
export interface FeatureAlarm {
  readonly feature: RoomFeature;
  readonly index: number;
  readonly direction: Direction;
  /** Absolute tick number and time at which the movement began (CUSUM's last zero). */
  readonly fromTick: number;
  readonly fromAt: number;
  /** x_t − x_s. */
  readonly magnitude: number;
  /** |magnitude| / σ̂. */
  readonly z: number;
  /** The jump distance estimate for a share alarm (null for the others). */
  readonly jump: number | null;
}

/** What one tick did. */
export interface RoomChangeStep {
  /** Confirmed alarms this tick. */
  readonly alarms: readonly FeatureAlarm[];
  /** Share alarms this tick that were rejected as a drift (for the trend monitor and tests). */
  readonly drifting: readonly RoomFeature[];
  /** Whether detection is armed (enough history). */
  readonly armed: boolean;
}

function median(xs: Float64Array, n: number): number {
  const s = xs.slice(0, n).sort();
  const m = n >> 1;
  return n % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Per-tick change detection over the room's distribution. */
export class RoomChangeDetector {
  readonly options: RoomChangeOptions;
  /** Ring of the last `historyTicks` feature vectors and times. */
  private readonly ring: Float64Array[];
  private readonly times: Float64Array;
  /** Ticks observed since the last restart (absolute tick numbers count from 0 forever). */
  private tick = -1;
  private contiguous = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private readonly up = new Float64Array(F);
  private readonly lo = new Float64Array(F);
  private readonly upFrom = new Float64Array(F);
  private readonly loFrom = new Float64Array(F);
  private readonly sigmas = new Float64Array(F);
  private sinceNoise = 0;
  private frozen = false;
  private count = 0;
  private readonly scratch: Float64Array;

  constructor(options: Partial<RoomChangeOptions> = {}) {
    this.options = { ...DEFAULT_ROOM_CHANGE_OPTIONS, ...options };
    const o = this.options;
    if (!(o.historyTicks > o.noiseLagTicks + 2) || !(o.warmupTicks >= o.noiseLagTicks + 2)) throw new RangeError('historyTicks and warmupTicks must exceed noiseLagTicks');
    this.ring = ROOM_FEATURES.map(() => new Float64Array(o.historyTicks));
    this.times = new Float64Array(o.historyTicks);
    this.scratch = new Float64Array(o.historyTicks);
  }

  /** Whether enough contiguous history has been seen to detect. */
  get armed(): boolean {
    return this.contiguous >= this.options.warmupTicks;
  }

  /** The absolute number of the last tick observed. */
  get lastTick(): number {
    return this.tick;
  }

  /** Stops (true) or resumes (false) refreshing σ̂ — while a change is in progress it would inflate. */
  freezeNoise(frozen: boolean): void {
    this.frozen = frozen;
  }

  /** σ̂ of a feature (robust sd of `noiseLagTicks` differences). */
  sigma(i: number): number {
    return Math.max(this.sigmaFloor(i), this.sigmas[i] as number);
  }

  /** h of a feature at the current room size. */
  threshold(i: number): number {
    const o = this.options;
    const floor = i < SHARES ? this.shareFloor() : i === DISPERSION ? o.hDispersion : o.hMean;
    return Math.max(floor, o.zH * this.sigma(i));
  }

  /** The value of feature `i` at absolute tick `t` (clamped to what the ring still holds). */
  valueAt(i: number, t: number): number {
    return (this.ring[i] as Float64Array)[this.slot(this.clampTick(t))] as number;
  }

  /** The time of absolute tick `t` (clamped to the ring). */
  timeAt(t: number): number {
    return this.times[this.slot(this.clampTick(t))] as number;
  }

  /** The oldest absolute tick still held. */
  get oldestTick(): number {
    return Math.max(0, this.tick - Math.min(this.contiguous, this.options.historyTicks) + 1);
  }

  /** Ticks of contiguous history held. */
  get held(): number {
    return Math.min(this.contiguous, this.options.historyTicks);
  }

  /** Feeds one tick. */
  observe(x: RoomObservation): RoomChangeStep {
    const o = this.options;
    const values = [...x.shares.slice(0, SHARES), x.meanValence, x.meanArousal, x.dispersion];
    const gap = x.now - this.lastAt;
    if (gap > o.maxGapMs) this.restart();
    const dt = Math.max(0, Math.min(gap, o.maxGapMs)) / 1000;
    this.tick++;
    this.contiguous++;
    this.count = x.count;
    const s = this.slot(this.tick);
    const prev = this.contiguous > 1 ? this.slot(this.tick - 1) : -1;
    for (let i = 0; i < F; i++) (this.ring[i] as Float64Array)[s] = values[i] as number;
    this.times[s] = x.now;
    this.lastAt = x.now;
    if (++this.sinceNoise >= o.noiseEvery && !this.frozen && this.contiguous > o.noiseLagTicks + 2) this.refreshNoise();
    const alarms: FeatureAlarm[] = [];
    const drifting: RoomFeature[] = [];
    if (prev < 0) {
      this.resetCusums();
      return { alarms, drifting, armed: false };
    }
    const armed = this.armed;
    for (let i = 0; i < F; i++) {
      const ring = this.ring[i] as Float64Array;
      const d = (ring[s] as number) - (ring[prev] as number);
      const k = (i < SHARES ? o.kShare : i === DISPERSION ? o.kDispersion : o.kMean) * dt;
      this.up[i] = (this.up[i] as number) + d - k;
      if ((this.up[i] as number) <= 0) {
        this.up[i] = 0;
        this.upFrom[i] = this.tick;
      }
      this.lo[i] = (this.lo[i] as number) - d - k;
      if ((this.lo[i] as number) <= 0) {
        this.lo[i] = 0;
        this.loFrom[i] = this.tick;
      }
      if (!armed) continue;
      const h = this.threshold(i);
      for (const dir of ['up', 'down'] as const) {
        const stat = dir === 'up' ? this.up : this.lo;
        if ((stat[i] as number) <= h) continue;
        const from = (dir === 'up' ? this.upFrom : this.loFrom)[i] as number;
        const fromTick = this.clampTick(from);
        const magnitude = (ring[s] as number) - this.valueAt(i, fromTick);
        const jump = i < SHARES ? this.jumpDistance(fromTick) : null;
        // Restart this side either way: a re-alarm later means the movement goes on.
        stat[i] = 0;
        (dir === 'up' ? this.upFrom : this.loFrom)[i] = this.tick;
        if (jump !== null && jump < o.jumpMin) {
          drifting.push(ROOM_FEATURES[i] as RoomFeature);
          continue;
        }
        alarms.push({ feature: ROOM_FEATURES[i] as RoomFeature, index: i, direction: dir, fromTick, fromAt: this.timeAt(fromTick), magnitude, z: Math.abs(magnitude) / this.sigma(i), jump });
      }
    }
    return { alarms, drifting, armed };
  }

  /**
   * How far the people who changed quadrant since tick `from` moved, estimated from the mean and
   * from the second moment about the old mean (module header), minus two noise sds.
   */
  jumpDistance(from: number): number {
    const s = this.slot(this.tick);
    const f = this.slot(this.clampTick(from));
    const at = (i: number, slot: number): number => (this.ring[i] as Float64Array)[slot] as number;
    let m = 0;
    for (let q = 0; q < SHARES; q++) m += Math.abs(at(q, s) - at(q, f));
    m /= 2;
    if (!(m > 0)) return 0;
    const lagScale = Math.sqrt(Math.min(1, Math.max(1, this.tick - this.clampTick(from)) / this.options.noiseLagTicks));
    // The mean's own trend before the movement (a drift carries the mean along by itself).
    const span = ((this.times[s] as number) - (this.times[f] as number)) / 1000;
    const before = this.clampTick(from);
    const vv = this.slopeOver(MEAN_V, before - this.options.trendBaselineTicks, before);
    const va = this.slopeOver(MEAN_A, before - this.options.trendBaselineTicks, before);
    const dv = at(MEAN_V, s) - at(MEAN_V, f) - vv * span;
    const da = at(MEAN_A, s) - at(MEAN_A, f) - va * span;
    const sigmaMu = Math.hypot(this.sigma(MEAN_V), this.sigma(MEAN_A)) * lagScale;
    const j1 = (Math.hypot(dv, da) - 2 * sigmaMu) / m;
    // E_t‖x − μ_s‖² = dispersion_t + ‖μ_t − μ_s‖²; E_s‖x − μ_s‖² = dispersion_s.
    const D = at(DISPERSION, s) + dv * dv + da * da - at(DISPERSION, f);
    // D alone cannot tell five people moving 0.8 from one moving 1.8 (a lone anxious tap during a
    // drift): it counts only when it implies at least the share floor of people moving farJump.
    const far = Math.abs(D) - 2 * this.sigma(DISPERSION) * lagScale;
    const j2 = far >= this.shareFloor() * this.options.farJump ** 2 ? Math.sqrt(far / m) : 0;
    // A net flow between diagonal quadrants (pleasant-calm ↔ unpleasant-energised, pleasant-
    // energised ↔ unpleasant-calm) beyond what the two other quadrants could have relayed is
    // not one cloud sliding across one boundary.
    const d = (q: number): number => at(q, s) - at(q, f);
    const relay = Math.abs(d(0)) + Math.abs(d(2));
    const relay2 = Math.abs(d(1)) + Math.abs(d(3));
    const diag = Math.max(Math.min(Math.abs(d(1)), Math.abs(d(3))) * (d(1) * d(3) < 0 ? 1 : 0) - relay, Math.min(Math.abs(d(0)), Math.abs(d(2))) * (d(0) * d(2) < 0 ? 1 : 0) - relay2);
    const j3 = diag >= this.shareFloor() ? this.options.jumpMin : 0;
    return Math.max(j1, j2, j3);
  }

  /** Least-squares slope (per second) of feature `i` over absolute ticks [from, to] (0 with < 10 ticks). */
  slopeOver(i: number, from: number, to: number): number {
    const a = this.clampTick(from);
    const b = this.clampTick(to);
    if (b - a + 1 < 10) return 0;
    return this.line(i, a, b)?.perSecond ?? 0;
  }

  /** Least-squares slope (per second) of feature `i` over the last `ticks` ticks, with its fitted change. */
  slope(i: number, ticks: number): { perSecond: number; residualSd: number; n: number; seconds: number } | null {
    const n = Math.min(ticks, this.held);
    if (n < 10) return null;
    const fit = this.line(i, this.tick - n + 1, this.tick);
    if (!fit) return null;
    const ring = this.ring[i] as Float64Array;
    const t0 = this.times[this.slot(this.tick)] as number;
    let rss = 0;
    for (let j = 0; j < n; j++) {
      const sl = this.slot(this.tick - j);
      const t = ((this.times[sl] as number) - t0) / 1000;
      const e = (ring[sl] as number) - fit.intercept - fit.perSecond * t;
      rss += e * e;
    }
    const seconds = (t0 - (this.times[this.slot(this.tick - n + 1)] as number)) / 1000;
    return { perSecond: fit.perSecond, residualSd: Math.sqrt(rss / Math.max(1, n - 2)), n, seconds };
  }

  /**
   * The least-squares line of feature `i` over absolute ticks [a, b], time in seconds from tick
   * b (so the intercept is the fitted value now); null when the times do not spread.
   */
  private line(i: number, a: number, b: number): { perSecond: number; intercept: number } | null {
    const ring = this.ring[i] as Float64Array;
    const t0 = this.times[this.slot(b)] as number;
    const n = b - a + 1;
    let st = 0;
    let sx = 0;
    let stt = 0;
    let stx = 0;
    for (let t = a; t <= b; t++) {
      const sl = this.slot(t);
      const u = ((this.times[sl] as number) - t0) / 1000;
      const v = ring[sl] as number;
      st += u;
      sx += v;
      stt += u * u;
      stx += u * v;
    }
    const den = n * stt - st * st;
    if (!(den > 0)) return null;
    const perSecond = (n * stx - st * sx) / den;
    return { perSecond, intercept: (sx - perSecond * st) / n };
  }

  private shareFloor(): number {
    return Math.max(this.options.hPeople / Math.max(1, this.count), this.options.hShare);
  }

  private sigmaFloor(i: number): number {
    const o = this.options;
    return i < SHARES ? o.minSigmaPeople / Math.max(1, this.count) : i === DISPERSION ? o.minSigmaDispersion : o.minSigmaMean;
  }

  private refreshNoise(): void {
    this.sinceNoise = 0;
    const lag = this.options.noiseLagTicks;
    const n = this.held - lag;
    if (n < 8) return;
    for (let i = 0; i < F; i++) {
      const ring = this.ring[i] as Float64Array;
      for (let j = 0; j < n; j++) this.scratch[j] = Math.abs((ring[this.slot(this.tick - j)] as number) - (ring[this.slot(this.tick - j - lag)] as number));
      this.sigmas[i] = median(this.scratch, n) / 0.6745;
    }
  }

  private restart(): void {
    this.contiguous = 0;
    this.resetCusums();
  }

  private resetCusums(): void {
    this.up.fill(0);
    this.lo.fill(0);
    this.upFrom.fill(this.tick);
    this.loFrom.fill(this.tick);
  }

  private clampTick(t: number): number {
    return Math.min(this.tick, Math.max(this.oldestTick, Math.round(t)));
  }

  private slot(t: number): number {
    const H = this.options.historyTicks;
    return ((t % H) + H) % H;
  }
}
