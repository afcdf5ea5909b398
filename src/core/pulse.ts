/**
 * The collective pulse of one space (SPEC.md §P).
 *
 * Each participant contributes their latest affect until it expires (TTL after it was
 * received). State is kept incrementally: an input is O(1) (a histogram cell moves, running
 * sums change), and a tick is O(bins²) — independent of the number of people — because the
 * snapshot reads only the histogram and the running sums.
 *
 * Smoothing is an exponential moving average with time constant τ (default 3 s): for a tick
 * after Δt, smoothed += (mean − smoothed)·(1 − e^(−Δt/τ)), so the result does not depend on
 * the tick rate.
 */
import { type Affect, quadrantOf } from './affect.ts';
import { GridHistogram } from './histogram.ts';

/** Settings of a space's pulse. */
export interface PulseConfig {
  /** Cells per axis of the grid histogram. */
  readonly bins: number;
  /** How long a participant's latest input counts, in ms. */
  readonly ttlMs: number;
  /** EMA time constant of the smoothed mean, in ms. */
  readonly smoothingMs: number;
  /**
   * Minimum cohort: below this many people, the pulse carries the count only — no mean,
   * spread, shares or histogram — so that nobody's individual point can be read off it.
   */
  readonly minCohort: number;
}

/** Defaults (SPEC P1). */
export const DEFAULT_PULSE_CONFIG: PulseConfig = { bins: 16, ttlMs: 120_000, smoothingMs: 3_000, minCohort: 3 };

/** A point on the grid. */
export interface Point {
  readonly valence: number;
  readonly arousal: number;
}

/** One pulse snapshot: aggregates only, never an individual's point. */
export interface PulseSnapshot {
  readonly t: 'pulse';
  /** Increases by one every tick of this space. */
  readonly seq: number;
  /** Server time of the tick, epoch ms. */
  readonly at: number;
  /** People whose point currently counts. */
  readonly count: number;
  /** True when count < minCohort and everything but the count is withheld. */
  readonly suppressed: boolean;
  readonly minCohort: number;
  readonly mean: Point | null;
  readonly smoothed: Point | null;
  /** Standard deviations along each axis. */
  readonly spread: Point | null;
  /** Shares of people per quadrant, in QUADRANTS order; sums to 1. */
  readonly quadrants: readonly [number, number, number, number] | null;
  readonly bins: number;
  /** People per cell, row-major by arousal (index = iy·bins + ix), or null when suppressed. */
  readonly hist: readonly number[] | null;
}

interface Member {
  cell: number;
  quadrant: number;
  valence: number;
  arousal: number;
  expiresAt: number;
  affect: Affect;
}

/**
 * The live state of one space: latest affect per participant, the grid histogram and running
 * sums. `now` is always passed in.
 */
export class PulseState {
  readonly config: PulseConfig;
  readonly grid: GridHistogram;
  private readonly members = new Map<string, Member>();
  // Expiry queue in non-decreasing expiresAt order; stale entries are skipped lazily.
  private queueIds: string[] = [];
  private queueAt: number[] = [];
  private queueHead = 0;
  private sumV = 0;
  private sumA = 0;
  private sumVV = 0;
  private sumAA = 0;
  private readonly quadrantCounts = [0, 0, 0, 0];
  private seq = 0;
  private smoothedV: number | null = null;
  private smoothedA: number | null = null;
  private lastTickAt: number | null = null;

