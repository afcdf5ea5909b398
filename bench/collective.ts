/**
 * `npm run bench:collective` — are attune's alerts right *when they are raised*? Runs seeded
 * rooms in process (simulated crowd → the server's own space machine, src/sim/machineRun.ts, at
 * its 2 Hz participant beat on the manual scheduler) and scores:
 *
 * - **online**: each alert at the 1-s window in which it was first published (`raisedAt`), with
 *   the TCPDBench F1 (van den Burg & Williams 2020; src/sim/evaluate.ts), margin 5 windows = 5 s;
 *   beside it the **retrospective** score of the same alerts dated by `startedAt`;
 * - delay from the true change to the raise (per kind of change), false alarms per 1,000 windows
 *   on calm and drifting rooms, camp-count accuracy, trends on drifting rooms;
 * - a plain one-statistic CUSUM baseline in the same run: a standardised tabular CUSUM
 *   (k = 0.5, h = 45 — the best online F1 on the tune-* seeds over h ∈ {5, 8, 12, 20, 30, 45, 70};
 *   --cusum-h to change; μ and σ ≥ 0.01 learnt over the first 60 windows, μ re-learnt over 10
 *   windows after each alarm) on the pulse's released unpleasant-energised share, one value per
 *   window;
 * - the previous detector (v1, `surge.ts`: 5-s windows, CUSUM + EWMA + BOCPD per metric, two
 *   confirming windows, one alert per metric), on the same rooms.
 *
 * Two disjoint seed sets: `tune-*` (the defaults in src/core/collective were set on these) and
 * `eval-*` (held out; reported as such). Default: both. Flags: --set tune|eval|both,
 * --rooms N (per set, default 24), --participants N (300), --minutes N (10), --json <file>.
 * It prints figures and never fails on a figure or a time.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_SURGE_OPTIONS, SurgeMonitor } from '../src/core/collective/surge.ts';
import { fMeasure, truePositives } from '../src/sim/evaluate.ts';
import { type InProcessResult, runInProcess } from '../src/sim/runInProcess.ts';
import type { ScenarioName } from '../src/sim/scenarios.ts';

const { values } = parseArgs({
  options: {
    set: { type: 'string', default: 'both' },
    rooms: { type: 'string', default: '24' },
    participants: { type: 'string', default: '300' },
    minutes: { type: 'string', default: '10' },
    json: { type: 'string' },
    'cusum-h': { type: 'string', default: '45' },
  },
});

const MARGIN = 5; // windows of 1 s
const CUSUM_H = Number(values['cusum-h']);
const SETTLE_WINDOWS = 10; // camp accuracy "settled": skip 10 s after each true change of camp count
const MIX: readonly ScenarioName[] = ['calm', 'surge', 'split2', 'split3', 'split', 'drift'];
const rooms = Math.max(1, Number(values.rooms));
const participants = Math.max(5, Number(values.participants));
const durationMs = Math.max(1, Number(values.minutes)) * 60_000;
const sets = values.set === 'both' ? ['tune', 'eval'] : [String(values.set)];

interface Detection {
  readonly raised: number;
  readonly start: number;
}

/** The baseline: tabular CUSUM on the standardised UE share (μ, σ from the first 60 windows). */
function cusumBaseline(r: InProcessResult): Detection[] {
  const xs = r.windows.map((w) => w.metrics?.[3] ?? null);
  const out: Detection[] = [];
  const learn = xs.slice(0, 60).filter((x): x is number => x !== null);
  if (learn.length < 10) return out;
  let mu = learn.reduce((a, b) => a + b, 0) / learn.length;
  const sd = Math.max(0.01, Math.sqrt(learn.reduce((a, b) => a + (b - mu) ** 2, 0) / (learn.length - 1)));
  let up = 0;
  let lo = 0;
  let upFrom = 60;
  let loFrom = 60;
  let relearnUntil = -1;
  const relearn: number[] = [];
  for (let i = 60; i < xs.length; i++) {
    const x = xs[i];
    if (x === null || x === undefined) continue;
    if (i < relearnUntil) {
      // After an alarm: re-learn the level over 10 windows, then watch again.
      relearn.push(x);
      mu = relearn.reduce((a, b) => a + b, 0) / relearn.length;
      upFrom = i + 1;
      loFrom = i + 1;
      continue;
    }
    const z = (x - mu) / sd;
    up = Math.max(0, up + z - 0.5);
    lo = Math.max(0, lo - z - 0.5);
    if (up === 0) upFrom = i + 1;
    if (lo === 0) loFrom = i + 1;
    if (up > CUSUM_H || lo > CUSUM_H) {
      out.push({ raised: i, start: up > CUSUM_H ? upFrom : loFrom });
      relearnUntil = i + 11; // restart on the new level
      relearn.length = 0;
      up = 0;
      lo = 0;
      upFrom = i + 1;
      loFrom = i + 1;
    }
  }
  return out;
}

