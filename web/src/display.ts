/**
 * The display (projector / installation): the live collective pulse drawn at the screen's
 * frame rate — the crowd's distribution as glowing density, the smoothed mean drifting, a
 * heartbeat whose rate follows the room's energy and whose colour follows its valence, the
 * camps and, when the room splits, the fracture between them.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { bpmOf, metricLabel, moodColour, QUADRANT_STYLE, type Pulse, xOf, yOf } from './lib/affect.ts';
import { fractureOf } from '../../src/core/collective/fracture.ts';
import { GroupsPanel } from './lib/groups.ts';
import { HeartRoom } from './lib/heartRoom.ts';
import { codeFromPath, useSpaceSocket, type Status } from './lib/socket.ts';
import { html, render } from './lib/ui.ts';
import { feedbackLabel, feedbackOf, type DisplayMode } from '../../src/core/displayMode.ts';
import { artState, drawArt } from './display/modes.ts';
import { useDisplayMode } from './display/displayMode.ts';
import { StoriesOverlay } from './display/storiesOverlay.ts';
import type { StoriesView } from '../../src/core/release/stories.ts';
import { DisplayOverrideNote, displayFieldOf, FeedbackBanner, feedbackFieldOf } from './lib/feedback.ts';
import { type AxisWords, axisWordsOf, CALM_TINT, CALM_TINT_ALPHA, DEFAULT_AXIS_WORDS, quadrantLabel, ScreenSmoother, smoothedForScreen, smoothingOf } from './lib/screen.ts';
import { api } from './lib/ui.ts';

interface View {
  mv: number;
  ma: number;
  phase: number;
  hist: Float32Array;
  fps: number;
  /** The heartbeat's rate this frame, bpm. */
  bpm: number;
  /** The grid, its quadrants and words: drawn once per canvas size and words, then stamped each frame. */
  backdrop: HTMLCanvasElement | null;
  /** The axis words the backdrop was drawn with. */
  backdropWords: AxisWords | null;
}

