import { describe, expect, it } from 'vitest';
import type { ContagionRecord } from '../collective/contagion.ts';
import { keyOfSeed } from './chacha20.ts';
import { CONTAGION_DELTA2, contagionSigma, releaseDpContagion } from './dpContagion.ts';

const key = keyOfSeed('ab'.repeat(32));

/** `people` participants, each with `pairs` + 1 inputs; even ones exposed and moving halfway to the pulse, odd ones unexposed and still. */
function crowd(people: number, pairs = 3): ContagionRecord[] {
  const out: ContagionRecord[] = [];
  for (let p = 0; p < people; p++) {
    const exposed = p % 2 === 0;
    let v = -0.8;
    for (let k = 0; k <= pairs; k++) {
      out.push({ participantId: `p${p}`, at: 1000 * (k + 1) + p, valence: v, arousal: 0, exposed, shownValence: 0.6, shownArousal: 0 });
      if (exposed) v += (0.6 - v) / 2;
    }
  }
  return out;
}

describe('releaseDpContagion', () => {
  it('[R8] deterministic for a key and nonce; a new nonce draws new noise', () => {
    const q = { from: 0, to: 1e9, rhoMicro: 100_000 };
    const a = releaseDpContagion(crowd(40), q, 5, key, 1);
    expect(releaseDpContagion(crowd(40), q, 5, key, 1)).toEqual(a);
    expect(releaseDpContagion(crowd(40), q, 5, key, 2)).not.toEqual(a);
  });

  it('[R8] σ² = 4/(2ρ) per count; the noisy counts scatter around the truth with that variance', () => {
    const rhoMicro = 500_000;
    expect(contagionSigma(rhoMicro) ** 2).toBeCloseTo(CONTAGION_DELTA2 / (2 * 0.5), 9);
    const draws: number[] = [];
    for (let n = 1; n <= 400; n++) draws.push(releaseDpContagion(crowd(60), { from: 0, to: 1e9, rhoMicro }, 5, key, n).exposedPeople - 30);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / (draws.length - 1);
    expect(Math.abs(mean)).toBeLessThan(0.5);
    // 4 ± 20 % (400 draws: the sample variance's relative sd is ≈ 7 %).
    expect(variance).toBeGreaterThan(3.2);
    expect(variance).toBeLessThan(4.8);
  });

  it('[R8] recovers the exact effect with little noise: exposed people moved half the gap, unexposed none', () => {
    const r = releaseDpContagion(crowd(400), { from: 0, to: 1e9, rhoMicro: 50_000_000 }, 5, key, 1);
    expect(r.withheld).toBe(false);
    expect(r.exposedPull).toBeCloseTo(0.5, 1);
    expect(r.unexposedPull).toBeCloseTo(0, 1);
    expect(r.index).toBeCloseTo(0.5, 1);
    expect(r.noiseSd).toBeLessThan(0.05);
  });

  it('[R8][R4] withheld — every figure null — while a noisy count is below k; only inputs in [from, to) count', () => {
    const few = releaseDpContagion(crowd(4), { from: 0, to: 1e9, rhoMicro: 50_000_000 }, 5, key, 1);
    expect(few).toMatchObject({ withheld: true, index: null, exposedPull: null, unexposedPull: null, noiseSd: null });
    const none = releaseDpContagion(crowd(400), { from: 0, to: 1000, rhoMicro: 50_000_000 }, 5, key, 1);
    expect(none.withheld).toBe(true);
  });
});
