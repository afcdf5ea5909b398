/**
 * The display's art modes beside `field` (display.ts): `threads`, `kaleidoscope` and
 * `dissonance`, and the calm placeholder every mode shows while the room is suppressed (fewer
 * than the minimum cohort have shared, P4 — nothing to show, so the screen breathes slowly
 * instead of showing an empty grid).
 *
 * Every mode draws only the released pulse: the histogram (R2), the smoothed mean, the camps
 * and the dissonance. Motion between pulses is easing on the client; the heartbeat's rate
 * follows the smoothed energy (`bpmOf`), its colour the mood. Each frame is O(bins²) strokes at
 * most, whatever the number of people, so 10,000 people draw like 10.
 */
import { fractureOf } from '../../../src/core/collective/fracture.ts';
import { bpmOf, moodColour, type Pulse, xOf, yOf } from '../lib/affect.ts';

/** A mode drawn by this module. */
export type ArtMode = 'threads' | 'kaleidoscope' | 'dissonance';

/** What a mode keeps between frames (eased toward the latest pulse). */
export interface ArtState {
  hist: Float32Array;
  max: number;
  mv: number;
  ma: number;
  /** Heartbeat phase in [0, 1). */
  phase: number;
  /** Beat envelope this frame, 0…1. */
  beat: number;
  /** The heartbeat's rate this frame, bpm (slower under calm feedback). */
  bpm: number;
  /** Eased dissonance, 0…1. */
  dis: number;
  /** Rotation of the kaleidoscope, radians. */
  turn: number;
  /** The kaleidoscope's wedge, at half resolution (it is a soft glow), stamped every frame. */
  wedge: HTMLCanvasElement | null;
  /** The wedge's stamps composed around the centre (half resolution). */
  whole: HTMLCanvasElement | null;
  /** When the wedge was last drawn (it is redrawn at most at the pulse rate, 20 Hz). */
  wedgeAt: number;
}

/** A fresh state. */
export function artState(): ArtState {
  return {
    hist: new Float32Array(0),
    max: 1e-6,
    mv: 0,
    ma: 0,
    phase: 0,
    beat: 0,
    bpm: 0,
    dis: 0,
    turn: 0,
    wedge: null,
    whole: null,
    wedgeAt: -Infinity,
  };
}

/** Eases the state toward the pulse and advances the heartbeat. */
function advance(s: ArtState, p: Pulse | null, dt: number, calm: boolean): void {
  const bins = p?.bins ?? 16;
  if (s.hist.length !== bins * bins) s.hist = new Float32Array(bins * bins);
  const ease = 1 - Math.exp(-dt / 400);
  let max = 1e-6;
  const target = p?.hist;
  for (let i = 0; i < s.hist.length; i++) {
    const cur = s.hist[i] ?? 0;
    const next = cur + ((target?.[i] ?? 0) - cur) * ease;
    s.hist[i] = next;
    if (next > max) max = next;
  }
  s.max = max;
  const m = p?.smoothed;
  const k = 1 - Math.exp(-dt / 250);
  if (m) {
    s.mv += (m.valence - s.mv) * k;
    s.ma += (m.arousal - s.ma) * k;
  }
  const d = p?.collective?.dissonance?.score ?? 0;
  s.dis += (d - s.dis) * (1 - Math.exp(-dt / 600));
  s.bpm = bpmOf(s.ma, calm);
  s.phase = (s.phase + (dt / 60000) * s.bpm) % 1;
  const ph = s.phase;
  s.beat = Math.exp(-((ph * 9) ** 2)) + 0.6 * Math.exp(-(((ph - 0.2) * 9) ** 2));
}

function background(ctx: CanvasRenderingContext2D, w: number, h: number): void {
  ctx.globalCompositeOperation = 'source-over';
  ctx.globalAlpha = 1;
  ctx.fillStyle = '#0c0e13';
  ctx.fillRect(0, 0, w, h);
}

/**
 * The suppressed room: one soft, slowly breathing light (a 6 s breath, the pace of calm
 * breathing), neutral in colour because no mood may be shown, and one line of words.
 */
