/**
 * The WebSocket wire protocol (SPEC.md §W): every client message schema, every server message
 * type. Client messages are JSON text frames validated here with valibot; anything that fails
 * validation is answered with a coded error from `errors.ts` and never reaches the space.
 */
import * as v from 'valibot';
import type { Affect } from './affect.ts';
import type { CollectiveState } from './collective/collectiveTracker.ts';
import type { Bridging } from './collective/bridging.ts';
import type { ReleasedHeartSynchrony } from './collective/heartSynchrony.ts';
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import type { PulseSnapshot } from './pulse.ts';
import type { ReleasedGroups } from './release/groups.ts';
import type { StoriesView } from './release/stories.ts';
import type { StoryStateNotice } from './space/events.ts';

/** Largest client frame accepted, in bytes (SPEC W2). */
export const MAX_CLIENT_FRAME_BYTES = 4096;
/** Longest text a participant may send for analysis, in characters (SPEC W5). */
export const MAX_TEXT_CHARS = 500;

const finite = (lo: number, hi: number) => v.pipe(v.number(), v.finite(), v.minValue(lo), v.maxValue(hi));

/** A group's name as a client sends it (the space checks it is one of its groups, R6). */
export const GroupNameSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(160));

/** `join`: enter a space by its code, as a participant (consent required) or a display. */
export const JoinSchema = v.strictObject({
  t: v.literal('join'),
  code: v.pipe(v.string(), v.minLength(4), v.maxLength(32)),
  role: v.optional(v.picklist(['participant', 'display']), 'participant'),
  consent: v.optional(v.boolean(), false),
  /** The group the participant chose (optional; null or absent: prefer not to say). */
  group: v.optional(v.nullable(GroupNameSchema)),
  /** The consent text's version (SHA-256 hex, `GET /api/consent`) the person agreed to (V1); an older one is `CONSENT_CHANGED`. */
  consentVersion: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'consentVersion is the SHA-256 (hex) of the consent text'))),
});

/** `group`: choose, change or (null) drop one's group; answered `{"t":"group","group"}` once stored. */
export const GroupSchema = v.strictObject({ t: v.literal('group'), group: v.nullable(GroupNameSchema) });

/** `resume`: re-enter with the token from an earlier `welcome`. */
export const ResumeSchema = v.strictObject({
  t: v.literal('resume'),
  token: v.pipe(v.string(), v.minLength(8), v.maxLength(128)),
  /**
   * The consent version the person has just agreed to on this device (V1): when their stored
   * consent is older, a resume carrying the current version records the new agreement; without
   * it the resume is refused with `CONSENT_CHANGED`.
   */
  consentVersion: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'consentVersion is the SHA-256 (hex) of the consent text'))),
});

/**
 * What a `source: "heart"` input says about the heart itself (SPEC W5): the mean heart rate of
 * the phone's last reading period (≈ 2 s), nothing else. It is the least the room's heart
 * synchrony needs (inter-subject correlation of heart-rate time series at 0.5 Hz over 30–60 s
 * windows, `core/collective/heartSynchrony.ts`). Raw beats — RR intervals, from which HRV and
 * arrhythmias can be read — stay on the phone, which derives arousal from them itself.
 */
export const HeartReadingSchema = v.strictObject({
  bpm: finite(25, 250),
});

/** `input` with a point: a tap on the grid or a reading from a heart-rate strap. */
export const PointInputSchema = v.pipe(
  v.strictObject({
    t: v.literal('input'),
    seq: v.pipe(v.number(), v.integer(), v.minValue(1, 'seq must be a positive integer'), v.maxValue(Number.MAX_SAFE_INTEGER)),
    valence: finite(-1, 1),
    arousal: finite(-1, 1),
    confidence: v.optional(finite(0, 1), 1),
    source: v.optional(v.picklist(['tap', 'heart']), 'tap'),
    /** The heart reading behind a `source: "heart"` input (optional; never on a tap). */
    heart: v.optional(HeartReadingSchema),
    /** Whether the pulse was visible to this person when they gave the input (for contagion). */
    seen: v.optional(v.boolean()),
  }),
  v.check((m) => m.heart === undefined || m.source === 'heart', 'heart is allowed only on source "heart" inputs'),
);

