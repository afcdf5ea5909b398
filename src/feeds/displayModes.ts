/**
 * The display mode each space's displays draw (`field`, `threads`, `kaleidoscope`,
 * `dissonance`), as the steward (or, later, a council policy) chose it. A change is announced to
 * listeners — the SSE stream (`event: mode`, which open display pages follow), the webhooks
 * (`display.mode`) — and the OSC feed sends the mode in force as `/mode`.
 *
 * Held in memory by the composition root: a restart returns every space to `field`. Making the
 * choice an act of the space machine (recorded, replayed, logged when a council decides it) is
 * the lead's wiring (see docs/living-art.md, "what the host needs").
 */
import { DEFAULT_DISPLAY_MODE, type DisplayMode } from '../core/displayMode.ts';

/** A mode in force. */
export interface ModeChoice {
  readonly mode: DisplayMode;
  /** When it was chosen (epoch ms; 0 for the default). */
  readonly at: number;
  /** Who chose it. */
  readonly by: 'default' | 'steward' | 'policy';
}

/** A change of a space's mode. */
export type ModeListener = (spaceId: string, choice: ModeChoice) => void;

/** The modes of every space. */
export class DisplayModeBook {
  private readonly modes = new Map<string, ModeChoice>();
  private readonly listeners = new Set<ModeListener>();

  /** The mode in force for a space (the default when none was chosen). */
  get(spaceId: string): ModeChoice {
    return this.modes.get(spaceId) ?? { mode: DEFAULT_DISPLAY_MODE, at: 0, by: 'default' };
  }

  /** Chooses a mode; listeners hear of it only when it changes. Returns whether it changed. */
  set(spaceId: string, mode: DisplayMode, at: number, by: 'steward' | 'policy'): boolean {
    if (this.get(spaceId).mode === mode) return false;
    const choice: ModeChoice = { mode, at, by };
    this.modes.set(spaceId, choice);
    for (const l of this.listeners) l(spaceId, choice);
    return true;
  }

  /** Forgets a space (it closed). */
  forget(spaceId: string): void {
    this.modes.delete(spaceId);
  }

  /** Listens to changes; returns the way to stop. */
  listen(l: ModeListener): { dispose(): void } {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }
}