export function drawCalm(ctx: CanvasRenderingContext2D, w: number, h: number, minCohort: number, t: number): void {
  background(ctx, w, h);
  const size = Math.min(w, h);
  const breath = 0.5 - 0.5 * Math.cos((t / 6000) * Math.PI * 2);
  const r = size * (0.16 + 0.05 * breath);
  const g = ctx.createRadialGradient(w / 2, h / 2, 0, w / 2, h / 2, r * 2.2);
  g.addColorStop(0, `rgba(196, 204, 222, ${0.28 + 0.14 * breath})`);
  g.addColorStop(0.45, `rgba(150, 160, 190, ${0.1 + 0.06 * breath})`);
  g.addColorStop(1, 'rgba(150, 160, 190, 0)');
  ctx.fillStyle = g;
  ctx.beginPath();
  ctx.arc(w / 2, h / 2, r * 2.2, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#c9cfdc';
  ctx.textAlign = 'center';
  ctx.font = `${Math.round(size / 30)}px system-ui, sans-serif`;
  ctx.fillText(`the room's shape appears when ${minCohort} people have shared`, w / 2, h / 2 + size * 0.42);
}

/**
 * Threads: one luminous thread per arousal row and sub-strand, drawn across the valence axis
 * cell by cell; a segment's brightness is its cell's share of the room, its colour the cell's
 * mood, and every thread swells on the heartbeat. Dissonance makes them flicker and tangle
 * (their waves grow and cross); as it heals they settle back into parallel lines.
 */
function drawThreads(ctx: CanvasRenderingContext2D, w: number, h: number, s: ArtState, bins: number, t: number): void {
  background(ctx, w, h);
  const strands = 3;
  const seg = w / bins;
  const rowH = h / bins;
  const dis = s.dis;
  ctx.globalCompositeOperation = 'lighter';
  ctx.lineCap = 'round';
  // The faint, empty stretches share one style: one path, stroked once at the end (the light
  // adds up, so the order of strokes does not change the picture).
  const faint = new Path2D();
  for (let iy = 0; iy < bins; iy++) {
    const a = ((iy + 0.5) / bins) * 2 - 1;
    for (let k = 0; k < strands; k++) {
      const seed = iy * 7.13 + k * 2.71;
      const base = h - (iy + 0.5) * rowH + (k - 1) * rowH * 0.22;
      const amp = rowH * (0.12 + 2.4 * dis * dis);
      const flicker = dis > 0.2 ? 1 - dis * 0.7 * (0.5 + 0.5 * Math.sin(t / 37 + seed * 13)) ** 8 : 1;
      const yAt = (x: number) => base + Math.sin((x / w) * 6.3 + t / (1400 - 600 * dis) + seed) * amp + Math.sin((x / w) * 17 + t / 500 + seed * 3) * amp * dis;
      let x0 = 0;
      let y0 = yAt(0);
      for (let ix = 0; ix < bins; ix++) {
        const n = (s.hist[iy * bins + ix] ?? 0) / s.max;
        const x1 = (ix + 1) * seg;
        const y1 = yAt(x1);
        if (n > 0.01) {
          const v = ((ix + 0.5) / bins) * 2 - 1;
          const glow = Math.min(1, 0.3 + Math.sqrt(n)) * (0.75 + 0.25 * s.beat) * flicker;
          ctx.strokeStyle = moodColour(v, a, 0.3 * glow);
          ctx.lineWidth = 2 + 10 * Math.sqrt(n) * (1 + 0.3 * s.beat);
          ctx.beginPath();
          ctx.moveTo(x0, y0);
          ctx.quadraticCurveTo((x0 + x1) / 2, (y0 + y1) / 2 + Math.sin(seed + ix) * amp * 0.5 * dis, x1, y1);
          ctx.stroke();
          ctx.strokeStyle = moodColour(v, a, Math.min(1, 1.1 * glow));
          ctx.lineWidth = 2;
          ctx.stroke();
        } else {
          faint.moveTo(x0, y0);
          faint.lineTo(x1, y1);
        }
        x0 = x1;
        y0 = y1;
      }
    }
  }
  ctx.strokeStyle = 'rgba(255,255,255,0.05)';
  ctx.lineWidth = 1;
  ctx.stroke(faint);
  ctx.globalCompositeOperation = 'source-over';
}

/** Wedges of the kaleidoscope (mirror pairs × 2). */
const FOLDS = 6;

/**
 * Kaleidoscope: the distribution drawn into one wedge, then stamped 2·FOLDS times around the
 * centre (every other copy mirrored), slowly turning at a pace set by the room's energy. As the
 * room splits the symmetry breaks: each copy is offset in angle and scale by an amount that
 * grows with the dissonance, and every other copy dims.
 */
function drawKaleidoscope(ctx: CanvasRenderingContext2D, w: number, h: number, s: ArtState, bins: number, dt: number, t: number): void {
  background(ctx, w, h);
  const R = Math.min(w, h) * 0.48;
  // Two half-resolution layers (the image is a soft glow): the wedge, and the 12 stamps of it
  // composed around the centre. Both are redrawn at most at the pulse rate (20 Hz); a frame
  // only turns and draws the composed image once, so the per-frame cost is one drawImage.
  const wedge = s.wedge ?? document.createElement('canvas');
  const whole = s.whole ?? document.createElement('canvas');
  s.wedge = wedge;
  s.whole = whole;
  const ws = Math.ceil(R / 2);
  const resized = wedge.width !== ws || whole.width !== 2 * ws;
  if (resized) {
    wedge.width = ws;
    wedge.height = ws;
    whole.width = 2 * ws;
    whole.height = 2 * ws;
  }
  const g = wedge.getContext('2d');
  const gw = whole.getContext('2d');
  if (!g || !gw) return;
  const span = Math.PI / FOLDS;
  if (resized || t - s.wedgeAt >= 50) {
    s.wedgeAt = t;
    g.clearRect(0, 0, ws, ws);
    g.globalCompositeOperation = 'lighter';
    // Valence runs out along the radius, arousal across the wedge's angle.
    for (let i = 0; i < s.hist.length; i++) {
      const n = (s.hist[i] ?? 0) / s.max;
      if (n < 0.02) continue;
      const ix = i % bins;
      const iy = Math.floor(i / bins);
      const v = ((ix + 0.5) / bins) * 2 - 1;
      const a = ((iy + 0.5) / bins) * 2 - 1;
      const rr = ((ix + 0.5) / bins) * ws * 0.95;
      const th = ((iy + 0.5) / bins) * span;
      const r = (ws / bins) * (0.5 + 1.1 * Math.sqrt(n)) * (1 + 0.15 * s.beat);
      g.fillStyle = moodColour(v, a, 0.06 + 0.22 * n);
      g.beginPath();
      g.arc(Math.cos(th) * rr, Math.sin(th) * rr, r, 0, Math.PI * 2);
      g.fill();
    }
    const broken = s.dis * s.dis;
    gw.setTransform(1, 0, 0, 1, 0, 0);
    gw.clearRect(0, 0, 2 * ws, 2 * ws);
    gw.globalCompositeOperation = 'lighter';
    for (let k = 0; k < 2 * FOLDS; k++) {
      gw.setTransform(1, 0, 0, 1, ws, ws);
      gw.rotate(k * span + broken * 0.5 * Math.sin(k * 1.9 + t / 3000));
      const sc = 1 + broken * 0.35 * Math.sin(k * 2.3 + t / 2100);
      gw.scale(sc, k % 2 === 1 ? -sc : sc);
      gw.globalAlpha = k % 2 === 1 ? 1 - 0.65 * broken : 1;
      gw.drawImage(wedge, 0, 0);
    }
    gw.setTransform(1, 0, 0, 1, 0, 0);
    gw.globalAlpha = 1;
  }
  s.turn += (dt / 1000) * (0.04 + 0.08 * (s.ma + 1));
  ctx.save();
  ctx.translate(w / 2, h / 2);
  ctx.rotate(s.turn);
  ctx.drawImage(whole, -2 * ws, -2 * ws, 4 * ws, 4 * ws);
  ctx.restore();
  // The heart at the centre, in the room's colour.
  const hr = R * (0.06 + 0.04 * s.beat);
  const hg = ctx.createRadialGradient(w / 2, h / 2, 0, w / 2, h / 2, hr * 3);
  hg.addColorStop(0, moodColour(s.mv, s.ma, 0.9));
  hg.addColorStop(1, moodColour(s.mv, s.ma, 0));
  ctx.fillStyle = hg;
  ctx.beginPath();
  ctx.arc(w / 2, h / 2, hr * 3, 0, Math.PI * 2);
  ctx.fill();
}

/**
 * Dissonance: the camps as separate bodies — each a breathing, softly wobbling mass at its
 * centroid, its size its share, its colour its mood — with the fracture between the two largest
 * drawn as a dark rift whose width is the dissonance. One camp: one whole body, no rift.
 */
function drawDissonance(ctx: CanvasRenderingContext2D, w: number, h: number, p: Pulse | null, s: ArtState, t: number): void {
  background(ctx, w, h);
  const size = Math.min(w, h) * 0.92;
  const ox = (w - size) / 2;
  const oy = (h - size) / 2;
  const camps = p?.collective?.camps ?? [];
  const bodies =
    camps.length > 0
      ? camps
      : p?.smoothed
        ? [
            {
              id: 'room',
              valence: s.mv,
              arousal: s.ma,
              share: 1,
              people: p.count,
            },
          ]
        : [];
  ctx.globalCompositeOperation = 'lighter';
  for (const [k, c] of bodies.entries()) {
    const cx = ox + xOf(c.valence, size);
    const cy = oy + yOf(c.arousal, size);
    const r = size * (0.05 + 0.13 * Math.sqrt(c.share)) * (1 + 0.06 * s.beat);
    const g = ctx.createRadialGradient(cx, cy, 0, cx, cy, r * 1.6);
    g.addColorStop(0, moodColour(c.valence, c.arousal, 0.85));
    g.addColorStop(0.6, moodColour(c.valence, c.arousal, 0.35));
    g.addColorStop(1, moodColour(c.valence, c.arousal, 0));
    ctx.fillStyle = g;
    ctx.beginPath();
    const pts = 48;
    for (let j = 0; j <= pts; j++) {
      const th = (j / pts) * Math.PI * 2;
      const rr = r * 1.6 * (1 + 0.05 * Math.sin(th * 3 + t / 900 + k * 2) + 0.04 * Math.sin(th * 5 - t / 700 + k));
      const x = cx + Math.cos(th) * rr;
      const y = cy + Math.sin(th) * rr;
      if (j === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.fill();
  }
  ctx.globalCompositeOperation = 'source-over';
  const fracture = p?.collective ? fractureOf(p.collective) : null;
  if (fracture) {
    const x1 = ox + xOf(fracture.from.valence, size);
    const y1 = oy + yOf(fracture.from.arousal, size);
    const x2 = ox + xOf(fracture.to.valence, size);
    const y2 = oy + yOf(fracture.to.arousal, size);
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const nx = -(y2 - y1) / len;
    const ny = (x2 - x1) / len;
    const half = size * (0.004 + 0.06 * s.dis);
    ctx.fillStyle = '#05060a';
    ctx.strokeStyle = `rgba(255, 255, 255, ${0.3 + 0.5 * s.dis})`;
    ctx.lineWidth = 2;
    ctx.beginPath();
    const segs = 24;
    const edge = (side: number) => {
      for (let j = 0; j <= segs; j++) {
        const f = side > 0 ? j / segs : 1 - j / segs;
        const jag = Math.sin(f * 31 + t / 800) * half * 0.35;
        const x = x1 + (x2 - x1) * f + nx * (side * half + jag);
        const y = y1 + (y2 - y1) * f + ny * (side * half + jag);
        if (j === 0 && side > 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
    };
    edge(1);
    edge(-1);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
  }
  ctx.fillStyle = '#fff';
  ctx.textAlign = 'center';
  ctx.font = `${Math.round(size / 40)}px system-ui, sans-serif`;
  for (const c of camps) ctx.fillText(`${Math.round(c.share * 100)}%`, ox + xOf(c.valence, size), oy + yOf(c.arousal, size) + size * 0.008);
}

/** Draws one frame of an art mode (the placeholder while the room is suppressed); `calm`: the council's calm feedback slows the heartbeat. */
export function drawArt(ctx: CanvasRenderingContext2D, w: number, h: number, mode: ArtMode, p: Pulse | null, s: ArtState, dt: number, t: number, calm = false): void {
  advance(s, p, dt, calm);
  if (!p || p.suppressed) {
    drawCalm(ctx, w, h, p?.minCohort ?? 3, t);
    return;
  }
  if (mode === 'threads') drawThreads(ctx, w, h, s, p.bins, t);
  else if (mode === 'kaleidoscope') drawKaleidoscope(ctx, w, h, s, p.bins, dt, t);
  else drawDissonance(ctx, w, h, p, s, t);
}
