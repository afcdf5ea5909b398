/**
 * The vocabulary of the space machine (SPEC §M): the events it folds and the effects it asks its
 * host to carry out. Both are plain data. Events carry everything the machine may not compute
 * itself — time (`at`), identifiers and token hashes (randomness), analysed text (the analyser's
 * output), whether a socket had recently been shown a pulse — so that folding the same events
 * gives the same state and the same effects, on any node, in a replay.
 */
import type { Affect } from '../affect.ts';
import type { Aggregate } from '../aggregate/aggregate.ts';
import type { CollectiveState } from '../collective/collectiveTracker.ts';
import type { HeartWindow, ReleasedHeartSynchrony } from '../collective/heartSynchrony.ts';
import type { Bridging } from '../collective/bridging.ts';
import type { GovernanceAct } from '../governance.ts';
import type { ReleasedGroups } from '../release/groups.ts';
import type { CouncilAct, GovernanceSnapshot } from '../policy/governance.ts';
import type { ReleasedPulse } from '../release/release.ts';
import type { StoriesView } from '../release/stories.ts';
import type { Result } from '../errors.ts';
import type { Decision, DeclineReason, StoryControl, StorySettings, StoryStatus } from '../stories/stories.ts';
import type { StoryEntry } from './storySteps.ts';

/** A host-side handle of one connection; echoed in `notify`, never recorded. */
export type ConnRef = number;

/** What a participant stored earlier is, as the host read it from storage (resume after a restart). */
export interface StoredParticipant {
  readonly lastSeq: number;
  readonly latest: Affect | null;
  /** The group they chose (personal data: stored with them, never published), if any. */
  readonly group?: string | null;
}

/** A governance act the machine applies once its log entry is durable. */
export type SpaceAct =
  | { readonly kind: 'close' }
  | { readonly kind: 'steward-changed'; readonly tokenHash: string; readonly reason: string }
  /** This space's steward agrees (`agree`) or stops agreeing to be linked with another space (docs/bridging.md). */
  | { readonly kind: 'link'; readonly other: string; readonly otherCode: string; readonly agree: boolean }
  /** Councils, policies, feedback and display modes (SPEC §Q, src/core/policy/governance.ts). */
  | CouncilAct
  /** A steward's moderation decision about a story (SPEC ST6): logged as `story.moderated` (category only), then applied. */
  | { readonly kind: 'story-decision'; readonly storyId: string; readonly decision: Decision; readonly reason: DeclineReason | null }
  /** A steward turns stories on or off or changes how they are moderated (ST1): logged as `stories.settings`, then applied. */
  | { readonly kind: 'story-settings'; readonly settings: StorySettings }
  /**
   * A DP release from the space's stored inputs (R8), computed by the host's privacy desk:
   * logged as `privacy.release` with `entry` (figures of the budget, never the release), and only
   * then answered, so the desk stores and publishes it after its log entry is durable.
   */
  | { readonly kind: 'privacy-release'; readonly entry: Readonly<Record<string, unknown>> };

/** What the text analyser said of a story (its affect, shown to the author and used to place it on the field). */
export interface StoryAffect {
  readonly valence: number;
  readonly arousal: number;
  readonly confidence: number;
}

