import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fractureOf } from './fracture.ts';

const camp = (id: string, valence: number, arousal: number, share: number) => ({ id, valence, arousal, share, people: Math.round(share * 100) });

describe('fractureOf', () => {
  it('is the perpendicular bisector of the two largest camps, clipped to the square', () => {
    const f = fractureOf({ camps: [camp('c1', -0.5, 0, 0.6), camp('c2', 0.5, 0, 0.4)], dissonance: { score: 0.7 } });
    expect(f?.between).toEqual(['c1', 'c2']);
    expect(f?.from.valence).toBeCloseTo(0, 12);
    expect(f?.to.valence).toBeCloseTo(0, 12);
    expect([f?.from.arousal, f?.to.arousal].sort()).toEqual([-1, 1]);
    expect(f?.gap).toBeCloseTo(1, 12);
    expect(f?.strength).toBe(0.7);
  });

  it('is null with fewer than two camps', () => {
    expect(fractureOf({ camps: [camp('c1', 0, 0, 1)], dissonance: { score: 0 } })).toBeNull();
    expect(fractureOf({ camps: [], dissonance: { score: 0 } })).toBeNull();
  });

  it('ends on the border and is equidistant from both camps (property)', () => {
    const coord = fc.double({ min: -0.95, max: 0.95, noNaN: true });
    fc.assert(
      fc.property(coord, coord, coord, coord, (ax, ay, bx, by) => {
        fc.pre(Math.hypot(ax - bx, ay - by) > 0.05);
        const f = fractureOf({ camps: [camp('a', ax, ay, 0.5), camp('b', bx, by, 0.5)], dissonance: { score: 0.5 } });
        expect(f).not.toBeNull();
        for (const p of [f?.from, f?.to]) {
          const v = p?.valence ?? 0;
          const a = p?.arousal ?? 0;
          expect(Math.max(Math.abs(v), Math.abs(a))).toBeCloseTo(1, 9);
          expect(Math.hypot(v - ax, a - ay)).toBeCloseTo(Math.hypot(v - bx, a - by), 9);
        }
      }),
      { seed: 3, numRuns: 200 },
    );
  });
});
