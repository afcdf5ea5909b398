/**
 * Dry run of a proposed policy over a recorded session (SPEC Q11a): the session is folded
 * through the space machine exactly as replay does, the policy is evaluated on every
 * participant tick over the released view the machine published — with its cooldown, and as if
 * each firing had been applied (so the cooldown and the feedback it sets play out) — and the
 * figures its expression reads are kept as time series for a chart. Nothing is logged; the
 * recorded session is not changed. Pure.
 */
import { type CompiledWhen, checkPolicy, type PolicyProblem, type PolicySpec } from './checkPolicy.ts';
import { flatten, PolicyHistory, historyPointOf, policyInputOf } from './policyInput.ts';
import type { PulseView, SpaceEvent } from '../space/events.ts';
import { eventOf, type RecordedEvent, type RecordedInput } from '../space/record.ts';
import { createSpaceState, type MachineOptions, type SpaceSettings, step } from '../space/machine.ts';

/** One moment the policy would have fired. */
export interface DryFire {
  readonly at: number;
  readonly pulseSeq: number;
}

/** What a dry run found. */
export interface DryRunReport {
  readonly policy: PolicySpec;
  /** Participant ticks evaluated (released, unsuppressed). */
  readonly evaluated: number;
  readonly fires: readonly DryFire[];
  /** Expressions that failed at run time (treated as false). */
  readonly errors: number;
  /** The figures the expression reads, by path, sampled at each evaluation: [at, value][]. */
  readonly series: Readonly<Record<string, readonly (readonly [number, number])[]>>;
  readonly from: number | null;
  readonly to: number | null;
}

/** The paths of released figures an expression reads (`groups["east"].mean` counts as `groups.east.mean`; history reads chart as its pulse figure). */
export function pathsRead(when: string, available: Iterable<string>): string[] {
  const text = when.replace(/\[\s*"([^"]*)"\s*\]/g, '.$1').replace(/\[\s*'([^']*)'\s*\]/g, '.$1');
  const hist: Record<string, string> = { count: 'pulse.count', valence: 'pulse.mean.valence', arousal: 'pulse.mean.arousal', dissonance: 'pulse.collective.dissonance' };
  const wanted = new Set<string>();
  for (const [k, p] of Object.entries(hist)) if (text.includes(`history.${k}`)) wanted.add(p);
  const out: string[] = [];
  for (const p of available) {
    const i = text.indexOf(p);
    // A whole path, not a prefix of a longer one (`pulse.mean` in `pulse.mean.valence` is not read).
    if ((i >= 0 && !/[\w.]/.test(text[i + p.length] ?? '')) || wanted.has(p)) out.push(p);
  }
  return out;
}

/**
 * Runs a policy over a recorded session (events and inputs in `n` order, as replay takes them).
 * `maxPoints` caps each series (evenly thinned) so a long session charts in small space.
 */
export function dryRun(
  policy: unknown,
  space: SpaceSettings,
  options: Partial<MachineOptions>,
  events: Iterable<RecordedEvent>,
  inputs: Iterable<RecordedInput>,
  maxPoints = 240,
): { ok: true; report: DryRunReport } | { ok: false; problem: PolicyProblem } {
  const groups = space.groups ?? [];
  // The session's own prompts are unknown here: a reflect prompt index up to 9 is accepted.
  const checked = checkPolicy(policy, groups, 10);
  if (!checked.ok) return checked;
  const run: CompiledWhen = checked.run;
  const spec = checked.spec;
  const state = createSpaceState(space, options);
  const history = new PolicyHistory();
  const fires: DryFire[] = [];
  const series = new Map<string, [number, number][]>();
  let paths: string[] | null = null;
  let evaluated = 0;
  let errors = 0;
  let lastFire: number | null = null;
  let from: number | null = null;
  let to: number | null = null;
  const onTick = (view: PulseView, at: number) => {
    if (view.suppressed) return;
    history.push(historyPointOf(view));
    const input = policyInputOf(view, history, groups);
    if (!paths) paths = pathsRead(spec.when, flatten(input).keys());
    const flat = flatten(input);
    for (const p of paths) {
      const s = series.get(p) ?? [];
      if (s.length === 0) series.set(p, s);
      s.push([at, flat.get(p) ?? 0]);
    }
    evaluated++;
    from ??= at;
    to = at;
    if (lastFire !== null && at < lastFire + spec.cooldownSeconds * 1000) return;
    let fire = false;
    try {
      fire = run(input);
    } catch {
      errors++;
    }
    if (fire) {
      lastFire = at;
      fires.push({ at, pulseSeq: view.seq });
    }
  };
  const ev = events[Symbol.iterator]();
  const inp = inputs[Symbol.iterator]();
  let nextEv = ev.next();
  let nextIn = inp.next();
  while (!nextEv.done || !nextIn.done) {
    let event: SpaceEvent;
    if (nextEv.done || (!nextIn.done && nextIn.value.n < nextEv.value.n)) {
      const i = nextIn.value as RecordedInput;
      event = { kind: 'input', at: i.affect.at, conn: 0, participantId: i.participantId, seq: i.seq, affect: i.affect, exposed: i.exposed, ...(typeof i.heartBpm === 'number' ? { heartBpm: i.heartBpm } : {}) };
      nextIn = inp.next();
    } else {
      event = eventOf(nextEv.value);
      nextEv = ev.next();
    }
    const r = step(state, event);
    if (event.kind === 'tick' && event.participant) for (const fx of r.effects) if (fx.type === 'publish') onTick(fx.view, event.at);
  }
  const thin = (s: [number, number][]) => (s.length <= maxPoints ? s : Array.from({ length: maxPoints }, (_, i) => s[Math.floor((i * (s.length - 1)) / (maxPoints - 1))] as [number, number]));
  return { ok: true, report: { policy: spec, evaluated, fires, errors, series: Object.fromEntries([...series].map(([k, s]) => [k, thin(s)])), from, to } };
}

/** A small text chart of one series (for the CLI): `width` columns, `height` rows, fires marked ▲ under it. */
export function textChart(series: readonly (readonly [number, number])[], fires: readonly DryFire[], width = 60, height = 8): string[] {
  if (series.length === 0) return ['(no released pulses to chart)'];
  const first = (series[0] as readonly [number, number])[0];
  const last = (series[series.length - 1] as readonly [number, number])[0];
  const span = Math.max(1, last - first);
  let lo = Infinity;
  let hi = -Infinity;
  for (const [, v] of series) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi - lo < 1e-9) hi = lo + 1;
  const cols: number[][] = Array.from({ length: width }, () => []);
  for (const [t, v] of series) cols[Math.min(width - 1, Math.floor(((t - first) / span) * width))]?.push(v);
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  cols.forEach((vs, x) => {
    if (vs.length === 0) return;
    const v = vs.reduce((a, b) => a + b, 0) / vs.length;
    const y = height - 1 - Math.round(((v - lo) / (hi - lo)) * (height - 1));
    const row = grid[y];
    if (row) row[x] = '•';
  });
  const marks = new Array<string>(width).fill(' ');
  for (const f of fires) marks[Math.min(width - 1, Math.max(0, Math.floor(((f.at - first) / span) * width)))] = '▲';
  const label = (v: number) => v.toFixed(2).padStart(7);
  return [...grid.map((r, i) => `${i === 0 ? label(hi) : i === height - 1 ? label(lo) : '       '} │${r.join('')}`), `        └${'─'.repeat(width)}`, `  fired  ${marks.join('')}`];
}
