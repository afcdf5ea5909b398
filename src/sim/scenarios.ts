/**
 * Scripted scenarios: which phase the crowd is in when. Change times are drawn from the seed
 * within fixed bands so that no two seeds share a timeline.
 *
 *   arc   calm ─► surge (SISa anxiety spreads) ─► split (two camps, bounded confidence) ─► healing
 *   surge calm ─► surge ─► healing
 *   split calm ─► split ─► healing
 *   calm  calm throughout (no change: measures false alarms)
 */
import type { Rng } from '../core/collective/prng.ts';

/** Scenario names. */
export const SCENARIOS = ['arc', 'surge', 'split', 'calm'] as const;

/** A scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** What the crowd is doing. */
export type PhaseName = 'calm' | 'surge' | 'split' | 'healing';

/** One phase of a scenario, from startMs (relative to the start) to the next phase. */
export interface Phase {
  readonly name: PhaseName;
  readonly startMs: number;
}

const BANDS: Record<ScenarioName, readonly [PhaseName, number, number][]> = {
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
  calm: [],
};

/** Draws the phase timeline of a scenario lasting `durationMs`. */
export function scriptFor(name: ScenarioName, durationMs: number, rng: Rng): Phase[] {
  const phases: Phase[] = [{ name: 'calm', startMs: 0 }];
  for (const [phase, lo, hi] of BANDS[name]) {
    phases.push({ name: phase, startMs: Math.round((lo + (hi - lo) * rng.next()) * durationMs) });
  }
  return phases;
}

/** The phase in force at `t` ms. */
export function phaseAt(phases: readonly Phase[], t: number): Phase {
  let cur = phases[0] as Phase;
  for (const p of phases) if (p.startMs <= t) cur = p;
  return cur;
}
