/**
 * Which mode the display draws: `?mode=…` pins it for this screen (a venue's projector set up
 * once); otherwise the steward's choice, followed live over the space's event stream
 * (`/api/spaces/CODE/stream?events=mode`, ARTISTS.md), else `field`.
 */
import { useEffect, useState } from 'preact/hooks';
import { DEFAULT_DISPLAY_MODE, type DisplayMode, isDisplayMode } from '../../../src/core/displayMode.ts';

/** The mode asked for in the page's query, if it names one. */
export function modeFromQuery(search: string = location.search): DisplayMode | null {
  const m = new URLSearchParams(search).get('mode');
  return isDisplayMode(m) ? m : null;
}

/** The mode in force for this display, and who chose it. */
export function useDisplayMode(code: string): { mode: DisplayMode; by: 'page' | 'steward' | 'default' } {
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
  return pinned ? { mode: pinned, by: 'page' } : chosen;
}
