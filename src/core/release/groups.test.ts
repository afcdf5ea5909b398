import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregate } from '../aggregate/aggregate.ts';
import { coarsenParts, releaseGroups, shownGroups } from './groups.ts';
import { coarsenHistogram } from './release.ts';

const coord = fc.double({ min: -1, max: 1, noNaN: true });
const BINS = 16;

/** A person: a point and a part (0…g−1 a declared group, −1 none). */
type Person = readonly [number, number, number];

function aggregates(people: readonly Person[], groups: number): { room: Aggregate; grids: Aggregate[] } {
  const room = new Aggregate(BINS);
  const grids = Array.from({ length: groups }, () => new Aggregate(BINS));
  for (const [v, a, g] of people) {
    const p = room.pointOf(v, a);
    room.add(p);
    grids[g]?.add(p);
  }
  return { room, grids };
}

const names = (g: number) => Array.from({ length: g }, (_, i) => `g${i}`);

/** A room: up to 8 groups, people in clumps (so small groups are common), some in no group. */
const room = fc
  .record({
    groups: fc.integer({ min: 1, max: 8 }),
    k: fc.integer({ min: 2, max: 6 }),
    people: fc.array(fc.tuple(coord, coord, fc.integer({ min: -1, max: 7 })), { minLength: 0, maxLength: 60 }),
  })
  .map(({ groups, k, people }) => ({ groups, k, people: people.map(([v, a, g]) => [v, a, g >= groups ? -1 : g] as Person) }));

