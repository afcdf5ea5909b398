/**
 * The closed vocabulary of what a council policy may do (SPEC Q5), each action with numeric
 * bounds that are enforced here — outside CEL, when a policy is proposed and again when a
 * template is loaded — so no expression can widen them.
 *
 *   feedback  { mode: mirror|calm|diversity|reflect, minutes 1–30,
 *               breathsPerMinute? 4–8 (calm only), prompt? index into the council's prompts (reflect only) }
 *   display   { mode?: field|threads|kaleidoscope|dissonance, smoothingSeconds? 1–30,
 *               showCrowd?: bool, minutes 1–30 }  (at least one of mode, smoothingSeconds, showCrowd)
 *   pause     { minutes 1–10 }   the display holds a calm still image
 *   notify    { audience: steward|council, message? ≤ 200 chars }
 *
 * (Field names avoid the log's person-reference lint: `audience` names a role, never a person.)
 *
 * A mode never changes what a participant's own input records: feedback and display change only
 * what screens show.
 */
import { DISPLAY_MODES, type DisplayMode, isDisplayMode } from '../displayMode.ts';

/** The feedback modes. `mirror` is the room as it is (the default). */
export const FEEDBACK_MODES = ['mirror', 'calm', 'diversity', 'reflect'] as const;

/** A feedback mode. */
export type FeedbackMode = (typeof FEEDBACK_MODES)[number];

/** Bounds of every action (SPEC Q5). */
export const ACTION_BOUNDS = {
  feedbackMinutes: [1, 30],
  breathsPerMinute: [4, 8],
  smoothingSeconds: [1, 30],
  displayMinutes: [1, 30],
  pauseMinutes: [1, 10],
  notifyMessageChars: 200,
} as const;

/** An action, as checked. */
export type PolicyAction =
  | { readonly feedback: { readonly mode: FeedbackMode; readonly minutes: number; readonly breathsPerMinute?: number; readonly prompt?: number } }
  | { readonly display: { readonly mode?: DisplayMode; readonly smoothingSeconds?: number; readonly showCrowd?: boolean; readonly minutes: number } }
  | { readonly pause: { readonly minutes: number } }
  | { readonly notify: { readonly audience: 'steward' | 'council'; readonly message?: string } };

/** A refused action: a message naming the field. */
export type ActionCheck = { readonly ok: true; readonly action: PolicyAction } | { readonly ok: false; readonly message: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function inRange(x: unknown, [lo, hi]: readonly [number, number], integer: boolean): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi && (!integer || Number.isInteger(x));
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): string | null {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) return `${where}.${k} is not a field of this action (allowed: ${allowed.join(', ')})`;
  return null;
}

/**
 * Checks an action against the vocabulary and its bounds. `prompts` is the number of reflection
 * prompts the council approved (a `reflect` prompt must name one of them).
 */
