/**
 * Scripted scenarios: which phase the crowd is in when. Change times are drawn from the seed
 * within fixed bands so that no two seeds share a timeline.
 *
 *   arc    calm ─► surge (SISa anxiety spreads) ─► split (two camps, bounded confidence) ─► healing
 *   surge  calm ─► surge ─► healing
 *   split  calm ─► split (anxious vs relieved) ─► healing            ("split then healing")
 *   split2 calm ─► split into two camps, neither unpleasant-energised (elated vs low)
 *   split3 calm ─► split into three camps (anxious, elated, low)
 *   drift  calm ─► the whole room drifts to another feeling over 5 minutes (a trend, not a change)
 *   calm   calm throughout (no change: measures false alarms)
 *
 * A drift is not a change point: its start is recorded as a trend in the ground truth, and an
 * alert raised during it is a false alarm.
 */
import type { Rng } from '../core/collective/prng.ts';

/** Scenario names. */
export const SCENARIOS = ['arc', 'surge', 'split', 'calm', 'split2', 'split3', 'drift'] as const;

/** A scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** What the crowd is doing. */
export type PhaseName = 'calm' | 'surge' | 'split' | 'healing' | 'drift';

/** A point of the valence × arousal plane. */
export interface PlanePoint {
  readonly valence: number;
  readonly arousal: number;
}

/** One phase of a scenario, from startMs (relative to the start) to the next phase. */
export interface Phase {
  readonly name: PhaseName;
  readonly startMs: number;
  /** split: the camps' poles (default: anxious and relieved, on a bounded-confidence opinion axis). */
  readonly poles?: readonly PlanePoint[];
  /** drift: where the room's resting feeling moves to, and over how long (raised-cosine easing). */
  readonly target?: PlanePoint;
  readonly spanMs?: number;
}

/** Poles of the splits that are not anxious-vs-relieved. */
export const POLES = {
  elated: { valence: 0.55, arousal: 0.5 },
  low: { valence: -0.5, arousal: -0.45 },
  anxious: { valence: -0.5, arousal: 0.55 },
} as const satisfies Record<string, PlanePoint>;

/** Where drifts lead (one is drawn per seed): bored/low-ish, or livelier. */
export const DRIFT_TARGETS: readonly PlanePoint[] = [
  { valence: -0.35, arousal: -0.3 },
  { valence: 0.3, arousal: 0.35 },
];

/** How long a drift takes (ms), at most. */
export const DRIFT_SPAN_MS = 300_000;

type Band = readonly [PhaseName, number, number, Partial<Pick<Phase, 'poles'>>?];

const BANDS: Record<ScenarioName, readonly Band[]> = {
  arc: [
    ['surge', 0.15, 0.25],
    ['split', 0.4, 0.5],
    ['healing', 0.65, 0.75],
  ],
  surge: [
    ['surge', 0.25, 0.35],
    ['healing', 0.6, 0.7],
  ],
  split: [
    ['split', 0.25, 0.35],
    ['healing', 0.6, 0.7],
  ],
  split2: [['split', 0.3, 0.45, { poles: [POLES.elated, POLES.low] }]],
  split3: [['split', 0.3, 0.45, { poles: [POLES.anxious, POLES.elated, POLES.low] }]],
  drift: [['drift', 0.15, 0.3]],
  calm: [],
};

/** Draws the phase timeline of a scenario lasting `durationMs`. */
export function scriptFor(name: ScenarioName, durationMs: number, rng: Rng): Phase[] {
  const phases: Phase[] = [{ name: 'calm', startMs: 0 }];
  for (const [phase, lo, hi, extra] of BANDS[name]) {
    const startMs = Math.round((lo + (hi - lo) * rng.next()) * durationMs);
    if (phase === 'drift') {
      const target = DRIFT_TARGETS[Math.floor(rng.next() * DRIFT_TARGETS.length)] as PlanePoint;
      phases.push({ name: phase, startMs, target, spanMs: Math.min(DRIFT_SPAN_MS, Math.round(0.6 * durationMs)) });
    } else phases.push({ name: phase, startMs, ...extra });
  }
  return phases;
}

/** The phase in force at `t` ms. */
export function phaseAt(phases: readonly Phase[], t: number): Phase {
  let cur = phases[0] as Phase;
  for (const p of phases) if (p.startMs <= t) cur = p;
  return cur;
}
