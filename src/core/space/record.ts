/**
 * Recording and replay (SPEC M6–M8). Every event that changed a space's state is stored in the
 * order it was stepped, numbered `n` = 1, 2, …: inputs in the inputs table (with their `n`), the
 * rest as event records; a tick's record holds the hash of the pulse it published. Because all
 * writes go through one ordered group commit, what is durable is always a prefix of the stepped
 * events, and replaying it through {@link step} must publish the same bytes.
 */
import type { Affect } from '../affect.ts';
import type { StoryControl } from '../stories/stories.ts';
import type { PulseView, SpaceAct, SpaceEvent, StoredParticipant, StoryAffect } from './events.ts';
import { createSpaceState, type MachineOptions, type SpaceSettings, step } from './machine.ts';
import { isDerived } from '../policy/governance.ts';

/** A recorded event as stored (the Storage port's SpaceEventRecord without the space id). */
export interface RecordedEvent {
  readonly n: number;
  readonly at: number;
  readonly kind: string;
  readonly participantId: string | null;
  readonly body: string | null;
}

/** A recorded input (the Storage port's InputRecord with its `n`). */
export interface RecordedInput {
  readonly n: number;
  readonly participantId: string;
  readonly seq: number;
  readonly affect: Affect;
  readonly exposed: boolean;
  readonly heartBpm?: number | null;
}

/** The bytes a view is sent as (one encoding for every socket, SPEC P6). */
export function encodeView(view: PulseView): string {
  return JSON.stringify(view);
}

/**
 * The record of a stepped event (inputs excepted: they are recorded as inputs). `hash` is the
 * hash of the pulse a tick published.
 */
export function recordOf(e: SpaceEvent, n: number, extra: { readonly hash?: string; readonly seq?: number; readonly options?: MachineOptions } = {}): RecordedEvent | null {
  const base = { n, at: e.at };
  switch (e.kind) {
    case 'started':
      // The machine's settings go with every start, so a replay runs the machine as it ran.
      return { ...base, kind: e.kind, participantId: null, body: JSON.stringify({ pulseSeq: e.pulseSeq, ...(extra.options ? { options: extra.options } : {}) }) };
    case 'joined':
      return { ...base, kind: e.kind, participantId: e.participantId, body: JSON.stringify({ tokenHash: e.tokenHash, ...(e.group ? { group: e.group } : {}) }) };
    case 'group-changed':
      return { ...base, kind: e.kind, participantId: e.participantId, body: JSON.stringify({ group: e.group }) };
    case 'resumed':
      return { ...base, kind: e.kind, participantId: e.participantId, body: JSON.stringify({ stored: e.stored }) };
    case 'display-joined':
    case 'display-left':
      return { ...base, kind: e.kind, participantId: null, body: null };
    case 'left':
    case 'disconnected':
      return { ...base, kind: e.kind, participantId: e.participantId, body: null };
    case 'erased':
      return { ...base, kind: e.kind, participantId: null, body: null };
    case 'tick':
      return { ...base, kind: e.kind, participantId: null, body: JSON.stringify({ participant: e.participant, seq: extra.seq ?? null, hash: extra.hash ?? null }) };
    case 'act-logged':
      return { ...base, kind: e.kind, participantId: null, body: JSON.stringify({ act: e.act, ...(e.entry !== undefined ? { entry: e.entry } : {}) }) };
    case 'act-failed':
      return { ...base, kind: e.kind, participantId: null, body: JSON.stringify({ act: e.act }) };
    case 'feedback-opted':
      return { ...base, kind: e.kind, participantId: e.participantId, body: JSON.stringify({ optOut: e.optOut }) };
    // Stories (SPEC ST13): the record keeps the id, the affect and the flags — never the text or
    // the pseudonym, which live only in the stories table and are erased with it.
    case 'story-submitted':
      return { ...base, kind: e.kind, participantId: e.participantId, body: JSON.stringify({ storyId: e.storyId, affect: e.affect, flags: e.flags }) };
    case 'story-withdrawn':
      return { ...base, kind: e.kind, participantId: e.participantId, body: JSON.stringify({ storyId: e.storyId }) };
    case 'story-control':
      return { ...base, kind: e.kind, participantId: null, body: JSON.stringify({ control: e.control, storyId: e.storyId }) };
    case 'moved':
      return { ...base, kind: e.kind, participantId: e.participantId, body: null };
    case 'input':
    case 'input-failed':
    case 'act-requested':
    // Derived from storage (a cluster node's copy of the council, K12), like a restart's restore.
    case 'governance-synced':
    // Derived from storage too (a cluster node's copy of the stories, ST15), and the owner's published view.
    case 'stories-synced':
    case 'stories-viewed':
      return null;
  }
}