  constructor(config: Partial<PulseConfig> = {}) {
    this.config = { ...DEFAULT_PULSE_CONFIG, ...config };
    if (!(this.config.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
    if (!(this.config.smoothingMs > 0)) throw new RangeError('smoothingMs must be positive');
    if (!Number.isInteger(this.config.minCohort) || this.config.minCohort < 1) throw new RangeError('minCohort must be an integer ≥ 1');
    this.grid = new GridHistogram(this.config.bins);
  }

  /** People whose point currently counts (call {@link expire} first for an exact figure). */
  get count(): number {
    return this.members.size;
  }

  /** The current point of a participant, if it has not expired. */
  latestOf(participantId: string): Affect | null {
    return this.members.get(participantId)?.affect ?? null;
  }

  /** Whether the participant currently counts. */
  has(participantId: string): boolean {
    return this.members.has(participantId);
  }

  /**
   * Sets a participant's latest affect, received at `receivedAt` (it expires at
   * receivedAt + ttl). O(1) amortised. Inputs must be validated before (checkAffect).
   */
  upsert(participantId: string, affect: Affect, receivedAt: number): void {
    this.removeMember(participantId);
    const cell = this.grid.add(affect.valence, affect.arousal);
    const quadrant = quadrantOf(affect.valence, affect.arousal);
    const expiresAt = receivedAt + this.config.ttlMs;
    this.members.set(participantId, { cell, quadrant, valence: affect.valence, arousal: affect.arousal, expiresAt, affect });
    this.sumV += affect.valence;
    this.sumA += affect.arousal;
    this.sumVV += affect.valence * affect.valence;
    this.sumAA += affect.arousal * affect.arousal;
    this.quadrantCounts[quadrant] = (this.quadrantCounts[quadrant] ?? 0) + 1;
    this.enqueue(participantId, expiresAt);
  }

  /** Removes a participant's point now (they left). Returns whether they counted. */
  remove(participantId: string): boolean {
    return this.removeMember(participantId);
  }

  /** Drops every point whose TTL has passed by `now`; returns how many expired. */
  expire(now: number): number {
    let n = 0;
    while (this.queueHead < this.queueIds.length && (this.queueAt[this.queueHead] ?? Infinity) <= now) {
      const id = this.queueIds[this.queueHead] as string;
      const at = this.queueAt[this.queueHead] as number;
      this.queueHead++;
      const m = this.members.get(id);
      if (m && m.expiresAt === at) {
        this.removeMember(id);
        n++;
      }
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queueIds.length) {
      this.queueIds = this.queueIds.slice(this.queueHead);
      this.queueAt = this.queueAt.slice(this.queueHead);
      this.queueHead = 0;
    }
    return n;
  }

  /** Expires old points and takes the next snapshot. O(bins²). */
  tick(now: number): PulseSnapshot {
    this.expire(now);
    const n = this.members.size;
    this.seq++;
    let mean: Point | null = null;
    let spread: Point | null = null;
    if (n > 0) {
      const mv = this.sumV / n;
      const ma = this.sumA / n;
      mean = { valence: mv, arousal: ma };
      spread = {
        valence: Math.sqrt(Math.max(0, this.sumVV / n - mv * mv)),
        arousal: Math.sqrt(Math.max(0, this.sumAA / n - ma * ma)),
      };
      if (this.smoothedV === null || this.smoothedA === null || this.lastTickAt === null) {
        this.smoothedV = mv;
        this.smoothedA = ma;
      } else {
        const dt = Math.max(0, now - this.lastTickAt);
        const k = 1 - Math.exp(-dt / this.config.smoothingMs);
        this.smoothedV += (mv - this.smoothedV) * k;
        this.smoothedA += (ma - this.smoothedA) * k;
      }
    }
    this.lastTickAt = now;
    const suppressed = n < this.config.minCohort;
    const smoothed = this.smoothedV === null || this.smoothedA === null ? null : { valence: this.smoothedV, arousal: this.smoothedA };
    return {
      t: 'pulse',
      seq: this.seq,
      at: now,
      count: n,
      suppressed,
      minCohort: this.config.minCohort,
      mean: suppressed ? null : mean,
      smoothed: suppressed || n === 0 ? null : smoothed,
      spread: suppressed ? null : spread,
      quadrants: suppressed || n === 0 ? null : (this.quadrantCounts.map((c) => c / n) as unknown as [number, number, number, number]),
      bins: this.config.bins,
      hist: suppressed ? null : Array.from(this.grid.counts),
    };
  }

  private enqueue(id: string, expiresAt: number): void {
    // Keep the queue sorted: inputs normally arrive in time order, so this is an append;
    // an out-of-order insert (restored state) walks back from the tail.
    let i = this.queueIds.length;
    while (i > this.queueHead && (this.queueAt[i - 1] ?? 0) > expiresAt) i--;
    if (i === this.queueIds.length) {
      this.queueIds.push(id);
      this.queueAt.push(expiresAt);
    } else {
      this.queueIds.splice(i, 0, id);
      this.queueAt.splice(i, 0, expiresAt);
    }
  }

  private removeMember(id: string): boolean {
    const m = this.members.get(id);
    if (!m) return false;
    this.members.delete(id);
    this.grid.removeCell(m.cell);
    this.sumV -= m.valence;
    this.sumA -= m.arousal;
    this.sumVV -= m.valence * m.valence;
    this.sumAA -= m.arousal * m.arousal;
    this.quadrantCounts[m.quadrant] = (this.quadrantCounts[m.quadrant] ?? 0) - 1;
    if (this.members.size === 0) {
      // Reset sums exactly so float drift never survives an empty room.
      this.sumV = this.sumA = this.sumVV = this.sumAA = 0;
    }
    return true;
  }
}
