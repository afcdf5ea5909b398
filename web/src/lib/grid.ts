/**
 * The valence × energy grid as an SVG component: quadrant colours and words, the crowd's
 * distribution (from the pulse histogram), the crowd mean beating at the room's heartbeat, and
 * the person's own point. The axes' ends carry the space's words (a template's, Q14); a
 * council's settings may hide the crowd (their own point stays) or calm the grid: a slower beat,
 * cooler colours (Q5, `screen.ts`). Works with touch, mouse and keyboard (arrows move,
 * Enter/Space sets).
 */
import { useRef, useState } from 'preact/hooks';
import { bpmOf, clamp1, QUADRANT_STYLE, styleOf, type Pulse, xOf, yOf, valenceAt, arousalAt } from './affect.ts';
import { type AxisWords, CALM_TINT, CALM_TINT_ALPHA, DEFAULT_AXIS_WORDS } from './screen.ts';
import { html } from './ui.ts';

const S = 1000; // SVG user units

/** Props of the grid. */
export interface GridProps {
  pulse: Pulse | null;
  you: { valence: number; arousal: number; confidence: number } | null;
  /** Called with a new point; absent for read-only grids. */
  onPick?: (valence: number, arousal: number) => void;
  label?: string;
  /** Whether the crowd is drawn (false: only the person's own point; a council's `showCrowd`). */
  crowd?: boolean;
  /** The names of the axes' ends (a template's words). */
  words?: AxisWords;
  /** Calm feedback: a slower heartbeat and cooler colours. */
  calm?: boolean;
}

function describe(v: number, a: number): string {
  const q = styleOf(v, a);
  const strength = Math.hypot(v, a);
  const how = strength < 0.25 ? 'near neutral' : strength < 0.6 ? 'somewhat' : 'strongly';
  return `${how} ${q?.label ?? ''}`;
}