/** The event a record stands for (connections are gone in a replay: conn 0). */
export function eventOf(r: RecordedEvent): SpaceEvent {
  const body = r.body === null ? {} : (JSON.parse(r.body) as Record<string, unknown>);
  const at = r.at;
  const pid = r.participantId ?? '';
  switch (r.kind) {
    case 'started':
      return { kind: 'started', at, pulseSeq: Number(body.pulseSeq ?? 0) };
    case 'joined':
      return { kind: 'joined', at, conn: 0, participantId: pid, tokenHash: String(body.tokenHash ?? ''), token: '', consent: true, ...(typeof body.group === 'string' ? { group: body.group } : {}) };
    case 'group-changed':
      return { kind: 'group-changed', at, conn: 0, participantId: pid, group: typeof body.group === 'string' ? body.group : null };
    case 'resumed':
      return { kind: 'resumed', at, conn: 0, participantId: pid, stored: body.stored as StoredParticipant };
    case 'display-joined':
      return { kind: 'display-joined', at, conn: 0 };
    case 'display-left':
      return { kind: 'display-left', at };
    case 'left':
      return { kind: 'left', at, conn: 0, participantId: pid };
    case 'disconnected':
      return { kind: 'disconnected', at, participantId: pid };
    case 'erased':
      return { kind: 'erased', at, participantId: pid };
    case 'tick':
      return { kind: 'tick', at, participant: body.participant === true };
    case 'act-logged':
      return { kind: 'act-logged', at, act: body.act as SpaceAct, reply: 0, ...(typeof body.entry === 'number' ? { entry: body.entry } : {}) };
    case 'act-failed':
      return { kind: 'act-failed', at, act: body.act as SpaceAct };
    case 'feedback-opted':
      return { kind: 'feedback-opted', at, participantId: pid, optOut: body.optOut === true };
    case 'story-submitted':
      return { kind: 'story-submitted', at, reply: 0, participantId: pid, storyId: String(body.storyId ?? ''), text: '', name: null, affect: body.affect as StoryAffect, flags: (body.flags as string[] | undefined) ?? [] };
    case 'story-withdrawn':
      return { kind: 'story-withdrawn', at, reply: 0, participantId: pid, storyId: String(body.storyId ?? '') };
    case 'story-control':
      return { kind: 'story-control', at, reply: 0, control: body.control as StoryControl, storyId: typeof body.storyId === 'string' ? body.storyId : null };
    case 'moved':
      return { kind: 'moved', at, participantId: pid };
    default:
      throw new Error(`unknown recorded event kind '${r.kind}' at n=${r.n}`);
  }
}

/** What a replay found. */
export interface ReplayReport {
  readonly events: number;
  readonly pulses: number;
  readonly identical: number;
  readonly differ: number;
  /** Recorded events whose replay did not change the state (they should not exist). */
  readonly unexpected: number;
  /** The first differences, at most 10: n, recorded and replayed hashes. */
  readonly differences: readonly { readonly n: number; readonly seq: number | null; readonly recorded: string | null; readonly replayed: string }[];
  /** Gaps in the numbering (events missing from the record), at most 10. */
  readonly gaps: readonly number[];
  /** Numbers of `started` events recorded with other machine settings than the replay's, at most 10. */
  readonly configChanges: readonly number[];
  /**
   * Decisions the machine takes itself — `policy.fired`, `policy.adopted`, `policy.expired`,
   * `feedback.changed` on expiry (SPEC Q11): how many were recorded, how many the replay re-derived, how many are
   * identical (same act, bit for bit, in the same order), and the first differences.
   */
  readonly decisions: {
    readonly recorded: number;
    readonly rederived: number;
    readonly identical: number;
    readonly differences: readonly { readonly index: number; readonly recorded: string | null; readonly rederived: string | null }[];
  };
}

