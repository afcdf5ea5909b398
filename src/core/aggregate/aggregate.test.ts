import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregate, QUANTUM } from './aggregate.ts';

const coord = fc.double({ min: -1, max: 1, noNaN: true });
const points = fc.array(fc.tuple(coord, coord), { maxLength: 150, size: 'max' });

describe('Aggregate', () => {
  it('[AG1] merging partial aggregates equals the aggregate of the whole, bit for bit, in any split (property)', () => {
    fc.assert(
      fc.property(points, fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 150, maxLength: 150 }), (pts, owner) => {
        const whole = new Aggregate(8);
        const parts = [new Aggregate(8), new Aggregate(8), new Aggregate(8)];
        pts.forEach(([v, a], i) => {
          whole.add(whole.pointOf(v, a));
          const part = parts[owner[i] ?? 0] as Aggregate;
          part.add(part.pointOf(v, a));
        });
        const merged = new Aggregate(8).merge(parts[2] as Aggregate).merge(parts[0] as Aggregate).merge(parts[1] as Aggregate);
        expect(merged.equals(whole)).toBe(true);
        expect(merged.moments()).toEqual(whole.moments());
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('[AG2] removing every point leaves an exactly empty aggregate (no float residue)', () => {
    fc.assert(
      fc.property(points, (pts) => {
        const g = new Aggregate(16);
        const stored = pts.map(([v, a]) => g.pointOf(v, a));
        for (const p of stored) g.add(p);
        for (const p of stored.reverse()) g.remove(p);
        expect(g.equals(new Aggregate(16))).toBe(true);
      }),
      { seed: 8, numRuns: 100 },
    );
  });

  it('[AG3] moments: mean within half a quantum of the exact mean, spread of a known pair', () => {
    const g = new Aggregate(16);
    g.add(g.pointOf(0.5, -0.5));
    g.add(g.pointOf(-0.5, 0.5));
    const m = g.moments();
    expect(m.count).toBe(2);
    expect(m.mean).toEqual({ valence: 0, arousal: 0 });
    expect(m.spread).toEqual({ valence: 0.5, arousal: 0.5 });
    expect(m.quadrants).toEqual([0, 0.5, 0, 0.5]);
    const h = new Aggregate(16);
    h.add(h.pointOf(0.1, 0.3));
    expect(Math.abs((h.moments().mean?.valence ?? 0) - 0.1)).toBeLessThanOrEqual(0.5 / QUANTUM);
  });

  it('[AG4] refuses grids it cannot split into quadrants and merges of different grids', () => {
    expect(() => new Aggregate(15)).toThrow(RangeError);
    expect(() => new Aggregate(8).merge(new Aggregate(16))).toThrow(RangeError);
  });
});
