/**
 * `npm run bench:policy` — what council policies cost the space machine per participant tick
 * (SPEC Q6): the same room (300 people, collective tracker on, every tick after fresh inputs) is
 * ticked with 0, 1, 10 and 50 active policies in one run, interleaved in rounds so that machine
 * load affects every configuration alike. Each policy is a realistic expression that reads the
 * pulse, the collective state and the history and is never true (so every tick evaluates all of
 * them). Prints the median tick cost per configuration, the policies' share (tick − baseline) and
 * the evaluation alone (`decide`), beside the baseline from the same run. Never fails on a time.
 *
 *   npm run bench:policy [-- --people 300 --ticks 300 --rounds 5]
 */
import { parseArgs } from 'node:util';
import { checkRules } from '../src/core/policy/council.ts';
import { decide } from '../src/core/policy/governance.ts';
import { policyJson } from '../src/core/policy/policyJson.ts';
import type { Effect, SpaceAct } from '../src/core/space/events.ts';
import { createSpaceState, type SpaceState, step } from '../src/core/space/machine.ts';

const { values } = parseArgs({ options: { people: { type: 'string', default: '300' }, ticks: { type: 'string', default: '300' }, rounds: { type: 'string', default: '5' } } });
const PEOPLE = Number(values.people);
const TICKS = Number(values.ticks);
const ROUNDS = Number(values.rounds);
const CONFIGS = [0, 1, 10, 50] as const;

function act(s: SpaceState, a: SpaceAct, at: number): void {
  const queue: Effect[] = [...step(s, { kind: 'act-requested', at, act: a, reply: 1 }).effects];
  for (let fx = queue.shift(); fx; fx = queue.shift()) if (fx.type === 'logAct') queue.push(...step(s, fx.next).effects);
}

function room(policies: number): SpaceState {
  const s = createSpaceState({ id: `bench-${policies}`, code: 'BENCH234', name: 'bench', capacity: 100_000, ttlMs: 3_600_000 }, { release: { minCohort: 3 } });
  step(s, { kind: 'started', at: 0, pulseSeq: 0 });
  const rules = checkRules({ quorum: 1 });
  if (!rules.ok) throw new Error(rules.message);
  act(s, { kind: 'council-create', councilId: 'c', rules: rules.rules }, 1);
  act(s, { kind: 'member-add', memberId: 'm', name: 'M', tokenHash: 'h' }, 1);
  for (let i = 0; i < policies; i++) {
    const when = `(pulse.collective.dissonance > ${(1.5 + i / 100).toFixed(3)} && history.dissonance[5] > 0.5) || (pulse.mean.arousal > 1.5 && pulse.count > ${i}.0) || history.arousal[${i % 30}] - history.arousal[0] > 3.0`;
    act(s, { kind: 'policy-propose', proposalId: `p${i}`, by: 'm', policy: policyJson({ name: `policy ${i}`, when, action: { feedback: { mode: 'calm', minutes: 5 } } }) }, 2);
    act(s, { kind: 'policy-vote', proposalId: `p${i}`, memberId: 'm', vote: 'yes' }, 2);
  }
  if (s.gov.compiled.length !== policies) throw new Error(`expected ${policies} active policies, got ${s.gov.compiled.length}`);
  for (let p = 0; p < PEOPLE; p++) step(s, { kind: 'joined', at: 3, conn: p + 10, participantId: `p${p}`, tokenHash: `t${p}`, token: '', consent: true });
  return s;
}

let seed = 7;
const rnd = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

const rooms = new Map(CONFIGS.map((n) => [n, room(n)]));
const seqs = new Map(CONFIGS.map((n) => [n, 0]));
const clock = new Map(CONFIGS.map((n) => [n, 1000]));
const tickMs = new Map<number, number[]>(CONFIGS.map((n) => [n, []]));
const decideMs = new Map<number, number[]>(CONFIGS.map((n) => [n, []]));

for (let r = 0; r < ROUNDS; r++) {
  for (const n of CONFIGS) {
    const s = rooms.get(n) as SpaceState;
    let seq = seqs.get(n) as number;
    let at = clock.get(n) as number;
    let ticks = 0;
    let decides = 0;
    for (let t = 0; t < TICKS; t++) {
      // A tenth of the room moves before each tick, so the aggregate changes as in a live room.
      seq++;
      for (let k = 0; k < PEOPLE / 10; k++) {
        const p = Math.floor(rnd() * PEOPLE);
        step(s, { kind: 'input', at, conn: p + 10, participantId: `p${p}`, seq: seq * PEOPLE + p, affect: { valence: rnd() * 2 - 1, arousal: rnd() * 2 - 1, confidence: 1, source: 'tap', at }, exposed: false });
      }
      at += 500;
      const t0 = performance.now();
      step(s, { kind: 'tick', at, participant: true });
      ticks += performance.now() - t0;
      // The evaluation alone, over the view that tick published (decide records one more history point).
      const view = s.lastView;
      if (view) {
        const d0 = performance.now();
        decide(s.gov, view, at, []);
        decides += performance.now() - d0;
      }
    }
    seqs.set(n, seq);
    clock.set(n, at);
    tickMs.get(n)?.push(ticks / TICKS);
    decideMs.get(n)?.push(decides / TICKS);
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const base = median(tickMs.get(0) ?? []);
console.log(`bench:policy — ${PEOPLE} people, ${TICKS} participant ticks × ${ROUNDS} rounds per configuration, interleaved; medians of the rounds`);
console.log('active policies | tick ms (incl. evaluation) | × baseline | tick − baseline ms | evaluation alone ms (decide)');
for (const n of CONFIGS) {
  const t = median(tickMs.get(n) ?? []);
  const d = median(decideMs.get(n) ?? []);
  console.log(`${String(n).padStart(15)} | ${t.toFixed(4).padStart(26)} | ${(t / base).toFixed(2).padStart(10)} | ${(t - base).toFixed(4).padStart(18)} | ${d.toFixed(4).padStart(28)}`);
}
console.log(`aim (issue 11): 50 policies ≤ 0.2 ms of evaluation per tick on one core — measured here: ${median(decideMs.get(50) ?? []).toFixed(4)} ms`);