/** Events folded by {@link step}. `at` is the host's clock when the event was taken in. */
export type SpaceEvent =
  /** The host (re)started the space: every connection is gone; derived state (smoothing, collective) starts afresh; the pulse numbering continues after `pulseSeq`. */
  | { readonly kind: 'started'; readonly at: number; readonly pulseSeq: number; readonly smoothed?: { readonly valence: number; readonly arousal: number } | null; readonly smoothedAt?: number }
  /** A new participant joined (consent given). `tokenHash` is stored; the token itself only goes back to them. */
  | { readonly kind: 'joined'; readonly at: number; readonly conn: ConnRef; readonly participantId: string; readonly tokenHash: string; readonly token: string; readonly consent: boolean; readonly group?: string | null; readonly elsewhere?: number }
  /** A participant chose, changed or dropped (null) their group (R6; personal data, recorded for replay). */
  | { readonly kind: 'group-changed'; readonly at: number; readonly conn: ConnRef; readonly participantId: string; readonly group: string | null }
  /** A participant re-entered with their token on a new connection. */
  | { readonly kind: 'resumed'; readonly at: number; readonly conn: ConnRef; readonly participantId: string; readonly stored: StoredParticipant; readonly elsewhere?: number }
  /** A display connected. */
  | { readonly kind: 'display-joined'; readonly at: number; readonly conn: ConnRef }
  /** A display's connection ended. */
  | { readonly kind: 'display-left'; readonly at: number }
  /** An input, after validation of its shape (and analysis, for text). */
  | { readonly kind: 'input'; readonly at: number; readonly conn: ConnRef; readonly participantId: string; readonly seq: number; readonly affect: Affect; readonly exposed: boolean; readonly heartBpm?: number }
  /** The input's write failed: it was never stored, so it is taken back (not recorded: it never became durable). */
  | { readonly kind: 'input-failed'; readonly at: number; readonly participantId: string; readonly seq: number }
  /** The participant said bye: their point leaves the pulse now (W7). */
  | { readonly kind: 'left'; readonly at: number; readonly conn: ConnRef; readonly participantId: string }
  /** The participant erased everything stored about them (V2): their point leaves the pulse now and they are forgotten. */
  | { readonly kind: 'erased'; readonly at: number; readonly participantId: string }
  /** One of the participant's connections ended (their point stays until its TTL). */
  | { readonly kind: 'disconnected'; readonly at: number; readonly participantId: string }
  /** A pulse tick: at the display rate, with `participant` set on the participant-rate beats. */
  | {
      readonly kind: 'tick';
      readonly at: number;
      readonly participant: boolean;
      readonly merged?: MergedCounts;
      /** A cluster node's own machine (§K): its figures are one node's partial, so nothing is decided or shown on them. */
      readonly partial?: boolean;
    }
  /** A governance act was asked for; the machine answers with `logAct` (or refuses). */
  | { readonly kind: 'act-requested'; readonly at: number; readonly act: SpaceAct; readonly reply: ConnRef }
  /** The act's log entry is durable: apply it. `entry` is its index in the public log, when the log tells. */
  | { readonly kind: 'act-logged'; readonly at: number; readonly act: SpaceAct; readonly reply: ConnRef; readonly entry?: number }
  /** The act's log write failed: nothing takes effect (recorded, so a pending decision clears in replay too; SPEC Q10). */
  | { readonly kind: 'act-failed'; readonly at: number; readonly act: SpaceAct }
  /** A participant opted out of (or back into) adaptive feedback (SPEC Q8): they keep seeing mirror. */
  | { readonly kind: 'feedback-opted'; readonly at: number; readonly participantId: string; readonly optOut: boolean }
  /**
   * A participant shared a story (SPEC ST2–ST5), with consent, checked text, the analyser's affect
   * and the automatic pass's flags. The record keeps the id, affect and flags, never the text
   * (the text lives only in the stories table, so withdrawing it erases it).
   */
  | { readonly kind: 'story-submitted'; readonly at: number; readonly reply: ConnRef; readonly participantId: string; readonly storyId: string; readonly text: string; readonly name: string | null; readonly affect: StoryAffect; readonly flags: readonly string[] }
  /** The author withdrew a story: it leaves every screen at once and is erased (ST11). */
  | { readonly kind: 'story-withdrawn'; readonly at: number; readonly reply: ConnRef; readonly participantId: string; readonly storyId: string }
  /** A facilitator pins, unpins, skips, pauses or resumes the gathering display (ST8). */
  | { readonly kind: 'story-control'; readonly at: number; readonly reply: ConnRef; readonly control: StoryControl; readonly storyId: string | null }
  /** Cluster (SPEC §K): the participant continued on another node; their point and seq state leave this node's machine. */
  | { readonly kind: 'moved'; readonly at: number; readonly participantId: string }
  /**
   * Cluster (SPEC K12): another node applied a governance act and stored the space's governance
   * (S12); this node's copy is replaced by the stored one. Derived from storage, like the
   * restore at a restart (Q12), so not recorded.
   */
  | { readonly kind: 'governance-synced'; readonly at: number; readonly snapshot: GovernanceSnapshot }
  /**
   * Cluster (SPEC ST15): another node changed a story (shared, withdrew, decided) or the stories
   * settings and stored it; this node's copy becomes the stored stories and settings. Derived from
   * storage, like the restore at a restart (ST13), so not recorded.
   */
  | { readonly kind: 'stories-synced'; readonly at: number; readonly settings: StorySettings; readonly stories: readonly StoryEntry[] }
  /** Cluster (SPEC ST15): the gathering display's view the tick owner published, which this node's displays get after their welcome. Not recorded. */
  | { readonly kind: 'stories-viewed'; readonly at: number; readonly view: StoriesView };

/**
 * Cluster (SPEC §K): the whole space's counts, merged by the tick owner from every node's
 * partial aggregate. A tick carrying them measures and releases these counts instead of the
 * machine's own (the owner's machine holds no participants of its own).
 */
export interface MergedCounts {
  readonly grid: Aggregate;
  /** One aggregate per declared group, in the space's order. */
  readonly groups: readonly Aggregate[];
  /** Participants connected and displays watching, over every node. */
  readonly connected: number;
  readonly displays: number;
  /** Every node's last heart window, ordered by node id (SPEC K10); absent: no heart figures. */
  readonly heart?: readonly HeartWindow[];
}

/** Kinds of event. */
export type SpaceEventKind = SpaceEvent['kind'];

