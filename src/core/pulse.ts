/**
 * The collective pulse of one space (SPEC.md §P).
 *
 * Each participant contributes their latest affect until it expires (TTL after it was
 * received). State is kept incrementally: an input is O(1) (a histogram cell moves, running
 * sums change), and a tick is O(bins²) — independent of the number of people — because the
 * snapshot reads only the histogram and the running sums.
 *
 * The counts live in a mergeable, exact {@link Aggregate} (core/aggregate). What leaves the
 * server is decided by the release stage (core/release): {@link PulseState.measure} is the raw
 * measurement, {@link PulseState.tick} the released pulse.
 *
 * Smoothing is an exponential moving average with time constant τ (default 3 s): for a tick
 * after Δt, smoothed += (mean − smoothed)·(1 − e^(−Δt/τ)), so the result does not depend on
 * the tick rate.
 */
import type { Affect } from './affect.ts';
import { Aggregate, type AggregatePoint } from './aggregate/aggregate.ts';
import { type PulseMeasure, type ReleasedPulse, releasePulse } from './release/release.ts';

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

/**
 * One released pulse snapshot: aggregates only, never an individual's point (SPEC P6). The
 * release stage (core/release) is the only producer.
 */
export type PulseSnapshot = ReleasedPulse;

interface Member {
  point: AggregatePoint;
  expiresAt: number;
  affect: Affect;
  /** Index of the participant's declared group in {@link PulseState.groupGrids}, or −1 (none). */
  group: number;
}

/**
 * The live state of one space: latest affect per participant, the aggregate (grid, quadrants,
 * sums) and the smoother. `now` is always passed in.
 */
export class PulseState {
  readonly config: PulseConfig;
  /** The aggregate of every point that counts (a GridView for the collective-state maths). */
  readonly grid: Aggregate;
  /** One aggregate per declared group of the space (core/groups), kept in step with `grid`. */
  readonly groupGrids: Aggregate[] = [];
  private readonly members = new Map<string, Member>();
  /**
   * Participants whose point changed (added, moved, removed, expired, regrouped) since the live
   * release last took a snapshot (release/live.ts) — it clears this when it does.
   */
  readonly changed = new Set<string>();
  // Expiry queue in non-decreasing expiresAt order; stale entries are skipped lazily.
  private queueIds: string[] = [];
  private queueAt: number[] = [];
  private queueHead = 0;
  private seq = 0;
  private smoothedV: number | null = null;
  private smoothedA: number | null = null;
  private lastTickAt: number | null = null;

  constructor(config: Partial<PulseConfig> = {}) {
    this.config = { ...DEFAULT_PULSE_CONFIG, ...config };
    if (!(this.config.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
    if (!(this.config.smoothingMs > 0)) throw new RangeError('smoothingMs must be positive');
    if (!Number.isInteger(this.config.minCohort) || this.config.minCohort < 1) throw new RangeError('minCohort must be an integer ≥ 1');
    this.grid = new Aggregate(this.config.bins);
  }

  /** People whose point currently counts (call {@link expire} first for an exact figure). */
  get count(): number {
    return this.members.size;
  }

  /** The seq of the last measurement (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Continues the pulse numbering and smoothing of an earlier run (restart, failover). */
  resumeFrom(seq: number, smoothed: Point | null, at: number | null): void {
    this.seq = seq;
    this.smoothedV = smoothed?.valence ?? null;
    this.smoothedA = smoothed?.arousal ?? null;
    this.lastTickAt = at;
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
  upsert(participantId: string, affect: Affect, receivedAt: number, group = -1): void {
    this.removeMember(participantId);
    this.changed.add(participantId);
    const point = this.grid.pointOf(affect.valence, affect.arousal);
    const expiresAt = receivedAt + this.config.ttlMs;
    this.grid.add(point);
    this.groupGrids[group]?.add(point);
    this.members.set(participantId, { point, expiresAt, affect, group });
    this.enqueue(participantId, expiresAt);
  }

  /** Declares `n` groups (a space's named groups, core/groups): one more aggregate each. */
  defineGroups(n: number): void {
    while (this.groupGrids.length < n) this.groupGrids.push(new Aggregate(this.config.bins));
  }

  /** Moves a counting participant's point into group `group` (−1: none). O(1). */
  regroup(participantId: string, group: number): void {
    const m = this.members.get(participantId);
    if (!m || m.group === group) return;
    this.changed.add(participantId);
    this.groupGrids[m.group]?.remove(m.point);
    m.group = group;
    this.groupGrids[group]?.add(m.point);
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

  /**
   * Expires old points and measures: the next seq, count, mean, spread and the smoothed mean.
   * O(1) after expiry. Raw — nothing here may leave the server except through the release stage.
   */
  measure(now: number): PulseMeasure {
    this.expire(now);
    const { count, mean, spread } = this.grid.moments();
    this.seq++;
    if (mean) {
      if (this.smoothedV === null || this.smoothedA === null || this.lastTickAt === null) {
        this.smoothedV = mean.valence;
        this.smoothedA = mean.arousal;
      } else {
        const dt = Math.max(0, now - this.lastTickAt);
        const k = 1 - Math.exp(-dt / this.config.smoothingMs);
        this.smoothedV += (mean.valence - this.smoothedV) * k;
        this.smoothedA += (mean.arousal - this.smoothedA) * k;
      }
    }
    this.lastTickAt = now;
    const smoothed = count === 0 || this.smoothedV === null || this.smoothedA === null ? null : { valence: this.smoothedV, arousal: this.smoothedA };
    return { seq: this.seq, at: now, count, mean, smoothed, spread };
  }

  /** Expires old points and takes the next released snapshot (release stage, SPEC P4, R2). O(bins²). */
  tick(now: number): PulseSnapshot {
    return releasePulse(this.measure(now), this.grid, { minCohort: this.config.minCohort });
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
    this.changed.add(id);
    this.members.delete(id);
    this.grid.remove(m.point);
    this.groupGrids[m.group]?.remove(m.point);
    return true;
  }
}