export function checkAction(then: unknown, prompts: number): ActionCheck {
  const no = (message: string): ActionCheck => ({ ok: false, message });
  if (!isObj(then)) return no('then must be an object with exactly one action: feedback, display, pause or notify');
  const keys = Object.keys(then);
  if (keys.length !== 1) return no(`then must hold exactly one action (feedback, display, pause or notify), got ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  const kind = keys[0] as string;
  const a = then[kind];
  if (!isObj(a)) return no(`then.${kind} must be an object`);
  const where = `then.${kind}`;
  switch (kind) {
    case 'feedback': {
      const bad = onlyKeys(a, ['mode', 'minutes', 'breathsPerMinute', 'prompt'], where);
      if (bad) return no(bad);
      if (typeof a.mode !== 'string' || !(FEEDBACK_MODES as readonly string[]).includes(a.mode)) return no(`${where}.mode must be one of ${FEEDBACK_MODES.join(', ')}`);
      const mode = a.mode as FeedbackMode;
      if (!inRange(a.minutes, ACTION_BOUNDS.feedbackMinutes, false)) return no(`${where}.minutes must be a number in [1, 30]`);
      if (a.breathsPerMinute !== undefined) {
        if (mode !== 'calm') return no(`${where}.breathsPerMinute is only for mode calm`);
        if (!inRange(a.breathsPerMinute, ACTION_BOUNDS.breathsPerMinute, false)) return no(`${where}.breathsPerMinute must be a number in [4, 8]`);
      }
      if (a.prompt !== undefined) {
        if (mode !== 'reflect') return no(`${where}.prompt is only for mode reflect`);
        if (!Number.isInteger(a.prompt) || (a.prompt as number) < 0 || (a.prompt as number) >= prompts) return no(`${where}.prompt must be the index of one of the council's ${prompts} approved prompts`);
      } else if (mode === 'reflect' && prompts === 0) return no(`${where}: mode reflect needs a prompt the council approved, and the council has none`);
      return { ok: true, action: { feedback: { mode, minutes: a.minutes, ...(a.breathsPerMinute !== undefined ? { breathsPerMinute: a.breathsPerMinute as number } : {}), ...(mode === 'reflect' ? { prompt: (a.prompt as number | undefined) ?? 0 } : {}) } } };
    }
    case 'display': {
      const bad = onlyKeys(a, ['mode', 'smoothingSeconds', 'showCrowd', 'minutes'], where);
      if (bad) return no(bad);
      if (a.mode !== undefined && !isDisplayMode(a.mode)) return no(`${where}.mode must be one of ${DISPLAY_MODES.join(', ')}`);
      if (a.smoothingSeconds !== undefined && !inRange(a.smoothingSeconds, ACTION_BOUNDS.smoothingSeconds, false)) return no(`${where}.smoothingSeconds must be a number in [1, 30]`);
      if (a.showCrowd !== undefined && typeof a.showCrowd !== 'boolean') return no(`${where}.showCrowd must be true or false`);
      if (a.mode === undefined && a.smoothingSeconds === undefined && a.showCrowd === undefined) return no(`${where} must set at least one of mode, smoothingSeconds, showCrowd`);
      if (!inRange(a.minutes, ACTION_BOUNDS.displayMinutes, false)) return no(`${where}.minutes must be a number in [1, 30]`);
      return {
        ok: true,
        action: { display: { ...(a.mode !== undefined ? { mode: a.mode as DisplayMode } : {}), ...(a.smoothingSeconds !== undefined ? { smoothingSeconds: a.smoothingSeconds as number } : {}), ...(a.showCrowd !== undefined ? { showCrowd: a.showCrowd as boolean } : {}), minutes: a.minutes } },
      };
    }
    case 'pause': {
      const bad = onlyKeys(a, ['minutes'], where);
      if (bad) return no(bad);
      if (!inRange(a.minutes, ACTION_BOUNDS.pauseMinutes, false)) return no(`${where}.minutes must be a number in [1, 10]`);
      return { ok: true, action: { pause: { minutes: a.minutes } } };
    }
    case 'notify': {
      const bad = onlyKeys(a, ['audience', 'message'], where);
      if (bad) return no(bad);
      if (a.audience !== 'steward' && a.audience !== 'council') return no(`${where}.audience must be steward or council`);
      if (a.message !== undefined && (typeof a.message !== 'string' || a.message.length > ACTION_BOUNDS.notifyMessageChars)) return no(`${where}.message must be text of at most 200 characters`);
      return { ok: true, action: { notify: { audience: a.audience, ...(a.message !== undefined ? { message: a.message as string } : {}) } } };
    }
    default:
      return no(`then.${kind} is not an action; the actions are feedback, display, pause and notify`);
  }
}

/** The action's kind. */
export function actionKind(a: PolicyAction): 'feedback' | 'display' | 'pause' | 'notify' {
  return 'feedback' in a ? 'feedback' : 'display' in a ? 'display' : 'pause' in a ? 'pause' : 'notify';
}

/** The bounds an action was checked against (what `policy.fired` names beside it). */
export function boundsOf(a: PolicyAction): Readonly<Record<string, readonly [number, number]>> {
  switch (actionKind(a)) {
    case 'feedback':
      return { minutes: ACTION_BOUNDS.feedbackMinutes, breathsPerMinute: ACTION_BOUNDS.breathsPerMinute };
    case 'display':
      return { minutes: ACTION_BOUNDS.displayMinutes, smoothingSeconds: ACTION_BOUNDS.smoothingSeconds };
    case 'pause':
      return { minutes: ACTION_BOUNDS.pauseMinutes };
    case 'notify':
      return { messageChars: [0, ACTION_BOUNDS.notifyMessageChars] };
  }
}