/** `input` with words: analysed on the server, then discarded. */
export const TextInputSchema = v.strictObject({
  t: v.literal('input'),
  seq: v.pipe(v.number(), v.integer(), v.minValue(1, 'seq must be a positive integer'), v.maxValue(Number.MAX_SAFE_INTEGER)),
  text: v.pipe(v.string(), v.maxLength(MAX_TEXT_CHARS)),
  seen: v.optional(v.boolean()),
});

/** `bye`: leave now; the person's point leaves the pulse at once. */
export const ByeSchema = v.strictObject({ t: v.literal('bye') });

/** Any client message. */
export const ClientMessageSchema = v.union([JoinSchema, ResumeSchema, PointInputSchema, TextInputSchema, ByeSchema, GroupSchema]);

/** Client message types, for the UNKNOWN_TYPE check. */
export const CLIENT_TYPES = ['join', 'resume', 'input', 'bye', 'group'] as const;

export type JoinMessage = v.InferOutput<typeof JoinSchema>;
export type ResumeMessage = v.InferOutput<typeof ResumeSchema>;
export type PointInputMessage = v.InferOutput<typeof PointInputSchema>;
export type HeartReading = v.InferOutput<typeof HeartReadingSchema>;
export type TextInputMessage = v.InferOutput<typeof TextInputSchema>;
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;
export type GroupMessage = v.InferOutput<typeof GroupSchema>;

/** The public description of a space, as a client sees it. */
export interface SpaceInfo {
  readonly code: string;
  readonly name: string;
  readonly status: 'open' | 'closed';
  readonly capacity: number;
  readonly ttlMs: number;
  /** The groups a participant may choose from (R6), when the space has any. */
  readonly groups?: readonly string[];
}

/** `welcome`: the reply to join/resume. */
export interface WelcomeMessage {
  readonly t: 'welcome';
  readonly role: 'participant' | 'display';
  /** Opaque participant id (absent for displays). */
  readonly participant?: string;
  /** Secret resume token (absent for displays). Keep it on the device only. */
  readonly token?: string;
  readonly space: SpaceInfo;
  /** The participant's current point, when resuming within its TTL. */
  readonly you: Affect | null;
  /** Highest input seq the server has durably accepted from this participant. */
  readonly lastSeq: number;
  readonly pulseHz: number;
  /** The participant's group, when they chose one (their own data, sent only to them). */
  readonly group?: string | null;
}

/** `group` from the server: the participant's group choice is stored. */
export interface GroupChosenMessage {
  readonly t: 'group';
  readonly group: string | null;
}

/** `ack`: an input is durable and counted. */
export interface AckMessage {
  readonly t: 'ack';
  readonly seq: number;
  readonly affect: Affect;
}

/** `error`: a coded error; `seq` names the input it answers, when there is one. */
export interface ErrorMessage {
  readonly t: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  readonly seq?: number;
}

/** `full`: the space is at capacity; the server closes with 4409 after sending it. */
export interface FullMessage {
  readonly t: 'full';
  readonly message: string;
  readonly capacity: number;
}

/** `bye` from the server: the space closed or the server is going away. */
export interface ServerByeMessage {
  readonly t: 'bye';
  readonly reason: 'space-closed' | 'shutdown' | 'replaced' | 'left';
}

/** `stories` (to displays, SPEC ST10): the gathering display's released view. */
export type StoriesMessage = StoriesView;

/** `story` (to its author only, SPEC ST12): one of their stories changed state or was withdrawn. */
export type StoryStateMessage = StoryStateNotice;

/** Server message types other than `pulse` (whose shape lives in pulse.ts). */
export type ServerMessage = WelcomeMessage | AckMessage | ErrorMessage | FullMessage | ServerByeMessage | GroupChosenMessage | StoriesMessage | StoryStateMessage;

// ——— Shared by every client (src/client) and the server ———————————————————————————————

/**
 * Normalises a typed join code: upper case, separators and spaces removed (SPEC W3), so that
 * `7kq4-mz9p` and `7KQ4MZ9P` name the same space on the server and in a client's storage keys.
 */
