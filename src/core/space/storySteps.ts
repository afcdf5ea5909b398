/**
 * The space machine's story steps (SPEC §ST): submission, withdrawal, moderation decisions and
 * settings (acts, logged first), the gathering display's rotation and controls, and the released
 * stories view for displays. Called by `step` (machine.ts), which numbers and records the event;
 * pure like it — `at`, ids, the analysed affect and the automatic pass's flags come with events.
 */
import { fail, ok } from '../errors.ts';
import type { ReleasePolicy } from '../release/release.ts';
import { releaseStories, type StoriesView, storyThemes } from '../release/stories.ts';
import type { Theme } from '../stories/themes.ts';
import { DEFAULT_STORY_SETTINGS, decide, type DeclineReason, initialStatus, nextStory, rateRefusal, STORY_DWELL_MS, STORY_RATE, type StorySettings, type StoryStatus } from '../stories/stories.ts';
import type { ConnRef, Effect, SpaceAct, SpaceEvent, StoryAffect } from './events.ts';

/** One story as the machine holds it (the author's id stays inside the server). */
export interface StoryEntry {
  readonly id: string;
  readonly author: string;
  readonly text: string;
  readonly name: string | null;
  readonly affect: StoryAffect;
  readonly flags: readonly string[];
  status: StoryStatus;
  reason: DeclineReason | null;
  readonly at: number;
}

/** The stories of one space. */
export interface StoriesState {
  settings: StorySettings;
  readonly byId: Map<string, StoryEntry>;
  /** Ids of shown stories, in the order they were shown (the display's rotation order). */
  shown: string[];
  /** Each author's accepted submission times within the rate window (ST5). */
  readonly submissions: Map<string, number[]>;
  /** The story on the gathering display, when it went up, and the facilitator's controls. */
  current: string | null;
  since: number;
  pinned: boolean;
  paused: boolean;
  /** Themes of the shown stories, recomputed only when the set of shown stories changes (derived). */
  themes: readonly Theme[];
  themesKey: string;
  /** The last stories view sent to displays, and its bytes (sent again only when it changes). */
  lastView: StoriesView | null;
  lastKey: string;
}

/** Fresh story state (stories off, pre-moderation). */
export function newStoriesState(): StoriesState {
  return { settings: DEFAULT_STORY_SETTINGS, byId: new Map(), shown: [], submissions: new Map(), current: null, since: 0, pinned: false, paused: false, themes: [], themesKey: '', lastView: null, lastKey: '' };
}

/** Restores a stored story into a machine being rebuilt after a restart (before `started`). */
export function restoreStory(st: StoriesState, s: StoryEntry): void {
  st.byId.set(s.id, { ...s });
  if (s.status === 'shown') st.shown.push(s.id);
}

/**
 * A cluster node's copy after another node changed the stories (ST15): the stored stories and
 * settings replace it. Shown stories keep their rotation order and newly shown ones follow, oldest
 * first; each stored story's time joins its author's rate window (ST5: a story withdrawn on
 * another node before this node heard of it does not). Authors connected here hear of their
 * stories' changes (`tell`), as on the node that made them.
 */
export function syncStories(st: StoriesState, settings: StorySettings, stored: readonly StoryEntry[]): Effect[] {
  const before = new Map(st.byId);
  st.settings = { enabled: settings.enabled, moderation: settings.moderation };
  st.byId.clear();
  const ordered = [...stored].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const s of ordered) {
    st.byId.set(s.id, { ...s, flags: [...s.flags] });
    const times = st.submissions.get(s.author) ?? [];
    if (!times.includes(s.at)) {
      times.push(s.at);
      times.sort((x, y) => x - y);
      st.submissions.set(s.author, times);
    }
  }
  const still = st.shown.filter((id) => st.byId.get(id)?.status === 'shown');
  st.shown = [...still, ...ordered.filter((s) => s.status === 'shown' && !still.includes(s.id)).map((s) => s.id)];
  if (st.current !== null && !st.shown.includes(st.current)) {
    st.current = null;
    st.pinned = false;
  }
  const fx: Effect[] = [];
  for (const [id, old] of before) {
    const now = st.byId.get(id);
    if (!now) fx.push({ type: 'tell', participantId: old.author, msg: { t: 'story', id, status: 'withdrawn', reason: null } });
    else if (now.status !== old.status || now.reason !== old.reason) fx.push({ type: 'tell', participantId: now.author, msg: { t: 'story', id, status: now.status, reason: now.reason } });
  }
  return fx;
}

