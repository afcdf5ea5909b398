import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Affect } from './affect.ts';
import { QUANTUM, quantise } from './aggregate/aggregate.ts';
import { binIndex } from './histogram.ts';
import { PulseState } from './pulse.ts';

const affect = (valence: number, arousal: number, at = 0): Affect => ({ valence, arousal, confidence: 1, source: 'tap', at });

describe('PulseState', () => {
  it('[P2] counts each participant once, with their latest point', () => {
    const s = new PulseState({ minCohort: 1 });
    s.upsert('a', affect(0.5, 0.5), 0);
    s.upsert('a', affect(-0.5, -0.5), 10);
    const p = s.tick(20);
    expect(p.count).toBe(1);
    expect(p.mean).toEqual({ valence: -0.5, arousal: -0.5 });
    expect(p.quadrants).toEqual([0, 0, 1, 0]);
  });

  it('[P3] expires a point ttl after it was received', () => {
    const s = new PulseState({ ttlMs: 1000, minCohort: 1 });
    s.upsert('a', affect(0.1, 0.1), 0);
    s.upsert('b', affect(0.1, 0.1), 500);
    expect(s.tick(999).count).toBe(2);
    expect(s.tick(1000).count).toBe(1);
    s.upsert('b', affect(0.2, 0.2), 1200); // refreshed: old expiry entry is stale
    expect(s.tick(1600).count).toBe(1);
    expect(s.tick(2200).count).toBe(0);
  });

  it('[P4] withholds everything but the count below the minimum cohort', () => {
    const s = new PulseState({ minCohort: 3 });
    s.upsert('a', affect(0.9, 0.9), 0);
    s.upsert('b', affect(-0.9, 0.9), 0);
    const p = s.tick(1);
    expect(p.count).toBe(2);
    expect(p.suppressed).toBe(true);
    expect(p.mean).toBeNull();
    expect(p.hist).toBeNull();
    expect(p.quadrants).toBeNull();
    s.upsert('c', affect(0, 0), 0);
    const q = s.tick(2);
    expect(q.suppressed).toBe(false);
    expect(q.hist?.reduce((x, y) => x + y, 0)).toBe(3);
  });

  it('[P5] smooths the mean with an EMA whose result does not depend on the tick rate', () => {
    const fast = new PulseState({ minCohort: 1, smoothingMs: 3000 });
    const slow = new PulseState({ minCohort: 1, smoothingMs: 3000 });
    for (const s of [fast, slow]) s.upsert('a', affect(0, 0), 0);
    fast.tick(0);
    slow.tick(0);
    for (const s of [fast, slow]) s.upsert('a', affect(1, 0), 0);
    for (let t = 50; t <= 3000; t += 50) fast.tick(t);
    const viaSlow = slow.tick(3000);
    const viaFast = fast.tick(3000);
    expect(viaFast.smoothed?.valence).toBeCloseTo(1 - Math.exp(-1), 6);
    expect(viaSlow.smoothed?.valence).toBeCloseTo(viaFast.smoothed?.valence ?? NaN, 6);
  });

  it('[P2] incremental aggregates equal a naive recomputation (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), id: fc.integer({ min: 0, max: 20 }), v: fc.double({ min: -1, max: 1, noNaN: true }), a: fc.double({ min: -1, max: 1, noNaN: true }), dt: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ kind: fc.constant('leave' as const), id: fc.integer({ min: 0, max: 20 }), dt: fc.integer({ min: 0, max: 400 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200, size: 'max' }), (ops) => {
        const ttl = 1000;
        const s = new PulseState({ ttlMs: ttl, minCohort: 1, bins: 8 });
        const naive = new Map<number, { v: number; a: number; until: number }>();
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          if (o.kind === 'set') {
            s.upsert(String(o.id), affect(o.v, o.a, now), now);
            naive.set(o.id, { v: o.v, a: o.a, until: now + ttl });
          } else {
            s.remove(String(o.id));
            naive.delete(o.id);
          }
        }
        const p = s.tick(now);
        const live = [...naive.values()].filter((x) => x.until > now);
        expect(p.count).toBe(live.length);
        if (live.length === 0) return;
        // The aggregate keeps coordinates in 2⁻¹⁶ steps (core/aggregate): exact against a
        // quantised model, and within half a step of the unquantised one.
        const mv = live.reduce((t, x) => t + quantise(x.v), 0) / live.length / QUANTUM;
        const ma = live.reduce((t, x) => t + quantise(x.a), 0) / live.length / QUANTUM;
        expect(p.mean?.valence).toBeCloseTo(mv, 12);
        expect(p.mean?.arousal).toBeCloseTo(ma, 12);
        expect(Math.abs((p.mean?.valence ?? 0) - live.reduce((t, x) => t + x.v, 0) / live.length)).toBeLessThanOrEqual(0.5 / QUANTUM + 1e-12);
        const hist: number[] = new Array(64).fill(0);
        const quads = [0, 0, 0, 0];
        for (const x of live) {
          const ix = binIndex(x.v, 8);
          const iy = binIndex(x.a, 8);
          hist[iy * 8 + ix] = (hist[iy * 8 + ix] ?? 0) + 1;
          // A point's quadrant is its cell's (core/aggregate).
          const q = ix >= 4 ? (iy >= 4 ? 0 : 1) : iy >= 4 ? 3 : 2;
          quads[q] = (quads[q] ?? 0) + 1;
        }
        expect(p.hist).toEqual(hist);
        expect(p.quadrants).toEqual(quads.map((q) => q / live.length));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
