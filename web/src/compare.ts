/**
 * The compare view, `/compare?spaces=A,B[,…]` (docs/bridging.md): linked spaces — other rooms,
 * cities or nights whose stewards each agreed to the link (an act on the public log) — side by
 * side: each one's released pulse on its own field, the bridging score between them (the same
 * measures as between groups, `core/collective/bridging.ts`, read off their released histograms),
 * and their histories on one time axis (the released pulses as they arrive, and the bridging score as it
 * moved while this page was open). The server refuses spaces that are not linked both ways.
 */
import { useEffect, useState } from 'preact/hooks';
import { type Bridging, bridgingOf } from '../../src/core/collective/bridging.ts';
import type { PulseMessage } from '../../src/core/protocol.ts';
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

/** Every space's mean valence over time and the bridging score, on one time axis. */
function Histories({ codes, series, bridging }: { codes: readonly string[]; series: Readonly<Record<string, readonly SeriesPoint[]>>; bridging: readonly { at: number; score: number }[] }) {
  const all = [...codes.flatMap((c) => (series[c] ?? []).map((p) => p.at)), ...bridging.map((b) => b.at)];
  if (all.length < 2) return html`<p class="muted" data-testid="histories">Histories appear once the spaces have a few seconds of released pulses.</p>`;
  const t0 = Math.min(...all);
  const t1 = Math.max(...all, t0 + 1);
  const x = (t: number) => ((t - t0) / (t1 - t0)) * W;
  const yV = (v: number) => H / 2 - v * (H / 2 - 4);
  const line = (pts: readonly [number, number][]) => pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ');
  return html`<svg viewBox="0 0 ${W} ${H}" class="compare-axis" role="img" aria-label="histories on one time axis" data-testid="histories">
    <line x1="0" y1=${H / 2} x2=${W} y2=${H / 2} stroke="#334" />
    ${codes.map((c, i) => html`<polyline data-testid=${`history-${c}`} points=${line((series[c] ?? []).map((p) => [x(p.at), yV(p.valence)]))} fill="none" stroke=${groupColour(i)} stroke-width="2" />`)}
    <polyline data-testid="history-bridging" points=${line(bridging.map((b) => [x(b.at), H - b.score * (H - 4)]))} fill="none" stroke="#ffffff" stroke-dasharray="4 3" />
    <text x="4" y="12" fill="#aaa" font-size="11">mean valence per space (solid) · bridging score (dashed) · ${new Date(t0).toLocaleTimeString()} – ${new Date(t1).toLocaleTimeString()}</text>
  </svg>`;
}

function App() {
  const codes = (new URLSearchParams(location.search).get('spaces') ?? '').split(',').map((c) => normaliseCode(c)).filter((c) => c.length > 0);
  const [error, setError] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [pulses, setPulses] = useState<Record<string, PulseMessage>>({});
  const [series, setSeries] = useState<Record<string, SeriesPoint[]>>({});
  const [history, setHistory] = useState<{ at: number; score: number }[]>([]);
  useEffect(() => {
    if (codes.length < 2) {
      setError('Name two or more linked spaces: /compare?spaces=CODE,CODE');
      return;
    }
    api(`/api/compare?spaces=${codes.join(',')}`).then(
      () => setReady(true),
      (e: Error) => setError(e.message),
    );
  }, []);
  // Each space's history is drawn from the released pulses this page receives (at most one point
  // a second, the last hour): what leaves a space about a period otherwise is a DP release (R8).
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
    <${Histories} codes=${codes} series=${series} bridging=${history} />
    <p class="muted">Only released figures are shown: each space's pulse after its release stage, and measures computed from them.</p>
  `;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
