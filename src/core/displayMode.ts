/**
 * Display modes and the optional fields a pulse may carry for art (ARTISTS.md, SPEC P6a): the
 * closed list of modes a display page draws, the heartbeat rate every display and feed derives
 * from the room's energy, and the active feedback mode and its council policy — a field the
 * councils work will put into the pulse; until then it is absent and nothing shows it.
 */

/** The display modes, in the order the steward page offers them. */
export const DISPLAY_MODES = ['field', 'threads', 'kaleidoscope', 'dissonance', 'stories'] as const;

/** A display mode. */
export type DisplayMode = (typeof DISPLAY_MODES)[number];

/** The mode a display draws when nobody chose one. */
export const DEFAULT_DISPLAY_MODE: DisplayMode = 'field';

/** Whether a string names a display mode. */
export function isDisplayMode(s: unknown): s is DisplayMode {
  return typeof s === 'string' && (DISPLAY_MODES as readonly string[]).includes(s);
}

/** Under `calm` feedback (SPEC Q5) the heartbeat every screen draws runs at this share of its rate. */
export const CALM_HEARTBEAT_FACTOR = 0.6;

/**
 * The room's heartbeat in beats per minute for a smoothed arousal in [-1, 1]: 48 (calm) → 132
 * (energised); under a council's `calm` feedback 0.6 of that (29 → 79). The same formula as the
 * screens' (`web/src/lib/affect.ts` `bpmOf`), so an OSC rig and the projector beat together.
 */
export function heartbeatBpm(arousal: number, calm = false): number {
  const bpm = 90 + Math.max(-1, Math.min(1, arousal)) * 42;
  return calm ? bpm * CALM_HEARTBEAT_FACTOR : bpm;
}

/**
 * The active feedback mode and its policy, as a pulse may carry it (`pulse.feedback`): which
 * feedback the room is getting (e.g. `mirror`, `calm`, `none`) and, when a council policy chose
 * it, the policy's id and name. Never anything about an individual.
 */
export interface FeedbackInfo {
  readonly mode: string;
  readonly policy?: { readonly id: string; readonly name: string } | null;
}

/** The pulse's feedback field when it is well formed, else null (absent today; see the header). */
export function feedbackOf(pulse: unknown): FeedbackInfo | null {
  const f = (pulse as { feedback?: unknown } | null)?.feedback as { mode?: unknown; policy?: { id?: unknown; name?: unknown } | null } | undefined;
  if (!f || typeof f.mode !== 'string' || f.mode.length === 0 || f.mode.length > 64) return null;
  const p = f.policy;
  const policy = p && typeof p.id === 'string' && typeof p.name === 'string' ? { id: p.id.slice(0, 64), name: p.name.slice(0, 120) } : null;
  return { mode: f.mode, policy };
}

/** A feedback field in words for a display: "feedback: calm — policy Quiet hours". */
export function feedbackLabel(f: FeedbackInfo): string {
  return f.policy ? `feedback: ${f.mode} — policy ${f.policy.name}` : `feedback: ${f.mode}`;
}
