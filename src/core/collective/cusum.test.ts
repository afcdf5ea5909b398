import { describe, expect, it } from 'vitest';
import { Bocpd } from './bocpd.ts';
import { Cusum, siegmundArlOneSided, siegmundArlTwoSided } from './cusum.ts';
import { EwmaChart } from './ewma.ts';
import { createRng } from './prng.ts';

function meanRunLength(h: number, runs: number, seed: number): number {
  const rng = createRng(seed);
  let total = 0;
  for (let r = 0; r < runs; r++) {
    const c = new Cusum(0.5, h);
    let n = 0;
    for (;;) {
      n++;
      if (c.step(rng.normal()).alarm) break;
    }
    total += n;
  }
  return total / runs;
}

describe('CUSUM', () => {
  it('Siegmund gives the textbook one-sided ARL0 ≈ 938 for k = 0.5, h = 5', () => {
    // Montgomery, Table 9.3 (exact ARL0 = 930 for h = 5; Siegmund's 938).
    expect(siegmundArlOneSided(0.5, 5, 0)).toBeGreaterThan(900);
    expect(siegmundArlOneSided(0.5, 5, 0)).toBeLessThan(960);
  });

  for (const h of [4, 6]) {
    it(`in-control run length on N(0,1) matches Siegmund within 15 % (two-sided, h = ${h})`, () => {
      const simulated = meanRunLength(h, h === 4 ? 2000 : 800, 100 + h);
      const approx = siegmundArlTwoSided(0.5, h, 0);
      expect(Math.abs(simulated - approx) / approx).toBeLessThan(0.15);
    });
  }

  it('estimates the change point as the window after the statistic was last zero', () => {
    const c = new Cusum(0.5, 6);
    const xs = [0, 0, 0, -1, 0, 0, 2, 2, 2, 2, 2];
    let alarm = null;
    for (const x of xs) {
      const s = c.step(x);
      if (s.alarm) {
        alarm = s;
        break;
      }
    }
    expect(alarm?.alarm).toBe('up');
    expect(alarm?.changeIndex).toBe(6);
  });
});

describe('EWMA chart', () => {
  it('signals a 2σ shift within a few observations and stays quiet at 0', () => {
    const e = new EwmaChart(0.1, 2.8);
    for (let i = 0; i < 50; i++) expect(e.step(0)).toBeNull();
    let n = 0;
    while (e.step(2) === null) n++;
    expect(n).toBeLessThan(10);
  });
});

describe('BOCPD', () => {
  it('puts the run-length mass on a recent change after a mean shift', () => {
    const rng = createRng(5);
    const b = new Bocpd({ expectedRun: 100, maxRun: 80, mu0: 0, kappa0: 1, alpha0: 1, beta0: 1 });
    for (let i = 0; i < 60; i++) b.step(rng.normal());
    expect(b.probabilityOfChangeWithin(5)).toBeLessThan(0.2);
    for (let i = 0; i < 6; i++) b.step(5 + rng.normal());
    expect(b.probabilityOfChangeWithin(8)).toBeGreaterThan(0.9);
    expect(b.mapRunLength()).toBeLessThanOrEqual(7);
  });
});
