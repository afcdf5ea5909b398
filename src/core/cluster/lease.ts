/**
 * The tick lease of a cluster space (SPEC K2), as a pure decision: given the lease entry read
 * from the KV store, what this node last saw of it and its own clock, what to do next.
 *
 * NATS 2.9 has no per-key TTL (it silently ignores one), and the nodes' clocks may disagree, so
 * expiry is never read off a timestamp another node wrote: a lease has expired when its
 * revision has not moved for `leaseMs` **by this node's own clock** since this node first saw
 * that revision. The owner renews (a compare-and-set on the revision it holds) every
 * `renewMs` < `leaseMs`, and stops ticking once `leaseMs − renewMs` has passed since its last
 * renewal began without one succeeding — before any other node can have taken over, as long as
 * clocks run at about the same rate (they need not agree). A taker writes with compare-and-set
 * on the revision it watched expire, so of several takers exactly one wins.
 *
 *   (no entry) ──create──▶ owned ──renew ok──▶ owned
 *                            │ renew fails (revision moved): lost
 *   held by X ──revision unchanged for leaseMs (own clock)──▶ take (CAS) ──▶ owned
 *   released (node null, on shutdown) ──▶ take at once
 */

/** What a lease entry holds. */
export interface LeaseValue {
  /** The owner's node id; null once released (a graceful shutdown hands over at once). */
  readonly node: string | null;
  /** The last pulse seq the owner published, and its smoothed mean (a taker continues both). */
  readonly seq: number;
  readonly smoothed: { readonly valence: number; readonly arousal: number } | null;
  /** The owner's clock at that pulse (informational). */
  readonly at: number;
  /** Policy evaluations that failed at run time on every owner so far (Q6, K12): a taker counts on from it. */
  readonly evalErrors: number;
}

/** What this node last saw of a lease: a revision and when (own clock) it first saw it. */
export interface LeaseSighting {
  readonly revision: number;
  readonly since: number;
}

/** The next step. */
export type LeaseAction = { readonly kind: 'create' } | { readonly kind: 'renew'; readonly revision: number } | { readonly kind: 'take'; readonly revision: number } | { readonly kind: 'wait'; readonly owner: string };

/** Decides the next step for node `me` (see the header). */
export function decideLease(me: string, entry: { readonly revision: number; readonly value: LeaseValue } | null, seen: LeaseSighting | null, now: number, leaseMs: number): LeaseAction {
  if (!entry) return { kind: 'create' };
  if (entry.value.node === me) return { kind: 'renew', revision: entry.revision };
  if (entry.value.node === null) return { kind: 'take', revision: entry.revision };
  if (seen && seen.revision === entry.revision && now - seen.since >= leaseMs) return { kind: 'take', revision: entry.revision };
  return { kind: 'wait', owner: entry.value.node };
}

/** The sighting after reading `revision` at `now`. */
export function sight(seen: LeaseSighting | null, revision: number, now: number): LeaseSighting {
  return seen && seen.revision === revision ? seen : { revision, since: now };
}

/** Encodes a lease value. */
export function encodeLease(v: LeaseValue): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

/** Decodes a lease value; a malformed one reads as released (so a node can take it over). */
export function decodeLease(bytes: Uint8Array): LeaseValue {
  try {
    const o = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LeaseValue>;
    const sm = o.smoothed;
    return {
      node: typeof o.node === 'string' ? o.node : null,
      seq: typeof o.seq === 'number' && Number.isSafeInteger(o.seq) && o.seq >= 0 ? o.seq : 0,
      smoothed: sm && typeof sm.valence === 'number' && typeof sm.arousal === 'number' ? { valence: sm.valence, arousal: sm.arousal } : null,
      at: typeof o.at === 'number' ? o.at : 0,
      evalErrors: typeof o.evalErrors === 'number' && Number.isSafeInteger(o.evalErrors) && o.evalErrors >= 0 ? o.evalErrors : 0,
    };
  } catch {
    return { node: null, seq: 0, smoothed: null, at: 0, evalErrors: 0 };
  }
}
