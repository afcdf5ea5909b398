import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregate } from '../aggregate/aggregate.ts';
import { bridgingOf, emd1 } from './bridging.ts';

const BINS = 16;

/** A histogram of a square blob of side `side` cells with its lower-left corner at (x, y). */
function blob(x: number, y: number, side = 3, people = 1): number[] {
  const h = new Array<number>(BINS * BINS).fill(0);
  for (let dy = 0; dy < side; dy++) for (let dx = 0; dx < side; dx++) h[(y + dy) * BINS + x + dx] = people;
  return h;
}

describe('bridging', () => {
  it('identical groups score 1 (score and closeness), whatever their size', () => {
    const b = bridgingOf(['east', 'west'], [blob(4, 4, 3, 1), blob(4, 4, 3, 7)], BINS);
    expect(b?.score).toBe(1);
    expect(b?.closeness).toBe(1);
    expect(b?.between).toEqual(['east', 'west']);
  });

  it('disjoint groups score 0; opposite corners are as far as the grid allows (closeness 0)', () => {
    const b = bridgingOf(['a', 'b'], [blob(0, 0, 1), blob(15, 15, 1)], BINS);
    expect(b?.score).toBe(0);
    expect(b?.closeness).toBe(0);
    expect(b?.commonGround.regions).toEqual([]);
  });

  it('monotone as two groups move together: score never falls, closeness rises at every step', () => {
    const scores: number[] = [];
    const close: number[] = [];
    for (let d = 12; d >= 0; d--) {
      const b = bridgingOf(['a', 'b'], [blob(0, 6), blob(d, 6)], BINS);
      scores.push(b?.score ?? Number.NaN);
      close.push(b?.closeness ?? Number.NaN);
    }
    for (let i = 1; i < scores.length; i++) {
      expect(scores[i]).toBeGreaterThanOrEqual(scores[i - 1] as number);
      expect(close[i]).toBeGreaterThan(close[i - 1] as number);
    }
    expect(scores[0]).toBe(0);
    expect(scores.at(-1)).toBe(1);
    // Two of three columns shared: 1 − TV = 2/3.
    expect(bridgingOf(['a', 'b'], [blob(0, 6), blob(1, 6)], BINS)?.score).toBeCloseTo(2 / 3, 6);
  });

  it('for two groups the score is 1 − total variation distance (property)', () => {
    const hist = fc.array(fc.nat({ max: 5 }), { minLength: BINS * BINS, maxLength: BINS * BINS }).filter((h) => h.some((c) => c > 0));
    fc.assert(
      fc.property(hist, hist, (a, b) => {
        const ta = a.reduce((s, c) => s + c, 0);
        const tb = b.reduce((s, c) => s + c, 0);
        const tv = a.reduce((s, c, i) => s + Math.abs(c / ta - (b[i] ?? 0) / tb), 0) / 2;
        expect(bridgingOf(['a', 'b'], [a, b], BINS)?.score).toBeCloseTo(1 - tv, 5);
      }),
      { seed: 3, numRuns: 200 },
    );
  });

  it('the 1-D earth mover’s distance moves mass cell by cell', () => {
    expect(emd1([1, 0, 0, 0], [0, 0, 0, 1], 4)).toBe(3);
    expect(emd1([0.5, 0.5, 0, 0], [0, 0.5, 0.5, 0], 4)).toBe(1);
  });

  it('common ground: the regions where every group holds at least the share', () => {
    // Both groups have half their people in region (1, 1) (cells 4–7); the rest apart.
    const a = blob(4, 4, 2, 1).map((c, i) => c + (blob(0, 12, 2, 1)[i] ?? 0));
    const b = blob(5, 5, 2, 1).map((c, i) => c + (blob(12, 0, 2, 1)[i] ?? 0));
    const b2 = bridgingOf(['a', 'b'], [a, b], BINS);
    expect(b2?.commonGround.regionBins).toBe(4);
    expect(b2?.commonGround.regions).toEqual([{ region: 1 * 4 + 1, share: 0.5 }]);
  });

  it('needs two non-empty distributions; a withheld group (null) is left out', () => {
    expect(bridgingOf(['a', 'b'], [blob(1, 1), null], BINS)).toBeNull();
    expect(bridgingOf(['a', 'b', 'c'], [blob(1, 1), null, blob(1, 1)], BINS)?.between).toEqual(['a', 'c']);
  });

  it('works on released histograms of aggregates (fractional cells)', () => {
    const g = new Aggregate(BINS);
    g.add(g.pointOf(0.3, 0.3));
    const h = Array.from(g.counts, (c) => c / 2);
    expect(bridgingOf(['x', 'y'], [h, Array.from(g.counts)], BINS)?.score).toBe(1);
  });
});
