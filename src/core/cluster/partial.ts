/**
 * Partial aggregates of a cluster space (SPEC K3): each node folds its own participants' inputs
 * into its machine's aggregate and publishes it; the tick owner merges the fresh ones. Because
 * the aggregate is exact (core/aggregate: integer sums, cell and quadrant counts), the merge of
 * the partials equals, bit for bit, the aggregate of the whole crowd.
 *
 * Wire form: one JSON object per partial, `{v:1,node,at,connected,displays,feeds,grid,groups,heart?,gov?}` with each
 * aggregate as `{n,sv,sa,svv,saa,q:[4],k:[bins²]}` (≈ 0.7 KB for a 16 × 16 grid).
 */
import { Aggregate } from '../aggregate/aggregate.ts';
import type { HeartWindow } from '../collective/heartSynchrony.ts';
import type { MergedCounts } from '../space/events.ts';

/** One node's partial of one space. */
export interface PartialAggregate {
  readonly node: string;
  /** The node's clock when it was taken (informational: freshness is judged by the receiver's clock). */
  readonly at: number;
  /** Participants connected to that node. */
  readonly connected: number;
  /** Displays watched by feeds on that node (F5), among `displays`. */
  readonly feeds: number;
  readonly displays: number;
  readonly grid: Aggregate;
  readonly groups: readonly Aggregate[];
  /**
   * The node's heart window (SPEC K10), sent when it changed (a new 2-s slot, someone starting or
   * stopping sharing); absent otherwise — the owner keeps each node's last one.
   */
  readonly heart?: HeartWindow;
  /**
   * The tick owner's council figures (K12), on the owner's partials only: participants who opted
   * out of adaptive feedback (Q8) and policy evaluations that failed at run time (Q6) — one
   * figure for the whole space, which every node's council view shows.
   */
  readonly gov?: CouncilFigures;
}

/** The council figures the tick owner counts for the whole space (K12). */
export interface CouncilFigures {
  readonly optedOut: number;
  readonly evalErrors: number;
}

interface AggregateWire {
  readonly n: number;
  readonly sv: number;
  readonly sa: number;
  readonly svv: number;
  readonly saa: number;
  readonly q: readonly number[];
  readonly k: readonly number[];
}

function wireOf(a: Aggregate): AggregateWire {
  return { n: a.n, sv: a.sv, sa: a.sa, svv: a.svv, saa: a.saa, q: [...a.quadrantCounts], k: Array.from(a.counts) };
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);

function aggregateOf(w: unknown, bins: number): Aggregate | null {
  if (typeof w !== 'object' || w === null) return null;
  const o = w as Partial<Record<keyof AggregateWire, unknown>>;
  if (!isInt(o.n) || !isInt(o.sv) || !isInt(o.sa) || !isInt(o.svv) || !isInt(o.saa) || o.n < 0) return null;
  if (!Array.isArray(o.q) || o.q.length !== 4 || !o.q.every(isInt)) return null;
  if (!Array.isArray(o.k) || o.k.length !== bins * bins || !o.k.every(isInt)) return null;
  const a = new Aggregate(bins);
  a.n = o.n;
  a.sv = o.sv;
  a.sa = o.sa;
  a.svv = o.svv;
  a.saa = o.saa;
  for (let i = 0; i < 4; i++) a.quadrantCounts[i as 0] = o.q[i] as number;
  a.counts.set(o.k as number[]);
  return a;
}

/** The wire text of a partial. */
export function encodePartial(p: PartialAggregate): string {
  const heart = p.heart ? { end: p.heart.end, tracked: p.heart.tracked, sharing: p.heart.sharing, rows: p.heart.rows.map((r) => Array.from(r)) } : undefined;
  return JSON.stringify({ v: 1, node: p.node, at: p.at, connected: p.connected, displays: p.displays, feeds: p.feeds, grid: wireOf(p.grid), groups: p.groups.map(wireOf), ...(heart ? { heart } : {}), ...(p.gov ? { gov: { optedOut: p.gov.optedOut, evalErrors: p.gov.evalErrors } } : {}) });
}

/** A heart window off the wire: rows of `slots` readings within 25–250 bpm; null when malformed. */
function heartOf(w: unknown, slots: number): HeartWindow | null {
  if (typeof w !== 'object' || w === null) return null;
  const o = w as Record<string, unknown>;
  if (!isInt(o.end) || !isInt(o.tracked) || !isInt(o.sharing) || o.tracked < 0 || o.sharing < 0 || !Array.isArray(o.rows) || o.rows.length > o.tracked) return null;
  const rows: Float64Array[] = [];
  for (const r of o.rows) {
    if (!Array.isArray(r) || r.length !== slots || !r.every((x) => typeof x === 'number' && x >= 25 && x <= 250)) return null;
    rows.push(Float64Array.from(r as number[]));
  }
  return { end: o.end, tracked: o.tracked, sharing: o.sharing, rows };
}

/**
 * Parses a partial of a `bins` × `bins` grid with `groups` declared groups (and heart windows of
 * `heartSlots` slots; without it a heart window is ignored); null when malformed.
 */
export function decodePartial(text: string, bins: number, groups: number, heartSlots?: number): PartialAggregate | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const o = raw as Record<string, unknown>;
  if (o.v !== 1 || typeof o.node !== 'string' || !isInt(o.at) || !isInt(o.connected) || !isInt(o.displays) || !Array.isArray(o.groups) || o.groups.length !== groups) return null;
  const grid = aggregateOf(o.grid, bins);
  if (!grid) return null;
  const gs: Aggregate[] = [];
  for (const g of o.groups) {
    const a = aggregateOf(g, bins);
    if (!a) return null;
    gs.push(a);
  }
  // `feeds` came after v1's first form: absent means none.
  const feeds = o.feeds === undefined ? 0 : o.feeds;
  if (!isInt(feeds) || feeds < 0) return null;
  let heart: HeartWindow | null = null;
  if (o.heart !== undefined && heartSlots !== undefined) {
    heart = heartOf(o.heart, heartSlots);
    if (!heart) return null;
  }
  let gov: CouncilFigures | null = null;
  if (o.gov !== undefined) {
    const g = o.gov as Record<string, unknown> | null;
    if (typeof g !== 'object' || g === null || !isInt(g.optedOut) || !isInt(g.evalErrors) || g.optedOut < 0 || g.evalErrors < 0) return null;
    gov = { optedOut: g.optedOut, evalErrors: g.evalErrors };
  }
  return { node: o.node, at: o.at, connected: o.connected, displays: o.displays, feeds, grid, groups: gs, ...(heart ? { heart } : {}), ...(gov ? { gov } : {}) };
}

/** Merges partials into the whole space's counts (SPEC K3). O(nodes · bins²). */
export function mergePartials(partials: Iterable<PartialAggregate>, bins: number, groups: number): MergedCounts {
  const grid = new Aggregate(bins);
  const gs = Array.from({ length: groups }, () => new Aggregate(bins));
  let connected = 0;
  let displays = 0;
  for (const p of partials) {
    grid.merge(p.grid);
    p.groups.forEach((g, i) => {
      gs[i]?.merge(g);
    });
    connected += p.connected;
    displays += p.displays;
  }
  return { grid, groups: gs, connected, displays };
}
