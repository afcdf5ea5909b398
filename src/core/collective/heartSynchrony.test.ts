import { describe, expect, it } from 'vitest';
import { createRng } from './prng.ts';
import { releaseHeartSynchrony } from '../release/release.ts';
import { HeartSynchrony, leaveOneOutZ, pearson } from './heartSynchrony.ts';

const T0 = 1_700_000_000_000;

/** An AR(1) series with unit stationary variance, `n` steps of `dtS` seconds, time constant `tauS`. */
function ar1(rng: ReturnType<typeof createRng>, n: number, dtS: number, tauS: number): number[] {
  const a = Math.exp(-dtS / tauS);
  const out: number[] = [];
  let x = rng.normal();
  for (let i = 0; i < n; i++) {
    x = a * x + Math.sqrt(1 - a * a) * rng.normal();
    out.push(x);
  }
  return out;
}

/** Feeds `people` hearts for `seconds`, one reading per 2 s each; `shared` in [0, 1] mixes a common signal in. */
function room(people: number, seconds: number, shared: number, seed: number): HeartSynchrony {
  const rng = createRng(seed);
  const n = seconds / 2;
  const common = ar1(rng, n, 2, 12);
  const sync = new HeartSynchrony({ seed });
  for (let p = 0; p < people; p++) {
    const own = ar1(rng, n, 2, 12);
    const base = 60 + 25 * rng.next();
    const phase = Math.floor(rng.next() * 2000); // phones do not read in step
    for (let i = 0; i < n; i++) sync.observe(`p${p}`, base + 4 * (shared * (common[i] as number) + Math.sqrt(1 - shared * shared) * (own[i] as number)), T0 + i * 2000 + phase);
  }
  return sync;
}

