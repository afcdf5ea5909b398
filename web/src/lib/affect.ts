/**
 * The grid's look, shared by every page: quadrant colours and words (attune's own), and the
 * mapping between the [-1,1]² affect plane and screen coordinates. Quadrant order and the
 * quadrant of a point come from the core (`QUADRANTS`, `quadrantOf`), as on the server.
 */
import type { ReleasedHeartSynchrony } from '../../../src/core/collective/heartSynchrony.ts';
import { clamp, type Quadrant, QUADRANTS, quadrantOf } from '../../../src/core/affect.ts';
import type { CollectiveState } from '../../../src/core/collective/collectiveTracker.ts';
import type { PulseSnapshot } from '../../../src/core/pulse.ts';
import { heartbeatBpm } from '../../../src/core/displayMode.ts';


const LOOK = {
  'pleasant-energised': { label: 'pleasant · energised', colour: '#f2a541', words: ['excited', 'joyful', 'alive'] },
  'pleasant-calm': { label: 'pleasant · calm', colour: '#3fae95', words: ['calm', 'content', 'at ease'] },
  'unpleasant-calm': { label: 'unpleasant · calm', colour: '#6279c4', words: ['tired', 'low', 'heavy'] },
  'unpleasant-energised': { label: 'unpleasant · energised', colour: '#e0584d', words: ['tense', 'anxious', 'angry'] },
} as const;

/** How a quadrant is drawn. */
export interface QuadrantStyle {
  readonly key: Quadrant;
  readonly label: string;
  readonly colour: string;
  readonly words: readonly string[];
}

/** Each quadrant's look, in the core's QUADRANTS order (the order of every share array). */
export const QUADRANT_STYLE = QUADRANTS.map((key) => ({ key, ...LOOK[key] })) as unknown as readonly [QuadrantStyle, QuadrantStyle, QuadrantStyle, QuadrantStyle];

/** The look of the quadrant a point lies in. */
export function styleOf(valence: number, arousal: number): QuadrantStyle {
  return QUADRANT_STYLE[quadrantOf(valence, arousal)];
}

/** Screen x (0..size) of a valence. */
export const xOf = (valence: number, size: number): number => ((valence + 1) / 2) * size;
/** Screen y (0..size) of an arousal (energised at the top). */
export const yOf = (arousal: number, size: number): number => ((1 - arousal) / 2) * size;
/** Valence of a screen x. */
export const valenceAt = (x: number, size: number): number => clamp1((x / size) * 2 - 1);
/** Arousal of a screen y. */
export const arousalAt = (y: number, size: number): number => clamp1(1 - (y / size) * 2);

/** Clamps into [-1, 1]. */
export function clamp1(x: number): number {
  return clamp(x, -1, 1);
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
  const wv = (clamp1(valence) + 1) / 2;
  const wa = (clamp1(arousal) + 1) / 2;
  const [pe, pc, uc, ue] = CORNERS as [[number, number, number], [number, number, number], [number, number, number], [number, number, number]];
  const mix = (i: 0 | 1 | 2) => wv * wa * pe[i] + wv * (1 - wa) * pc[i] + (1 - wv) * (1 - wa) * uc[i] + (1 - wv) * wa * ue[i];
  return `rgba(${mix(0).toFixed(0)}, ${mix(1).toFixed(0)}, ${mix(2).toFixed(0)}, ${alpha})`;
}

/**
 * Heartbeat rate for an arousal: 48 bpm (calm) → 132 bpm (energised); under a council's `calm`
 * feedback 0.6 of that (the core's `heartbeatBpm`, which the OSC feed sends too).
 */
export function bpmOf(arousal: number, calm = false): number {
  return heartbeatBpm(arousal, calm);
}

/** A pulse as the pages receive it (SPEC P6): the core snapshot plus its space and collective state. */
export type Pulse = PulseSnapshot & { readonly space: string; readonly collective?: CollectiveState | null; readonly heart?: ReleasedHeartSynchrony };

/** A surge metric in words: `share:pleasant-calm` → "pleasant · calm share". */
export function metricLabel(metric: string): string {
  if (metric === 'meanArousal') return 'energy';
  if (metric === 'meanValence') return 'mood';
  if (metric === 'dispersion') return 'spread';
  if (metric === 'camps') return 'camps';
  const q = QUADRANT_STYLE.find((s) => `share:${s.key}` === metric);
  return q ? `${q.label} share` : metric;
}
