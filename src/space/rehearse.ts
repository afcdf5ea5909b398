/**
 * Rehearsal without a crowd (`attune play`, docs/living-art.md): a recorded session (SPEC M6)
 * is played into a new space on a host, so its displays, OSC, SSE and webhooks follow it
 * exactly as they follow a live room — because it is a live room: the recorded joins, resumes,
 * inputs (with their recorded affect), leaves and disconnects are stepped into the new space's
 * machine through the host's ordinary calls, at their recorded times on the host's scheduler,
 * and the host's own beats publish its released views through the release stage.
 *
 * Why not publish the recorded pulses themselves: a tick's record holds only the hash of what
 * it published, not the bytes; and a space the host runs cannot also be fed views from outside
 * (its machine publishes on the same subjects). Played on a scheduler that starts at the
 * recording's start, the new space's beats fall where the recorded ones fell, so its pulses are
 * the recorded pulses (test: rehearse.test.ts compares them, all but the space's code).
 *
 * Pure of I/O itself: storage is read by the caller (loadSession), time is the host's scheduler.
 */
import type { Affect } from '../core/affect.ts';
import type { RecordedEvent, RecordedInput } from '../core/space/record.ts';
import type { Cancel, Scheduler } from './scheduler.ts';
import type { SpaceHost } from './spaceHost.ts';
import type { SpaceRecord, Storage } from '../storage/port.ts';

/** A recorded session, as read from storage. */
export interface RecordedSession {
  readonly space: SpaceRecord;
  readonly events: readonly RecordedEvent[];
  readonly inputs: readonly RecordedInput[];
  /** The space's secret noise seed (R7, S15), which replay needs to reproduce the noise; null without one. */
  readonly noiseSeed: string | null;
}

const PAGE = 10_000;

/** Reads a space's recorded session (events and inputs in `n` order). Null if no such space. */
export async function loadSession(storage: Storage, code: string): Promise<RecordedSession | null> {
  const space = await storage.getSpaceByCode(code);
  if (!space) return null;
  const events: RecordedEvent[] = [];
  for (let from = 1; ; ) {
    const page = await storage.listEvents(space.id, from, PAGE);
    events.push(...page);
    if (page.length < PAGE) break;
    from = (page[page.length - 1] as RecordedEvent).n + 1;
  }
  const inputs: RecordedInput[] = [];
  for (let from = 1; ; ) {
    const page = await storage.listInputsByN(space.id, from, PAGE);
    inputs.push(...page);
    if (page.length < PAGE) break;
    from = (page[page.length - 1] as RecordedInput).n + 1;
  }
  return { space, events, inputs, noiseSeed: await storage.getSpaceSecret(space.id) };
}

/** One step of the plan: what to do to the rehearsal space at `at`. */
type Step =
  | { readonly at: number; readonly kind: 'join' | 'resume' | 'leave' | 'disconnect'; readonly pid: string }
  | { readonly at: number; readonly kind: 'input'; readonly pid: string; readonly seq: number; readonly affect: Affect; readonly exposed: boolean; readonly heartBpm?: number | null }
  | { readonly at: number; readonly kind: 'close' };

/** The session as a timeline of steps, in the order the machine stepped them. */
export function planOf(session: RecordedSession): { readonly startAt: number; readonly endAt: number; readonly steps: readonly Step[] } {
  const steps: Step[] = [];
  let i = 0;
  let startAt: number | null = null;
  let endAt = session.space.createdAt;
  const take = (e: RecordedEvent) => {
    endAt = Math.max(endAt, e.at);
    const pid = e.participantId ?? '';
    if (e.kind === 'started') startAt ??= e.at;
    else if (e.kind === 'joined') steps.push({ at: e.at, kind: 'join', pid });
    else if (e.kind === 'resumed') steps.push({ at: e.at, kind: 'resume', pid });
    else if (e.kind === 'left') steps.push({ at: e.at, kind: 'leave', pid });
    else if (e.kind === 'disconnected') steps.push({ at: e.at, kind: 'disconnect', pid });
    else if (e.kind === 'act-logged' && e.body?.includes('"close"')) steps.push({ at: e.at, kind: 'close' });
  };
  for (const e of session.events) {
    while (i < session.inputs.length && (session.inputs[i] as RecordedInput).n < e.n) {
      const x = session.inputs[i++] as RecordedInput;
      steps.push({ at: x.affect.at, kind: 'input', pid: x.participantId, seq: x.seq, affect: x.affect, exposed: x.exposed, heartBpm: x.heartBpm ?? null });
      endAt = Math.max(endAt, x.affect.at);
    }
    take(e);
  }
  for (; i < session.inputs.length; i++) {
    const x = session.inputs[i] as RecordedInput;
    steps.push({ at: x.affect.at, kind: 'input', pid: x.participantId, seq: x.seq, affect: x.affect, exposed: x.exposed, heartBpm: x.heartBpm ?? null });
    endAt = Math.max(endAt, x.affect.at);
  }
  return { startAt: startAt ?? session.space.createdAt, endAt, steps };
}

