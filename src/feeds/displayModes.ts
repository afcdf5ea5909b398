/**
 * The display mode each space's displays draw (`field`, `threads`, `kaleidoscope`,
 * `dissonance`), as the steward (or, later, a council policy) chose it. A change is announced to
 * listeners — the SSE stream (`event: mode`, which open display pages follow), the webhooks
 * (`display.mode`) — and the OSC feed sends the mode in force as `/mode`.
 *
 * The choice itself is a governance act of the space machine (SPEC Q9: `display.changed` by the
 * steward, or a council policy's `display` action) — logged first, recorded, replayed, restored
 * after a restart. This book mirrors what the host applied (server/feeds.ts wires it), and reads
 * the host's state for a space it has not heard of yet (`seed`).
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

/**
 * A change of a space's mode. `synced`: applied on another node of a cluster and read back here
 * (K12) — pull feeds (SSE) follow it; push feeds (webhooks) leave from the node that applied it (F8).
 */
export type ModeListener = (spaceId: string, choice: ModeChoice, synced: boolean) => void;

/** The modes of every space. */
export class DisplayModeBook {
  private readonly modes = new Map<string, ModeChoice>();
  private readonly listeners = new Set<ModeListener>();
  private readonly seed: ((spaceId: string) => ModeChoice | null) | null;

  /** `seed`: the mode in force of a space this book has not heard of (e.g. restored after a restart). */
  constructor(seed: ((spaceId: string) => ModeChoice | null) | null = null) {
    this.seed = seed;
  }

  /** The mode in force for a space (the default when none was chosen). */
  get(spaceId: string): ModeChoice {
    return this.modes.get(spaceId) ?? this.seed?.(spaceId) ?? { mode: DEFAULT_DISPLAY_MODE, at: 0, by: 'default' };
  }

  /** Chooses a mode; listeners hear of it only when it changes. Returns whether it changed. */
  set(spaceId: string, mode: DisplayMode, at: number, by: 'steward' | 'policy', synced = false): boolean {
    // Compared with what listeners last heard (not the seed, which already shows the applied act).
    if ((this.modes.get(spaceId)?.mode ?? DEFAULT_DISPLAY_MODE) === mode) return false;
    const choice: ModeChoice = { mode, at, by };
    this.modes.set(spaceId, choice);
    for (const l of this.listeners) l(spaceId, choice, synced);
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