export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[^0-9A-Z]/g, '');
}

/**
 * WebSocket close codes after which a client must not reconnect: the close codes of the fatal
 * errors of `errors.ts` that are attune's own (4000–4999): unauthorised, not found, space full,
 * space closed. The fatal errors that close with a standard 1xxx code (1009 frame too large,
 * 1011 internal error, 1012 unavailable/restarting) are about this connection or this moment,
 * so a client backs off and tries again (SPEC W12).
 */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set(
  Object.values(ERROR_CODES)
    .filter((e) => e.fatal && e.ws >= 4000 && e.ws < 5000)
    .map((e) => e.ws),
);

/** The error code a fatal close code stands for (the first fatal code of the table that uses it). */
export function errorCodeOfClose(closeCode: number): ErrorCode | undefined {
  for (const [code, e] of Object.entries(ERROR_CODES)) if (e.fatal && e.ws === closeCode) return code as ErrorCode;
  return undefined;
}

/** A pulse as it travels (SPEC P6): the snapshot, the space's code and the collective state. */
export type PulseMessage = PulseSnapshot & {
  /** Join code of the space the pulse belongs to. */
  readonly space: string;
  /** The collective-state tracker's view, when it runs (null while the pulse is suppressed). */
  readonly collective?: CollectiveState | null;
  /**
   * The room's hearts, when anyone shares a heart signal: sharers (under the cohort rule) and
   * the heart synchrony (docs/heart.md), after the release stage's `releaseHeartSynchrony` (R5).
   */
  readonly heart?: ReleasedHeartSynchrony;
  /** Per-group pulses (R6), in spaces that declare groups; withheld groups carry `suppressed: true` only. */
  readonly groups?: ReleasedGroups;
  /** The bridging measures of the shown groups (docs/bridging.md), or null below two. */
  readonly bridging?: Bridging | null;
};

/** Any message a server sends, pulses included. */
export type AnyServerMessage = ServerMessage | PulseMessage;

const num = v.number();
const ServerAffectSchema = v.looseObject({ valence: num, arousal: num, confidence: num, source: v.string(), at: v.optional(num) });

/**
 * Server messages as a client checks them. Objects are loose (a newer server may add fields);
 * the fields a client acts on are checked. Pulses are checked by tag and counters only: a
 * display gets twenty a second, and their body is the server's own encoding of `PulseMessage`.
 */
export const ServerMessageSchema = v.variant('t', [
  v.looseObject({
    t: v.literal('welcome'),
    role: v.picklist(['participant', 'display']),
    participant: v.optional(v.string()),
    token: v.optional(v.string()),
    space: v.looseObject({ code: v.string(), name: v.string(), status: v.picklist(['open', 'closed']), capacity: num, ttlMs: num }),
    you: v.nullable(ServerAffectSchema),
    lastSeq: num,
    pulseHz: num,
  }),
  v.looseObject({ t: v.literal('ack'), seq: num, affect: ServerAffectSchema }),
  v.looseObject({ t: v.literal('error'), code: v.picklist(Object.keys(ERROR_CODES) as ErrorCode[]), message: v.string(), seq: v.optional(num) }),
  v.looseObject({ t: v.literal('full'), message: v.string(), capacity: num }),
  v.looseObject({ t: v.literal('bye'), reason: v.picklist(['space-closed', 'shutdown', 'replaced', 'left']) }),
  v.looseObject({ t: v.literal('pulse'), seq: num, at: num, count: num }),
  v.looseObject({ t: v.literal('group'), group: v.nullable(v.string()) }),
  // Stories (SPEC ST10, ST12): the gathering display's view (displays) and a story's new state (its author).
  v.looseObject({ t: v.literal('stories'), suppressed: v.boolean(), current: v.nullable(v.looseObject({ id: v.string(), text: v.string(), name: v.nullable(v.string()), valence: num, arousal: num })), themes: v.nullable(v.array(v.looseObject({ term: v.string(), stories: num }))) }),
  v.looseObject({ t: v.literal('story'), id: v.string(), status: v.picklist(['waiting', 'shown', 'declined', 'hidden', 'withdrawn']), reason: v.nullable(v.string()) }),
]);
