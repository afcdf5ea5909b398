/**
 * Alert events: one change of the room, one alert — however many features move — with separate
 * `raised`, `updated` and `cleared` messages, and slow drifts reported as trends.
 *
 *                  confirmed alarm (roomChange.ts)
 *   (none) ─────────────────────────────────────────► building ──quiet for quietMs──► holding
 *                                                       ▲  ▲ alarm that agrees: joins   │
 *                                                       │  └─────────────────────────── ┤
 *     alarm that disagrees (moves back what the alert   │                               │
 *     moved): cleared 'reversed', a new alert raised ───┘                               │
 *     back within h of the baseline for returnMs ────────────────────('returned') ◄─────┤
 *     holding for settleMs ──────────────────────────────────────────('settled')  ◄─────┘
 *
 * An alarm *agrees* with an event when, on its feature, it moves the same way as the event has
 * moved since its start (or the event has not moved that feature beyond 3 h): it is the same
 * change still unfolding. It *disagrees* when it moves a feature back against a displacement the
 * event already holds beyond 3 h: that is a new change (a surge that heals, a split after a
 * surge). Dispersion alarms always agree (it rises and falls within one change).
 *
 * - `startedAt` is the earliest start of the alarms that raised it (the CUSUMs' last zero): how
 *   early it could have been known; `raisedAt` is the tick it was published: what is scored.
 * - `metrics` lists every feature displaced beyond its h since `startedAt`, with direction and
 *   magnitude; `magnitude` is the share of the room that changed quadrant (Σ|Δq|/2).
 * - `probability` = Φ(zH·(r − 1)), r the largest displacement relative to its threshold h: the
 *   chance that the room really moved beyond h, reading the observed displacement as Gaussian
 *   around the true one with sd h/zH (= σ̂ when h is noise-set). 0.5 at the threshold; it grows
 *   in `updated` messages as the change unfolds. Its calibration is printed by the benchmark.
 *
 * Trends: over the last `trendTicks`, the least-squares slope of each share and of the mean;
 * a feature trends when its rate is ≥ its floor and its fitted change over the window is ≥ 3 σ̂,
 * while no alert is active (and not within `trendHoldoffMs` of a raise, whose jump would bias
 * the fit). One room trend lists the trending features with their rates per minute; it starts after
 * `trendConfirmTicks` trending ticks and ends after `trendEndTicks` without.
 */
import type { Direction } from './cusum.ts';
import { type FeatureAlarm, ROOM_FEATURES, type RoomChangeDetector, type RoomFeature } from './roomChange.ts';

/** One feature an alert (or trend) involves. */
export interface AlertMetric {
  readonly metric: RoomFeature | 'camps';
  readonly direction: Direction;
  /** Value now minus the value at `startedAt` (share, affect units, or camps). */
  readonly magnitude: number;
  /** The value at `startedAt`. */
  readonly baseline: number;
}

/** An alert event (plain JSON). */
export interface RoomAlert {
  readonly id: string;
  /** building: the room is still moving; holding: it has stopped at a new level. */
  readonly state: 'building' | 'holding';
  /** Estimated start of the change (epoch ms). */
  readonly startedAt: number;
  /** When it was first published (epoch ms). */
  readonly raisedAt: number;
  /** Last time its content changed (epoch ms). */
  readonly updatedAt: number;
  readonly probability: number;
  /** Share of the room that changed quadrant since `startedAt`. */
  readonly magnitude: number;
  /** Features moving, largest |z| first. */
  readonly metrics: readonly AlertMetric[];
  /** The first metric (largest |z|) — for readers of one metric. */
  readonly metric: string;
  readonly direction: Direction;
}

/** An alert that cleared. */
export interface ClearedRoomAlert extends RoomAlert {
  readonly clearedAt: number;
  readonly reason: 'returned' | 'reversed' | 'settled';
}