describe('heart synchrony (leave-one-out ISC with circular-shift surrogates)', () => {
  it('[HS1] synchronous hearts give a high ISC beside a low surrogate; independent hearts do not', () => {
    const syncRoom = room(20, 120, 0.8, 1).compute(T0 + 120_000);
    const indep = room(20, 120, 0, 2).compute(T0 + 120_000);
    console.log(`synchronous: ISC ${syncRoom.isc?.toFixed(3)} [${syncRoom.lower?.toFixed(3)}, ${syncRoom.upper?.toFixed(3)}] surrogate ${syncRoom.surrogateMean?.toFixed(3)} (p95 ${syncRoom.surrogateP95?.toFixed(3)}) p ${syncRoom.p?.toFixed(3)}`);
    const big = room(500, 60, 0.3, 5);
    big.compute(T0 + 58_000); // warm up
    const t = performance.now();
    big.compute(T0 + 60_000);
    console.log(`compute for 500 people, 30 slots, 200 surrogates, 500 bootstrap replicates: ${(performance.now() - t).toFixed(1)} ms`);
    console.log(`independent: ISC ${indep.isc?.toFixed(3)} [${indep.lower?.toFixed(3)}, ${indep.upper?.toFixed(3)}] surrogate ${indep.surrogateMean?.toFixed(3)} (p95 ${indep.surrogateP95?.toFixed(3)}) p ${indep.p?.toFixed(3)}`);
    expect(syncRoom.people).toBe(20);
    expect(syncRoom.isc).toBeGreaterThan(0.5);
    expect(syncRoom.surrogateP95).toBeLessThan(0.3);
    expect(syncRoom.lower).toBeGreaterThan(syncRoom.surrogateP95 as number);
    expect(syncRoom.p).toBeLessThan(0.01);
    expect(indep.isc).toBeLessThan(0.3);
    expect(indep.p).toBeGreaterThan(0.01);
    expect(indep.lower).toBeLessThan(indep.surrogateP95 as number);
  });

  it('[HS1] independent rooms are rarely called synchronous (false positives ≈ the test level)', () => {
    let calls = 0;
    for (let seed = 100; seed < 140; seed++) if ((room(8, 60, 0, seed).compute(T0 + 60_000).p as number) < 0.05) calls++;
    expect(calls).toBeLessThanOrEqual(6); // 40 rooms at α = 0.05: 2 expected, ≤ 6 with probability > 0.99
  });

  it('[HS2] is deterministic: the same readings give the same figures', () => {
    expect(room(6, 60, 0.5, 9).compute(T0 + 60_000)).toEqual(room(6, 60, 0.5, 9).compute(T0 + 60_000));
  });

  it('[HS3] needs three people covering the window; a long gap leaves a person out', () => {
    const s = new HeartSynchrony();
    for (let i = 0; i < 30; i++) {
      s.observe('a', 70 + (i % 5), T0 + i * 2000);
      s.observe('b', 80 + (i % 5), T0 + i * 2000);
      if (i < 10 || i > 15) s.observe('gappy', 75 + (i % 5), T0 + i * 2000); // 5 missing slots in a row
    }
    const m = s.compute(T0 + 60_000);
    expect(m.sharing).toBe(3);
    expect(m.people).toBe(2);
    expect(m.isc).toBeNull();
  });

  it('[HS4] stays bounded: silent people are forgotten, forget() drops at once, computation samples maxPeople', () => {
    const s = new HeartSynchrony({ maxPeople: 10, surrogates: 20, bootstrap: 50 });
    for (let p = 0; p < 30; p++) for (let i = 0; i < 30; i++) s.observe(`p${p}`, 70 + Math.sin(i / 3) * 5 + (p % 3), T0 + i * 2000);
    expect(s.compute(T0 + 60_000).people).toBe(10);
    s.forget('p0');
    expect(s.tracked).toBe(29);
    s.compute(T0 + 60_000 + 121_000);
    expect(s.tracked).toBe(0);
  });

  it('[HS4] measure() computes once per slot and reuses it within the slot', () => {
    const s = room(6, 60, 0.5, 4);
    const a = s.measure(T0 + 60_000);
    expect(s.measure(T0 + 61_999)).toBe(a);
    const b = s.measure(T0 + 62_000);
    expect(b).not.toBe(a);
    expect(b).toEqual(s.compute(T0 + 62_000));
  });

  it('[HS5] ignores implausible readings and refuses a window outside 30–60 s', () => {
    const s = new HeartSynchrony();
    s.observe('x', 0, T0);
    s.observe('x', 300, T0);
    s.observe('x', Number.NaN, T0);
    expect(s.tracked).toBe(0);
    expect(() => new HeartSynchrony({ windowMs: 10_000 })).toThrow(RangeError);
  });

  it('[K10] one node’s window, measured by a tick owner, gives exactly that node’s figures; windows of several nodes give one node’s ISC over everyone', () => {
    const now = T0 + 120_000;
    const one = room(12, 120, 0.6, 7);
    const owner = new HeartSynchrony({ seed: 7 });
    owner.useMerged([one.window(now)]);
    expect(owner.tracked).toBe(12);
    expect(owner.measure(now)).toEqual(one.compute(now));
    // Split the same people over three "nodes": the observed ISC is the same to rounding.
    const rng = createRng(9);
    const common = ar1(rng, 60, 2, 12);
    const whole = new HeartSynchrony({ seed: 9 });
    const nodes = [0, 1, 2].map(() => new HeartSynchrony({ seed: 9 }));
    for (let p = 0; p < 12; p++) {
      const own = ar1(rng, 60, 2, 12);
      for (let i = 0; i < 60; i++) {
        const bpm = 70 + p + 4 * (0.6 * (common[i] as number) + 0.8 * (own[i] as number));
        whole.observe(`p${p}`, bpm, T0 + i * 2000);
        nodes[p % 3]?.observe(`p${p}`, bpm, T0 + i * 2000);
      }
    }
    const merged = new HeartSynchrony({ seed: 9 });
    merged.useMerged(nodes.map((n) => n.window(now)));
    const m = merged.measure(now);
    const w = whole.compute(now);
    expect(m.people).toBe(w.people);
    expect(m.sharing).toBe(w.sharing);
    expect(Math.abs((m.isc as number) - (w.isc as number))).toBeLessThan(1e-12);
    // A window is rebuilt when someone is forgotten, not only at a new slot.
    const n0 = nodes[0] as HeartSynchrony;
    expect(n0.window(now).rows).toHaveLength(4);
    n0.forget('p0');
    expect(n0.window(now).rows).toHaveLength(3);
  });

  it('leave-one-out z matches a direct computation', () => {
    const rng = createRng(5);
    const P = 4;
    const W = 12;
    const x = Float64Array.from({ length: P * W }, () => rng.normal());
    const z = leaveOneOutZ(x, P, W);
    for (let i = 0; i < P; i++) {
      const own = Array.from({ length: W }, (_, t) => x[i * W + t] as number);
      const rest = Array.from({ length: W }, (_, t) => {
        let s = 0;
        for (let j = 0; j < P; j++) if (j !== i) s += x[j * W + t] as number;
        return s / (P - 1);
      });
      expect(Math.tanh(z[i] as number)).toBeCloseTo(pearson(own, rest), 9);
    }
  });
});

describe('release of heart figures (cohort rule)', () => {
  const m = room(5, 60, 0.8, 3).compute(T0 + 60_000);
  it('[HS6] shows the number of sharers only at 0 or ≥ k, and the ISC only with ≥ max(k, 3) people in it', () => {
    expect(releaseHeartSynchrony(m, 3).sharing).toBe(5);
    expect(releaseHeartSynchrony(m, 3).synchrony?.isc).toBe(m.isc);
    expect(releaseHeartSynchrony(m, 6)).toEqual({ sharing: null, synchrony: null });
    expect(releaseHeartSynchrony({ ...m, sharing: 0, people: 0, isc: null }, 3)).toEqual({ sharing: 0, synchrony: null });
  });
});
