/**
 * The compare view, `/compare?spaces=A,B[,…]` (docs/bridging.md): linked spaces — other rooms,
 * cities or nights whose stewards each agreed to the link (an act on the public log) — side by
 * side: each one's released pulse on its own field, the bridging score between them (the same
 * measures as between groups, `core/collective/bridging.ts`, read off their released histograms),
 * and their histories on one time axis: each space's published differentially private series (R8 —
 * a release its steward made, served again from the store at no privacy cost; the page says
 * plainly when there is none yet and how a steward makes one), the live tail of released pulses
 * since the page opened, and the bridging score as it moved while the page was open. The server
 * refuses spaces that are not linked both ways.
 */
import { useEffect, useState } from 'preact/hooks';
import { type Bridging, bridgingOf } from '../../src/core/collective/bridging.ts';
import type { PulseMessage } from '../../src/core/protocol.ts';
import type { DpSeriesPoint } from '../../src/core/release/dpSeries.ts';
import { normaliseCode } from '../../src/core/protocol.ts';
import type { Pulse } from './lib/affect.ts';
import { QUADRANT_STYLE } from './lib/affect.ts';
import { Grid } from './lib/grid.ts';
import { describeBridging, groupColour } from './lib/groups.ts';
import { useSpaceSocket } from './lib/socket.ts';
import { api, html, render } from './lib/ui.ts';

interface SeriesPoint {
  readonly at: number;
  readonly valence: number;
}

/** A space's published DP series release (R8), as `GET /api/compare` serves it (H15). */
interface ReleasedSeries {
  readonly n: number;
  readonly at: number;
  readonly params: { readonly from?: number; readonly to?: number; readonly bucketMs?: number };
  readonly rho: number;
  readonly sigma: number;
  readonly points: readonly DpSeriesPoint[];
}

interface CompareAnswer {
  readonly spaces: readonly { readonly code: string; readonly name: string; readonly series: ReleasedSeries | null }[];
}

/** How often the page asks again for the spaces' released series (a steward may release one meanwhile). */
const SERIES_REFRESH_MS = 10_000;

/** One linked space, live: a display connection of its own. */
function Side({ code, index, onPulse }: { code: string; index: number; onPulse: (code: string, p: PulseMessage) => void }) {
  const [pulse, setPulse] = useState<PulseMessage | null>(null);
  const [name, setName] = useState(code);
  useSpaceSocket(code, 'display', {
    onWelcome: (m) => setName(m.space.name),
    onPulse: (p) => {
      setPulse(p);
      onPulse(code, p);
    },
  });
  const shares = pulse?.quadrants;
  return html`<div class="card" data-testid=${`side-${code}`}>
    <h2><span class="group-swatch" style=${`background:${groupColour(index)}`}></span> ${name} <code>${code}</code></h2>
    <div data-testid=${`side-count-${code}`}>${pulse ? `${pulse.count} present` : '…'}${pulse?.suppressed ? ` (the shape appears at ${pulse.minCohort})` : ''}</div>
    <${Grid} pulse=${pulse as Pulse | null} you=${null} label=${`${name} right now`} />
    ${shares ? html`<p class="muted">${QUADRANT_STYLE.map((q, i) => html`<span style=${`color:${q.colour};margin-right:10px`}>${q.label} ${Math.round((shares[i] ?? 0) * 100)}%</span>`)}</p>` : null}
  </div>`;
}

const W = 600;
const H = 160;

/** The released windows of a series that carry figures, each with its end. */
function shownWindows(s: ReleasedSeries | null | undefined): { from: number; to: number; valence: number }[] {
  if (!s) return [];
  const bucket = s.params.bucketMs ?? 60_000;
  return s.points.flatMap((p) => (p.valence === null ? [] : [{ from: p.at, to: p.at + bucket, valence: p.valence }]));
}

/** What the page says about one space's history: its release, or plainly that there is none yet. */
function HistoryNote({ code, name, series }: { code: string; name: string; series: ReleasedSeries | null | undefined }) {
  if (!series)
    return html`<li data-testid=${`history-note-${code}`} data-released="no">
      <strong>${name}</strong> has no released history yet, so only what arrived since this page opened is drawn. Its steward can release one on the steward page (<em>Privacy</em> → <em>Release the series so far</em>, or <code>POST /api/spaces/${code}/privacy/releases</code>); a release spends part of the space's privacy budget and is on the public log, and once made it is public and shown here at no further cost.
    </li>`;
  const bucket = (series.params.bucketMs ?? 60_000) / 1000;
  const shown = shownWindows(series).length;
  const from = series.params.from;
  const to = series.params.to;
  return html`<li data-testid=${`history-note-${code}`} data-released="yes">
    <strong>${name}</strong>: released history #${series.n} (made ${new Date(series.at).toLocaleString()}${from !== undefined && to !== undefined ? `, covering ${new Date(from).toLocaleTimeString()} – ${new Date(to).toLocaleTimeString()}` : ''}) — ${shown} of ${series.points.length} windows of ${bucket} s shown, with noise of σ ≈ ${series.sigma.toFixed(1)} people per window; windows with too few people are withheld. The thin line after it is the live tail.
  </li>`;
}

/**
 * Every space's mean valence over time and the bridging score, on one time axis: each space's
 * released DP series (wide, faint steps, one per window) and the live tail of released pulses
 * since the page opened (thin), and the bridging score while the page is open (dashed).
 */
