/**
 * The fracture line of a split room, for drawing "dissonance art": the perpendicular bisector
 * of the two largest camps' centroids — the set of feelings equally far from both camps —
 * clipped to the square [-1, 1]², with the dissonance score as its strength. Pure geometry on a
 * CollectiveState; null when fewer than two camps are shown.
 */
import type { Camp } from './camps.ts';
import type { Dissonance } from './dissonance.ts';

/** A fracture to draw: a segment across the grid, and what it separates. */
export interface Fracture {
  /** Segment end points in the valence × arousal plane, on the border of [-1, 1]². */
  readonly from: { readonly valence: number; readonly arousal: number };
  readonly to: { readonly valence: number; readonly arousal: number };
  /** Ids of the two camps it separates (larger first). */
  readonly between: readonly [string, string];
  /** Distance between the two camps' centroids. */
  readonly gap: number;
  /** The dissonance score in [0, 1]: how deep to draw the crack. */
  readonly strength: number;
}

/** The fracture between the two largest camps, or null with fewer than two camps. */
export function fractureOf(state: { readonly camps: readonly Camp[]; readonly dissonance: Pick<Dissonance, 'score'> }): Fracture | null {
  const [a, b] = [...state.camps].sort((p, q) => q.share - p.share || (p.id < q.id ? -1 : 1));
  if (!a || !b) return null;
  const mx = (a.valence + b.valence) / 2;
  const my = (a.arousal + b.arousal) / 2;
  const gx = b.valence - a.valence;
  const gy = b.arousal - a.arousal;
  const gap = Math.hypot(gx, gy);
  if (!(gap > 1e-9)) return null;
  // Direction of the bisector: perpendicular to the gap.
  const dx = -gy / gap;
  const dy = gx / gap;
  let lo = -Infinity;
  let hi = Infinity;
  for (const [m, d] of [
    [mx, dx],
    [my, dy],
  ] as const) {
    if (Math.abs(d) < 1e-12) {
      if (m < -1 || m > 1) return null;
      continue;
    }
    const t1 = (-1 - m) / d;
    const t2 = (1 - m) / d;
    lo = Math.max(lo, Math.min(t1, t2));
    hi = Math.min(hi, Math.max(t1, t2));
  }
  if (!(hi > lo)) return null;
  return {
    from: { valence: mx + lo * dx, arousal: my + lo * dy },
    to: { valence: mx + hi * dx, arousal: my + hi * dy },
    between: [a.id, b.id],
    gap,
    strength: Math.max(0, Math.min(1, state.dissonance.score)),
  };
}