/** A message about an alert, published in the pulse of the tick it happened in. */
export type AlertMessage =
  | { readonly type: 'raised'; readonly at: number; readonly alert: RoomAlert }
  | { readonly type: 'updated'; readonly at: number; readonly alert: RoomAlert }
  | { readonly type: 'cleared'; readonly at: number; readonly alert: ClearedRoomAlert };

/** A feature of a trend. */
export interface TrendMetric {
  readonly metric: RoomFeature;
  readonly direction: Direction;
  /** Units per minute (share or affect units). */
  readonly ratePerMin: number;
}

/** A slow drift of the room (plain JSON). */
export interface RoomTrend {
  readonly id: string;
  /** Estimated start (first trending tick minus half the fit window), epoch ms. */
  readonly startedAt: number;
  readonly raisedAt: number;
  readonly updatedAt: number;
  readonly metrics: readonly TrendMetric[];
}

/** Settings of the alert book. */
export interface AlertBookOptions {
  readonly quietMs: number;
  readonly settleMs: number;
  readonly returnMs: number;
  /**
   * Shortest interval between two `updated` messages of one alert (ms) — sent only when its
   * figures moved; a change of the metrics moving or of the state is sent at once.
   */
  readonly updateEveryMs: number;
  readonly trendTicks: number;
  readonly trendConfirmTicks: number;
  readonly trendEndTicks: number;
  readonly trendHoldoffMs: number;
  /** Rate floors of a trend, per minute: shares and mean. */
  readonly trendShareRate: number;
  readonly trendMeanRate: number;
}

/** Defaults (docs/collective-state.md §4). */
export const DEFAULT_ALERT_BOOK_OPTIONS: AlertBookOptions = {
  quietMs: 15_000,
  settleMs: 60_000,
  returnMs: 5_000,
  updateEveryMs: 2_000,
  trendTicks: 120,
  trendConfirmTicks: 6,
  trendEndTicks: 20,
  trendHoldoffMs: 60_000,
  trendShareRate: 0.04,
  trendMeanRate: 0.05,
};

const SHARES = 4;
const ALARMING = 7;

