/**
 * The release stage for stories (SPEC ST8–ST10): the only path by which anything about a story
 * leaves the server for someone other than its author.
 *
 * - **The gathering display** (`releaseStories`): the story on show and the themes are released
 *   only while at least the minimum cohort k of people count in the room's pulse; below it the
 *   view says `suppressed: true` and carries neither (a story told in a room of two is as good as
 *   signed). A shown story carries its text, the author's pseudonym or null (anonymous) and the
 *   affect its *text* carries — never the author's id, never their points.
 * - **Themes**: a term only when ≥ 3 different approved stories use it (core/stories/themes.ts),
 *   checked again here, so no theme repeats what fewer than three stories said.
 * - **The steward's queue and the export** (`releaseQueueEntry`): what the author consented to
 *   (ST2): text, pseudonym, the text's affect, state, flags — never the author's id.
 *
 * Pure.
 */
import { type Theme, THEME_MIN_STORIES, type ThemeSource, themesOf } from '../stories/themes.ts';
import type { DeclineReason, StoryStatus } from '../stories/stories.ts';
import type { ReleasePolicy } from './release.ts';

/** A story as the release stage reads it. */
export interface StoryForRelease {
  readonly id: string;
  readonly text: string;
  readonly name: string | null;
  readonly valence: number;
  readonly arousal: number;
}

/** A story on the gathering display. */
export interface ReleasedStory {
  readonly id: string;
  readonly text: string;
  /** The author's pseudonym, or null: shown anonymously. */
  readonly name: string | null;
  /** Where the story's text sits on the field (the text analyser's affect of the story). */
  readonly valence: number;
  readonly arousal: number;
}

/** What displays get (`{"t":"stories",…}`, ST10). */
export interface StoriesView {
  readonly t: 'stories';
  /** True while fewer than the minimum cohort count: no story, no themes. */
  readonly suppressed: boolean;
  readonly minCohort: number;
  readonly current: ReleasedStory | null;
  readonly pinned: boolean;
  readonly paused: boolean;
  /** Terms used by ≥ 3 different shown stories, most used first (null while suppressed). */
  readonly themes: readonly Theme[] | null;
}

/** The gathering display's view of a space's stories. */
export function releaseStories(
  o: { readonly current: StoryForRelease | null; readonly themes: readonly Theme[]; readonly present: number; readonly pinned: boolean; readonly paused: boolean },
  policy: ReleasePolicy,
): StoriesView {
  const suppressed = o.present < policy.minCohort;
  if (suppressed) return { t: 'stories', suppressed, minCohort: policy.minCohort, current: null, pinned: o.pinned, paused: o.paused, themes: null };
  const c = o.current;
  return {
    t: 'stories',
    suppressed,
    minCohort: policy.minCohort,
    current: c ? { id: c.id, text: c.text, name: c.name, valence: c.valence, arousal: c.arousal } : null,
    pinned: o.pinned,
    paused: o.paused,
    themes: o.themes.filter((t) => t.stories >= THEME_MIN_STORIES),
  };
}

/** The themes of the shown stories (the rule of core/stories/themes.ts), for {@link releaseStories}. */
export function storyThemes(shown: readonly ThemeSource[]): Theme[] {
  return themesOf(shown);
}

/** A story in the steward's moderation queue or the session export: never its author. */
export interface QueueEntry {
  readonly id: string;
  readonly text: string;
  readonly name: string | null;
  readonly valence: number;
  readonly arousal: number;
  readonly status: StoryStatus;
  readonly reason: DeclineReason | null;
  /** What the automatic first pass noticed (e.g. `profanity:fuck`); a flag never drops a story. */
  readonly flags: readonly string[];
  readonly at: number;
}

/** A queue entry from a stored or live story (drops everything that would say who wrote it). */
export function releaseQueueEntry(s: StoryForRelease & { readonly status: StoryStatus; readonly reason: DeclineReason | null; readonly flags: readonly string[]; readonly at: number }): QueueEntry {
  return { id: s.id, text: s.text, name: s.name, valence: s.valence, arousal: s.arousal, status: s.status, reason: s.reason, flags: [...s.flags], at: s.at };
}
