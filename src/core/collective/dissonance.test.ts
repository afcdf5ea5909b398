import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GridHistogram } from '../histogram.ts';
import { BIMODAL_THRESHOLD, bimodalityCoefficient } from './bimodality.ts';
import { circularResultants } from './circular.ts';
import { measureDissonance } from './dissonance.ts';
import { normalisedEntropy } from './entropy.ts';
import { estebanRay } from './polarisation.ts';
import { createRng, type Rng } from './prng.ts';
import { weightedPoints, weightedPointsOf } from './weightedPoints.ts';

const clampUnit = (v: number): number => Math.max(-1, Math.min(1, v));

function cloud(grid: GridHistogram, rng: Rng, n: number, cx: number, cy: number, sd: number): void {
  for (let i = 0; i < n; i++) grid.add(clampUnit(cx + sd * rng.normal()), clampUnit(cy + sd * rng.normal()));
}

describe('bimodality coefficient', () => {
  it('is near 1/3 for a unimodal normal cloud', () => {
    const rng = createRng(11);
    const g = new GridHistogram(16);
    cloud(g, rng, 3000, 0.1, -0.1, 0.22);
    const b = bimodalityCoefficient(weightedPointsOf(g)).coefficient;
    expect(Math.abs(b - 1 / 3)).toBeLessThan(0.04);
  });

  it('exceeds 5/9 for two separated camps, whose doubled-angle resultant exceeds 0.8', () => {
    const rng = createRng(12);
    const g = new GridHistogram(16);
    cloud(g, rng, 150, -0.55, -0.55, 0.12);
    cloud(g, rng, 150, 0.55, 0.55, 0.12);
    const p = weightedPointsOf(g);
    const b = bimodalityCoefficient(p);
    expect(b.coefficient).toBeGreaterThan(BIMODAL_THRESHOLD);
    expect(b.bimodal).toBe(true);
    const c = circularResultants(p);
    expect(c.r2).toBeGreaterThan(0.8);
    expect(c.r1).toBeLessThan(0.2);
  });

  it('is 5/9 for a uniform distribution (large sample, no correction)', () => {
    const xs: number[] = [];
    for (let i = 0; i < 1000; i++) xs.push(-1 + (2 * (i + 0.5)) / 1000);
    const b = bimodalityCoefficient(weightedPoints(xs, xs.map(() => 0)), 3).coefficient;
    expect(b).toBeCloseTo(5 / 9, 2);
  });

  it('is undefined (0, not bimodal) for a single cell', () => {
    const b = bimodalityCoefficient(weightedPoints([0.2], [0.3], [10]));
    expect(b.coefficient).toBe(0);
    expect(b.bimodal).toBe(false);
  });
});

describe('Esteban–Ray polarisation', () => {
  it('normalised is d/d_max for two equal point camps', () => {
    const p = estebanRay(weightedPoints([-0.5, 0.5], [0, 0], [10, 10]));
    expect(p.normalised).toBeCloseTo(1 / (2 * Math.SQRT2), 6);
    expect(p.raw).toBeCloseTo(2 * 0.5 ** 3 * 1, 6);
  });

  it('stays in [0, 1] and is invariant to scaling all weights (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ x: fc.double({ min: -1, max: 1, noNaN: true }), y: fc.double({ min: -1, max: 1, noNaN: true }), w: fc.double({ min: 0.01, max: 50, noNaN: true }) }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0.25, max: 1.6, noNaN: true }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (pts, alpha, scale) => {
          const a = estebanRay(weightedPoints(pts.map((p) => p.x), pts.map((p) => p.y), pts.map((p) => p.w)), alpha);
          const b = estebanRay(weightedPoints(pts.map((p) => p.x), pts.map((p) => p.y), pts.map((p) => p.w * scale)), alpha);
          expect(a.normalised).toBeGreaterThanOrEqual(0);
          expect(a.normalised).toBeLessThanOrEqual(1);
          expect(Math.abs(a.raw - b.raw)).toBeLessThan(1e-9 * Math.max(1, a.raw));
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('rejects α outside [0.25, 1.6]', () => {
    expect(() => estebanRay(weightedPoints([0], [0]), 2)).toThrow(RangeError);
  });
});

describe('dissonance score', () => {
  it('is ~0 for one cloud and for a uniform spread, high for two far camps', () => {
    const rng = createRng(13);
    const one = new GridHistogram(16);
    cloud(one, rng, 200, 0.3, -0.3, 0.2);
    const uni = new GridHistogram(16);
    for (let i = 0; i < 400; i++) uni.add(-1 + 2 * rng.next(), -1 + 2 * rng.next());
    const two = new GridHistogram(16);
    cloud(two, rng, 100, -0.5, 0.55, 0.12);
    cloud(two, rng, 100, 0.5, -0.5, 0.12);
    const d1 = measureDissonance(one);
    const du = measureDissonance(uni);
    const d2 = measureDissonance(two);
    expect(d1.score).toBeLessThan(0.15);
    expect(du.score).toBeLessThan(0.2);
    expect(du.entropy).toBeGreaterThan(0.8);
    expect(d2.score).toBeGreaterThan(0.5);
    expect(d2.bimodal).toBe(true);
    expect(d2.r2).toBeGreaterThan(0.8);
  });

  it('is within [0, 1] and JSON round-trips for any grid (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })), { maxLength: 60 }), (pts) => {
        const g = new GridHistogram(8);
        for (const [x, y] of pts) g.add(x, y);
        const d = measureDissonance(g);
        expect(d.score).toBeGreaterThanOrEqual(0);
        expect(d.score).toBeLessThanOrEqual(1);
        expect(JSON.parse(JSON.stringify(d))).toEqual(d);
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('entropy is 0 for one cell and 1 for people spread one per cell', () => {
    const g = new GridHistogram(4);
    g.add(0.1, 0.1, 5);
    expect(normalisedEntropy(g, 5)).toBe(0);
    const h = new GridHistogram(4);
    h.add(-0.9, -0.9);
    h.add(0.9, 0.9);
    h.add(-0.9, 0.9);
    expect(normalisedEntropy(h, 3)).toBeCloseTo(1, 9);
  });
});

describe('dissonance of small rooms', () => {
  it('scores a perfect split of 12 people high (no small-sample penalty on the score)', () => {
    const g = new GridHistogram(16);
    for (let i = 0; i < 12; i++) {
      const side = i % 2 === 0 ? 1 : -1;
      g.add(0.8 * side + (i % 3) * 0.02, 0.7 * side - (i % 4) * 0.02);
    }
    const d = measureDissonance(g, { people: 12 });
    expect(d.score).toBeGreaterThan(0.8);
    expect(d.bimodal).toBe(true);
    expect(d.r2).toBeGreaterThan(0.95);
  });
});