/** The still part of the field (background, quadrant tints, axes, words) for a w × h canvas. */
function backdropOf(view: View, w: number, h: number, words: AxisWords): HTMLCanvasElement | null {
  if (view.backdrop && view.backdrop.width === w && view.backdrop.height === h && view.backdropWords === words) return view.backdrop;
  view.backdropWords = words;
  const b = view.backdrop ?? document.createElement('canvas');
  b.width = w;
  b.height = h;
  const ctx = b.getContext('2d', { alpha: false });
  if (!ctx) return null;
  view.backdrop = b;
  const size = Math.min(w, h) * 0.92;
  const ox = (w - size) / 2;
  const oy = (h - size) / 2;
  ctx.fillStyle = '#14161c';
  ctx.fillRect(0, 0, w, h);
  // Quadrants.
  const half = size / 2;
  const quads: [number, number, number][] = [
    [0, ox + half, oy],
    [1, ox + half, oy + half],
    [2, ox, oy + half],
    [3, ox, oy],
  ];
  for (const [q, x, y] of quads) {
    ctx.globalAlpha = 0.16;
    ctx.fillStyle = QUADRANT_STYLE[q]?.colour ?? '#888';
    ctx.fillRect(x, y, half, half);
  }
  ctx.globalAlpha = 1;
  ctx.strokeStyle = '#ffffff30';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(ox + half, oy);
  ctx.lineTo(ox + half, oy + size);
  ctx.moveTo(ox, oy + half);
  ctx.lineTo(ox + size, oy + half);
  ctx.stroke();
  ctx.fillStyle = '#ffffffa0';
  ctx.font = `${Math.round(size / 38)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.fillText(QUADRANT_STYLE[0].words.join(' · '), ox + size * 0.75, oy + size * 0.05);
  ctx.fillText(QUADRANT_STYLE[3].words.join(' · '), ox + size * 0.25, oy + size * 0.05);
  ctx.fillText(QUADRANT_STYLE[1].words.join(' · '), ox + size * 0.75, oy + size * 0.97);
  ctx.fillText(QUADRANT_STYLE[2].words.join(' · '), ox + size * 0.25, oy + size * 0.97);
  // The axes' ends, in the space's words (a template's, Q14), inside the grid beside the axis
  // lines (the margins may be too narrow for them), clear of the quadrant words.
  ctx.fillStyle = '#ffffffd0';
  ctx.font = `600 ${Math.round(size / 36)}px system-ui, sans-serif`;
  const pad = size / 80;
  ctx.textAlign = 'left';
  ctx.fillText(`↑ ${words.energised}`, ox + half + pad, oy + size * 0.12);
  ctx.fillText(`↓ ${words.calm}`, ox + half + pad, oy + size * 0.9);
  ctx.fillText(`← ${words.unpleasant}`, ox + pad, oy + half - pad);
  ctx.textAlign = 'right';
  ctx.fillText(`${words.pleasant} →`, ox + size - pad, oy + half - pad);
  ctx.textAlign = 'center';
  return b;
}

/** Calm feedback (Q5): a cool tint over everything drawn, keeping its lightness. */
function tintCalm(ctx: CanvasRenderingContext2D, w: number, h: number): void {
  ctx.save();
  ctx.globalCompositeOperation = 'color';
  ctx.globalAlpha = CALM_TINT_ALPHA;
  ctx.fillStyle = CALM_TINT;
  ctx.fillRect(0, 0, w, h);
  ctx.restore();
}

function draw(ctx: CanvasRenderingContext2D, w: number, h: number, p: Pulse | null, view: View, dt: number, t: number, words: AxisWords, calm: boolean): void {
  const size = Math.min(w, h) * 0.92;
  const ox = (w - size) / 2;
  const oy = (h - size) / 2;
  const backdrop = backdropOf(view, w, h, words);
  ctx.globalCompositeOperation = 'source-over';
  ctx.globalAlpha = 1;
  if (backdrop) ctx.drawImage(backdrop, 0, 0);
  ctx.textAlign = 'center';

  // Distribution: eased toward the latest histogram each frame.
  const bins = p?.bins ?? 16;
  const target = p?.hist;
  if (view.hist.length !== bins * bins) view.hist = new Float32Array(bins * bins);
  const ease = 1 - Math.exp(-dt / 400);
  let max = 1e-6;
  for (let i = 0; i < view.hist.length; i++) {
    const cur = view.hist[i] ?? 0;
    const next = cur + ((target?.[i] ?? 0) - cur) * ease;
    view.hist[i] = next;
    if (next > max) max = next;
  }
  const cell = size / bins;
  ctx.globalCompositeOperation = 'lighter';
  for (let i = 0; i < view.hist.length; i++) {
    const n = view.hist[i] ?? 0;
    if (n < 0.02) continue;
    const ix = i % bins;
    const iy = Math.floor(i / bins);
    const cx = ox + (ix + 0.5) * cell;
    const cy = oy + size - (iy + 0.5) * cell;
    const v = ((ix + 0.5) / bins) * 2 - 1;
    const a = ((iy + 0.5) / bins) * 2 - 1;
    const r = cell * (0.8 + 1.6 * Math.sqrt(n / max));
    const g = ctx.createRadialGradient(cx, cy, 0, cx, cy, r);
    g.addColorStop(0, moodColour(v, a, 0.55 * Math.min(1, n / max + 0.15)));
    g.addColorStop(1, moodColour(v, a, 0));
    ctx.fillStyle = g;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.globalCompositeOperation = 'source-over';

  // Camps and the fracture between them (src/core/collective/fracture.ts): a jagged crack
  // along the line that divides the two largest camps, deeper as dissonance rises.
  const camps = p?.collective?.camps ?? [];
  const fracture = p?.collective ? fractureOf(p.collective) : null;
  if (fracture && fracture.strength > 0.15) {
    const dis = fracture.strength;
    const x1 = ox + xOf(fracture.from.valence, size);
    const y1 = oy + yOf(fracture.from.arousal, size);
    const x2 = ox + xOf(fracture.to.valence, size);
    const y2 = oy + yOf(fracture.to.arousal, size);
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const nx = -(y2 - y1) / len;
    const ny = (x2 - x1) / len;
    ctx.strokeStyle = `rgba(255,255,255,${0.25 + 0.6 * dis})`;
    ctx.lineWidth = 2 + 5 * dis;
    ctx.beginPath();
    const segs = 18;
    for (let k = 0; k <= segs; k++) {
      const f = k / segs;
      const jag = k === 0 || k === segs ? 0 : Math.sin(k * 2.7 + t / 700) * size * 0.02 * dis * (k % 2 ? 1 : -1);
      const px = x1 + (x2 - x1) * f + nx * jag;
      const py = y1 + (y2 - y1) * f + ny * jag;
      if (k === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }
  for (const c of camps) {
    const cx = ox + xOf(c.valence, size);
    const cy = oy + yOf(c.arousal, size);
    ctx.strokeStyle = '#ffffffb0';
    ctx.lineWidth = 2;
    ctx.setLineDash([8, 8]);
    ctx.beginPath();
    ctx.arc(cx, cy, size * (0.04 + 0.12 * Math.sqrt(c.share)), 0, Math.PI * 2);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#fff';
    ctx.font = `${Math.round(size / 45)}px system-ui, sans-serif`;
    ctx.fillText(`${Math.round(c.share * 100)}%`, cx, cy + size * 0.008);
  }

  // The smoothed mean drifts; the heartbeat beats at the room's rate, in the room's colour.
  const m = p?.smoothed;
  if (m) {
    const k = 1 - Math.exp(-dt / 250);
    view.mv += (m.valence - view.mv) * k;
    view.ma += (m.arousal - view.ma) * k;
    const bpm = bpmOf(view.ma, calm);
    view.bpm = bpm;
    view.phase = (view.phase + (dt / 60000) * bpm) % 1;
    const ph = view.phase;
    const beat = Math.exp(-((ph * 9) ** 2)) + 0.6 * Math.exp(-(((ph - 0.2) * 9) ** 2));
    const cx = ox + xOf(view.mv, size);
    const cy = oy + yOf(view.ma, size);
    const r = size * (0.03 + 0.035 * beat);
    const g = ctx.createRadialGradient(cx, cy, 0, cx, cy, r * 3);
    g.addColorStop(0, moodColour(view.mv, view.ma, 0.9));
    g.addColorStop(0.35, moodColour(view.mv, view.ma, 0.35 + 0.3 * beat));
    g.addColorStop(1, moodColour(view.mv, view.ma, 0));
    ctx.fillStyle = g;
    ctx.beginPath();
    ctx.arc(cx, cy, r * 3, 0, Math.PI * 2);
    ctx.fill();
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, Math.PI * 2);
    ctx.stroke();
  }
}

function Canvas({ pulse, mode, words }: { pulse: Pulse | null; mode: DisplayMode; words: AxisWords }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const pulseRef = useRef<Pulse | null>(null);
  pulseRef.current = pulse;
  const wordsRef = useRef<AxisWords>(words);
  wordsRef.current = words;
  const modeRef = useRef<DisplayMode>(mode);
  modeRef.current = mode;
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const view: View = { mv: 0, ma: 0, phase: 0, hist: new Float32Array(0), fps: 0, bpm: 0, backdrop: null, backdropWords: null };
    const art = artState();
    let last = performance.now();
    let frames = 0;
    let windowStart = last;
    let raf = 0;
    const frame = (now: number) => {
      const dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth * dpr;
      const h = canvas.clientHeight * dpr;
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      const m = modeRef.current;
      const p = pulseRef.current;
      // field is today's view (and the pulse under the gathering's stories); every mode shows the
      // calm placeholder while the room is suppressed.
      const flat = m === 'field' || m === 'stories';
      // Calm feedback (Q5): a slower heartbeat and a cooler screen, in every mode.
      const calm = feedbackFieldOf(p)?.mode === 'calm';
      const drawn = flat && p && !p.suppressed;
      if (drawn) draw(ctx, w, h, p, view, Math.min(100, now - last), now, wordsRef.current, calm);
      else drawArt(ctx, w, h, flat ? 'dissonance' : m, p, art, Math.min(100, now - last), now, calm);
      if (calm) tintCalm(ctx, w, h);
      last = now;
      frames++;
      if (now - windowStart >= 1000) {
        view.fps = (frames * 1000) / (now - windowStart);
        canvas.dataset.fps = view.fps.toFixed(1);
        // What the screen beats at and how it is tinted, for people checking a rig (and tests).
        canvas.dataset.bpm = (drawn ? view.bpm : art.bpm).toFixed(1);
        canvas.dataset.palette = calm ? 'calm' : 'mood';
        const aw = view.backdropWords;
        if (drawn && aw) canvas.dataset.axes = `${aw.unpleasant}|${aw.pleasant}|${aw.calm}|${aw.energised}`;
        frames = 0;
        windowStart = now;
      }
      raf = requestAnimationFrame(frame);
    };
    raf = requestAnimationFrame(frame);
    return () => cancelAnimationFrame(raf);
  }, []);
  return html`<canvas ref=${ref} data-testid="canvas" data-mode=${mode} role="img" aria-label=${`The room's collective pulse, drawn as ${mode}`}></canvas>`;
}

function App() {
  const code = codeFromPath();
  const [pulse, setPulse] = useState<Pulse | null>(null);
  const [status, setStatus] = useState<Status>('connecting');
  const [name, setName] = useState('');
  const [groups, setGroups] = useState<readonly string[]>([]);
  const [ended, setEnded] = useState<string | null>(null);
  const [stories, setStories] = useState<StoriesView | null>(null);
  // A template's grid words name the axes (Q14).
  const [words, setWords] = useState<AxisWords>(DEFAULT_AXIS_WORDS);
  useEffect(() => {
    api<{ settings?: { words?: Partial<AxisWords> | null } | null }>(`/api/spaces/${code}/council`).then((v) => setWords(axisWordsOf(v.settings)), () => {});
  }, [code]);
  // A council's smoothing (Q5), applied pulse by pulse in order.
  const smoother = useRef(new ScreenSmoother());
  useSpaceSocket(code, 'display', {
    onStories: setStories,
    onStatus: setStatus,
    onWelcome: (m) => {
      setName(m.space.name);
      setGroups(m.space.groups ?? []);
    },
    onPulse: (p) => setPulse(smoothedForScreen(smoother.current, p, smoothingOf(displayFieldOf(p)))),
    onEnd: (_r, msg) => setEnded(msg),
  });
  const shares = pulse?.quadrants;
  const alerts = pulse?.collective?.alerts ?? [];
  const dis = pulse?.collective?.dissonance?.score;
  const display = useDisplayMode(code, (pulse as { display?: unknown } | null)?.display);
  const feedback = feedbackOf(pulse);
  // What a council set (Q8, Q9): the mode in force, its policy and reason; calm cools the screen;
  // a pause holds a still image.
  const councilFeedback = feedbackFieldOf(pulse);
  const councilDisplay = displayFieldOf(pulse);
  if (typeof document !== 'undefined') document.body.classList.toggle('calm', councilFeedback?.mode === 'calm');
  return html`
    <${Canvas} pulse=${pulse} mode=${display.mode} words=${words} />
    ${councilDisplay?.paused ? html`<div class="paused" data-testid="paused">A moment of stillness${councilDisplay.policy ? ` — policy “${councilDisplay.policy.name}”` : ''}</div>` : null}
    ${display.mode === 'stories' ? html`<${StoriesOverlay} view=${stories} />` : null}
    <aside>
      <div>
        <div class="muted">${name || 'attune'}</div>
        <div class="count" data-testid="count">${pulse ? pulse.count : '–'}</div>
        <div class="muted">${pulse?.count === 1 ? 'person' : 'people'} present</div>
        <div class="muted mode-line" data-testid="suppressed">${pulse?.suppressed && pulse.count > 0 ? `the shape appears at ${pulse.minCohort}` : ''}</div>
        <div class="muted mode-line"><span data-testid="mode">mode: ${display.mode}</span>${feedback ? html` · <span data-testid="feedback">${feedbackLabel(feedback)}</span>` : null}</div>
      </div>
      <${FeedbackBanner} pulse=${pulse} camps=${pulse?.collective?.camps ?? []} />
      <${DisplayOverrideNote} pulse=${pulse} />
      <div data-testid="quadrants">
        ${QUADRANT_STYLE.map(
          (q, i) => html`<div style="margin-bottom:1vh">
            <div class="row" style="justify-content:space-between"><span>${quadrantLabel(q.key, words)}</span><span data-testid=${`quadrant-${i}`}>${shares ? `${Math.round((shares[i] ?? 0) * 100)}%` : '–'}</span></div>
            <div class="bar"><div style=${`width:${shares ? (shares[i] ?? 0) * 100 : 0}%;background:${q.colour}`}></div></div>
          </div>`,
        )}
      </div>
      <div class="mode-line"><span class="muted">dissonance</span> <strong data-testid="dissonance">${dis !== undefined ? `${Math.round(dis * 100)}%` : '–'}</strong></div>
      <${HeartRoom} heart=${pulse?.heart} minCohort=${pulse?.minCohort ?? 3} />
      ${groups.length ? html`<${GroupsPanel} names=${groups} pulse=${pulse} />` : null}
      <div class="alert-slot">${alerts.map((a) => html`<div class="alert" data-testid="alert">${a.metrics.filter((m) => m.metric !== 'camps' && m.metric !== 'dispersion').slice(0, 2).map((m) => `${metricLabel(m.metric)} ${m.direction === 'up' ? 'rising' : 'falling'}`).join(' · ') || 'the room is changing'}</div>`)}</div>
      <div class="mode-line">${(pulse?.collective?.trends ?? []).slice(0, 1).map((t) => html`<span class="muted" data-testid="trend">slowly: ${t.metrics.slice(0, 2).map((m) => `${metricLabel(m.metric)} ${m.ratePerMin >= 0 ? 'rising' : 'falling'}`).join(' · ')}</span>`)}</div>
      <div style="margin-top:auto">
        <img class="qr" src=${`/api/spaces/${code}/qr.svg`} alt=${`QR code to join ${code}`} />
        <div>join at <strong>${location.host}/j/${code}</strong></div>
        <div class="muted">code <code>${code}</code></div>
        <div class=${`status ${status}`}>${ended ?? (status === 'live' ? 'live' : status)}</div>
      </div>
    </aside>
  `;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
