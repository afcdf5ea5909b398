/**
 * Runs a simulated crowd in process through the server's own space machine (core/space, via
 * machineRun.ts) at the server's participant rate, on the manual scheduler and without sockets:
 * what the benchmark and the tests use. Everything scored is what the server publishes — the
 * released pulse and its collective state, alerts as first published (the tick's `raised`
 * message) — and the crowd is pulled toward what the server shows (the released smoothed mean).
 * Returns the ground truth, every alert, every trend, the camp counts shown next to the true ones
 * per window, the window series (for baselines) and, optionally, every tap as a contagion record.
 */
import type { ClearedRoomAlert, RoomAlert, RoomTrend } from '../core/collective/alertBook.ts';
import type { CollectiveState, CollectiveTrackerOptions } from '../core/collective/collectiveTracker.ts';
import type { ContagionRecord } from '../core/collective/contagion.ts';
import { Crowd, type CrowdOptions, type GroundTruth } from './crowd.ts';
import { runCrowdOnMachine } from './machineRun.ts';

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
  const alerts: RoomAlert[] = [];
  const clearedAlerts: ClearedRoomAlert[] = [];
  const trends = new Map<string, RoomTrend>();
  const messages = { raised: 0, updated: 0, cleared: 0 };
  const windows: WindowSample[] = [];
  const records: ContagionRecord[] = [];
  let last: CollectiveState | null = null;
  let sums = [0, 0, 0, 0, 0];
  let ticksInWindow = 0;
  let window = 0;
  let ticks = 0;
  const flips = { shown: 0, winner: 0, truth: 0 };
  let prevShown = -1;
  let prevWinner = -1;
  let prevTruth = -1;
  const hz = 1000 / tickMs;
  runCrowdOnMachine({
    crowd,
    durationMs: options.durationMs,
    epoch,
    stepMs: tickMs,
    ttlMs: 120_000,
    // The participant rate only: with no display, display-rate beats would change nothing.
    machine: { participantHz: hz, displayHz: hz, ...(options.tracker ? { collective: options.tracker } : {}) },
    onTap: (tap, id, shown, at) => {
      if (options.recordTaps) records.push({ participantId: id, at, valence: tap.valence, arousal: tap.arousal, exposed: tap.seen, shownValence: shown?.valence ?? null, shownArousal: shown?.arousal ?? null });
    },
    onParticipantView: (view, t) => {
      ticks++;
      const state = view.collective ?? null;
      if (state) {
        last = state;
        for (const e of state.events) {
          messages[e.type]++;
          if (e.type === 'raised') alerts.push(e.alert);
          else if (e.type === 'cleared') clearedAlerts.push(e.alert);
        }
        for (const tr of state.trends) if (!trends.has(tr.id)) trends.set(tr.id, tr);
      }
      if (view.quadrants && view.mean && view.count >= 5) {
        view.quadrants.forEach((q, i) => {
          sums[i] = (sums[i] as number) + q;
        });
        sums[4] = (sums[4] as number) + view.mean.arousal;
        ticksInWindow++;
      }
      const w = Math.floor((t + tickMs) / windowMs);
      if (w > window) {
        const truth = crowd.sampleTruth(t);
        const shownCamps = state?.camps.length ?? 0;
        const winnerK = state?.kWinner ?? 0;
        // Counted per window for all three, so that they compare.
        if (prevTruth >= 0 && truth.camps !== prevTruth) flips.truth++;
        if (prevShown >= 0 && shownCamps !== prevShown) flips.shown++;
        if (prevWinner >= 0 && winnerK !== prevWinner) flips.winner++;
        prevTruth = truth.camps;
        prevShown = shownCamps;
        prevWinner = winnerK;
        windows.push({ window, trueCamps: truth.camps, shownCamps, winnerK, metrics: ticksInWindow > 0 ? sums.map((x) => x / ticksInWindow) : null, dissonance: state?.dissonance.score ?? 0 });
        sums = [0, 0, 0, 0, 0];
        ticksInWindow = 0;
        window = w;
      }
    },
  });
  return { truth: crowd.groundTruth(null), epoch, windowMs, alerts, clearedAlerts, trends: [...trends.values()], messages, windows, records, last, flips, ticks };
}
