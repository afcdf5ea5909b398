/**
 * `npm run bench:privacy` — the differencing attack (PRIVACY.md, SPEC R7) against the real space
 * machine and release stage (src/sim/differencing.ts): in simulated rooms of 10, 50 and 500
 * people, an attacker who sees every release and knows the exact time of one target's tap
 * guesses the target's quadrant and cell. Printed in one run, per room: chance, the exact
 * release of every tick (k = 3, R2 coarsening only: the design before R7), each part of R7 alone
 * and the live release as shipped (defaults), with the display's utility beside each — mean
 * absolute error of the quadrant shares and of the mean against the exact room, and how often
 * the display changes. Each room is watched at the participants' rate (2 Hz) and at the
 * displays' (20 Hz: a display is public too, and a faster release is easier to difference).
 * Three attackers: the last release before the tap against the first different one after it
 * (by counts, by the coordinate sums), and an averaging attacker (the best of w = 2, 4, 8
 * releases on each side, by either: `averaged`).
 *
 * Flags: --tap-mean S (mean seconds between one person's taps, default 20), --minutes N (10),
 * --rooms 10,50,250,500, --hz 2,20, --seeds N (rooms per size, 3), --json FILE. Never fails on a figure.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_RELEASE_POLICY, type ReleasePolicy } from '../src/core/release/release.ts';
import { type DifferencingResult, runDifferencing } from '../src/sim/differencing.ts';

const { values } = parseArgs({
  options: {
    'tap-mean': { type: 'string', default: '20' },
    minutes: { type: 'string', default: '10' },
    rooms: { type: 'string', default: '10,50,250,500' },
    hz: { type: 'string', default: '2,20' },
    seeds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const tapMeanMs = Number(values['tap-mean']) * 1000;
const durationMs = Number(values.minutes) * 60_000;
const rooms = String(values.rooms).split(',').map(Number);
const rates = String(values.hz).split(',').map(Number);
const seeds = Number(values.seeds);

const k = DEFAULT_RELEASE_POLICY.minCohort;
const live = DEFAULT_RELEASE_POLICY.live ?? { batch: k, noise: 0, meanNoise: 0, crowd: undefined };
const crowd = live.crowd;
const designs: readonly { readonly name: string; readonly release: ReleasePolicy }[] = [
  { name: 'exact each tick, k=3 (before R7)', release: { minCohort: 3 } },
  { name: `exact each tick, k=${k}`, release: { minCohort: k } },
  { name: `batch b=${live.batch} only`, release: { minCohort: k, live: { batch: live.batch, noise: 0, meanNoise: 0 } } },
  { name: `noise only σ=${live.noise}/${live.meanNoise}`, release: { minCohort: k, live: { batch: 1, noise: live.noise, meanNoise: live.meanNoise } } },
  ...(crowd ? [{ name: `crowd only: b=${crowd.batch}, σ=${crowd.noise}/${crowd.meanNoise}`, release: { minCohort: k, live: { batch: crowd.batch, noise: crowd.noise, meanNoise: crowd.meanNoise } } }] : []),
  { name: `R7 live (default${crowd ? `, crowd from ${crowd.from}` : ''})`, release: DEFAULT_RELEASE_POLICY },
];

const mean = (rs: readonly DifferencingResult[], f: (r: DifferencingResult) => number) => rs.reduce((s, r) => s + f(r) * r.attacked, 0) / Math.max(1, rs.reduce((s, r) => s + r.attacked, 0));
const avg = (rs: readonly DifferencingResult[], f: (r: DifferencingResult) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`.padStart(8);

const out: unknown[] = [];
console.log(`differencing attack: taps every max(1.5 s, Exp(${tapMeanMs / 1000} s)) per person, ${durationMs / 60_000} min per room, ${seeds} rooms per size, released at ${rates.join(' and ')} Hz`);
console.log(`R7 default: b=${live.batch}, σ=${live.noise}, σμ=${live.meanNoise}${crowd ? `; from ${crowd.from} people b=${crowd.batch}, σ=${crowd.noise}, σμ=${crowd.meanNoise}` : ''}`);
console.log('chance: quadrant 25.0 %, cell 0.4 % (every person’s quadrant is uniform a priori)\n');
for (const people of rooms) for (const hz of rates) {
  console.log(`room of ${people}, released at ${hz} Hz:`);
  console.log(`  ${'design'.padEnd(44)} ${'quadrant'.padStart(8)} ${'by mean'.padStart(8)} ${'averaged'.padStart(8)} ${'fullest'.padStart(8)} ${'cell'.padStart(8)}   MAE shares  MAE mean  updates/s  suppressed  trials`);
  for (const d of designs) {
    const rs = Array.from({ length: seeds }, (_, s) => runDifferencing({ people, tapMeanMs, durationMs, warmupMs: Math.min(120_000, durationMs / 4), release: d.release, seed: `privacy-${people}-${s}`, hz }));
    const row = {
      people,
      hz,
      design: d.name,
      quadrant: mean(rs, (r) => r.quadrant),
      quadrantByMean: mean(rs, (r) => r.quadrantByMean),
      quadrantAveraged: mean(rs, (r) => r.quadrantAveraged),
      prior: mean(rs, (r) => r.prior),
      cell: mean(rs, (r) => r.cell),
      maeShares: avg(rs, (r) => r.maeShares),
      maeMean: avg(rs, (r) => r.maeMean),
      updatesPerSecond: avg(rs, (r) => r.updatesPerSecond),
      suppressedShare: avg(rs, (r) => r.suppressedShare),
      attacked: rs.reduce((s, r) => s + r.attacked, 0),
    };
    out.push(row);
    console.log(
      `  ${d.name.padEnd(44)} ${pct(row.quadrant)} ${pct(row.quadrantByMean)} ${pct(row.quadrantAveraged)} ${pct(row.prior)} ${pct(row.cell)}   ${row.maeShares.toFixed(4).padStart(10)}  ${row.maeMean.toFixed(4).padStart(8)}  ${row.updatesPerSecond.toFixed(2).padStart(9)}  ${pct(row.suppressedShare)}  ${String(row.attacked).padStart(6)}`,
    );
  }
  console.log('');
}
console.log('quadrant: the quadrant whose released count rose most; by mean: the quadrant the released coordinate sums moved toward;');
console.log('averaged: either guess from the mean of w releases on each side of the tap, the best of w = 2, 4, 8 and both guesses;');
console.log('fullest: the fullest released quadrant after the tap, without differencing; MAE against the exact live room, per released tick.');
if (values.json) writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