/** On `started`: rate windows are forgotten and shown stories rotate in the order they were shared (ties: id). */
export function restartStories(st: StoriesState): void {
  st.submissions.clear();
  const at = (id: string) => st.byId.get(id)?.at ?? 0;
  st.shown.sort((a, b) => at(a) - at(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** What a story step yields; `recorded`: the event changed the state. */
export interface StoryStepResult {
  readonly effects: Effect[];
  readonly recorded: boolean;
}

/** Whether an act is a story act (handled here). */
export function isStoryAct(act: SpaceAct): act is Extract<SpaceAct, { kind: 'story-decision' | 'story-settings' }> {
  return act.kind === 'story-decision' || act.kind === 'story-settings';
}

const answer = (ref: ConnRef, result: ReturnType<typeof ok> | ReturnType<typeof fail>, durable: boolean): Effect => ({ type: 'answer', ref, result, durable });
const refuse = (ref: ConnRef, code: Parameters<typeof fail>[0], message: string): StoryStepResult => ({ effects: [answer(ref, fail(code, message), false)], recorded: false });

/** What a story looks like to its author (their own data: text, affect, state, reason). */
export function authorView(s: StoryEntry): { readonly id: string; readonly text: string; readonly name: string | null; readonly affect: StoryAffect; readonly status: StoryStatus; readonly reason: DeclineReason | null; readonly flagged: boolean; readonly at: number } {
  return { id: s.id, text: s.text, name: s.name, affect: s.affect, status: s.status, reason: s.reason, flagged: s.flags.length > 0, at: s.at };
}

function waitingOf(st: StoriesState, author: string): number {
  let n = 0;
  for (const s of st.byId.values()) if (s.author === author && s.status === 'waiting') n++;
  return n;
}

function setStatus(st: StoriesState, s: StoryEntry, status: StoryStatus, reason: DeclineReason | null): void {
  const was = s.status;
  s.status = status;
  s.reason = status === 'declined' ? reason : null;
  if (was === 'shown' && status !== 'shown') st.shown = st.shown.filter((id) => id !== s.id);
  if (was !== 'shown' && status === 'shown') st.shown.push(s.id);
}

/** Steps a story event (submitted, withdrawn, control). */
export function stepStoryEvent(st: StoriesState, e: Extract<SpaceEvent, { kind: 'story-submitted' | 'story-withdrawn' | 'story-control' }>, closed: boolean): StoryStepResult {
  if (closed) return refuse(e.reply, 'SPACE_CLOSED', 'this space has closed');
  switch (e.kind) {
    case 'story-submitted': {
      if (!st.settings.enabled) return refuse(e.reply, 'STORIES_OFF', 'this space does not take stories');
      if (st.byId.has(e.storyId)) return refuse(e.reply, 'CONFLICT', 'a story with this id exists');
      const times = (st.submissions.get(e.participantId) ?? []).filter((t) => t > e.at - STORY_RATE.windowMs);
      const limited = rateRefusal(times, waitingOf(st, e.participantId), e.at);
      if (limited) return refuse(e.reply, 'RATE_LIMITED', limited.message);
      times.push(e.at);
      st.submissions.set(e.participantId, times);
      const status = initialStatus(st.settings, e.flags);
      const s: StoryEntry = { id: e.storyId, author: e.participantId, text: e.text, name: e.name, affect: e.affect, flags: [...e.flags], status: 'waiting', reason: null, at: e.at };
      st.byId.set(s.id, s);
      setStatus(st, s, status, null);
      return {
        effects: [
          { type: 'persist', write: { kind: 'story', storyId: s.id, participantId: s.author, text: s.text, name: s.name, affect: s.affect, flags: s.flags, status: s.status, at: s.at } },
          answer(e.reply, ok(authorView(s)), true),
        ],
        recorded: true,
      };
    }
    case 'story-withdrawn': {
      const s = st.byId.get(e.storyId);
      if (!s || s.author !== e.participantId) return refuse(e.reply, 'NOT_FOUND', 'you have no story with this id');
      st.byId.delete(s.id);
      st.shown = st.shown.filter((id) => id !== s.id);
      if (st.current === s.id) {
        // It leaves the display now; the next story (if any) goes up at once (ST11).
        st.current = null;
        st.pinned = false;
      }
      return {
        effects: [
          { type: 'persist', write: { kind: 'story-erase', storyId: s.id } },
          { type: 'tell', participantId: s.author, msg: { t: 'story', id: s.id, status: 'withdrawn', reason: null } },
          answer(e.reply, ok({ id: s.id, withdrawn: true }), true),
        ],
        recorded: true,
      };
    }
    case 'story-control': {
      switch (e.control) {
        case 'pin': {
          if (e.storyId === null || !st.shown.includes(e.storyId)) return refuse(e.reply, 'BAD_REQUEST', 'only a shown story can be pinned');
          st.current = e.storyId;
          st.since = e.at;
          st.pinned = true;
          break;
        }
        case 'unpin':
          st.pinned = false;
          st.since = e.at;
          break;
        case 'skip':
          st.pinned = false;
          st.current = nextStory(st.shown, st.current);
          st.since = e.at;
          break;
        case 'pause':
          st.paused = true;
          break;
        case 'resume':
          st.paused = false;
          st.since = e.at;
          break;
      }
      return { effects: [answer(e.reply, ok({ current: st.current, pinned: st.pinned, paused: st.paused }), false)], recorded: true };
    }
  }
}

/** Checks a story act when it is asked for (refusals cost no log entry); null when it may be logged. */
export function checkStoryAct(st: StoriesState, act: Extract<SpaceAct, { kind: 'story-decision' | 'story-settings' }>): string | null {
  if (act.kind === 'story-settings') return null;
  const s = st.byId.get(act.storyId);
  if (!s) return 'no story with this id (it may have been withdrawn)';
  const d = decide(s.status, act.decision);
  return d.ok ? null : d.message;
}

/** The public log entry of a story act (ST7): the decision and its category, never the story. */
export function storyActEntry(act: Extract<SpaceAct, { kind: 'story-decision' | 'story-settings' }>): { readonly type: string; readonly payload: Record<string, unknown> } {
  if (act.kind === 'story-settings') return { type: 'stories.settings', payload: { enabled: act.settings.enabled, moderation: act.settings.moderation } };
  return { type: 'story.moderated', payload: { decision: act.decision, ...(act.decision === 'decline' ? { reason: act.reason ?? 'other' } : {}), count: 1 } };
}

/** Applies a logged story act. */
export function applyStoryAct(st: StoriesState, act: Extract<SpaceAct, { kind: 'story-decision' | 'story-settings' }>, at: number, reply: ConnRef): StoryStepResult {
  if (act.kind === 'story-settings') {
    st.settings = { enabled: act.settings.enabled, moderation: act.settings.moderation };
    return { effects: [{ type: 'persist', write: { kind: 'story-settings', settings: st.settings, at } }, answer(reply, ok(st.settings), true)], recorded: true };
  }
  const s = st.byId.get(act.storyId);
  // Withdrawn while its decision was being logged: the withdrawal won; the entry stays a count.
  if (!s) return { effects: [answer(reply, fail('NOT_FOUND', 'the story was withdrawn by its author meanwhile'), false)], recorded: true };
  const d = decide(s.status, act.decision);
  if (!d.ok) return { effects: [answer(reply, fail('CONFLICT', d.message), false)], recorded: true };
  setStatus(st, s, d.status, act.decision === 'decline' ? (act.reason ?? 'other') : null);
  if (st.current === s.id && s.status !== 'shown') {
    st.current = null;
    st.pinned = false;
  }
  return {
    effects: [
      { type: 'persist', write: { kind: 'story-status', storyId: s.id, status: s.status, reason: s.reason, at } },
      { type: 'tell', participantId: s.author, msg: { t: 'story', id: s.id, status: s.status, reason: s.reason } },
      answer(reply, ok({ id: s.id, status: s.status, reason: s.reason }), true),
    ],
    recorded: true,
  };
}

/**
 * Moves the gathering display on (ST8) and returns the stories view if it changed: a story
 * stays up {@link STORY_DWELL_MS}, then the next shown one follows, unless pinned or paused; a
 * story that is no longer shown goes down at once.
 */
export function storiesEffects(st: StoriesState, at: number, present: number, policy: ReleasePolicy): Effect[] {
  if (!st.settings.enabled && st.lastView === null) return [];
  if (st.current !== null && !st.shown.includes(st.current)) {
    st.current = null;
    st.pinned = false;
  }
  if (st.current === null && st.shown.length > 0 && !st.paused) {
    st.current = nextStory(st.shown, null);
    st.since = at;
  } else if (st.current !== null && !st.paused && !st.pinned && at - st.since >= STORY_DWELL_MS && st.shown.length > 1) {
    st.current = nextStory(st.shown, st.current);
    st.since = at;
  }
  const key = st.shown.join(',');
  if (key !== st.themesKey) {
    st.themesKey = key;
    st.themes = storyThemes(st.shown.flatMap((id) => {
      const s = st.byId.get(id);
      return s ? [{ text: s.text, name: s.name }] : [];
    }));
  }
  const c = st.settings.enabled && st.current !== null ? st.byId.get(st.current) : undefined;
  const view = releaseStories(
    { current: c ? { id: c.id, text: c.text, name: c.name, valence: c.affect.valence, arousal: c.affect.arousal } : null, themes: st.settings.enabled ? st.themes : [], present, pinned: st.pinned, paused: st.paused },
    policy,
  );
  const viewKey = `${view.suppressed}|${view.current?.id ?? ''}|${view.pinned}|${view.paused}|${view.themes?.map((t) => `${t.term}:${t.stories}`).join(',') ?? ''}`;
  if (viewKey === st.lastKey) return [];
  st.lastKey = viewKey;
  st.lastView = view;
  return [{ type: 'stories', view }];
}
