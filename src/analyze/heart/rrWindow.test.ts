import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/collective/prng.ts';
import { RrWindow, rmssdOf } from './rrWindow.ts';

/** Feeds intervals one per beat at their own times; returns the window. */
function feed(rr: readonly number[], o: ConstructorParameters<typeof RrWindow>[0] = {}, t0 = 0): { w: RrWindow; t: number; rejected: (string | null)[] } {
  const w = new RrWindow(o);
  let t = t0;
  const rejected: (string | null)[] = [];
  for (const x of rr) {
    t += x;
    rejected.push(w.add(x, t));
  }
  w.advance(t);
  return { w, t, rejected };
}

describe('RMSSD', () => {
  it('is the root mean square of successive differences (Task Force 1996)', () => {
    expect(rmssdOf([800, 810, 790, 800])).toBeCloseTo(Math.sqrt((100 + 400 + 100) / 3), 12);
    const { w } = feed([800, 810, 790, 800], { minDifferences: 1, minSpanMs: 0 });
    expect(w.rmssd()).toBeCloseTo(Math.sqrt(200), 12);
    expect(rmssdOf([800])).toBeNull();
  });

  it('is withheld until enough differences over a long enough span', () => {
    const { w } = feed(Array.from({ length: 12 }, (_, i) => 800 + (i % 2) * 20));
    expect(w.rmssd()).toBeNull(); // 11 differences but only 9.7 s of beats (< 20 s)
    const long = feed(Array.from({ length: 40 }, (_, i) => 800 + (i % 2) * 20));
    expect(long.w.rmssd()).toBeCloseTo(20, 9);
  });

  it('matches the naive RMSSD of the beats in the window, whatever the window slides over', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 20, max: 300 }), fc.integer({ min: 5_000, max: 60_000 }), (seed, n, windowMs) => {
        const rng = createRng(seed);
        const rr: number[] = [];
        let x = 800;
        for (let i = 0; i < n; i++) {
          x = Math.max(600, Math.min(1000, x + (rng.next() - 0.5) * 40)); // ≤ 20 ms steps: never rejected
          rr.push(x);
        }
        const { w, t, rejected } = feed(rr, { windowMs, minDifferences: 1, minSpanMs: 0 });
        expect(rejected.every((r) => r === null)).toBe(true);
        const ends = rr.map((_, i) => rr.slice(0, i + 1).reduce((a, b) => a + b, 0));
        const inWindow = rr.filter((_, i) => (ends[i] as number) >= t - windowMs);
        const naive = rmssdOf(inWindow);
        if (naive === null) expect(w.rmssd()).toBeNull();
        else expect(w.rmssd()).toBeCloseTo(naive, 6);
        expect(w.size).toBe(inWindow.length);
      }),
      { seed: 18, numRuns: 60 },
    );
  });
});

describe('artefact rejection', () => {
  it('rejects intervals outside 273–2000 ms', () => {
    const w = new RrWindow();
    expect(w.add(0, 0)).toBe('range');
    expect(w.add(200, 200)).toBe('range');
    expect(w.add(3000, 3200)).toBe('range');
    expect(w.add(Number.NaN, 3300)).toBe('range');
    expect(w.add(800, 4000)).toBeNull();
  });

  it('rejects an ectopic beat (> 20 % from the recent median) and takes no difference across it', () => {
    const steady = Array.from({ length: 60 }, (_, i) => 800 + (i % 2) * 10);
    const withEctopic = [...steady.slice(0, 30), 480, 1120, ...steady.slice(30)]; // premature beat + compensatory pause
    const clean = feed(steady, { windowMs: 120_000 });
    const dirty = feed(withEctopic, { windowMs: 120_000 });
    expect(dirty.rejected.filter((r) => r !== null)).toEqual(['relative', 'relative']);
    // Only the two differences across the gap are lost; every remaining one is a normal 10 ms step.
    expect(dirty.w.differences).toBe(clean.w.differences - 1);
    expect(dirty.w.rmssd()).toBeCloseTo(10, 9);
    expect(clean.w.rmssd()).toBeCloseTo(10, 9);
  });

  it('follows a real change of rhythm after five rejections in a row', () => {
    const rr = [...Array.from({ length: 20 }, () => 800), ...Array.from({ length: 30 }, () => 500)];
    const { rejected, w } = feed(rr, { windowMs: 10_000 });
    expect(rejected.slice(20, 25)).toEqual(['relative', 'relative', 'relative', 'relative', 'relative']);
    expect(rejected.slice(25).every((r) => r === null)).toBe(true);
    expect(w.meanBpm()).toBeCloseTo(120, 9); // the last 10 s hold only the new rhythm
  });

  it('stays bounded', () => {
    const { w } = feed(Array.from({ length: 5000 }, () => 300), { windowMs: 10 * 60_000, maxBeats: 256 });
    expect(w.size).toBeLessThanOrEqual(256);
    expect(w.rmssd()).toBe(0);
  });

  it('places a frame’s intervals back from its arrival time', () => {
    const w = new RrWindow({ windowMs: 1_500, minDifferences: 1, minSpanMs: 0 });
    w.addFrame([800, 820, 810], 10_000); // beats end at 8 370, 9 190, 10 000: the first is outside
    expect(w.size).toBe(2);
    expect(w.rmssd()).toBeCloseTo(10, 9);
  });
});
