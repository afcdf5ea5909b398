/**
 * The write backlog (SPEC W5b) against a naive model: whatever order writes settle in, `queued`
 * is the number unsettled and `lagMs` the age of the oldest unsettled one; `over` says why past
 * either bound, and nothing once they are back within.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WriteBacklog } from './writeBacklog.ts';

describe('WriteBacklog', () => {
  it('[W5b] model: queued and the oldest write’s lag, under any order of settling (and across compactions)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.record({ begin: fc.integer({ min: 0, max: 50 }) }), fc.record({ settle: fc.nat() })), { maxLength: 3000 }), (ops) => {
        const b = new WriteBacklog({ maxLagMs: 100, maxQueued: 1e9 });
        let now = 0;
        const open: { at: number; end: () => void }[] = [];
        for (const op of ops) {
          if ('begin' in op) {
            now += op.begin;
            open.push({ at: now, end: b.begin(now) });
          } else if (open.length > 0) {
            const [w] = open.splice(op.settle % open.length, 1);
            w?.end();
            w?.end(); // a second call changes nothing
          }
          expect(b.queued).toBe(open.length);
          const oldest = open.reduce((m, w) => Math.min(m, w.at), Number.POSITIVE_INFINITY);
          expect(b.lagMs(now)).toBe(open.length ? now - oldest : 0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('[W5b] a long run settled mostly in order compacts its slots and still answers right', () => {
    const b = new WriteBacklog();
    const ends = Array.from({ length: 5000 }, (_, i) => b.begin(i));
    ends[4000]?.();
    for (let i = 0; i < 3000; i++) ends[i]?.();
    expect(b.queued).toBe(1999);
    expect(b.lagMs(6000)).toBe(3000);
    for (let i = 3000; i < 4000; i++) ends[i]?.();
    expect(b.lagMs(6000)).toBe(6000 - 4001);
    for (let i = 4001; i < 5000; i++) ends[i]?.();
    expect(b.queued).toBe(0);
    expect(b.lagMs(6000)).toBe(0);
    const late = b.begin(7000);
    expect(b.lagMs(7500)).toBe(500);
    late();
  });

  it('[W5b] over: past the lag or the count, with the reason; within both, null', () => {
    const b = new WriteBacklog({ maxLagMs: 1000, maxQueued: 3 });
    const a = b.begin(0);
    expect(b.over(1000)).toBe(null);
    expect(b.over(1001)).toMatch(/waited 1001 ms/);
    a();
    expect(b.over(5000)).toBe(null);
    const ends = [b.begin(5000), b.begin(5000), b.begin(5000)];
    expect(b.over(5000)).toMatch(/3 writes are waiting/);
    ends[1]?.();
    expect(b.over(5000)).toBe(null);
  });
});
