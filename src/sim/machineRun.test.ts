import { describe, expect, it } from 'vitest';
import { LocalBus } from '../bus/local/localBus.ts';
import type { PulseView } from '../core/space/events.ts';
import { encodeView } from '../core/space/record.ts';
import { MemoryGovernance } from '../server/createServer.ts';
import { ManualScheduler } from '../space/scheduler.ts';
import { SpaceHost, subjects } from '../space/spaceHost.ts';
import { MemoryStorage } from '../storage/memory/memoryStorage.ts';
import { Crowd } from './crowd.ts';
import { driveCrowdOnHost } from './hostCrowd.ts';
import { runCrowdOnMachine } from './machineRun.ts';

const EPOCH = 1_700_000_000_000;
const CROWD = { seed: 'machine-run', participants: 120, durationMs: 90_000, scenario: 'surge' as const };
const strip = (v: PulseView) => encodeView({ ...v, space: '' });

describe('the simulator on the space machine', () => {
  it('[M1][M9] publishes, pulse for pulse, what the host publishes for the same crowd', async () => {
    const viaMachine: string[] = [];
    const noiseSeed = '4e'.repeat(32);
    runCrowdOnMachine({ crowd: new Crowd(CROWD), durationMs: CROWD.durationMs, epoch: EPOCH, noiseSeed, onParticipantView: (v) => viaMachine.push(strip(v)) });

    const scheduler = new ManualScheduler(EPOCH);
    const host = new SpaceHost({ storage: new MemoryStorage(), bus: new LocalBus(), governance: new MemoryGovernance(), scheduler, report: () => {} });
    const made = await host.createSpace({ name: 'compare', capacity: CROWD.participants + 10, ttlSeconds: 120, noiseSeed });
    if (!made.ok) throw new Error(made.message);
    const viaHost: string[] = [];
    host.bus.subscribe(subjects.participantPulse(made.value.space.id), (bytes) => viaHost.push(strip(JSON.parse(new TextDecoder().decode(bytes)) as PulseView)));
    await driveCrowdOnHost({ host, scheduler, code: made.value.space.code, spaceId: made.value.space.id, crowd: new Crowd(CROWD), epoch: EPOCH });
    scheduler.advance(CROWD.durationMs);
    await host.stop();
    // The host's first pulse went out before anyone joined (at creation); the machine run's
    // first view likewise. From then on every participant pulse must be the same.
    expect(viaMachine.length).toBeGreaterThan(150);
    expect(viaHost.length).toBe(viaMachine.length);
    expect(viaHost).toEqual(viaMachine);
  });

  it('[S3a] the crowd is pulled toward what the server shows: the released smoothed mean', () => {
    const shownAtTaps: ({ valence: number; arousal: number } | null)[] = [];
    const views: PulseView[] = [];
    runCrowdOnMachine({ crowd: new Crowd({ ...CROWD, durationMs: 20_000 }), durationMs: 20_000, onParticipantView: (v) => views.push(v), onTap: (_t, _id, shown) => shownAtTaps.push(shown) });
    const smoothed = new Set(views.map((v) => JSON.stringify(v.smoothed)));
    expect(shownAtTaps.length).toBeGreaterThan(100);
    for (const s of shownAtTaps) expect(s === null || smoothed.has(JSON.stringify(s))).toBe(true);
  });
});