function Histories({ codes, series, released, bridging }: { codes: readonly string[]; series: Readonly<Record<string, readonly SeriesPoint[]>>; released: Readonly<Record<string, ReleasedSeries | null>>; bridging: readonly { at: number; score: number }[] }) {
  const windows = Object.fromEntries(codes.map((c) => [c, shownWindows(released[c])]));
  const all = [...codes.flatMap((c) => [...(series[c] ?? []).map((p) => p.at), ...(windows[c] ?? []).flatMap((w) => [w.from, w.to])]), ...bridging.map((b) => b.at)];
  if (all.length < 2) return html`<p class="muted" data-testid="histories">Histories appear once the spaces have a few seconds of released pulses, or a released series.</p>`;
  const t0 = Math.min(...all);
  const t1 = Math.max(...all, t0 + 1);
  const x = (t: number) => ((t - t0) / (t1 - t0)) * W;
  const yV = (v: number) => H / 2 - v * (H / 2 - 4);
  const line = (pts: readonly [number, number][]) => pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ');
  const steps = (ws: readonly { from: number; to: number; valence: number }[]) => ws.map((w) => `M${x(w.from).toFixed(1)},${yV(w.valence).toFixed(1)} H${x(w.to).toFixed(1)}`).join(' ');
  return html`<svg viewBox="0 0 ${W} ${H}" class="compare-axis" role="img" aria-label="histories on one time axis" data-testid="histories">
    <line x1="0" y1=${H / 2} x2=${W} y2=${H / 2} stroke="#334" />
    ${codes.map((c, i) => html`<path data-testid=${`history-released-${c}`} d=${steps(windows[c] ?? [])} fill="none" stroke=${groupColour(i)} stroke-width="7" stroke-opacity="0.45" />`)}
    ${codes.map((c, i) => html`<polyline data-testid=${`history-${c}`} points=${line((series[c] ?? []).map((p) => [x(p.at), yV(p.valence)]))} fill="none" stroke=${groupColour(i)} stroke-width="2" />`)}
    <polyline data-testid="history-bridging" points=${line(bridging.map((b) => [x(b.at), H - b.score * (H - 4)]))} fill="none" stroke="#ffffff" stroke-dasharray="4 3" />
    <text x="4" y="12" fill="#aaa" font-size="11">mean valence per space: released series (wide) and live (thin) · bridging score (dashed) · ${new Date(t0).toLocaleTimeString()} – ${new Date(t1).toLocaleTimeString()}</text>
  </svg>`;
}

function App() {
  const codes = (new URLSearchParams(location.search).get('spaces') ?? '').split(',').map((c) => normaliseCode(c)).filter((c) => c.length > 0);
  const [error, setError] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [pulses, setPulses] = useState<Record<string, PulseMessage>>({});
  const [series, setSeries] = useState<Record<string, SeriesPoint[]>>({});
  const [released, setReleased] = useState<Record<string, ReleasedSeries | null>>({});
  const [names, setNames] = useState<Record<string, string>>({});
  const [history, setHistory] = useState<{ at: number; score: number }[]>([]);
  const take = (r: CompareAnswer) => {
    setReleased(Object.fromEntries(r.spaces.map((s) => [s.code, s.series])));
    setNames(Object.fromEntries(r.spaces.map((s) => [s.code, s.name])));
  };
  useEffect(() => {
    if (codes.length < 2) {
      setError('Name two or more linked spaces: /compare?spaces=CODE,CODE');
      return;
    }
    const url = `/api/compare?spaces=${codes.join(',')}`;
    api<CompareAnswer>(url).then(
      (r) => {
        take(r);
        setReady(true);
      },
      (e: Error) => setError(e.message),
    );
    // A steward may release a series while the page is open; a release once made is public and
    // served again from the store, so asking again spends nothing (R8).
    const timer = setInterval(() => {
      api<CompareAnswer>(url).then(take, () => {});
    }, SERIES_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  // The live tail: the released pulses this page receives (at most one point a second, the last
  // hour). Before it, each space's history is its published DP series (R8), fetched above.
  const onPulse = (code: string, p: PulseMessage) => {
    setPulses((all) => ({ ...all, [code]: p }));
    const mean = p.mean;
    if (p.suppressed || !mean) return;
    setSeries((all) => {
      const mine = all[code] ?? [];
      const last = mine[mine.length - 1];
      if (last && p.at - last.at < 1000) return all;
      return { ...all, [code]: [...mine.filter((x) => x.at > p.at - 3_600_000), { at: p.at, valence: mean.valence }] };
    });
  };
  const live = codes.map((c) => pulses[c]);
  const bridging: Bridging | null = live.every((p) => p)
    ? bridgingOf(
        codes,
        live.map((p) => (p && !p.suppressed ? p.hist : null)),
        live[0]?.bins ?? 16,
      )
    : null;
  useEffect(() => {
    if (bridging) setHistory((h) => [...h.slice(-599), { at: Date.now(), score: bridging.score }]);
  }, [bridging?.score, bridging?.closeness]);
  if (error) return html`<h1>Compare</h1><p class="error" data-testid="error">${error}</p>`;
  if (!ready) return html`<p class="muted">Loading…</p>`;
  const shown = live.filter((p) => p && !p.suppressed).length;
  return html`
    <h1>Linked spaces</h1>
    <p data-testid="compare-bridging" data-score=${bridging ? String(bridging.score) : ''}>${describeBridging(bridging, shown)}</p>
    <div class="compare-row">${codes.map((c, i) => html`<${Side} key=${c} code=${c} index=${i} onPulse=${onPulse} />`)}</div>
    <h2>Over time</h2>
    <${Histories} codes=${codes} series=${series} released=${released} bridging=${history} />
    <ul class="muted" data-testid="history-notes">${codes.map((c) => html`<${HistoryNote} key=${c} code=${c} name=${names[c] ?? c} series=${released[c]} />`)}</ul>
    <p class="muted">Only released figures are shown: each space's pulse after its release stage, its published differentially private series, and measures computed from them.</p>
  `;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
