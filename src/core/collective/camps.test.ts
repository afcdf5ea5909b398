import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GridHistogram } from '../histogram.ts';
import { CampTracker } from './camps.ts';
import { createRng, type Rng } from './prng.ts';
import { weightedPointsOf } from './weightedPoints.ts';

const clampUnit = (v: number): number => Math.max(-1, Math.min(1, v));

function room(rng: Rng, groups: readonly { x: number; y: number; n: number }[], sd = 0.1): GridHistogram {
  const g = new GridHistogram(16);
  for (const c of groups) for (let i = 0; i < c.n; i++) g.add(clampUnit(c.x + sd * rng.normal()), clampUnit(c.y + sd * rng.normal()));
  return g;
}

const people = (g: GridHistogram): number => g.total;

describe('CampTracker', () => {
  it('finds one camp in one cloud and two in two separated camps (after 4 ticks)', () => {
    const rng = createRng(1);
    const t1 = new CampTracker({ seed: 1 });
    for (let i = 0; i < 6; i++) {
      const g = room(rng, [{ x: 0.3, y: -0.3, n: 80 }], 0.2);
      expect(t1.update(weightedPointsOf(g), people(g)).camps).toHaveLength(1);
    }
    const t2 = new CampTracker({ seed: 1 });
    const ks: number[] = [];
    for (let i = 0; i < 6; i++) {
      const g = room(rng, [{ x: -0.5, y: 0.55, n: 40 }, { x: 0.5, y: -0.5, n: 40 }]);
      const r = t2.update(weightedPointsOf(g), people(g));
      ks.push(r.k);
      expect(r.winner).toBe(2);
    }
    // k switches only when the same new k has won 4 consecutive ticks.
    expect(ks).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('does not switch k when the winner flickers', () => {
    const rng = createRng(2);
    const t = new CampTracker({ seed: 2 });
    for (let i = 0; i < 20; i++) {
      const split = i % 3 !== 2; // wins twice, loses once
      const g = split ? room(rng, [{ x: -0.6, y: 0.5, n: 40 }, { x: 0.6, y: -0.5, n: 40 }]) : room(rng, [{ x: 0, y: 0, n: 80 }]);
      expect(t.update(weightedPointsOf(g), people(g)).k).toBe(1);
    }
  });

  it('keeps camp ids stable while camps drift and change size', () => {
    const rng = createRng(3);
    const t = new CampTracker({ seed: 3, switchAfter: 1 });
    let idA: string | undefined;
    let idB: string | undefined;
    for (let i = 0; i < 30; i++) {
      const drift = i * 0.01;
      const nA = 30 + i; // A grows past B halfway through, so the order by share flips
      const nB = 60 - i;
      const g = room(rng, [{ x: -0.5 + drift, y: 0.5, n: nA }, { x: 0.5, y: -0.5 + drift, n: nB }]);
      const r = t.update(weightedPointsOf(g), people(g));
      expect(r.camps).toHaveLength(2);
      const a = r.camps.find((c) => c.valence < 0);
      const b = r.camps.find((c) => c.valence > 0);
      if (i === 0) {
        idA = a?.id;
        idB = b?.id;
      }
      expect(a?.id).toBe(idA);
      expect(b?.id).toBe(idB);
    }
    expect(idA).not.toBe(idB);
  });

  it('never shows a camp of fewer than 5 people', () => {
    const rng = createRng(4);
    // A 4-person group far away: not shown on its own.
    const t = new CampTracker({ seed: 4, switchAfter: 1, minShare: 0 });
    const g = room(rng, [{ x: -0.6, y: 0.6, n: 40 }, { x: 0.6, y: -0.6, n: 4 }], 0.03);
    const r = t.update(weightedPointsOf(g), people(g));
    expect(r.camps.every((c) => c.people >= 5)).toBe(true);
    expect(r.camps).toHaveLength(1);
    // A room of 4: no camp at all.
    const tiny = room(rng, [{ x: 0, y: 0, n: 4 }]);
    expect(new CampTracker().update(weightedPointsOf(tiny), 4).camps).toEqual([]);
  });

  it('every shown camp has ≥ 5 people and shares sum to 1 (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ x: fc.double({ min: -0.9, max: 0.9, noNaN: true }), y: fc.double({ min: -0.9, max: 0.9, noNaN: true }), n: fc.integer({ min: 1, max: 12 }) }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 1000 }),
        (groups, seed) => {
          const rng = createRng(seed);
          const t = new CampTracker({ seed, switchAfter: 1, minShare: 0 });
          for (let tick = 0; tick < 3; tick++) {
            const g = room(rng, groups, 0.05);
            const r = t.update(weightedPointsOf(g), people(g));
            for (const c of r.camps) expect(c.people).toBeGreaterThanOrEqual(5);
            if (r.camps.length > 0) expect(r.camps.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 9);
            else expect(people(g)).toBeLessThan(5);
          }
        },
      ),
      { seed: 99, numRuns: 100 },
    );
  });
});