/**
 * The previous detector (v1, src/core/collective/surge.ts): 5-s window means of the released
 * shares and the mean arousal, one SurgeMonitor per metric, an alert per metric, raised when its
 * window closes.
 */
function v1Detections(r: InProcessResult): Detection[] {
  let n = 0;
  const monitors = [0, 1, 2, 3, 4].map((m) => new SurgeMonitor(`m${m}`, DEFAULT_SURGE_OPTIONS, () => `v${++n}`));
  const out: Detection[] = [];
  const per = Math.round(DEFAULT_SURGE_OPTIONS.windowMs / r.windowMs);
  for (let w0 = 0; w0 + per <= r.windows.length; w0 += per) {
    const ws = r.windows.slice(w0, w0 + per).filter((w) => w.metrics);
    if (ws.length === 0) continue;
    monitors.forEach((mon, m) => {
      const x = ws.reduce((a, w) => a + ((w.metrics as readonly number[])[m] as number), 0) / ws.length;
      const step = mon.observe(r.epoch + w0 * r.windowMs, x, r.epoch + (w0 + per) * r.windowMs);
      if (step.raised) out.push({ raised: w0 + per, start: Math.floor((step.raised.startedAt - r.epoch) / r.windowMs) });
    });
  }
  return out;
}

interface RoomScore {
  readonly scenario: ScenarioName;
  readonly f1Online: number;
  readonly f1Retro: number;
  readonly tp: number;
  readonly truths: number;
  readonly predictions: number;
  readonly falseAlarms: number;
  readonly delays: { kind: string; s: number }[];
}

function scoreRoom(scenario: ScenarioName, truth: readonly number[], kinds: readonly string[], dets: readonly Detection[]): RoomScore {
  const raised = [...new Set(dets.map((d) => d.raised))];
  const starts = [...new Set(dets.map((d) => d.start))];
  const on = fMeasure(truth, raised, MARGIN);
  const retro = fMeasure(truth, starts, MARGIN);
  const { matched } = truePositives(truth, raised, MARGIN);
  const delays = [...matched.entries()].map(([tau, x]) => ({ kind: kinds[truth.indexOf(tau)] ?? '?', s: x - tau }));
  return { scenario, f1Online: on.f1, f1Retro: retro.f1, tp: matched.size, truths: truth.length, predictions: raised.length, falseAlarms: raised.length - matched.size, delays };
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const quantile = (xs: readonly number[], q: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};
const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : '—');
const out = process.stdout;
const line = (label: string, x: string, y: string, z = ''): void => {
  out.write(`  ${label.padEnd(60)} ${x.padEnd(16)} ${z ? `${y.padEnd(23)} ${z}` : y}\n`);
};
const report: Record<string, unknown> = {};

