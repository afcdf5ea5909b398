/**
 * The SISa model of emotional contagion on a graph.
 *
 * Source: A. L. Hill, D. G. Rand, M. A. Nowak and N. A. Christakis, "Emotions as infectious
 * diseases in a large social network: the SISa model", Proc. R. Soc. B 277, 2010. A
 * susceptible person becomes "infected" (here: anxious) spontaneously at rate a and by each
 * infected contact at rate β; an infected person recovers at rate g. Rates are per second;
 * a step of dt seconds uses the exact per-step probabilities 1 − e^(−rate·dt) (synchronous
 * update, states read from the start of the step).
 */
import type { Rng } from '../core/collective/prng.ts';

/** SISa rates, per second. */
export interface SisaRates {
  /** Spontaneous infection rate a. */
  readonly a: number;
  /** Transmission rate β per infected contact. */
  readonly beta: number;
  /** Recovery rate g. */
  readonly g: number;
}

/**
 * Advances infection states (1 = infected) by dt seconds in place; returns how many are
 * infected afterwards. `frozen[i]` true leaves person i unchanged.
 */
export function stepSisa(infected: Uint8Array, adjacency: readonly (readonly number[])[], rates: SisaRates, dtSec: number, rng: Rng, frozen?: Uint8Array): number {
  const before = infected.slice();
  let count = 0;
  for (let i = 0; i < infected.length; i++) {
    if (frozen?.[i]) {
      count += infected[i] as number;
      continue;
    }
    if (before[i]) {
      if (rng.next() < 1 - Math.exp(-rates.g * dtSec)) infected[i] = 0;
    } else {
      let k = 0;
      for (const j of adjacency[i] ?? []) k += before[j] as number;
      const rate = rates.a + rates.beta * k;
      if (rate > 0 && rng.next() < 1 - Math.exp(-rate * dtSec)) infected[i] = 1;
    }
    count += infected[i] as number;
  }
  return count;
}
