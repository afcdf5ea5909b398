/**
 * The audit page's pinned verifier key (SPEC A2): trust on first use, never a silent change.
 * Pure: the stored state and the link's key in, what to verify with and what to tell the
 * visitor out.
 *
 * A link `/audit?key=K` pins K only when nothing is pinned yet. When a different key is already
 * pinned, the page keeps verifying with the pinned key and asks before replacing it: a link can
 * be sent by anyone, and a log whose key silently changes is exactly what pinning is meant to
 * catch. When the visitor does replace it (from a link or the form), the change is recorded and
 * shown — from which key, to which, when — until they dismiss it.
 */

/** What the page keeps in local storage. */
export interface PinState {
  readonly key: string | null;
  /** The last replacement of the pinned key, until dismissed. */
  readonly changed: { readonly from: string; readonly to: string; readonly at: number } | null;
}

/** What the page does on load. */
export interface PinDecision {
  /** The state to store (unchanged unless a first key was pinned). */
  readonly state: PinState;
  /** The key to verify with now ('' = none: the signature is shown unchecked). */
  readonly verifyWith: string;
  /** A key from the link that differs from the pinned one: ask before replacing. */
  readonly offered: string | null;
  /** The link's key was pinned now, as the first key. */
  readonly pinnedFromLink: boolean;
}

/** Decides what to verify with when the page opens with `fromLink` (the `?key=` value, or null). */
export function decidePin(stored: PinState, fromLink: string | null): PinDecision {
  const link = fromLink?.trim() || null;
  if (!link || link === stored.key) return { state: stored, verifyWith: stored.key ?? '', offered: null, pinnedFromLink: false };
  if (!stored.key) return { state: { ...stored, key: link }, verifyWith: link, offered: null, pinnedFromLink: true };
  return { state: stored, verifyWith: stored.key, offered: link, pinnedFromLink: false };
}

/** The state after the visitor chose to pin `next` (from the link's offer or the form) at `now`. */
export function replacePin(stored: PinState, next: string, now: number): PinState {
  const key = next.trim();
  if (!key || key === stored.key) return stored;
  return { key, changed: stored.key ? { from: stored.key, to: key, at: now } : stored.changed };
}

/** Whether pinning `draft` from the form needs the visitor's confirmation first. */
export function needsConfirmation(stored: PinState, draft: string): boolean {
  const d = draft.trim();
  return stored.key !== null && d !== '' && d !== stored.key;
}

/** Local-storage keys. */
export const PIN_STORE = { key: 'attune:log-verifier-key', changed: 'attune:log-verifier-key-changed' } as const;

/** Reads the state from a Storage-like object (tolerating a damaged record). */
export function loadPin(store: Pick<Storage, 'getItem'>): PinState {
  let changed: PinState['changed'] = null;
  try {
    const raw = store.getItem(PIN_STORE.changed);
    const c = raw ? (JSON.parse(raw) as { from?: unknown; to?: unknown; at?: unknown }) : null;
    if (c && typeof c.from === 'string' && typeof c.to === 'string' && typeof c.at === 'number') changed = { from: c.from, to: c.to, at: c.at };
  } catch {
    changed = null;
  }
  return { key: store.getItem(PIN_STORE.key) || null, changed };
}

/** Writes the state. */
export function savePin(store: Pick<Storage, 'setItem' | 'removeItem'>, s: PinState): void {
  if (s.key) store.setItem(PIN_STORE.key, s.key);
  else store.removeItem(PIN_STORE.key);
  if (s.changed) store.setItem(PIN_STORE.changed, JSON.stringify(s.changed));
  else store.removeItem(PIN_STORE.changed);
}
