/**
 * A simulated crowd stepped into a running space host, in process and without sockets: each
 * person is a host connection that joins with consent, taps as `input` with increasing `seq`
 * and the protocol's `seen` flag, and is pulled toward what the server shows (the released
 * participant pulse's smoothed mean). Time is the host's scheduler — a manual one records a
 * room in seconds (demo sessions, the display benchmark, the host-vs-machine test).
 */
import type { Cancel, Scheduler } from '../space/scheduler.ts';
import { type SpaceHost, subjects } from '../space/spaceHost.ts';
import type { Crowd } from './crowd.ts';

/** Where the crowd goes. */
export interface HostCrowdOptions {
  readonly host: SpaceHost;
  readonly scheduler: Scheduler;
  /** The space's join code and id. */
  readonly code: string;
  readonly spaceId: string;
  readonly crowd: Crowd;
  /** Time 0 of the crowd's script, epoch ms. */
  readonly epoch: number;
  /** How often the crowd moves, ms (default 500). */
  readonly stepMs?: number;
}

/** Joins every person of the crowd and schedules its steps; cancel to stop tapping. */
export async function driveCrowdOnHost(o: HostCrowdOptions): Promise<Cancel> {
  const { host, crowd, scheduler } = o;
  const refs: number[] = [];
  for (let i = 0; i < crowd.size; i++) {
    const ref = host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
    refs.push(ref);
    await host.join(ref, o.code, 'participant', true);
  }
  const seqs = new Array<number>(crowd.size).fill(0);
  let shown: { valence: number; arousal: number } | null = null;
  const watch = host.bus.subscribe(subjects.participantPulse(o.spaceId), (b) => {
    shown = (JSON.parse(new TextDecoder().decode(b)) as { smoothed: typeof shown }).smoothed;
  });
  const steps = scheduler.every(
    o.stepMs ?? 500,
    () => {
      for (const tap of crowd.step(scheduler.now() - o.epoch, shown)) {
        const seq = (seqs[tap.participant] ?? 0) + 1;
        seqs[tap.participant] = seq;
        host.input(refs[tap.participant] as number, { t: 'input', seq, valence: tap.valence, arousal: tap.arousal, confidence: 1, source: 'tap' }, tap.seen);
      }
    },
    o.epoch,
  );
  return {
    cancel: () => {
      steps.cancel();
      watch.dispose();
    },
  };
}
