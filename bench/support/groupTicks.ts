/**
 * `bench:pulse` row: the space machine's tick with 8 declared groups beside the same room with
 * none (the baseline), in the same run — the release of the room (R2), of every group with
 * complementary suppression and joint coarsening (R6), and the bridging measures; and the same
 * room ticking with no input in between (the groups' release is reused). Pure core,
 * one core, 16 × 16 bins, k = 3, 1 % of people re-tap between ticks. Figures only, never a verdict.
 */
import type { Affect } from '../../src/core/affect.ts';
import { createRng } from '../../src/core/collective/prng.ts';
import { DEFAULT_RELEASE_POLICY, type ReleasePolicy } from '../../src/core/release/release.ts';
import { createSpaceState, restoreParticipant, type SpaceState, step } from '../../src/core/space/machine.ts';

const GROUPS = ['north', 'south', 'east', 'west', 'centre', 'river', 'hill', 'market'];

/** Mean µs per tick of a machine whose people are spread over `groups` groups (0 = none). */
function ticks(n: number, groups: number, count: number, churning = true, release: ReleasePolicy = { minCohort: 3 }): number {
  const g = createRng(`groups-${n}`);
  const r = () => g.next();
  const space = { id: `bench-${groups}`, code: 'BENCH234', name: 'bench', capacity: n, ttlMs: 3_600_000, ...(groups ? { groups: GROUPS.slice(0, groups) } : {}) };
  const s: SpaceState = createSpaceState({ ...space, noiseSeed: '5e'.repeat(32) }, { collective: false, heart: false, release });
  const affect = (v: number, a: number, at: number): Affect => ({ valence: v, arousal: a, confidence: 1, source: 'tap', at });
  // Group i gets a share ∝ 1/(i+1) (some groups large, the last few small), its people around a centre of its own.
  const weights = GROUPS.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((x, y) => x + y, 0);
  const groupOf = () => {
    let u = r() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i] as number;
      if (u <= 0) return i;
    }
    return 0;
  };
  const point = (i: number) => {
    const cx = Math.cos(i) * 0.5;
    const cy = Math.sin(i) * 0.5;
    return [Math.max(-1, Math.min(1, cx + (r() - 0.5) * 0.8)), Math.max(-1, Math.min(1, cy + (r() - 0.5) * 0.8))] as const;
  };
  const member: number[] = [];
  for (let p = 0; p < n; p++) {
    const gi = groupOf();
    member.push(gi);
    const [v, a] = point(gi);
    restoreParticipant(s, `p${p}`, 1, affect(v, a, 0), groups ? (GROUPS[gi] ?? null) : null);
  }
  step(s, { kind: 'started', at: 0, pulseSeq: 0 });
  const churn = churning ? Math.max(1, Math.floor(n / 100)) : 0;
  let ms = 0;
  let sink = 0;
  for (let k = 1; k <= count; k++) {
    for (let j = 0; j < churn; j++) {
      const p = Math.floor(r() * n);
      const [v, a] = point(member[p] as number);
      s.pulse.upsert(`p${p}`, affect(v, a, k), k, groups ? (member[p] as number) : -1);
    }
    const t0 = performance.now();
    const out = step(s, { kind: 'tick', at: k, participant: true });
    ms += performance.now() - t0;
    sink += out.effects.length;
  }
  if (sink === 0) console.log('');
  return (ms * 1000) / count;
}

/** Prints the row: tick cost with 8 groups beside none. */
export function groupTickBench(): void {
  console.log('\n## Space machine tick with 8 groups beside none (release R2 + R6 + bridging; one core, 16×16 bins, k = 3)\n');
  console.log('| participants | no groups (µs/tick) | 8 groups (µs/tick) | 8 groups / none | 8 groups, no input since the last tick (µs/tick) |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const n of [1_000, 10_000]) {
    ticks(n, 0, 100); // warm-up
    ticks(n, 8, 100);
    const none = ticks(n, 0, 1000);
    const eight = ticks(n, 8, 1000);
    const still = ticks(n, 8, 1000, false);
    console.log(`| ${n.toLocaleString('en')} | ${none.toFixed(1)} | ${eight.toFixed(1)} | ${(eight / none).toFixed(2)}× | ${still.toFixed(1)} |`);
  }
}

/**
 * Prints the row: the whole machine tick (measure, release, publish effect) under the default
 * release (k = 5, R7: batches below 200 people, the crowd setting above) beside the same room
 * released exactly at k = 3 (R2 only, the release before R7), in the same run.
 */
export function releaseTickBench(): void {
  console.log('\n## Space machine tick, default release (R7) beside R2 only (one core, 16×16 bins, no groups, 1 % of people re-tap between ticks)\n');
  console.log('| participants | R2 only, k = 3 (µs/tick) | R7 default, k = 5 (µs/tick) | R7 / R2 |');
  console.log('|---:|---:|---:|---:|');
  for (const n of [1_000, 10_000, 100_000]) {
    const count = n >= 100_000 ? 200 : 1000;
    ticks(n, 0, 100);
    ticks(n, 0, 100, true, DEFAULT_RELEASE_POLICY);
    const r2 = ticks(n, 0, count);
    const r7 = ticks(n, 0, count, true, DEFAULT_RELEASE_POLICY);
    console.log(`| ${n.toLocaleString('en')} | ${r2.toFixed(1)} | ${r7.toFixed(1)} | ${(r7 / r2).toFixed(2)}× |`);
  }
}
