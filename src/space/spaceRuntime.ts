/**
 * The live runtime of one open space: its pulse state, who is connected, and the tick that
 * publishes the pulse on the bus (SPEC P6): each tick's snapshot is encoded once and the same
 * bytes go to every subscriber — displays at `displayHz`, participants at `participantHz`.
 */
import type { Affect } from '../core/affect.ts';
import { PulseState, type PulseSnapshot } from '../core/pulse.ts';
import type { Bus } from '../bus/port.ts';
import type { PulsePoint, SpaceRecord } from '../storage/port.ts';

/** Bus subjects of a space. */
export const subjects = {
  participantPulse: (spaceId: string) => `space.${spaceId}.pulse.participant`,
  displayPulse: (spaceId: string) => `space.${spaceId}.pulse.display`,
  control: (spaceId: string) => `space.${spaceId}.control`,
} as const;

/** Extra per-tick analysis attached to the pulse (e.g. the collective-state tracker). */
export interface PulseExtension {
  /** Called at participant rate; returns fields merged into every snapshot until the next call. */
  update(state: PulseState, snapshot: PulseSnapshot, now: number): Record<string, unknown>;
}

/** Settings of a runtime. */
export interface RuntimeOptions {
  readonly bus: Bus;
  readonly clock: () => number;
  readonly participantHz: number;
  readonly displayHz: number;
  readonly bins: number;
  readonly smoothingMs: number;
  readonly minCohort: number;
  /** How often to persist an aggregate point of the time series, ms. */
  readonly seriesEveryMs: number;
  readonly onSeriesPoint: (p: PulsePoint) => void;
  readonly extension?: PulseExtension;
}

const encoder = new TextEncoder();

/** One open space's live state. */
export class SpaceRuntime {
  readonly space: SpaceRecord;
  readonly state: PulseState;
  /** Participant ids with a connected socket (capacity is counted on these). */
  readonly connected = new Set<string>();
  displays = 0;
  private readonly opts: RuntimeOptions;
  private timer: NodeJS.Timeout | null = null;
  private lastParticipantAt = -Infinity;
  private lastSeriesAt = -Infinity;
  private lastSnapshot: PulseSnapshot | null = null;
  private lastBytes: Uint8Array | null = null;
  private extra: Record<string, unknown> = {};

  constructor(space: SpaceRecord, opts: RuntimeOptions) {
    this.space = space;
    this.opts = opts;
    this.state = new PulseState({ bins: opts.bins, ttlMs: space.ttlMs, smoothingMs: opts.smoothingMs, minCohort: opts.minCohort });
  }

  /** Restores a participant's point from storage after a restart. */
  restore(participantId: string, affect: Affect): void {
    this.state.upsert(participantId, affect, affect.at);
  }

  /** Starts ticking at the display rate. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / this.opts.displayHz)));
    this.timer.unref();
  }

  /** Stops ticking. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The smoothed crowd mean of the last published pulse — what people were last shown — without
   * ticking (it is read on every input, so it must stay O(1)).
   */
  shownMean(): { readonly valence: number; readonly arousal: number } | null {
    return this.lastSnapshot?.smoothed ?? null;
  }

  /** Whether the last snapshot is older than one display tick (or missing). */
  private isStale(): boolean {
    return !this.lastSnapshot || this.opts.clock() - this.lastSnapshot.at >= 1000 / this.opts.displayHz;
  }

  /** The most recent snapshot (ticking again if it is older than one display tick). */
  latest(): PulseSnapshot {
    if (this.isStale()) this.tick(true);
    return this.lastSnapshot as PulseSnapshot;
  }

  /** The most recent snapshot as the bytes sent on the wire (fresh within one display tick). */
  latestBytes(): Uint8Array {
    if (this.isStale()) this.tick(true);
    return this.lastBytes as Uint8Array;
  }

  /**
   * One tick: expire, snapshot, encode once, publish. Idle spaces (nobody connected, no
   * points) are skipped unless `force`.
   */
  tick(force = false): void {
    const now = this.opts.clock();
    const participantDue = now - this.lastParticipantAt >= 1000 / this.opts.participantHz - 1;
    if (!force && this.lastSnapshot) {
      const idle = this.connected.size === 0 && this.displays === 0 && this.state.count === 0;
      // Nobody watching at the display rate: only the participant-rate ticks do any work.
      if (idle || (this.displays === 0 && !participantDue)) return;
    }
    const snap = this.state.tick(now);
    if (participantDue && this.opts.extension) this.extra = this.opts.extension.update(this.state, snap, now);
    const full = { ...snap, space: this.space.code, ...this.extra } as PulseSnapshot;
    const bytes = encoder.encode(JSON.stringify(full));
    this.lastSnapshot = full;
    this.lastBytes = bytes;
    if (this.displays > 0) this.opts.bus.publish(subjects.displayPulse(this.space.id), bytes);
    if (participantDue) {
      this.lastParticipantAt = now;
      if (this.connected.size > 0) this.opts.bus.publish(subjects.participantPulse(this.space.id), bytes);
    }
    if (now - this.lastSeriesAt >= this.opts.seriesEveryMs && !snap.suppressed && snap.mean && snap.spread && snap.quadrants) {
      this.lastSeriesAt = now;
      this.opts.onSeriesPoint({
        spaceId: this.space.id,
        at: now,
        count: snap.count,
        valence: snap.mean.valence,
        arousal: snap.mean.arousal,
        spreadValence: snap.spread.valence,
        spreadArousal: snap.spread.arousal,
        quadrants: snap.quadrants,
      });
    }
  }
}
