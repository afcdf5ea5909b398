/**
 * Retention once per space across a cluster (SPEC V3, K13): every node runs the retention job,
 * but before a node logs `retention.run` for a space and deletes its raw data, it claims the
 * space in the cluster's KV bucket (`retention.<spaceId>`, compare-and-set), and only the node
 * holding the claim goes on. The tick lease (K2) cannot serve: a closed space has no tick, so
 * nobody holds its lease.
 *
 *   free or absent ──create/update(rev)──▶ held {node, at} ──release: update(rev)──▶ free
 *                                            │
 *        a claim held for longer than staleMs (its node died mid-run) may be taken (update(rev))
 *
 * The job re-reads the space after claiming it (RetentionJob): a node whose list of spaces was
 * read before another node's purge committed finds it purged and stops, so a claim freed after
 * a purge never lets a second node log the same space. Only a node that dies between its log
 * entry and its purge leaves the space to be logged again, by the node that takes its stale
 * claim. Times are the nodes' own clocks: `staleMs` (default an hour) dwarfs their skew.
 */
import type { KvStore } from '../../bus/port.ts';
import type { RetentionClaims } from '../retentionJob.ts';

/** A claim held longer than this may be taken over, by default (ms). */
export const RETENTION_CLAIM_STALE_MS = 3_600_000;

/** The KV key of a space's retention claim. */
export const retentionClaimKey = (spaceId: string) => `retention.${spaceId}`;

interface Claim {
  readonly node: string | null;
  readonly at: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const encode = (c: Claim) => enc.encode(JSON.stringify(c));
function decode(b: Uint8Array): Claim | null {
  try {
    const v = JSON.parse(dec.decode(b)) as Partial<Claim>;
    return (typeof v.node === 'string' || v.node === null) && typeof v.at === 'number' ? { node: v.node, at: v.at } : null;
  } catch {
    return null;
  }
}

/** Settings of {@link kvRetentionClaims}. */
export interface KvRetentionClaimsOptions {
  readonly kv: KvStore;
  readonly nodeId: string;
  /** This node's clock (the scheduler's `now`). */
  readonly now: () => number;
  /** A claim held longer than this may be taken over, ms (default {@link RETENTION_CLAIM_STALE_MS}). */
  readonly staleMs?: number;
}

/** Claims over the cluster's KV bucket (see the header). */
export function kvRetentionClaims(o: KvRetentionClaimsOptions): RetentionClaims {
  const staleMs = o.staleMs ?? RETENTION_CLAIM_STALE_MS;
  /** Revisions of the claims this node holds. */
  const held = new Map<string, number>();
  return {
    async acquire(spaceId) {
      const key = retentionClaimKey(spaceId);
      const mine = encode({ node: o.nodeId, at: o.now() });
      const entry = await o.kv.get(key);
      if (!entry) {
        const rev = await o.kv.create(key, mine);
        if (rev === null) return false; // another node claimed it at this moment
        held.set(spaceId, rev);
        return true;
      }
      const c = decode(entry.value);
      const free = !c || c.node === null || c.node === o.nodeId || o.now() - c.at > staleMs;
      if (!free) return false;
      const rev = await o.kv.update(key, mine, entry.revision);
      if (rev === null) return false;
      held.set(spaceId, rev);
      return true;
    },
    async release(spaceId) {
      const rev = held.get(spaceId);
      held.delete(spaceId);
      if (rev === undefined) return;
      // Freed only if still ours: a claim taken over meanwhile stays with its taker.
      await o.kv.update(retentionClaimKey(spaceId), encode({ node: null, at: o.now() }), rev);
    },
  };
}
