/**
 * A space's groups on the pages (SPEC R6, docs/bridging.md): the picker a participant chooses
 * their group with (optional, changeable, "prefer not to say" always offered), and the panel the
 * display and steward page show — the groups side by side, their means and common ground
 * overlaid on one field, and the bridging score over time. Everything drawn here comes from the
 * released pulse (`groups`, `bridging`); a withheld group shows only that it is withheld.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Bridging } from '../../../src/core/collective/bridging.ts';
import type { ReleasedGroup, ReleasedGroups } from '../../../src/core/release/groups.ts';
import { QUADRANT_STYLE, xOf, yOf } from './affect.ts';
import { html } from './ui.ts';

/** One colour per group slot (up to 8), distinguishable on dark and light grounds. */
export const GROUP_COLOURS = ['#f2a541', '#4cc9f0', '#e0584d', '#3fae95', '#b388eb', '#ffd166', '#ef476f', '#8ecae6'] as const;

/** The colour of the i-th declared group. */
export const groupColour = (i: number): string => GROUP_COLOURS[i % GROUP_COLOURS.length] as string;

/** What the group fields of a pulse look like to a page. */
export interface GroupedPulse {
  readonly minCohort: number;
  readonly groups?: ReleasedGroups;
  readonly bridging?: Bridging | null;
}

/** Words for the bridging measures (pure, for tests). */
export function describeBridging(b: Bridging | null | undefined, shown: number): string {
  if (!b) return shown < 2 ? 'bridging appears once two groups are shown' : 'bridging appears once two groups have shared';
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const ground = b.commonGround.regions.length;
  return `overlap ${pct(b.score)} · closeness ${pct(b.closeness)} · common ground in ${ground} ${ground === 1 ? 'region' : 'regions'}`;
}

/** Words for one group's card (pure, for tests). */
export function describeGroup(g: ReleasedGroup | undefined, minCohort: number): string {
  if (!g || g.suppressed) return `hidden (fewer than ${minCohort}, or to protect a smaller group)`;
  if (!g.count) return 'nobody yet';
  const best = g.quadrants ? g.quadrants.indexOf(Math.max(...g.quadrants)) : -1;
  return `${g.count} ${g.count === 1 ? 'person' : 'people'}${best >= 0 ? ` · mostly ${QUADRANT_STYLE[best as 0]?.label}` : ''}`;
}

/** The group picker: radio buttons, "prefer not to say" first and always there. */
export function GroupPicker({ groups, value, onChange }: { groups: readonly string[]; value: string | null; onChange: (g: string | null) => void }) {
  return html`<fieldset class="card" data-testid="group-picker">
    <legend>Your group (optional)</legend>
    <label><input type="radio" name="group" checked=${value === null} onChange=${() => onChange(null)} data-testid="group-none" /> Prefer not to say</label>
    ${groups.map(
      (g) => html`<label><input type="radio" name="group" checked=${value === g} onChange=${() => onChange(g)} data-testid=${`group-${g}`} /> ${g}</label>`,
    )}
  </fieldset>`;
}

/** The last `n` bridging scores of the pulses a page received (a sparkline's data). */
function useBridgingHistory(b: Bridging | null | undefined, n = 120): number[] {
  const [hist, setHist] = useState<number[]>([]);
  useEffect(() => {
    if (b) setHist((h) => [...h.slice(-(n - 1)), b.score]);
  }, [b, n]);
  return hist;
}

const S = 240;

/** The groups' means (dot, sized by count) and spreads (ellipse), and common ground, on one field. */
export function GroupsField({ names, pulse }: { names: readonly string[]; pulse: GroupedPulse }) {
  const cg = pulse.bridging?.commonGround;
  const rb = cg?.regionBins ?? 4;
  const cell = S / rb;
  return html`<svg viewBox="0 0 ${S} ${S}" class="groups-field" role="img" aria-label="The groups on the field" data-testid="groups-field">
    <rect x="0" y="0" width=${S} height=${S} fill="#111826" stroke="#334" />
    <line x1=${S / 2} y1="0" x2=${S / 2} y2=${S} stroke="#334" />
    <line x1="0" y1=${S / 2} x2=${S} y2=${S / 2} stroke="#334" />
    ${(cg?.regions ?? []).map((r) => {
      const rx = r.region % rb;
      const ry = Math.floor(r.region / rb);
      return html`<rect data-testid="common-ground" x=${rx * cell} y=${S - (ry + 1) * cell} width=${cell} height=${cell} fill="#ffffff" fill-opacity=${0.08 + 0.4 * r.share} />`;
    })}
    ${names.map((name, i) => {
      const g = pulse.groups?.[name];
      if (!g?.mean || !g.count) return null;
      const x = xOf(g.mean.valence, S);
      const y = yOf(g.mean.arousal, S);
      const rx = Math.max(4, ((g.spread?.valence ?? 0) / 2) * S);
      const ry = Math.max(4, ((g.spread?.arousal ?? 0) / 2) * S);
      return html`<g data-testid=${`group-dot-${name}`}>
        <ellipse cx=${x} cy=${y} rx=${rx} ry=${ry} fill=${groupColour(i)} fill-opacity="0.15" stroke=${groupColour(i)} />
        <circle cx=${x} cy=${y} r=${4 + Math.min(8, Math.sqrt(g.count))} fill=${groupColour(i)} />
        <text x=${x + 10} y=${y - 8} fill=${groupColour(i)} font-size="12">${name}</text>
      </g>`;
    })}
  </svg>`;
}

/** A sparkline of bridging scores in [0, 1]. */
function Sparkline({ values }: { values: readonly number[] }) {
  if (values.length < 2) return null;
  const w = 200;
  const h = 40;
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - v * h).toFixed(1)}`).join(' ');
  return html`<svg viewBox="0 0 ${w} ${h}" class="sparkline" role="img" aria-label="bridging score over time" data-testid="bridging-history"><polyline points=${pts} fill="none" stroke="#ffd166" stroke-width="2" /></svg>`;
}

/** The groups side by side, overlaid on one field, and bridging over time. */
export function GroupsPanel({ names, pulse }: { names: readonly string[]; pulse: GroupedPulse | null }) {
  const history = useBridgingHistory(pulse?.bridging);
  if (!pulse || names.length === 0) return null;
  const shown = names.filter((n) => (pulse.groups?.[n]?.count ?? 0) > 0).length;
  return html`<section class="groups" data-testid="groups">
    <div class="groups-row">
      ${names.map((name, i) => {
        const g = pulse.groups?.[name];
        const shares = g?.quadrants;
        return html`<div class="group-card" data-testid=${`group-card-${name}`} data-suppressed=${g?.suppressed ? 'true' : 'false'}>
          <div><span class="group-swatch" style=${`background:${groupColour(i)}`}></span> <strong>${name}</strong></div>
          <div class="muted" data-testid=${`group-text-${name}`}>${describeGroup(g, pulse.minCohort)}</div>
          ${shares ? html`<div class="group-bars">${QUADRANT_STYLE.map((q, j) => html`<div class="bar" title=${q.label}><div style=${`width:${(shares[j] ?? 0) * 100}%;background:${q.colour}`}></div></div>`)}</div>` : null}
        </div>`;
      })}
    </div>
    <${GroupsField} names=${names} pulse=${pulse} />
    <div data-testid="bridging" data-score=${pulse.bridging ? String(pulse.bridging.score) : ''} data-closeness=${pulse.bridging ? String(pulse.bridging.closeness) : ''}>${describeBridging(pulse.bridging, shown)}</div>
    <${Sparkline} values=${history} />
  </section>`;
}