/** Φ(z), the standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989423 * Math.exp((-z * z) / 2);
  const p = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))));
  return z > 0 ? 1 - p : p;
}

interface Live {
  id: string;
  state: 'building' | 'holding';
  startedAt: number;
  raisedAt: number;
  updatedAt: number;
  lastAlarmAt: number;
  holdingSince: number;
  backSince: number | null;
  baseline: number[];
  kBaseline: number;
  lastMetricKey: string;
  alert: RoomAlert;
}

/** The alert events and trends of one space. */
export class AlertBook {
  readonly options: AlertBookOptions;
  private live: Live | null = null;
  private trend: RoomTrend | null = null;
  private trendTicks = 0;
  private quietTicks = 0;
  private seq = 0;
  private trendSeq = 0;
  private lastRaisedAt = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<AlertBookOptions> = {}) {
    this.options = { ...DEFAULT_ALERT_BOOK_OPTIONS, ...options };
  }

  /** The active alert, if any. */
  get active(): RoomAlert | null {
    return this.live?.alert ?? null;
  }

  /** The active trend, if any. */
  get activeTrend(): RoomTrend | null {
    return this.trend;
  }

  /** Whether a change is in progress (σ̂ should not learn from it). */
  get building(): boolean {
    return this.live?.state === 'building';
  }

  /**
   * Processes one tick: the detector (already fed this tick), its confirmed alarms, the camps in
   * force. Returns this tick's messages.
   */
  step(det: RoomChangeDetector, alarms: readonly FeatureAlarm[], k: number, now: number): AlertMessage[] {
    const out: AlertMessage[] = [];
    const o = this.options;
    let live = this.live;
    if (alarms.length > 0) {
      if (live && alarms.every((a) => this.agrees(det, live as Live, a))) {
        // The same change still unfolding (a holding alert starts building again).
        live.lastAlarmAt = now;
        live.state = 'building';
      } else {
        // Some alarm moves back what the alert moved: a new change replaces it.
        if (live) out.push(this.clear(live, now, 'reversed'));
        live = this.open(det, alarms, k, now);
        this.live = live;
        out.push({ type: 'raised', at: now, alert: live.alert });
      }
    }
    if (live && !out.some((m) => m.type === 'raised')) {
      const wasState = live.state;
      if (live.state === 'building' && now - live.lastAlarmAt >= o.quietMs) {
        live.state = 'holding';
        live.holdingSince = now;
      }
      const next = this.describe(det, live, k, now);
      const key = next.metrics.map((m) => `${m.metric}${m.direction}`).join(',');
      const back = this.isBack(det, live);
      live.backSince = back ? (live.backSince ?? now) : null;
      if (live.backSince !== null && now - live.backSince >= o.returnMs) {
        out.push(this.clear(live, now, 'returned'));
      } else if (live.state === 'holding' && now - live.holdingSince >= o.settleMs) {
        out.push(this.clear(live, now, 'settled'));
      } else if (wasState !== live.state || key !== live.lastMetricKey || (now - live.updatedAt >= o.updateEveryMs && this.moved(live.alert, next))) {
        live.lastMetricKey = key;
        live.updatedAt = now;
        live.alert = { ...next, updatedAt: now };
        out.push({ type: 'updated', at: now, alert: live.alert });
      }
    }
    this.stepTrend(det, now);
    return out;
  }

  private open(det: RoomChangeDetector, alarms: readonly FeatureAlarm[], k: number, now: number): Live {
    const from = Math.min(...alarms.map((a) => a.fromTick));
    const baseline = ROOM_FEATURES.map((_, i) => det.valueAt(i, from));
    const live: Live = {
      id: `a${++this.seq}`,
      state: 'building',
      startedAt: det.timeAt(from),
      raisedAt: now,
      updatedAt: now,
      lastAlarmAt: now,
      holdingSince: now,
      backSince: null,
      baseline,
      kBaseline: k,
      lastMetricKey: '',
      alert: null as unknown as RoomAlert,
    };
    live.alert = this.describe(det, live, k, now);
    // The alarming features are moving by definition, even if another feature moved further.
    const listed = new Set(live.alert.metrics.map((m) => m.metric));
    const extra = alarms.filter((a) => !listed.has(a.feature)).map((a) => ({ metric: a.feature, direction: a.direction, magnitude: a.magnitude, baseline: baseline[a.index] as number }));
    if (extra.length) live.alert = { ...live.alert, metrics: [...live.alert.metrics, ...extra], ...(live.alert.metrics.length === 0 ? { metric: (extra[0] as AlertMetric).metric, direction: (extra[0] as AlertMetric).direction } : {}) };
    live.lastMetricKey = live.alert.metrics.map((m) => `${m.metric}${m.direction}`).join(',');
    this.lastRaisedAt = now;
    return live;
  }

  /** Whether an alert's figures changed enough to publish (magnitude ≥ 0.02, probability ≥ 0.05, or any metric ≥ 0.02). */
  private moved(before: RoomAlert, after: RoomAlert): boolean {
    if (Math.abs(after.magnitude - before.magnitude) >= 0.02 || Math.abs(after.probability - before.probability) >= 0.05) return true;
    return after.metrics.some((m, i) => Math.abs(m.magnitude - (before.metrics[i]?.magnitude ?? 0)) >= 0.02);
  }

  /** Same change still unfolding (module header)? */
  private agrees(det: RoomChangeDetector, live: Live, a: FeatureAlarm): boolean {
    // Dispersion rises and falls within one change (people mixing, then settling): never a new change.
    if (a.index >= 6) return true;
    const now = det.valueAt(a.index, det.lastTick);
    const moved = now - (live.baseline[a.index] as number);
    const before = moved - a.magnitude; // the event's displacement when this movement began
    // Only a feature the change has clearly moved (≥ 3 h) can be moved back against it: a smaller
    // bump that subsides (people passing through a quadrant) is the same change settling.
    if (Math.abs(before) < 3 * det.threshold(a.index)) return true;
    return (before > 0) === (a.direction === 'up');
  }

  private isBack(det: RoomChangeDetector, live: Live): boolean {
    if (live.state !== 'holding') return false;
    for (let i = 0; i < ALARMING; i++) if (Math.abs(det.valueAt(i, det.lastTick) - (live.baseline[i] as number)) >= det.threshold(i)) return false;
    return true;
  }

  private describe(det: RoomChangeDetector, live: Live, k: number, now: number): RoomAlert {
    const t = det.lastTick;
    const metrics: (AlertMetric & { z: number })[] = [];
    let moved = 0;
    let rMax = 0;
    const zH = det.options.zH;
    for (let i = 0; i < ALARMING; i++) {
      const base = live.baseline[i] as number;
      const d = det.valueAt(i, t) - base;
      if (i < SHARES) moved += Math.abs(d);
      const z = Math.abs(d) / det.sigma(i);
      rMax = Math.max(rMax, Math.abs(d) / det.threshold(i));
      if (Math.abs(d) >= det.threshold(i)) {
        metrics.push({ metric: ROOM_FEATURES[i] as RoomFeature, direction: d >= 0 ? 'up' : 'down', magnitude: d, baseline: base, z });
      }
    }
    metrics.sort((p, q) => q.z - p.z);
    const list: AlertMetric[] = metrics.map(({ z: _z, ...m }) => m);
    if (k !== live.kBaseline) list.push({ metric: 'camps', direction: k > live.kBaseline ? 'up' : 'down', magnitude: k - live.kBaseline, baseline: live.kBaseline });
    const first = list[0];
    const probability = normalCdf(zH * (rMax - 1));
    return {
      id: live.id,
      state: live.state,
      startedAt: live.startedAt,
      raisedAt: live.raisedAt,
      updatedAt: now,
      probability: live.alert ? Math.max(probability, live.alert.probability) : probability,
      magnitude: moved / 2,
      metrics: list,
      metric: first?.metric ?? live.alert?.metric ?? 'dispersion',
      direction: first?.direction ?? live.alert?.direction ?? 'up',
    };
  }

  private clear(live: Live, now: number, reason: ClearedRoomAlert['reason']): AlertMessage {
    if (this.live === live) this.live = null;
    return { type: 'cleared', at: now, alert: { ...live.alert, clearedAt: now, reason } };
  }

  private stepTrend(det: RoomChangeDetector, now: number): void {
    const o = this.options;
    const metrics: TrendMetric[] = [];
    const quiet = this.live === null && now - this.lastRaisedAt >= o.trendHoldoffMs && det.held >= o.trendTicks;
    if (quiet) {
      for (let i = 0; i < 6; i++) {
        const fit = det.slope(i, o.trendTicks);
        if (!fit) continue;
        const perMin = fit.perSecond * 60;
        const floor = i < SHARES ? o.trendShareRate : o.trendMeanRate;
        const span = fit.seconds * Math.abs(fit.perSecond); // fitted change over the window
        if (Math.abs(perMin) >= floor && span >= 3 * det.sigma(i)) metrics.push({ metric: ROOM_FEATURES[i] as RoomFeature, direction: perMin >= 0 ? 'up' : 'down', ratePerMin: perMin });
      }
    }
    if (metrics.length > 0) {
      this.quietTicks = 0;
      this.trendTicks++;
      if (this.trend) this.trend = { ...this.trend, updatedAt: now, metrics };
      else if (this.trendTicks >= o.trendConfirmTicks) {
        const startedAt = det.timeAt(det.lastTick - o.trendConfirmTicks - Math.floor(o.trendTicks / 2));
        this.trend = { id: `t${++this.trendSeq}`, startedAt, raisedAt: now, updatedAt: now, metrics };
      }
    } else {
      this.trendTicks = 0;
      if (this.trend && ++this.quietTicks >= o.trendEndTicks) this.trend = null;
    }
  }
}
