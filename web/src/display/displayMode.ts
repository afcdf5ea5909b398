/**
 * Which mode the display draws: `?mode=…` pins it for this screen (a venue's projector set up
 * once); otherwise the mode the pulse itself carries (`display.mode`, SPEC Q8: the steward's or
 * a council policy's act, in force once logged), else the steward's choice followed over the
 * space's event stream (`/api/spaces/CODE/stream?events=mode`, ARTISTS.md), else `field`.
 */
import { useEffect, useState } from 'preact/hooks';
import { DEFAULT_DISPLAY_MODE, type DisplayMode, isDisplayMode } from '../../../src/core/displayMode.ts';

/** The mode asked for in the page's query, if it names one. */
export function modeFromQuery(search: string = location.search): DisplayMode | null {
  const m = new URLSearchParams(search).get('mode');
  return isDisplayMode(m) ? m : null;
}

/** The mode a pulse's `display` field carries (Q8), when it names one that was chosen. */
export function modeOfPulse(display: unknown): { mode: DisplayMode; by: 'steward' | 'policy' } | null {
  if (typeof display !== 'object' || display === null) return null;
  const d = display as { mode?: unknown; by?: unknown };
  if (!isDisplayMode(d.mode) || d.by === 'default' || d.by === undefined) return null;
  return { mode: d.mode, by: d.by === 'policy' ? 'policy' : 'steward' };
}

/** The mode in force for this display, and who chose it (`fromPulse`: the latest pulse's `display`). */
export function useDisplayMode(code: string, fromPulse?: unknown): { mode: DisplayMode; by: 'page' | 'steward' | 'policy' | 'default' } {
  const pinned = modeFromQuery();
  const [chosen, setChosen] = useState<{ mode: DisplayMode; by: 'steward' | 'default' }>({ mode: DEFAULT_DISPLAY_MODE, by: 'default' });
  useEffect(() => {
    if (pinned || !code || typeof EventSource === 'undefined') return;
    const es = new EventSource(`/api/spaces/${encodeURIComponent(code)}/stream?events=mode`);
    es.addEventListener('mode', (e) => {
      try {
        const m = JSON.parse((e as MessageEvent).data) as { mode?: unknown; by?: unknown };
        if (isDisplayMode(m.mode)) setChosen({ mode: m.mode, by: m.by === 'default' ? 'default' : 'steward' });
      } catch {}
    });
    return () => es.close();
  }, [code, pinned]);
  if (pinned) return { mode: pinned, by: 'page' };
  return modeOfPulse(fromPulse) ?? chosen;
}