/**
 * The machine settings recorded with the first `started` event of a session (null if none).
 */
export function recordedOptions(events: readonly RecordedEvent[]): MachineOptions | null {
  const first = events.find((e) => e.kind === 'started');
  if (!first?.body) return null;
  return (JSON.parse(first.body) as { options?: MachineOptions }).options ?? null;
}

/**
 * Folds a recorded session through the machine and compares every pulse it publishes with the
 * recorded hash. `events` and `inputs` are each in `n` order; `hash` hashes a pulse's bytes the
 * way the host did. Pure given `hash`. A `started` event recorded with other settings than the
 * first is reported in `configChanges` (the machine was restarted with other flags).
 */
export function replay(space: SpaceSettings, options: Partial<MachineOptions>, events: Iterable<RecordedEvent>, inputs: Iterable<RecordedInput>, hash: (bytes: string) => string): ReplayReport {
  let state = createSpaceState(space, options);
  const configChanges: number[] = [];
  const shown = JSON.stringify(state.options);
  const ev = events[Symbol.iterator]();
  const inp = inputs[Symbol.iterator]();
  let nextEv = ev.next();
  let nextIn = inp.next();
  let count = 0;
  let pulses = 0;
  let identical = 0;
  let unexpected = 0;
  let expectN = 1;
  const differences: { n: number; seq: number | null; recorded: string | null; replayed: string }[] = [];
  const recordedDecisions: string[] = [];
  const rederived: string[] = [];
  const gaps: number[] = [];
  while (!nextEv.done || !nextIn.done) {
    const takeInput = nextEv.done || (!nextIn.done && nextIn.value.n < nextEv.value.n);
    let event: SpaceEvent;
    let n: number;
    let recordedHash: string | null = null;
    if (takeInput) {
      const i = nextIn.value as RecordedInput;
      n = i.n;
      event = { kind: 'input', at: i.affect.at, conn: 0, participantId: i.participantId, seq: i.seq, affect: i.affect, exposed: i.exposed, ...(typeof i.heartBpm === 'number' ? { heartBpm: i.heartBpm } : {}) };
      nextIn = inp.next();
      const r = step(state, event);
      state = r.state;
      if (!r.recorded) unexpected++;
    } else {
      const rec = nextEv.value as RecordedEvent;
      n = rec.n;
      event = eventOf(rec);
      if (rec.kind === 'tick') recordedHash = (JSON.parse(rec.body ?? '{}') as { hash?: string | null }).hash ?? null;
      if (rec.kind === 'started' && rec.body) {
        const o = (JSON.parse(rec.body) as { options?: MachineOptions }).options;
        if (o && JSON.stringify(o) !== shown && configChanges.length < 10) configChanges.push(rec.n);
      }
      nextEv = ev.next();
      if ((event.kind === 'act-logged' || event.kind === 'act-failed') && isDerived(event.act)) recordedDecisions.push(JSON.stringify(event.act));
      const r = step(state, event);
      state = r.state;
      if (!r.recorded) unexpected++;
      for (const fx of r.effects) {
        if (fx.type === 'logAct' && fx.next.kind === 'act-logged' && isDerived(fx.next.act)) rederived.push(JSON.stringify(fx.next.act));
        if (fx.type !== 'publish') continue;
        pulses++;
        const h = hash(encodeView(fx.view));
        if (h === recordedHash) identical++;
        else if (differences.length < 10) differences.push({ n, seq: fx.view.seq, recorded: recordedHash, replayed: h });
      }
    }
    if (n !== expectN && gaps.length < 10) gaps.push(expectN);
    expectN = n + 1;
    count++;
  }
  let same = 0;
  const decisionDiffs: { index: number; recorded: string | null; rederived: string | null }[] = [];
  for (let i = 0; i < Math.max(recordedDecisions.length, rederived.length); i++) {
    const a = recordedDecisions[i] ?? null;
    const b = rederived[i] ?? null;
    if (a === b) same++;
    else if (decisionDiffs.length < 10) decisionDiffs.push({ index: i, recorded: a, rederived: b });
  }
  return { events: count, pulses, identical, differ: pulses - identical, unexpected, differences, gaps, configChanges, decisions: { recorded: recordedDecisions.length, rederived: rederived.length, identical: same, differences: decisionDiffs } };
}
