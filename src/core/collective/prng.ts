/**
 * A small seeded pseudo-random number generator for the collective-state maths, the crowd
 * simulator and their tests. Core code never calls `Math.random`: randomness is an argument.
 *
 * Source: mulberry32, Tommy Ettinger (2017), public domain — a 32-bit state generator that
 * passes gjrand's and PractRand's basic batteries at the lengths used here; normal deviates by
 * the Box–Muller transform (Box & Muller, Ann. Math. Statist. 29(2), 1958).
 */

/** A seeded source of random numbers. */
export interface Rng {
  /** A uniform deviate in [0, 1). */
  next(): number;
  /** A standard normal deviate. */
  normal(): number;
  /** A uniform integer in [0, n). */
  int(n: number): number;
  /** The current 32-bit state, to fork or snapshot a stream. */
  state(): number;
}

/** Hashes a string or number seed into a 32-bit state (FNV-1a over the decimal text). */
export function seedOf(seed: number | string): number {
  const s = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Creates a mulberry32 generator from a seed (any number or string). */
export function createRng(seed: number | string): Rng {
  let a = seedOf(seed);
  let spare: number | null = null;
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal(): number {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = next();
      while (u <= 1e-12) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int(n: number): number {
      return Math.floor(next() * n);
    },
    state(): number {
      return a >>> 0;
    },
  };
}
