/**
 * Story rules (SPEC §ST): the states a story goes through, the moderation decisions and their
 * reason categories, the per-participant rate limit, what the public log may say about
 * moderation, and the gathering display's rotation. Pure: `at` is always an argument; the space
 * machine (core/space/machine.ts) applies these rules to its state.
 *
 *                  submit (pre-moderation, or flagged)
 *   author ─────────────────────────────────────────▶ waiting ──approve──▶ shown
 *      │            submit (post-moderation, unflagged)   │  ╲              │ ▲
 *      └──────────────────────────────────────────────────┼───────────────▶│ │approve
 *                                                        decline           hide│
 *                                                          ▼               ▼ │
 *                                                      declined ◀─decline─ hidden
 *   withdraw (the author, from any state): erased at once — not a state, the story is gone.
 */

/** A story's state, as its author sees it. */
export const STORY_STATUSES = ['waiting', 'shown', 'declined', 'hidden'] as const;
/** A story's state. */
export type StoryStatus = (typeof STORY_STATUSES)[number];

/** Why a steward declined a story: a closed list, so the public log can count by category. */
export const DECLINE_REASONS = ['identifies-someone', 'hurtful', 'explicit', 'off-topic', 'spam', 'other'] as const;
/** A reason category. */
export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** What a steward can decide about a story. */
export const DECISIONS = ['approve', 'decline', 'hide'] as const;
/** A moderation decision. */
export type Decision = (typeof DECISIONS)[number];

/** How a space moderates: before a story shows (default) or after (shown at once, removable). */
export const MODERATION_MODES = ['pre', 'post'] as const;
/** A moderation mode. */
export type ModerationMode = (typeof MODERATION_MODES)[number];

/** A space's story settings (changed only by a logged act). */
export interface StorySettings {
  /** Whether participants may share stories in this space (off unless the steward turns it on). */
  readonly enabled: boolean;
  readonly moderation: ModerationMode;
}

/** Stories are off until a steward (or a template) turns them on; pre-moderation by default. */
export const DEFAULT_STORY_SETTINGS: StorySettings = { enabled: false, moderation: 'pre' };

/** Facilitator controls of the gathering display. */
export const STORY_CONTROLS = ['pin', 'unpin', 'skip', 'pause', 'resume'] as const;
/** A display control. */
export type StoryControl = (typeof STORY_CONTROLS)[number];

/** Per-participant rate limit (ST5): at most `perWindow` stories per `windowMs`, at most `maxWaiting` waiting at once. */
export const STORY_RATE = { perWindow: 3, windowMs: 10 * 60_000, maxWaiting: 5 } as const;

/** How long each approved story stays on the gathering display before the next, ms (ST8). */
export const STORY_DWELL_MS = 20_000;

/** Whether a string names one of a closed list. */
export function isOneOf<T extends string>(list: readonly T[], s: unknown): s is T {
  return typeof s === 'string' && (list as readonly string[]).includes(s);
}

/**
 * Whether an author may submit now (ST5), given the times of their accepted submissions and how
 * many of their stories are waiting. Returns null, or when to try again (ms from `at`) and why.
 */
export function rateRefusal(times: readonly number[], waiting: number, at: number, rate = STORY_RATE): { readonly retryAfterMs: number; readonly message: string } | null {
  if (waiting >= rate.maxWaiting) return { retryAfterMs: 60_000, message: `you have ${waiting} stories waiting for the steward; share another once one is decided` };
  const recent = times.filter((t) => t > at - rate.windowMs);
  if (recent.length >= rate.perWindow) {
    const oldest = Math.min(...recent);
    return { retryAfterMs: Math.max(1000, oldest + rate.windowMs - at), message: `at most ${rate.perWindow} stories per ${rate.windowMs / 60_000} minutes` };
  }
  return null;
}

/** The state a story goes to on submission (ST4): shown at once only in post-moderation and only when the automatic pass raised no flag. */
export function initialStatus(settings: StorySettings, flags: readonly string[]): StoryStatus {
  return settings.moderation === 'post' && flags.length === 0 ? 'shown' : 'waiting';
}

/** The state a decision leads to, or why it does not apply (ST6). */
export function decide(status: StoryStatus, decision: Decision): { readonly ok: true; readonly status: StoryStatus } | { readonly ok: false; readonly message: string } {
  const next: StoryStatus = decision === 'approve' ? 'shown' : decision === 'decline' ? 'declined' : 'hidden';
  if (next === status) return { ok: false, message: `the story is already ${status}` };
  if (decision === 'hide' && status === 'declined') return { ok: false, message: 'a declined story is not shown; there is nothing to hide' };
  return { ok: true, status: next };
}

/** Running totals of moderation decisions in a space: what the public log shows (ST7). */
export interface ModerationCounts {
  readonly approved: number;
  readonly hidden: number;
  readonly declined: Readonly<Record<DeclineReason, number>>;
}

/** No decisions yet. */
export function emptyCounts(): ModerationCounts {
  return { approved: 0, hidden: 0, declined: Object.fromEntries(DECLINE_REASONS.map((r) => [r, 0])) as Record<DeclineReason, number> };
}

/** The totals after one more decision. */
export function countDecision(c: ModerationCounts, decision: Decision, reason: DeclineReason | null): ModerationCounts {
  if (decision === 'approve') return { ...c, approved: c.approved + 1 };
  if (decision === 'hide') return { ...c, hidden: c.hidden + 1 };
  const r = reason ?? 'other';
  return { ...c, declined: { ...c.declined, [r]: c.declined[r] + 1 } };
}

/**
 * The payload of a `story.moderated` log entry (ST7): the decision, its category and the
 * space's running totals — never the story's text, its id, its author or its pseudonym.
 */
export function moderationPayload(decision: Decision, reason: DeclineReason | null, totals: ModerationCounts): Record<string, unknown> {
  return { decision, ...(decision === 'decline' ? { reason: reason ?? 'other' } : {}), totals };
}

/**
 * The gathering display's next story (ST8): after `current` in `shown` order (wrapping), or the
 * first. `shown` holds the ids of shown stories in the order they were approved.
 */
export function nextStory(shown: readonly string[], current: string | null): string | null {
  if (shown.length === 0) return null;
  const i = current === null ? -1 : shown.indexOf(current);
  return shown[(i + 1) % shown.length] ?? null;
}