for (const set of sets) {
  const t0 = performance.now();
  const ours: RoomScore[] = [];
  const base: RoomScore[] = [];
  const v1: RoomScore[] = [];
  let quietV1False = 0;
  let windows = 0;
  let quietWindows = 0;
  let quietFalse = 0;
  let quietBaseFalse = 0;
  let campHits = 0;
  let campSettled = 0;
  let campSettledHits = 0;
  let campNoHyst = 0;
  let ticks = 0;
  const flips = { shown: 0, winner: 0, truth: 0 };
  const msgs = { raised: 0, updated: 0, cleared: 0 };
  const probTrue: number[] = [];
  const probFalse: number[] = [];
  const drift = { rooms: 0, withTrend: 0, delays: [] as number[], trendsElsewhere: 0, rates: [] as string[] };
  const rows: string[] = [];
  for (let i = 0; i < rooms; i++) {
    const scenario = MIX[i % MIX.length] as ScenarioName;
    const seed = `${set}-${i}`;
    const r = runInProcess({ seed, scenario, participants, durationMs });
    ticks += r.ticks;
    const W = r.windowMs;
    const truth = r.truth.changePoints.map((c) => Math.floor(c.atMs / W));
    const kinds = r.truth.changePoints.map((c) => c.phase);
    const dets = r.alerts.map((a) => ({ raised: Math.floor((a.raisedAt - r.epoch) / W), start: Math.floor((a.startedAt - r.epoch) / W) }));
    const mine = scoreRoom(scenario, truth, kinds, dets);
    const theirs = scoreRoom(scenario, truth, kinds, cusumBaseline(r));
    const old = scoreRoom(scenario, truth, kinds, v1Detections(r));
    v1.push(old);
    ours.push(mine);
    base.push(theirs);
    const { matched } = truePositives(truth, [...new Set(dets.map((d) => d.raised))], MARGIN);
    const hit = new Set(matched.values());
    for (const a of r.alerts) (hit.has(Math.floor((a.raisedAt - r.epoch) / W)) ? probTrue : probFalse).push(a.probability);
    windows += r.windows.length;
    if (scenario === 'calm' || scenario === 'drift') {
      quietWindows += r.windows.length;
      quietFalse += mine.falseAlarms;
      quietBaseFalse += theirs.falseAlarms;
      quietV1False += old.falseAlarms;
    }
    msgs.raised += r.messages.raised;
    msgs.updated += r.messages.updated;
    msgs.cleared += r.messages.cleared;
    flips.shown += r.flips.shown;
    flips.winner += r.flips.winner;
    flips.truth += r.flips.truth;
    if (scenario === 'drift') {
      drift.rooms++;
      const tr = r.truth.trends[0];
      const seen = tr ? r.trends.find((x) => x.raisedAt - r.epoch >= tr.startMs && x.raisedAt - r.epoch <= tr.endMs + 30_000) : undefined;
      if (tr && seen) {
        drift.withTrend++;
        drift.delays.push((seen.raisedAt - r.epoch - tr.startMs) / 1000);
        drift.rates.push(seen.metrics.map((m) => `${m.metric} ${m.ratePerMin >= 0 ? '+' : ''}${m.ratePerMin.toFixed(2)}/min`).join(', '));
      }
    } else drift.trendsElsewhere += r.trends.length;
    const changes: number[] = [];
    r.windows.forEach((w, j) => {
      if (j > 0 && w.trueCamps !== (r.windows[j - 1] as (typeof r.windows)[number]).trueCamps) changes.push(w.window);
    });
    let hits = 0;
    for (const w of r.windows) {
      const ok = w.shownCamps === w.trueCamps;
      if (ok) hits++;
      if (w.winnerK === w.trueCamps) campNoHyst++;
      if (!changes.some((c) => w.window >= c && w.window < c + SETTLE_WINDOWS)) {
        campSettled++;
        if (ok) campSettledHits++;
      }
    }
    campHits += hits;
    rows.push(
      `  ${seed.padEnd(8)} ${scenario.padEnd(7)} truth=[${truth.join(',')}] raised=[${dets.map((d) => d.raised).join(',')}] started=[${dets.map((d) => d.start).join(',')}] F1 ${fmt(mine.f1Online, 2)} (retro ${fmt(mine.f1Retro, 2)}, CUSUM ${fmt(theirs.f1Online, 2)}) camps ${fmt(hits / r.windows.length, 3)}${r.trends.length ? ` trends ${r.trends.length}` : ''}`,
    );
  }
  const elapsed = (performance.now() - t0) / 1000;
  const summary = (s: RoomScore[]) => {
    const delays = s.flatMap((x) => x.delays.map((d) => d.s));
    const tp = s.reduce((a, x) => a + x.tp, 0);
    const truths = s.reduce((a, x) => a + x.truths, 0);
    const preds = s.reduce((a, x) => a + x.predictions, 0);
    const fa = s.reduce((a, x) => a + x.falseAlarms, 0);
    const byKind = (k: string) => s.flatMap((x) => x.delays.filter((d) => d.kind === k).map((d) => d.s));
    return {
      f1Online: mean(s.map((x) => x.f1Online)),
      f1Retro: mean(s.map((x) => x.f1Retro)),
      precision: preds ? tp / preds : Number.NaN,
      recall: truths ? tp / truths : Number.NaN,
      detected: `${tp}/${truths}`,
      predictions: preds,
      falseAlarms: fa,
      falseAlarmsPer1000: (1000 * fa) / windows,
      delayMedian: quantile(delays, 0.5),
      delayMean: mean(delays),
      delayP90: quantile(delays, 0.9),
      delaySurge: quantile(byKind('surge'), 0.5),
      delaySplit: quantile(byKind('split'), 0.5),
      delayHealing: quantile(byKind('healing'), 0.5),
    };
  };
  const a = summary(ours);
  const b = summary(base);
  const c = summary(v1);
  const held = set === 'eval' ? 'held out: not used for tuning' : 'the defaults were tuned on these';
  out.write(`\n=== ${set}-* seeds (${held}): ${rooms} rooms × ${participants} people × ${durationMs / 60_000} min, ${windows} windows of 1 s, ${ticks} ticks at 2 Hz, ${fmt(elapsed, 1)} s ===\n`);
  for (const r of rows) out.write(`${r}\n`);
  out.write('\n  Changes (TCPDBench F1, margin 5 windows = 5 s; mean over rooms)       attune           plain CUSUM (UE share)  v1 windows (surge.ts)\n');
  const three = (label: string, f: (x: ReturnType<typeof summary>) => string) => line(label, f(a), f(b), f(c));
  three('F1 online (at raisedAt: what anyone sees live)', (x) => fmt(x.f1Online));
  three('F1 retrospective (at startedAt)', (x) => fmt(x.f1Retro));
  three('precision / recall, online (pooled, without the shared start)', (x) => `${fmt(x.precision, 2)} / ${fmt(x.recall, 2)}`);
  three('changes raised within 5 s', (x) => x.detected);
  three('delay change → raise, s: median / mean / p90', (x) => `${fmt(x.delayMedian, 1)} / ${fmt(x.delayMean, 1)} / ${fmt(x.delayP90, 1)}`);
  three('delay median by kind, s: surge / split / healing', (x) => `${fmt(x.delaySurge, 1)} / ${fmt(x.delaySplit, 1)} / ${fmt(x.delayHealing, 1)}`);
  three('false alarms, all rooms (count, per 1,000 windows)', (x) => `${x.falseAlarms}, ${fmt(x.falseAlarmsPer1000, 2)}`);
  line(`false alarms on calm + drift rooms (${quietWindows} windows), per 1,000`, `${quietFalse}, ${fmt((1000 * quietFalse) / quietWindows, 2)}`, `${quietBaseFalse}, ${fmt((1000 * quietBaseFalse) / quietWindows, 2)}`, `${quietV1False}, ${fmt((1000 * quietV1False) / quietWindows, 2)}`);
  const truths = ours.reduce((acc, x) => acc + x.truths, 0);
  three('alerts raised per true change (one change, one alert)', (x) => fmt(x.predictions / Math.max(1, truths), 2));
  line('messages: raised / updated / cleared', `${msgs.raised} / ${msgs.updated} / ${msgs.cleared}`, '');
  line('probability: mean on true / on false alerts', `${fmt(mean(probTrue))} / ${fmt(mean(probFalse))}`, '');
  out.write('\n  Camps (shown count = true count)                                       attune           no k hysteresis\n');
  line('accuracy, all windows', fmt(campHits / windows), fmt(campNoHyst / windows));
  line(`accuracy, settled (skip ${SETTLE_WINDOWS} s after a true change)`, fmt(campSettledHits / campSettled), '');
  const hours = windows / 3600;
  line(`changes of the camp count per hour (truth ${fmt(flips.truth / hours, 1)})`, fmt(flips.shown / hours, 1), fmt(flips.winner / hours, 1));
  out.write('\n  Trends (slow 5-minute drifts)\n');
  line('drifting rooms with a trend reported during the drift', `${drift.withTrend}/${drift.rooms}`, '');
  line('delay drift start → trend, s: median', fmt(quantile(drift.delays, 0.5), 0), '');
  line('trends reported in rooms without a drift', String(drift.trendsElsewhere), '');
  for (const rate of drift.rates.slice(0, 4)) line('  first trend', rate, '');
  const aims = { f1: a.f1Online >= 0.9, delay: a.delayMedian <= 3, fa: (1000 * quietFalse) / quietWindows <= 1, camps: campHits / windows >= 0.99 };
  out.write(`\n  Aims on ${set}-*: online F1 ≥ 0.9 ${aims.f1 ? 'met' : 'NOT met'}; median delay ≤ 3 s ${aims.delay ? 'met' : 'NOT met'}; ≤ 1 false alarm / 1,000 windows on calm+drift ${aims.fa ? 'met' : 'NOT met'}; camp accuracy ≥ 0.99 ${aims.camps ? 'met' : 'NOT met'}\n`);
  report[set] = { rooms, participants, durationMs, windows, attune: a, cusum: b, v1: c, quiet: { windows: quietWindows, falseAlarms: quietFalse, cusumFalseAlarms: quietBaseFalse, v1FalseAlarms: quietV1False }, camps: { all: campHits / windows, settled: campSettledHits / campSettled, noHysteresis: campNoHyst / windows }, drift, messages: msgs, seconds: elapsed };
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