describe('per-group release (R6)', () => {
  it('[R6] every shown group holds 0 or ≥ k people, and so does everyone else: room − Σ shown groups (property)', () => {
    fc.assert(
      fc.property(room, ({ groups, k, people }) => {
        const { room: r, grids } = aggregates(people, groups);
        const out = releaseGroups(names(groups), grids, r, { minCohort: k });
        let shown = 0;
        for (const [i, n] of names(groups).entries()) {
          const g = out[n];
          if (!g) throw new Error('missing group');
          if (g.suppressed) {
            expect(g).toEqual({ suppressed: true, count: null, mean: null, spread: null, quadrants: null, hist: null });
            continue;
          }
          expect(g.count === 0 || (g.count ?? 0) >= k).toBe(true);
          expect(g.count).toBe(grids[i]?.n);
          shown += g.count ?? 0;
        }
        if (r.n >= k) {
          const rest = r.n - shown;
          expect(rest === 0 || rest >= k).toBe(true);
        } else expect(Object.values(out).every((g) => g.suppressed)).toBe(true);
      }),
      { seed: 17, numRuns: 2000 },
    );
  });

  it('[R6] no released set of group aggregates reconstructs a withheld group: any reshuffle of the withheld people among the withheld parts releases the same bytes (property)', () => {
    let informative = 0;
    fc.assert(
      fc.property(room, fc.array(fc.nat(), { minLength: 60, maxLength: 60 }), ({ groups, k, people }, picks) => {
        const { room: r, grids } = aggregates(people, groups);
        const counts = grids.map((g) => g.n);
        const shown = shownGroups(counts, r.n, k);
        const withheldParts = [-1, ...names(groups).map((_, i) => i).filter((i) => !shown[i])];
        // Move every withheld person to a withheld part of the test's choosing (points stay put).
        const moved = people.map(([v, a, g], j) => (g >= 0 && shown[g] ? ([v, a, g] as Person) : ([v, a, withheldParts[(picks[j] ?? 0) % withheldParts.length] as number] as Person)));
        const after = aggregates(moved, groups);
        if (shownGroups(after.grids.map((g) => g.n), after.room.n, k).some((s, i) => s !== shown[i])) return; // a different disclosure decision: not the same situation
        const a = JSON.stringify(releaseGroups(names(groups), grids, r, { minCohort: k }));
        const b = JSON.stringify(releaseGroups(names(groups), after.grids, after.room, { minCohort: k }));
        expect(b).toBe(a);
        // Count the cases where some withheld group really differs, so the property is not vacuous.
        if (grids.some((g, i) => !shown[i] && g.n > 0 && !g.equals(after.grids[i] as Aggregate))) informative++;
      }),
      { seed: 23, numRuns: 2000 },
    );
    expect(informative).toBeGreaterThan(200);
  });

  it('[R6] complementary suppression: with one small group and everyone else grouped, the smallest shown group is withheld too', () => {
    // k = 3: east 5, west 4, north 1, nobody ungrouped. Showing east and west would reveal north = 10 − 9 = 1.
    const people: Person[] = [...Array.from({ length: 5 }, () => [0.5, 0.5, 0] as Person), ...Array.from({ length: 4 }, () => [-0.5, -0.5, 1] as Person), [0.1, 0.1, 2]];
    const { room: r, grids } = aggregates(people, 3);
    const out = releaseGroups(['east', 'west', 'north'], grids, r, { minCohort: 3 });
    expect(out.east?.count).toBe(5);
    expect(out.west?.suppressed).toBe(true);
    expect(out.north?.suppressed).toBe(true);
    // What subtraction gives: room − east = west ∪ north, 5 people.
    expect(r.n - (out.east?.count ?? 0)).toBe(5);
    // With two people who prefer not to say, north hides among them and west is shown.
    const more: Person[] = [...people, [0, 0, -1], [0.2, -0.3, -1]];
    const m = aggregates(more, 3);
    const out2 = releaseGroups(['east', 'west', 'north'], m.grids, m.room, { minCohort: 3 });
    expect([out2.east?.count, out2.west?.count, out2.north?.suppressed]).toEqual([5, 4, true]);
  });

  it('[R6] one part alone coarsens exactly like the room histogram (R2)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(coord, coord), { minLength: 1, maxLength: 80 }), fc.integer({ min: 2, max: 6 }), (pts, k) => {
        if (pts.length < k) return;
        const { room: r } = aggregates(pts.map(([v, a]) => [v, a, -1] as Person), 0);
        const units = coarsenParts([r.counts], BINS, k);
        const out = new Array<number>(BINS * BINS).fill(0);
        for (const u of units) {
          const t = u.reduce((s, c) => s + (r.counts[c] ?? 0), 0);
          for (const c of u) out[c] = t / u.length;
        }
        expect(out).toEqual(coarsenHistogram(r.counts, BINS, k));
      }),
      { seed: 5, numRuns: 400 },
    );
  });

  it('[R6] the groups’ joint partition coarsens the room’s and holds 0 or ≥ k of every part in every unit (property)', () => {
    fc.assert(
      fc.property(room, ({ groups, k, people }) => {
        const { room: r, grids } = aggregates(people, groups);
        if (r.n < k) return;
        const shown = shownGroups(grids.map((g) => g.n), r.n, k);
        const visible = grids.filter((g, i) => shown[i] && g.n > 0);
        const w = new Float64Array(BINS * BINS);
        for (let c = 0; c < w.length; c++) w[c] = (r.counts[c] ?? 0) - visible.reduce((s, g) => s + (g.counts[c] ?? 0), 0);
        const roomUnits = coarsenParts([r.counts], BINS, k);
        const joint = coarsenParts([...visible.map((g) => g.counts), w], BINS, k, roomUnits);
        const unitOf = new Map<number, number>();
        joint.forEach((u, i) => {
          for (const c of u) unitOf.set(c, i);
        });
        for (const u of roomUnits) expect(new Set(u.map((c) => unitOf.get(c))).size).toBe(1);
        for (const u of joint) {
          for (const part of [...visible.map((g) => g.counts), w]) {
            const t = u.reduce((s, c) => s + (part[c] ?? 0), 0);
            expect(t === 0 || t >= k).toBe(true);
          }
        }
      }),
      { seed: 29, numRuns: 1000 },
    );
  });

  it('[R6] below k in the whole room every group is withheld; a shown group carries its exact mean', () => {
    const few = aggregates([[0.5, 0.5, 0], [0.5, 0.5, 0]], 1);
    expect(releaseGroups(['a'], few.grids, few.room, { minCohort: 3 }).a?.suppressed).toBe(true);
    const many = aggregates([[0.5, 0.25, 0], [0.25, 0.5, 0], [0, 0, 0]], 1);
    const a = releaseGroups(['a'], many.grids, many.room, { minCohort: 3 }).a;
    expect(a?.mean).toEqual({ valence: 0.25, arousal: 0.25 });
    expect(a?.hist?.reduce((s, c) => s + c, 0)).toBeCloseTo(3, 12);
  });
});
