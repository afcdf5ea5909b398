/**
 * The grid's look, shared by every page: quadrant colours and words (attune's own), and the
 * mapping between the [-1,1]² affect plane and screen coordinates.
 */

/** Quadrants in the server's QUADRANTS order. */
export const QUADRANT_STYLE = [
  { key: 'pleasant-energised', label: 'pleasant · energised', colour: '#f2a541', words: ['excited', 'joyful', 'alive'] },
  { key: 'pleasant-calm', label: 'pleasant · calm', colour: '#3fae95', words: ['calm', 'content', 'at ease'] },
  { key: 'unpleasant-calm', label: 'unpleasant · calm', colour: '#6279c4', words: ['tired', 'low', 'heavy'] },
  { key: 'unpleasant-energised', label: 'unpleasant · energised', colour: '#e0584d', words: ['tense', 'anxious', 'angry'] },
] as const;

/** Screen x (0..size) of a valence. */
export const xOf = (valence: number, size: number): number => ((valence + 1) / 2) * size;
/** Screen y (0..size) of an arousal (energised at the top). */
export const yOf = (arousal: number, size: number): number => ((1 - arousal) / 2) * size;
/** Valence of a screen x. */
export const valenceAt = (x: number, size: number): number => clamp((x / size) * 2 - 1);
/** Arousal of a screen y. */
export const arousalAt = (y: number, size: number): number => clamp(1 - (y / size) * 2);

/** Clamps into [-1, 1]. */
export function clamp(x: number): number {
  return x < -1 ? -1 : x > 1 ? 1 : x;
}

/** Index into QUADRANT_STYLE of a point (points on an axis go to the pleasant/energised side). */
export function quadrantIndex(valence: number, arousal: number): number {
  if (valence >= 0) return arousal >= 0 ? 0 : 1;
  return arousal >= 0 ? 3 : 2;
}

function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const CORNERS = QUADRANT_STYLE.map((q) => rgbOf(q.colour));

/**
 * A colour for a point: the four quadrant colours blended by position (bilinear), so a feeling
 * is drawn in the colour of the corner it leans toward — amber for joy, green for calm, blue for
 * low, red for tension — and the neutral centre is their muted mix.
 */
export function moodColour(valence: number, arousal: number, alpha = 1): string {
  const wv = (clamp(valence) + 1) / 2;
  const wa = (clamp(arousal) + 1) / 2;
  const [pe, pc, uc, ue] = CORNERS as [[number, number, number], [number, number, number], [number, number, number], [number, number, number]];
  const mix = (i: 0 | 1 | 2) => wv * wa * pe[i] + wv * (1 - wa) * pc[i] + (1 - wv) * (1 - wa) * uc[i] + (1 - wv) * wa * ue[i];
  return `rgba(${mix(0).toFixed(0)}, ${mix(1).toFixed(0)}, ${mix(2).toFixed(0)}, ${alpha})`;
}

/** Heartbeat rate for an arousal: 48 bpm (calm) → 132 bpm (energised). */
export function bpmOf(arousal: number): number {
  return 90 + arousal * 42;
}

/** A pulse as received (fields the pages use). */
export interface Pulse {
  t: 'pulse';
  seq: number;
  at: number;
  count: number;
  suppressed: boolean;
  minCohort: number;
  mean: { valence: number; arousal: number } | null;
  smoothed: { valence: number; arousal: number } | null;
  spread: { valence: number; arousal: number } | null;
  quadrants: [number, number, number, number] | null;
  bins: number;
  hist: number[] | null;
  space: string;
  collective?: Collective | null;
}

/** A surge alert (see docs/collective-state.md). */
export interface SurgeAlert {
  id: string;
  metric: string;
  direction: string;
  startedAt: number;
  raisedAt: number;
  magnitude: number;
  z: number;
  probability: number;
  baseline: number;
}

/** Collective state carried by the pulse (dissonance, camps, alerts). */
export interface Collective {
  dissonance: { score: number; polarisationNormalised: number; bimodality: number; bimodal: boolean; axis: number; r1: number; r2: number; entropy: number };
  camps: { id: string; valence: number; arousal: number; share: number; people: number }[];
  k: number;
  alerts: SurgeAlert[];
  cleared: (SurgeAlert & { clearedAt: number; reason: string })[];
}

/** A surge metric in words: `share:pleasant-calm` → "pleasant · calm share". */
export function metricLabel(metric: string): string {
  if (metric === 'meanArousal') return 'energy';
  const q = QUADRANT_STYLE.find((s) => `share:${s.key}` === metric);
  return q ? `${q.label} share` : metric;
}
