import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregate } from '../aggregate/aggregate.ts';
import type { CollectiveState } from '../collective/collectiveTracker.ts';
import { coarsenHistogram, quadrantSharesOf, releaseCollective, releasePeriod, releasePulse } from './release.ts';

const coord = fc.double({ min: -1, max: 1, noNaN: true });

/** Groups cells into released units: maximal sets of cells that carry the same spread value and were produced together. */
function aggregateOf(pts: readonly (readonly [number, number])[], bins: number): Aggregate {
  const g = new Aggregate(bins);
  for (const [v, a] of pts) g.add(g.pointOf(v, a));
  return g;
}

describe('release stage', () => {
  it('[P4] below the minimum cohort the pulse carries the count only', () => {
    const g = aggregateOf([[0.5, 0.5], [-0.5, 0.5]], 16);
    const p = releasePulse({ seq: 1, at: 0, count: 2, mean: { valence: 0, arousal: 0.5 }, smoothed: { valence: 0, arousal: 0.5 }, spread: { valence: 0.5, arousal: 0 } }, g, { minCohort: 3 });
    expect(p).toMatchObject({ count: 2, suppressed: true, mean: null, smoothed: null, spread: null, quadrants: null, hist: null });
  });

  it('[R2] a coarsened histogram preserves the total, and every released unit holds 0 or ≥ k people (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(coord, coord), { minLength: 1, maxLength: 120, size: 'max' }), fc.integer({ min: 2, max: 8 }), (pts, k) => {
        if (pts.length < k) return;
        const g = aggregateOf(pts, 16);
        const hist = coarsenHistogram(g.counts, 16, k);
        expect(hist.reduce((s, c) => s + c, 0)).toBeCloseTo(pts.length, 9);
        // A unit of c cells with T people publishes T/c in each of them; group cells by value.
        // Every value class sums to whole units, so each positive class sums to ≥ k.
        const classes = new Map<string, number>();
        for (const c of hist) if (c > 0) classes.set(c.toFixed(9), (classes.get(c.toFixed(9)) ?? 0) + c);
        for (const t of classes.values()) expect(t).toBeGreaterThanOrEqual(k - 1e-9);
        // Cells that were empty and stay empty are exact zeros; nobody appears where nobody was
        // unless merged into a unit that holds ≥ k.
        for (let i = 0; i < hist.length; i++) if ((g.counts[i] ?? 0) === 0 && (hist[i] ?? 0) > 0) expect(classes.get((hist[i] as number).toFixed(9))).toBeGreaterThanOrEqual(k - 1e-9);
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('[R2] a lone person is never published as a cell of one, and subtraction from the totals cannot single them out', () => {
    // Nine people together pleasant-energised, one alone unpleasant-calm; k = 3.
    const pts: [number, number][] = [...Array.from({ length: 9 }, () => [0.6, 0.6] as [number, number]), [-0.7, -0.7]];
    const g = aggregateOf(pts, 16);
    const hist = coarsenHistogram(g.counts, 16, 3);
    const lone = g.pointOf(-0.7, -0.7).cell;
    const crowd = g.pointOf(0.6, 0.6).cell;
    // The lone cell joins the crowd's unit: both show (9 + 1) / 2.
    expect(hist[lone]).toBe(5);
    expect(hist[crowd]).toBe(5);
    // The quadrant count of unpleasant-calm, as released, is 5 of 10 — not the 1 person there.
    const shares = quadrantSharesOf(hist, 16) as number[];
    expect(shares[2]).toBe(0.5);
    // Total − every other released cell never equals the lone person alone.
    expect(10 - hist.reduce((s, c, i) => (i === lone ? s : s + c), 0)).not.toBe(1);
  });

  it('[R2] a room large enough keeps its shape: cells of ≥ k are released exactly', () => {
    const pts: [number, number][] = [...Array.from({ length: 5 }, () => [0.6, 0.6] as [number, number]), ...Array.from({ length: 4 }, () => [-0.6, -0.6] as [number, number])];
    const g = aggregateOf(pts, 16);
    expect(coarsenHistogram(g.counts, 16, 3)).toEqual(Array.from(g.counts));
  });

  it('[R2] with k = 1 the histogram is released exactly', () => {
    const g = aggregateOf([[0.1, 0.2], [0.9, -0.9]], 8);
    expect(coarsenHistogram(g.counts, 8, 1)).toEqual(Array.from(g.counts));
  });

  it('[R3] camps are released only at ≥ k people, and nothing while the pulse is suppressed', () => {
    const camp = (id: string, share: number) => ({ id, valence: 0, arousal: 0, share, people: Math.round(share * 20) });
    const c = { camps: [camp('a', 0.9), camp('b', 0.1)] } as unknown as CollectiveState;
    expect(releaseCollective(c, 20, { minCohort: 3 })?.camps.map((x) => x.id)).toEqual(['a']);
    expect(releaseCollective(c, 20, { minCohort: 2 })?.camps.map((x) => x.id)).toEqual(['a', 'b']);
    expect(releaseCollective(c, 2, { minCohort: 3 })).toBeNull();
  });

  it('[R4] period aggregates need k distinct people', () => {
    expect(releasePeriod(2, 'the contagion index', { minCohort: 3 }).ok).toBe(false);
    expect(releasePeriod(3, 'the contagion index', { minCohort: 3 }).ok).toBe(true);
  });
});