/** Settings of a rehearsal. */
export interface RehearseOptions {
  readonly host: SpaceHost;
  /** The host's scheduler; it must read the recording's start (`planOf(…).startAt`) now. */
  readonly scheduler: Scheduler;
  readonly session: RecordedSession;
  /** The new space's name (default "rehearsal: <recorded name>"). */
  readonly name?: string;
  /** Called when the last step has been played. */
  readonly onEnd?: () => void;
}

/** A rehearsal under way. */
export interface Rehearsal {
  readonly space: SpaceRecord;
  readonly stewardToken: string;
  readonly steps: number;
  readonly startAt: number;
  readonly endAt: number;
  /** Steps played so far. */
  played(): number;
  /** Stops playing (the space stays open). */
  stop(): void;
}

/** Opens the rehearsal space and schedules every step of the session on the host's scheduler. */
export async function rehearse(o: RehearseOptions): Promise<Rehearsal> {
  const plan = planOf(o.session);
  const rec = o.session.space;
  // The rehearsal releases what the recording released: the same inputs with the same noise (R7),
  // so it reveals nothing the recording did not.
  const made = await o.host.createSpace({ name: o.name ?? `rehearsal: ${rec.name}`.slice(0, 80), capacity: rec.capacity, ttlSeconds: rec.ttlMs / 1000, ...(o.session.noiseSeed ? { noiseSeed: o.session.noiseSeed } : {}) });
  if (!made.ok) throw new Error(`could not open the rehearsal space: ${made.message}`);
  const { code } = made.value.space;
  const host = o.host;
  const refs = new Map<string, number>();
  const tokens = new Map<string, string>();
  const timers: Cancel[] = [];
  let played = 0;
  const attach = (pid: string) =>
    host.attach({
      send: (frame) => {
        // The welcome carries the participant's token: kept, so a recorded resume can resume.
        if (typeof frame !== 'string' || !frame.includes('"welcome"')) return;
        const m = JSON.parse(frame) as { t?: string; token?: string };
        if (m.t === 'welcome' && m.token) tokens.set(pid, m.token);
      },
      close: () => {},
      welcomed: () => {},
    });
  const play = (s: Step) => {
    played++;
    switch (s.kind) {
      case 'join': {
        const ref = attach(s.pid);
        refs.set(s.pid, ref);
        void host.join(ref, code, 'participant', true);
        return;
      }
      case 'resume': {
        const token = tokens.get(s.pid);
        if (!token || refs.has(s.pid)) return;
        const ref = attach(s.pid);
        refs.set(s.pid, ref);
        void host.resume(ref, token);
        return;
      }
      case 'input': {
        const ref = refs.get(s.pid);
        if (ref === undefined) return;
        const a = s.affect;
        const source = a.source === 'text' ? 'tap' : a.source;
        host.input(ref, { t: 'input', seq: s.seq, valence: a.valence, arousal: a.arousal, confidence: a.confidence, source, ...(typeof s.heartBpm === 'number' && source === 'heart' ? { heart: { bpm: s.heartBpm } } : {}) } as Parameters<SpaceHost['input']>[1], s.exposed);
        return;
      }
      case 'leave': {
        const ref = refs.get(s.pid);
        if (ref === undefined) return;
        host.leave(ref);
        refs.delete(s.pid);
        return;
      }
      case 'disconnect': {
        const ref = refs.get(s.pid);
        if (ref === undefined) return;
        host.detach(ref);
        refs.delete(s.pid);
        return;
      }
      case 'close':
        return; // a rehearsal stays open for the crew; `attune play` closes it when done
    }
  };
  for (const s of plan.steps) timers.push(o.scheduler.at(s.at, () => play(s)));
  timers.push(o.scheduler.at(plan.endAt, () => o.onEnd?.()));
  return {
    space: made.value.space,
    stewardToken: made.value.stewardToken,
    steps: plan.steps.length,
    startAt: plan.startAt,
    endAt: plan.endAt,
    played: () => played,
    stop: () => {
      for (const t of timers) t.cancel();
    },
  };
}