/** A durable write, in the order the machine asks for it (the storage commits in that order). */
export type Write =
  | { readonly kind: 'participant'; readonly participantId: string; readonly tokenHash: string; readonly joinedAt: number; readonly group?: string | null }
  | { readonly kind: 'group'; readonly participantId: string; readonly group: string | null }
  | { readonly kind: 'link'; readonly other: string; readonly agree: boolean; readonly at: number }
  | { readonly kind: 'input'; readonly n: number; readonly participantId: string; readonly seq: number; readonly affect: Affect; readonly exposed: boolean; readonly shown: { readonly valence: number; readonly arousal: number } | null; readonly heartBpm?: number }
  | { readonly kind: 'clear-latest'; readonly participantId: string }
  /** Erase the participant's inputs, point, consents, events, session and key (V2, S16). */
  | { readonly kind: 'erase'; readonly participantId: string }
  | { readonly kind: 'close'; readonly at: number }
  | { readonly kind: 'steward-token'; readonly tokenHash: string }
  /** The space's council, policies and feedback after an applied act (SPEC S12). */
  | { readonly kind: 'governance'; readonly snapshot: GovernanceSnapshot }
  | { readonly kind: 'story'; readonly storyId: string; readonly participantId: string; readonly text: string; readonly name: string | null; readonly affect: StoryAffect; readonly flags: readonly string[]; readonly status: StoryStatus; readonly at: number }
  | { readonly kind: 'story-status'; readonly storyId: string; readonly status: StoryStatus; readonly reason: DeclineReason | null; readonly at: number }
  | { readonly kind: 'story-erase'; readonly storyId: string }
  | { readonly kind: 'story-settings'; readonly settings: StorySettings; readonly at: number }
  | { readonly kind: 'series'; readonly at: number; readonly count: number; readonly mean: { readonly valence: number; readonly arousal: number }; readonly spread: { readonly valence: number; readonly arousal: number }; readonly quadrants: readonly [number, number, number, number] };

/** The released pulse with the space's code and collective state: what every socket of the space gets. */
export interface PulseView extends ReleasedPulse {
  readonly space: string;
  readonly collective?: CollectiveState | null;
  /** The room's hearts, only while someone shares a heart signal (R5). */
  readonly heart?: ReleasedHeartSynchrony;
  /** The space's declared groups, released by R6 (only in spaces that declare groups). */
  readonly groups?: ReleasedGroups;
  /** How much the shown groups' feelings overlap (docs/bridging.md); null below two shown groups. */
  readonly bridging?: Bridging | null;
  /** The feedback mode in force, the policy that set it, why, and its log entry (SPEC Q8; spaces with a council). */
  readonly feedback?: Readonly<Record<string, unknown>>;
  /** The display mode and any policy override in force (SPEC Q8, issue 15). */
  readonly display?: Readonly<Record<string, unknown>>;
}

/** Messages the machine addresses to one connection. */
export type Notice =
  | { readonly t: 'welcome'; readonly role: 'participant' | 'display'; readonly participant?: string; readonly token?: string; readonly you: Affect | null; readonly lastSeq: number; readonly group?: string | null }
  | { readonly t: 'group'; readonly group: string | null }
  | { readonly t: 'ack'; readonly seq: number; readonly affect: Affect }
  | { readonly t: 'error'; readonly code: 'BAD_REQUEST' | 'NOT_JOINED' | 'SPACE_CLOSED' | 'SPACE_FULL' | 'CONSENT_REQUIRED' | 'UNAVAILABLE' | 'CONFLICT' | 'NOT_FOUND' | 'UNAUTHORIZED'; readonly message: string; readonly seq?: number }
  | { readonly t: 'full'; readonly message: string; readonly capacity: number }
  | { readonly t: 'bye'; readonly reason: 'left' }
  | { readonly t: 'done'; readonly ok: true }
  /** The gathering display's stories view (after the display's welcome, ST10). */
  | StoriesView;

/** What an author is told, live, about one of their stories (ST12). */
export interface StoryStateNotice {
  readonly t: 'story';
  readonly id: string;
  /** `withdrawn`: erased at the author's request. */
  readonly status: StoryStatus | 'withdrawn';
  readonly reason: DeclineReason | null;
}

/** Effects, carried out by the host in order. */
export type Effect =
  | { readonly type: 'persist'; readonly write: Write }
  /** Append the act to the public log; once durable, step `next`. If the log fails, nothing happens. */
  | { readonly type: 'logAct'; readonly act: GovernanceAct; readonly next: SpaceEvent }
  /** Encode once; send the same bytes to the space's participants and/or displays. */
  | { readonly type: 'publish'; readonly participants: boolean; readonly displays: boolean; readonly view: PulseView }
  /**
   * A message for one connection. `durable`: send only once every write asked for so far is
   * durable (acks, welcomes). `pulse`: follow it with the last published pulse.
   */
  | { readonly type: 'notify'; readonly conn: ConnRef; readonly msg: Notice; readonly durable: boolean; readonly pulse?: boolean }
  /** The space closed: say bye to every connection and stop ticking. */
  | { readonly type: 'closed' }
  /** Send the gathering display's stories view to every display of the space (ST10). */
  | { readonly type: 'stories'; readonly view: StoriesView }
  /** Tell a participant (on their live connection, if any) about their own story (ST12). */
  | { readonly type: 'tell'; readonly participantId: string; readonly msg: StoryStateNotice }
  /** Answer the request `ref` (an HTTP call waiting on the host); `durable`: once every write asked for so far is durable. */
  | { readonly type: 'answer'; readonly ref: ConnRef; readonly result: Result<unknown>; readonly durable: boolean };