/** The grid component. */
export function Grid({ pulse, you, onPick, label, crowd = true, words = DEFAULT_AXIS_WORDS, calm = false }: GridProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [cursor, setCursor] = useState<{ v: number; a: number } | null>(null);

  const pick = (clientX: number, clientY: number) => {
    const el = ref.current;
    if (!el || !onPick) return;
    const r = el.getBoundingClientRect();
    onPick(valenceAt(((clientX - r.left) / r.width) * S, S), arousalAt(((clientY - r.top) / r.height) * S, S));
  };

  const onKey = (e: KeyboardEvent) => {
    if (!onPick) return;
    const step = e.shiftKey ? 0.25 : 0.1;
    const c = cursor ?? (you ? { v: you.valence, a: you.arousal } : { v: 0, a: 0 });
    let next = c;
    if (e.key === 'ArrowLeft') next = { v: clamp1(c.v - step), a: c.a };
    else if (e.key === 'ArrowRight') next = { v: clamp1(c.v + step), a: c.a };
    else if (e.key === 'ArrowUp') next = { v: c.v, a: clamp1(c.a + step) };
    else if (e.key === 'ArrowDown') next = { v: c.v, a: clamp1(c.a - step) };
    else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onPick(Math.round(c.v * 100) / 100, Math.round(c.a * 100) / 100);
      return;
    } else return;
    e.preventDefault();
    setCursor(next);
  };

  const bins = pulse?.bins ?? 16;
  const hist = crowd ? (pulse?.hist ?? null) : null;
  const max = hist ? Math.max(1, ...hist) : 1;
  const cell = S / bins;
  const blobs = [];
  if (hist) {
    for (let i = 0; i < hist.length; i++) {
      const n = hist[i] ?? 0;
      if (n <= 0) continue;
      const ix = i % bins;
      const iy = Math.floor(i / bins);
      const cx = (ix + 0.5) * cell;
      const cy = S - (iy + 0.5) * cell;
      const r = cell * (0.35 + 0.55 * Math.sqrt(n / max));
      blobs.push(html`<circle cx=${cx} cy=${cy} r=${r} fill="#fff" opacity=${0.18 + 0.42 * (n / max)} />`);
    }
  }
  const mean = crowd ? (pulse?.smoothed ?? null) : null;
  // The crowd's mean beats at the room's heartbeat (slower under calm), like the display's.
  const bpm = mean ? bpmOf(mean.arousal, calm) : null;
  const desc = you ? `Your point: ${describe(you.valence, you.arousal)}.` : 'No point set yet.';
  return html`
    <div>
      <div class="axis" aria-hidden="true"><span data-testid="axis-energised">↑ ${words.energised}</span></div>
      <div
        class=${calm ? 'grid calm-grid' : 'grid'}
        data-crowd=${crowd ? 'shown' : 'hidden'}
        data-calm=${calm ? 'yes' : 'no'}
        ref=${ref}
        role=${onPick ? 'application' : 'img'}
        tabindex=${onPick ? 0 : -1}
        aria-label=${`${label ?? 'Valence and energy grid'}. ${desc} ${onPick ? 'Tap where you are, or use the arrow keys and press Enter.' : ''}`}
        data-testid="grid"
        onPointerDown=${(e: PointerEvent) => {
          e.preventDefault();
          pick(e.clientX, e.clientY);
        }}
        onKeyDown=${onKey}
        onBlur=${() => setCursor(null)}
      >
        <svg viewBox="0 0 ${S} ${S}" preserveAspectRatio="none">
          <rect x=${S / 2} y="0" width=${S / 2} height=${S / 2} fill=${QUADRANT_STYLE[0].colour} opacity="0.28" />
          <rect x=${S / 2} y=${S / 2} width=${S / 2} height=${S / 2} fill=${QUADRANT_STYLE[1].colour} opacity="0.28" />
          <rect x="0" y=${S / 2} width=${S / 2} height=${S / 2} fill=${QUADRANT_STYLE[2].colour} opacity="0.28" />
          <rect x="0" y="0" width=${S / 2} height=${S / 2} fill=${QUADRANT_STYLE[3].colour} opacity="0.28" />
          <line x1=${S / 2} y1="0" x2=${S / 2} y2=${S} stroke="#ffffff40" stroke-width="3" />
          <line x1="0" y1=${S / 2} x2=${S} y2=${S / 2} stroke="#ffffff40" stroke-width="3" />
          ${[
            [0, S * 0.75, S * 0.1],
            [1, S * 0.75, S * 0.9],
            [2, S * 0.25, S * 0.9],
            [3, S * 0.25, S * 0.1],
          ].map(
            ([q, x, y]) =>
              html`<text x=${x} y=${y} text-anchor="middle" fill="#ffffffc0" font-size="38" font-family="system-ui, sans-serif">${QUADRANT_STYLE[q as number]?.words.join(' · ')}</text>`,
          )}
          ${blobs}
          ${calm ? html`<rect x="0" y="0" width=${S} height=${S} fill=${CALM_TINT} opacity=${CALM_TINT_ALPHA} style="mix-blend-mode:color" data-testid="calm-tint" />` : null}
          ${
            mean && bpm !== null
              ? html`<g data-testid="crowd-mean" data-bpm=${bpm.toFixed(1)}><circle class="beat" style=${`animation-duration:${(60 / bpm).toFixed(3)}s`} cx=${xOf(mean.valence, S)} cy=${yOf(mean.arousal, S)} r="26" fill="none" stroke="#fff" stroke-width="6" stroke-dasharray="10 8" /></g>`
              : null
          }
          ${cursor ? html`<circle cx=${xOf(cursor.v, S)} cy=${yOf(cursor.a, S)} r="30" fill="none" stroke="#fff" stroke-width="4" stroke-dasharray="6 6" />` : null}
          ${
            you
              ? html`<g data-testid="you">
                  <circle cx=${xOf(you.valence, S)} cy=${yOf(you.arousal, S)} r="34" fill=${styleOf(you.valence, you.arousal).colour} stroke="#fff" stroke-width="8" opacity=${0.45 + 0.55 * you.confidence} />
                  <text x=${xOf(you.valence, S)} y=${yOf(you.arousal, S) - 50} text-anchor="middle" fill="#fff" font-size="36" font-weight="700">you</text>
                </g>`
              : null
          }
        </svg>
      </div>
      <div class="axis" aria-hidden="true"><span data-testid="axis-unpleasant">← ${words.unpleasant}</span><span data-testid="axis-calm">↓ ${words.calm}</span><span data-testid="axis-pleasant">${words.pleasant} →</span></div>
    </div>
  `;
}
