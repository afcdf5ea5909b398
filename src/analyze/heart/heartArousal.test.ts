import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMoment, addToBaseline, type Baseline, baselineFill, emptyBaseline, HEART_CONFIDENCE_CEILING, heartArousal, NO_MOMENTS, sdOf } from './heartArousal.ts';

/** A baseline filled with readings around 70 bpm (sd ≈ 3) and RMSSD ≈ 40 ms, for `ms` of signal. */
function baseline(ms: number, fillMs = 180_000): Baseline {
  let b = emptyBaseline({ fillMs });
  for (let t = 0, i = 0; t < ms; t += 2_000, i++) b = addToBaseline(b, 70 + 3 * Math.sin(i), 40 * Math.exp(0.2 * Math.cos(i)), 2_000);
  return b;
}

describe('baseline moments (Welford)', () => {
  it('match the naive mean and sample sd', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 30, max: 220, noNaN: true }), { minLength: 2, maxLength: 200 }), (xs) => {
        const m = xs.reduce(addMoment, NO_MOMENTS);
        const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
        const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / (xs.length - 1));
        expect(m.mean).toBeCloseTo(mu, 8);
        expect(sdOf(m)).toBeCloseTo(sd, 6);
      }),
      { seed: 18 },
    );
  });

  it('fills over the first minutes, then is frozen', () => {
    const b = baseline(200_000);
    expect(baselineFill(b)).toBe(1);
    expect(b.hr.n).toBe(90);
    expect(addToBaseline(b, 150, 10, 2_000)).toBe(b);
  });
});

describe('arousal from the heart', () => {
  const full = baseline(180_000);

  it('is withheld until the baseline holds its minimum (30 s)', () => {
    expect(heartArousal(baseline(28_000), 90, 20, 1)).toBeNull();
    expect(heartArousal(baseline(30_000), 90, 20, 1)).not.toBeNull();
  });

  it('is 0 at the baseline and bounded in (−1, 1)', () => {
    const a = heartArousal(full, full.hr.mean, Math.exp(full.lnRmssd.mean), 1);
    expect(a?.arousal).toBeCloseTo(0, 12);
    expect(heartArousal(full, 220, 2, 1)?.arousal).toBeLessThan(1);
    expect(heartArousal(full, 30, 300, 1)?.arousal).toBeGreaterThan(-1);
  });

  it('rises strictly with heart rate and falls strictly with RMSSD', () => {
    fc.assert(
      fc.property(fc.double({ min: 40, max: 180, noNaN: true }), fc.double({ min: 0.5, max: 20, noNaN: true }), fc.double({ min: 5, max: 150, noNaN: true }), fc.double({ min: 1.05, max: 3, noNaN: true }), (hr, dh, rmssd, k) => {
        const a = heartArousal(full, hr, rmssd, 1)?.arousal as number;
        expect(heartArousal(full, hr + dh, rmssd, 1)?.arousal as number).toBeGreaterThan(a);
        expect(heartArousal(full, hr, rmssd * k, 1)?.arousal as number).toBeLessThan(a);
        expect(heartArousal(full, hr + dh, null, 1)?.arousal as number).toBeGreaterThan(heartArousal(full, hr, null, 1)?.arousal as number);
      }),
      { seed: 18 },
    );
  });

  it('gains confidence as the baseline fills, up to the ceiling, less without RR intervals or with rejected beats', () => {
    let prev = 0;
    for (let ms = 30_000; ms <= 240_000; ms += 10_000) {
      const c = heartArousal(baseline(ms), 80, 30, 1)?.confidence as number;
      expect(c).toBeGreaterThanOrEqual(prev);
      prev = c;
    }
    expect(prev).toBeCloseTo(HEART_CONFIDENCE_CEILING, 12);
    expect(heartArousal(baseline(90_000), 80, 30, 1)?.confidence).toBeCloseTo(HEART_CONFIDENCE_CEILING * 0.5, 12);
    expect(heartArousal(full, 80, null, 1)?.confidence).toBeCloseTo(HEART_CONFIDENCE_CEILING * 0.5, 12);
    expect(heartArousal(full, 80, 30, 0.6)?.confidence).toBeCloseTo(HEART_CONFIDENCE_CEILING * 0.6, 12);
  });
});
