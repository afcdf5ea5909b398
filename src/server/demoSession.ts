/**
 * Demo sessions for `attune play --demo SCENARIO`: a simulator scenario (src/sim/scenarios.ts)
 * run on a real space host under a manual scheduler into an in-memory store, which records it
 * exactly as a live server records a room (SPEC M6). Deterministic for the scenario and seed,
 * so a demo is the same session every time it is "shipped" — it is regenerated, not stored.
 */
import { LocalBus } from '../bus/local/localBus.ts';
import { loadSession, type RecordedSession } from '../space/rehearse.ts';
import { Crowd } from '../sim/crowd.ts';
import { driveCrowdOnHost } from '../sim/hostCrowd.ts';
import type { ScenarioName } from '../sim/scenarios.ts';
import { ManualScheduler } from '../space/scheduler.ts';
import { SpaceHost } from '../space/spaceHost.ts';
import { MemoryStorage } from '../storage/memory/memoryStorage.ts';
import { MemoryGovernance } from './createServer.ts';

/** Settings of a demo recording. */
export interface DemoOptions {
  readonly scenario: ScenarioName;
  readonly participants?: number;
  readonly durationMs?: number;
  readonly seed?: string;
  /** Epoch ms the recording starts at (default 1.7e12). */
  readonly epoch?: number;
}

/** Records a simulated room and returns its session. */
export async function recordDemoSession(o: DemoOptions): Promise<RecordedSession> {
  const epoch = o.epoch ?? 1_700_000_000_000;
  const participants = o.participants ?? 120;
  const durationMs = o.durationMs ?? 180_000;
  const scheduler = new ManualScheduler(epoch);
  const storage = new MemoryStorage();
  const host = new SpaceHost({ storage, bus: new LocalBus(), governance: new MemoryGovernance(), scheduler, report: () => {} });
  const made = await host.createSpace({ name: `demo: ${o.scenario}`, capacity: participants + 10, ttlSeconds: 120 });
  if (!made.ok) throw new Error(made.message);
  const { code, id } = made.value.space;
  const crowd = new Crowd({ seed: o.seed ?? `demo-${o.scenario}`, participants, durationMs, scenario: o.scenario });
  await driveCrowdOnHost({ host, scheduler, code, spaceId: id, crowd, epoch });
  scheduler.advance(durationMs);
  await host.stop();
  const session = await loadSession(storage, code);
  if (!session) throw new Error('the demo recording is missing');
  return session;
}
