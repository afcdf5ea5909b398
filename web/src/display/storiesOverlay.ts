/**
 * The gathering display (`/d/CODE?mode=stories`, SPEC ST8–ST10): over the room's pulse (drawn
 * underneath as the field), the approved story on show sits where its text's affect places it
 * on the field, fading in and out one at a time; below, the themes — words that ≥ 3 different
 * stories use — as a slowly changing cloud. Everything comes from the released stories view;
 * stories are text nodes only (htm never parses them as HTML) and isolated from the
 * surrounding direction, so no payload can run or reorder the page.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { StoriesView } from '../../../src/core/release/stories.ts';
import { xOf, yOf } from '../lib/affect.ts';
import { html } from '../lib/ui.ts';

/** The overlay; `view` is the last stories view the display's socket got (null before any). */
export function StoriesOverlay({ view }: { view: StoriesView | null }) {
  const ref = useRef<HTMLDivElement>(null);
  const [box, setBox] = useState({ w: 1, h: 1 });
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setBox({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    setBox({ w: el.clientWidth, h: el.clientHeight });
    return () => ro.disconnect();
  }, []);
  // The same square the field is drawn in (display.ts: 92% of the shorter side, centred).
  const size = Math.min(box.w, box.h) * 0.92;
  const ox = (box.w - size) / 2;
  const oy = (box.h - size) / 2;
  const c = view?.current ?? null;
  const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
  const left = c ? clamp(ox + xOf(c.valence, size), box.w * 0.25, box.w * 0.75) : 0;
  const top = c ? clamp(oy + yOf(c.arousal, size), box.h * 0.2, box.h * 0.7) : 0;
  const themes = view?.themes ?? [];
  const most = Math.max(3, ...themes.map((t) => t.stories));
  return html`
    <div class="stories-layer" ref=${ref} data-testid="stories-layer" aria-live="polite">
      ${
        c
          ? html`<figure key=${c.id} class="story-card" data-testid="story-card" data-story=${c.id} style=${`left:${left}px;top:${top}px`}>
              <blockquote class="story-text" dir="auto" data-testid="story-text">${c.text}</blockquote>
              <figcaption class="muted" data-testid="story-name">— <bdi>${c.name ?? 'anonymous'}</bdi>${view?.pinned ? ' · pinned' : ''}${view?.paused ? ' · paused' : ''}</figcaption>
            </figure>`
          : null
      }
      ${view?.suppressed ? html`<div class="stories-wait muted" data-testid="stories-wait">stories appear once ${view.minCohort} people are here</div>` : null}
      <div class="theme-cloud" data-testid="themes" aria-label="Themes across the stories">
        ${themes.map((t) => html`<span key=${t.term} class="theme" data-testid="theme" style=${`font-size:${(1 + 1.4 * (t.stories / most)).toFixed(2)}rem`}>${t.term}</span>`)}
      </div>
    </div>
  `;
}
