/**
 * Runs a simulated crowd through the real pulse aggregation (core/pulse.ts) and a
 * CollectiveTracker tick by tick at the server's participant rate (2 Hz), in process, on a manual
 * clock and without sockets: what the benchmark and the tests use — the same calls
 * `src/server/extras.ts` makes (`tracker.update(collectiveInputOf(grid, snapshot))`). Returns the
 * ground truth, every alert as first published (the tick's `raised` message), every trend, the
 * camp counts shown next to the true ones per window, the window series (for baselines) and,
 * optionally, every tap as a contagion record.
 */
import type { ClearedRoomAlert, RoomAlert, RoomTrend } from '../core/collective/alertBook.ts';
import { type CollectiveState, CollectiveTracker, type CollectiveTrackerOptions, collectiveInputOf } from '../core/collective/collectiveTracker.ts';
import type { ContagionRecord } from '../core/collective/contagion.ts';
import { PulseState } from '../core/pulse.ts';
import { Crowd, type CrowdOptions, type GroundTruth, type Point } from './crowd.ts';

/** Options of an in-process run. */
export interface InProcessOptions extends CrowdOptions {
  /** Pulse tick (ms, default 500 = 2 Hz). */
  readonly tickMs?: number;
  /** Scoring window (ms, default 1 000). */
  readonly windowMs?: number;
  /** Tracker options. */
  readonly tracker?: CollectiveTrackerOptions;
  /** Epoch ms the run pretends to start at (default 1.7e12). */
  readonly epoch?: number;
  /** Keep every tap as a contagion record (default false). */
  readonly recordTaps?: boolean;
}

/** One window's view: what the tracker showed and what was true. */
export interface WindowSample {
  /** Window index since the start. */
  readonly window: number;
  readonly trueCamps: number;
  readonly shownCamps: number;
  /** The tick's winner before k hysteresis (for the no-hysteresis baseline). */
  readonly winnerK: number;
  /** Window means of the released quadrant shares (QUADRANTS order) and mean arousal; null when the room was too small. */
  readonly metrics: readonly number[] | null;
  readonly dissonance: number;
}

/** The result of an in-process run. */
export interface InProcessResult {
  readonly truth: GroundTruth;
  readonly epoch: number;
  readonly windowMs: number;
  /** Every alert as first published (its `raised` message), in raise order. */
  readonly alerts: readonly RoomAlert[];
  /** Every alert as it cleared, in clearing order. */
  readonly clearedAlerts: readonly ClearedRoomAlert[];
  /** Every trend as first published. */
  readonly trends: readonly RoomTrend[];
  /** Messages published, by type. */
  readonly messages: { readonly raised: number; readonly updated: number; readonly cleared: number };
  readonly windows: readonly WindowSample[];
  readonly records: readonly ContagionRecord[];
  readonly last: CollectiveState | null;
  /** Window-to-window changes of the number of camps shown, of the raw (pre-hysteresis) winner, and of the true count. */
  readonly flips: { readonly shown: number; readonly winner: number; readonly truth: number };
  readonly ticks: number;
}

/** Runs one scenario in process. Deterministic for a seed. */
export function runInProcess(options: InProcessOptions): InProcessResult {
  const tickMs = options.tickMs ?? 500;
  const windowMs = options.windowMs ?? 1_000;
  const epoch = options.epoch ?? 1_700_000_000_000;
  const crowd = new Crowd(options);
  const pulse = new PulseState({ ttlMs: 120_000 });
  const tracker = new CollectiveTracker(options.tracker);
  const alerts: RoomAlert[] = [];
  const clearedAlerts: ClearedRoomAlert[] = [];
  const trends = new Map<string, RoomTrend>();
  const messages = { raised: 0, updated: 0, cleared: 0 };
  const windows: WindowSample[] = [];
  const records: ContagionRecord[] = [];
  let shown: Point | null = null;
  let last: CollectiveState | null = null;
  let sums = [0, 0, 0, 0, 0];
  let ticksInWindow = 0;
  let window = 0;
  let ticks = 0;
  const flips = { shown: 0, winner: 0, truth: 0 };
  let prevShown = -1;
  let prevWinner = -1;
  let prevTruth = -1;
  for (let t = 0; t <= options.durationMs; t += tickMs) {
    const now = epoch + t;
    for (const tap of crowd.step(t, shown)) {
      const id = `p${tap.participant}`;
      pulse.upsert(id, { valence: tap.valence, arousal: tap.arousal, confidence: 1, source: 'tap', at: now }, now);
      if (options.recordTaps) {
        records.push({ participantId: id, at: now, valence: tap.valence, arousal: tap.arousal, exposed: tap.seen, shownValence: shown?.valence ?? null, shownArousal: shown?.arousal ?? null });
      }
    }
    const snap = pulse.tick(now);
    ticks++;
    shown = snap.mean;
    const state = tracker.update(collectiveInputOf(pulse.grid, snap));
    last = state;
    for (const e of state.events) {
      messages[e.type]++;
      if (e.type === 'raised') alerts.push(e.alert);
      else if (e.type === 'cleared') clearedAlerts.push(e.alert);
    }
    for (const tr of state.trends) if (!trends.has(tr.id)) trends.set(tr.id, tr);
    if (snap.quadrants && snap.mean && snap.count >= 5) {
      snap.quadrants.forEach((q, i) => {
        sums[i] = (sums[i] as number) + q;
      });
      sums[4] = (sums[4] as number) + snap.mean.arousal;
      ticksInWindow++;
    }
    const w = Math.floor((t + tickMs) / windowMs);
    if (w > window) {
      const truth = crowd.sampleTruth(t);
      // Counted per window for all three, so that they compare.
      if (prevTruth >= 0 && truth.camps !== prevTruth) flips.truth++;
      if (prevShown >= 0 && state.camps.length !== prevShown) flips.shown++;
      if (prevWinner >= 0 && state.kWinner !== prevWinner) flips.winner++;
      prevTruth = truth.camps;
      prevShown = state.camps.length;
      prevWinner = state.kWinner;
      windows.push({
        window,
        trueCamps: truth.camps,
        shownCamps: state.camps.length,
        winnerK: state.kWinner,
        metrics: ticksInWindow > 0 ? sums.map((s) => s / ticksInWindow) : null,
        dissonance: state.dissonance.score,
      });
      sums = [0, 0, 0, 0, 0];
      ticksInWindow = 0;
      window = w;
    }
  }
  return { truth: crowd.groundTruth(null), epoch, windowMs, alerts, clearedAlerts, trends: [...trends.values()], messages, windows, records, last, flips, ticks };
}
