import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/collective/prng.ts';
import { PointInputSchema } from '../core/protocol.ts';
import { deffuantStep, hegselmannKrauseStep } from './boundedConfidence.ts';
import { Crowd } from './crowd.ts';
import { adjacencyOf, barabasiAlbert, wattsStrogatz } from './graphs.ts';
import { inputMessage, joinMessage } from './messages.ts';
import { stepSisa } from './sisa.ts';

describe('graphs', () => {
  it('Watts–Strogatz keeps n·k/2 edges and is deterministic for a seed', () => {
    const g = wattsStrogatz(100, 6, 0.1, createRng(1));
    expect(g.order).toBe(100);
    expect(g.size).toBe(300);
    const h = wattsStrogatz(100, 6, 0.1, createRng(1));
    expect(adjacencyOf(h)).toEqual(adjacencyOf(g));
  });

  it('Barabási–Albert has m(n − m − 1) + m(m+1)/2 edges and a heavy-tailed degree', () => {
    const g = barabasiAlbert(400, 3, createRng(2));
    expect(g.size).toBe(3 * (400 - 4) + 6);
    const degrees = g.mapNodes((n) => g.degree(n));
    expect(Math.max(...degrees)).toBeGreaterThan(4 * (degrees.reduce((a, b) => a + b, 0) / degrees.length));
  });
});

describe('SISa', () => {
  it('without transmission settles near a / (a + g)', () => {
    const rng = createRng(3);
    const n = 2000;
    const infected = new Uint8Array(n);
    const adj = Array.from({ length: n }, () => [] as number[]);
    let sum = 0;
    let k = 0;
    for (let t = 0; t < 600; t++) {
      const c = stepSisa(infected, adj, { a: 0.02, beta: 0, g: 0.06 }, 0.5, rng);
      if (t > 200) {
        sum += c / n;
        k++;
      }
    }
    expect(sum / k).toBeGreaterThan(0.22);
    expect(sum / k).toBeLessThan(0.28);
  });

  it('transmission along edges raises prevalence above the spontaneous level', () => {
    const rng = createRng(4);
    const adj = adjacencyOf(wattsStrogatz(500, 6, 0.1, rng));
    const run = (beta: number): number => {
      const inf = new Uint8Array(500);
      let c = 0;
      for (let t = 0; t < 400; t++) c = stepSisa(inf, adj, { a: 0.005, beta, g: 0.05 }, 0.5, rng);
      return c / 500;
    };
    expect(run(0.05)).toBeGreaterThan(run(0) + 0.2);
  });
});

describe('bounded confidence', () => {
  it('Deffuant keeps two camps further apart than ε and tightens each', () => {
    const rng = createRng(5);
    const x = Float64Array.from({ length: 200 }, (_, i) => (i % 2 ? 0.85 : 0.15) + 0.05 * rng.normal());
    deffuantStep(x, [], 0.3, 0.3, 20_000, rng);
    const a = [...x].filter((v) => v < 0.5);
    const b = [...x].filter((v) => v >= 0.5);
    expect(a.length).toBe(100);
    expect(Math.max(...a) - Math.min(...a)).toBeLessThan(0.05);
    expect(Math.min(...b) - Math.max(...a)).toBeGreaterThan(0.3);
  });

  it('Hegselmann–Krause with a wide ε reaches consensus; opinions stay in range (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 50 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (xs, eps) => {
        let x: Float64Array = Float64Array.from(xs);
        for (let i = 0; i < 30; i++) x = hegselmannKrauseStep(x, eps);
        for (const v of x) {
          expect(v).toBeGreaterThanOrEqual(Math.min(...xs) - 1e-12);
          expect(v).toBeLessThanOrEqual(Math.max(...xs) + 1e-12);
        }
        if (eps >= 1) expect(Math.max(...x) - Math.min(...x)).toBeLessThan(1e-9);
      }),
      { seed: 6, numRuns: 100 },
    );
  });
});

describe('Crowd', () => {
  it('is deterministic for a seed and its truth follows the script', () => {
    const run = () => {
      const c = new Crowd({ seed: 'x', participants: 60, durationMs: 600_000, scenario: 'arc' });
      const taps = [];
      for (let t = 0; t <= 600_000; t += 500) {
        taps.push(...c.step(t, { valence: 0, arousal: 0 }));
        if (t % 5000 === 0) c.sampleTruth(t);
      }
      return { taps, truth: c.groundTruth() };
    };
    const a = run();
    const b = run();
    expect(a.taps).toEqual(b.taps);
    expect(a.truth.changePoints.map((p) => p.phase)).toEqual(['surge', 'split', 'healing']);
    const inSplit = a.truth.samples.filter((s) => s.phase === 'split' && s.atMs > (a.truth.changePoints[1]?.atMs ?? 0) + 30_000);
    expect(inSplit.every((s) => s.camps === 2)).toBe(true);
    const calm = a.truth.samples.filter((s) => s.phase === 'calm');
    expect(calm.every((s) => s.camps === 1)).toBe(true);
    // People re-tap every few seconds: well under the server's ~20 messages/s per connection.
    const perPerson = new Map<number, number[]>();
    for (const t of a.taps) perPerson.set(t.participant, [...(perPerson.get(t.participant) ?? []), t.at]);
    for (const times of perPerson.values()) for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(1500);
  });

  it('builds protocol-valid frames', () => {
    const c = new Crowd({ seed: 2, participants: 10, durationMs: 10_000, scenario: 'calm' });
    const taps = c.step(5_000, null);
    expect(taps.length).toBeGreaterThan(0);
    for (const [i, tap] of taps.entries()) expect(v.safeParse(PointInputSchema, inputMessage(tap, i + 1)).success).toBe(true);
    expect(joinMessage('ABCDEFGH')).toEqual({ t: 'join', code: 'ABCDEFGH', role: 'participant', consent: true });
  });
});
