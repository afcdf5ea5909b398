/**
 * Runs a simulated crowd through the real pulse aggregation (core/pulse.ts) and a
 * CollectiveTracker tick by tick, in process and without sockets: what the benchmark and the
 * tests use. Returns the ground truth, every alert the tracker raised, the camp counts it
 * showed next to the true ones, the window series (for baselines) and every tap as a
 * contagion record.
 */
import { type CollectiveState, CollectiveTracker, type CollectiveTrackerOptions, collectiveInputOf, SURGE_METRICS } from '../core/collective/collectiveTracker.ts';
import type { ContagionRecord } from '../core/collective/contagion.ts';
import type { SurgeAlert } from '../core/collective/surge.ts';
import { PulseState } from '../core/pulse.ts';
import { Crowd, type CrowdOptions, type GroundTruth, type Point } from './crowd.ts';

/** Options of an in-process run. */
export interface InProcessOptions extends CrowdOptions {
  /** Pulse tick (ms, default 500 = 2 Hz). */
  readonly tickMs?: number;
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
  /** Window means of the surge metrics (SURGE_METRICS order); null when the room was too small. */
  readonly metrics: readonly number[] | null;
  readonly dissonance: number;
}

/** The result of an in-process run. */
export interface InProcessResult {
  readonly truth: GroundTruth;
  readonly epoch: number;
  readonly windowMs: number;
  /** Every alert raised (first sighting), in raise order. */
  readonly alerts: readonly SurgeAlert[];
  readonly windows: readonly WindowSample[];
  readonly records: readonly ContagionRecord[];
  readonly last: CollectiveState | null;
  /** Tick-to-tick changes of the number of camps shown, of the raw (pre-hysteresis) winner, and of the true count. */
  readonly flips: { readonly shown: number; readonly winner: number; readonly truth: number };
}

/** Runs one scenario in process. Deterministic for a seed. */
export function runInProcess(options: InProcessOptions): InProcessResult {
  const tickMs = options.tickMs ?? 500;
  const epoch = options.epoch ?? 1_700_000_000_000;
  const crowd = new Crowd(options);
  const pulse = new PulseState({ ttlMs: 120_000 });
  const tracker = new CollectiveTracker(options.tracker);
  const windowMs = tracker.surgeOptions.windowMs;
  const alerts = new Map<string, SurgeAlert>();
  const windows: WindowSample[] = [];
  const records: ContagionRecord[] = [];
  let shown: Point | null = null;
  let last: CollectiveState | null = null;
  let sums = SURGE_METRICS.map(() => 0);
  let ticksInWindow = 0;
  let window = 0;
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
    shown = snap.mean;
    const state = tracker.update(collectiveInputOf(pulse.grid, snap));
    last = state;
    if (prevShown >= 0 && state.camps.length !== prevShown) flips.shown++;
    if (prevWinner >= 0 && state.kWinner !== prevWinner) flips.winner++;
    prevShown = state.camps.length;
    prevWinner = state.kWinner;
    for (const a of state.alerts) if (!alerts.has(a.id)) alerts.set(a.id, a);
    for (const a of state.cleared) if (!alerts.has(a.id)) alerts.set(a.id, a);
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
      if (prevTruth >= 0 && truth.camps !== prevTruth) flips.truth++;
      prevTruth = truth.camps;
      windows.push({
        window,
        trueCamps: truth.camps,
        shownCamps: state.camps.length,
        winnerK: state.kWinner,
        metrics: ticksInWindow > 0 ? sums.map((s) => s / ticksInWindow) : null,
        dissonance: state.dissonance.score,
      });
      sums = SURGE_METRICS.map(() => 0);
      ticksInWindow = 0;
      window = w;
    }
  }
  return { truth: crowd.groundTruth(null), epoch, windowMs, alerts: [...alerts.values()], windows, records, last, flips };
}
