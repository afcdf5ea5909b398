/**
 * A simulated crowd in process, on the server's own space machine (core/space) and beat plan,
 * under a manual scheduler: each person joins, taps are `input` events with increasing `seq` and
 * the protocol's `seen` flag, ticks come on the host's drift-free beats, and what the crowd is
 * pulled toward is what the server shows — the released pulse's smoothed mean, the same value
 * each stored input records as `shown` (SPEC S3a). A 10-minute room runs in well under a second.
 *
 * Nothing here re-implements the tick loop: a pulse seen here is exactly what the host would
 * publish for the same events (test: machineRun.test.ts compares them byte for byte).
 */
import type { Point } from '../core/pulse.ts';
import { beatPeriodMs, isParticipantBeat } from '../core/space/beats.ts';
import type { PulseView, SpaceEvent } from '../core/space/events.ts';
import { createSpaceState, type MachineOptions, type SpaceState, step } from '../core/space/machine.ts';
import { ManualScheduler } from '../space/scheduler.ts';
import type { Crowd, Tap } from './crowd.ts';

/** Options of a run on the machine. */
export interface MachineRunOptions {
  /** The space's noise seed (R7; 64 hex); without one the release adds no noise. */
  readonly noiseSeed?: string;
  readonly crowd: Crowd;
  readonly durationMs: number;
  /** Epoch ms the run pretends to start at (default 1.7e12). */
  readonly epoch?: number;
  /** How often the crowd moves, ms (default 500). */
  readonly stepMs?: number;
  /** How long a point counts, ms (default 120 000). */
  readonly ttlMs?: number;
  /** Machine settings (default: the server's, with its collective tracker). */
  readonly machine?: Partial<MachineOptions>;
  /** Displays watching (default 0: only participant beats change anything). */
  readonly displays?: number;
  /** Every view published to participants, with its time since the start. */
  readonly onParticipantView?: (view: PulseView, t: number) => void;
  /** Every view published to displays. */
  readonly onDisplayView?: (view: PulseView, t: number) => void;
  /** Every tap, with what the server showed at the time (null while suppressed). */
  readonly onTap?: (tap: Tap, participantId: string, shown: Point | null, atEpoch: number) => void;
  /** Every event stepped (for comparisons with the host). */
  readonly onEvent?: (e: SpaceEvent) => void;
}

/** What a run saw. */
export interface MachineRunResult {
  readonly state: SpaceState;
  readonly participantViews: number;
  readonly displayViews: number;
  readonly taps: number;
  readonly ticks: number;
}

/** Runs a crowd through one space machine. Deterministic for the crowd's seed. */
export function runCrowdOnMachine(o: MachineRunOptions): MachineRunResult {
  const epoch = o.epoch ?? 1_700_000_000_000;
  const sch = new ManualScheduler(epoch);
  const space = { id: 'sim', code: 'SIMULATE', name: 'simulated room', capacity: o.crowd.size + 10, ttlMs: o.ttlMs ?? 120_000, ...(o.noiseSeed ? { noiseSeed: o.noiseSeed } : {}) };
  const state = createSpaceState(space, o.machine ?? {});
  const { displayHz, participantHz } = state.options;
  let participantViews = 0;
  let displayViews = 0;
  let taps = 0;
  let ticks = 0;
  let shown: Point | null = null;
  const seqs = new Array<number>(o.crowd.size).fill(0);
  const run = (e: SpaceEvent) => {
    o.onEvent?.(e);
    const r = step(state, e);
    for (const fx of r.effects) {
      if (fx.type !== 'publish') continue;
      const t = e.at - epoch;
      if (fx.participants) {
        participantViews++;
        shown = fx.view.smoothed;
        o.onParticipantView?.(fx.view, t);
      }
      if (fx.displays) {
        displayViews++;
        o.onDisplayView?.(fx.view, t);
      }
    }
  };
  const period = beatPeriodMs(displayHz, participantHz);
  let beat = 0;
  const tick = () => {
    const participant = isParticipantBeat(beat, displayHz, participantHz);
    beat++;
    ticks++;
    run({ kind: 'tick', at: sch.now(), participant });
  };
  // As the host does: the space starts and publishes its first pulse, then people come in.
  run({ kind: 'started', at: epoch, pulseSeq: 0 });
  tick();
  sch.every(period, tick, epoch + period);
  for (let d = 0; d < (o.displays ?? 0); d++) run({ kind: 'display-joined', at: epoch, conn: -1 - d });
  for (let i = 0; i < o.crowd.size; i++) run({ kind: 'joined', at: epoch, conn: i, participantId: `p${i}`, tokenHash: `h${i}`, token: '', consent: true });
  const stepMs = o.stepMs ?? 500;
  sch.every(
    stepMs,
    () => {
      const now = sch.now();
      for (const tap of o.crowd.step(now - epoch, shown)) {
        const id = `p${tap.participant}`;
        const seq = (seqs[tap.participant] ?? 0) + 1;
        seqs[tap.participant] = seq;
        taps++;
        o.onTap?.(tap, id, shown, now);
        run({ kind: 'input', at: now, conn: tap.participant, participantId: id, seq, affect: { valence: tap.valence, arousal: tap.arousal, confidence: 1, source: 'tap', at: now }, exposed: tap.seen });
      }
    },
    epoch,
  );
  sch.advance(o.durationMs);
  return { state, participantViews, displayViews, taps, ticks };
}
