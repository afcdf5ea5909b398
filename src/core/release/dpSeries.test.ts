import { describe, expect, it } from 'vitest';
import { microOf } from './budget.ts';
import { keyOfSeed } from './chacha20.ts';
import { releaseDpSeries, type SeriesInput, seriesSigma2, windowsOf } from './dpSeries.ts';

const key = keyOfSeed('77'.repeat(32));
const crowd = (people: number, windows: number): SeriesInput[] =>
  Array.from({ length: people * windows * 2 }, (_, i) => ({ participantId: `p${i % people}`, at: Math.floor(i / people) * 30_000 + 1, valence: (i % people) % 2 ? 0.5 : -0.5, arousal: 0.25 }));

describe('DP series (R8)', () => {
  it('[R8] σ² = 3w/(2ρ): each window adds L2² ≤ 3 per participant', () => {
    const q = { from: 0, to: 600_000, bucketMs: 60_000, rhoMicro: microOf(0.5) };
    expect(windowsOf(q)).toBe(10);
    const s = seriesSigma2(q);
    expect(Number(s.num) / Number(s.den)).toBe(30);
  });

  it('[R8] deterministic for (inputs, query, key, nonce); another nonce draws other noise', () => {
    const q = { from: 0, to: 300_000, bucketMs: 60_000, rhoMicro: microOf(0.1) };
    const a = releaseDpSeries(crowd(40, 5), q, 5, key, 1);
    expect(releaseDpSeries(crowd(40, 5), q, 5, key, 1)).toEqual(a);
    expect(releaseDpSeries(crowd(40, 5), q, 5, key, 2)).not.toEqual(a);
  });

  it('[R8] with a large ρ the release is close to the exact figures; each participant counts once per window', () => {
    const q = { from: 0, to: 300_000, bucketMs: 60_000, rhoMicro: microOf(10) };
    const points = releaseDpSeries(crowd(200, 5), q, 5, key, 1);
    for (const p of points) {
      expect(p.count).not.toBeNull();
      expect(Math.abs((p.count as number) - 200)).toBeLessThan(15);
      expect(Math.abs((p.valence as number) - 0)).toBeLessThan(0.05);
      expect(Math.abs((p.arousal as number) - 0.25)).toBeLessThan(0.05);
    }
  });

  it('[R8] a window whose noisy total is below k is withheld', () => {
    const q = { from: 0, to: 60_000, bucketMs: 60_000, rhoMicro: microOf(10) };
    const [p] = releaseDpSeries(crowd(1, 1), q, 5, key, 1);
    expect(p).toMatchObject({ count: null, valence: null, quadrants: null });
  });
});
