/**
 * Normalised Shannon entropy of the grid histogram: how spread the room is, which is not the
 * same as how polarised it is (a uniform cloud is maximally spread and not polarised).
 *
 * Source: C. E. Shannon, "A Mathematical Theory of Communication", Bell System Technical
 * Journal 27, 1948. H = −Σ pᵢ ln pᵢ over cells, normalised by ln(min(cells, people)) — the
 * largest entropy this many people can reach on this grid — so 1 means "as spread as
 * possible" for a room of any size.
 */
import type { GridView } from '../histogram.ts';

/** Normalised entropy in [0, 1] of `grid`; `people` defaults to the grid's total weight. */
export function normalisedEntropy(grid: GridView, people = grid.total): number {
  const { counts, total } = grid;
  if (!(total > 0)) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0) {
      const p = c / total;
      h -= p * Math.log(p);
    }
  }
  const cap = Math.min(counts.length, Math.max(1, Math.round(people)));
  if (cap < 2) return 0;
  return Math.max(0, Math.min(1, h / Math.log(cap)));
}
