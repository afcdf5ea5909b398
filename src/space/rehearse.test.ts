import { describe, expect, it } from 'vitest';
import { LocalBus } from '../bus/local/localBus.ts';
import type { PulseView } from '../core/space/events.ts';
import { createSpaceState, step } from '../core/space/machine.ts';
import { encodeView, eventOf, recordedOptions } from '../core/space/record.ts';
import { hashPulse } from '../space/spaceHost.ts';
import { MemoryGovernance } from '../server/createServer.ts';
import { recordDemoSession } from '../server/demoSession.ts';
import { ManualScheduler } from '../space/scheduler.ts';
import { SpaceHost, subjects } from '../space/spaceHost.ts';
import { MemoryStorage } from '../storage/memory/memoryStorage.ts';
import { planOf, rehearse } from './rehearse.ts';

const reports: string[] = [];
const strip = (v: PulseView) => encodeView({ ...v, space: '' });

/** A host whose participant pulses (the recorded audience) are collected. */
function hostAt(t: number) {
  const scheduler = new ManualScheduler(t);
  const bus = new LocalBus();
  const host = new SpaceHost({ storage: new MemoryStorage(), bus, governance: new MemoryGovernance(), scheduler, report: (what, e) => reports.push(`${what}: ${String(e)}`) });
  return { scheduler, bus, host };
}

describe('rehearsal', () => {
  it('[RH1] a recorded session played into a new space publishes the recorded pulses, pulse for pulse', async () => {
    const durationMs = 60_000;
    const session = await recordDemoSession({ scenario: 'surge', participants: 50, durationMs, epoch: 1_700_000_000_000 });
    // What the recording published to participants, recomputed by the replay fold (record.ts).
    const plan = planOf(session);
    expect(plan.steps.filter((s) => s.kind === 'join')).toHaveLength(50);
    expect(plan.steps.filter((s) => s.kind === 'input').length).toBeGreaterThan(100);

    // The recorded pulses: the session folded through the machine as `attune replay` folds it,
    // each checked against the hash the live host recorded when it published it.
    const recorded: string[] = [];
    const sp = session.space;
    const state = createSpaceState({ id: sp.id, code: sp.code, name: sp.name, capacity: sp.capacity, ttlMs: sp.ttlMs, ...(session.noiseSeed ? { noiseSeed: session.noiseSeed } : {}) }, recordedOptions(session.events as never) ?? {});
    let i = 0;
    let checked = 0;
    for (const rec of session.events) {
      while (i < session.inputs.length && (session.inputs[i]?.n ?? 0) < rec.n) {
        const x = session.inputs[i++];
        if (x) step(state, { kind: 'input', at: x.affect.at, conn: 0, participantId: x.participantId, seq: x.seq, affect: x.affect, exposed: x.exposed });
      }
      for (const fx of step(state, eventOf(rec)).effects) {
        if (fx.type !== 'publish') continue;
        if (rec.kind === 'tick') {
          expect(hashPulse(encodeView(fx.view))).toBe((JSON.parse(rec.body ?? '{}') as { hash: string }).hash);
          checked++;
        }
        if (fx.participants) recorded.push(strip(fx.view));
      }
    }
    expect(checked).toBeGreaterThan(100);
    const played: string[] = [];
    const { scheduler, bus, host } = hostAt(plan.startAt);
    let ended = false;
    const r = await rehearse({ host, scheduler, session, onEnd: () => (ended = true) });
    expect(r.space.name).toBe('rehearsal: demo: surge');
    bus.subscribe(subjects.participantPulse(r.space.id), (b) => played.push(strip(JSON.parse(new TextDecoder().decode(b)) as PulseView)));
    scheduler.advance(durationMs);
    expect(ended).toBe(true);
    expect(r.played()).toBe(r.steps);
    await host.stop();
    expect(played.length).toBeGreaterThan(100);
    expect(played).toEqual(recorded);
    expect(reports).toEqual([]);
  });
});
