/**
 * The retention job (SPEC V3, S17): deletes raw data about people once a space's retention has
 * run out, keeping only what was released.
 *
 *   every `periodMs` (and once at start) ──▶ closed spaces, not purged, due ≤ now
 *        for each, in creation order:
 *          count what is stored ──▶ log `retention.run` (counts only; durable) ──▶ purgeSpace
 *
 * The log entry comes first, like every act (M5): a failing log deletes nothing and the space is
 * tried again at the next run. A space is due `retentionMs` (its own, fixed at creation, else
 * the server's `--retention`) after it closed. Runs never overlap (one asked for during a run
 * follows it); time comes from the injected
 * Scheduler, so tests drive it with the manual scheduler.
 *
 * It runs in the host, not in a space machine, because a space's machine stops when it closes:
 * retention acts on closed spaces only.
 *
 * On a cluster every node runs the job, so each space is first claimed (`claims`, a KV
 * compare-and-set: src/space/cluster/retentionClaims.ts, K13): only the node holding the claim
 * re-reads the space (another node may have purged it since the list was read), logs and
 * deletes, then frees the claim. A space claimed elsewhere is left to that node.
 */
import { retentionDue } from '../core/retention.ts';
import type { GovernanceSink } from '../core/governance.ts';
import type { Cancel, Scheduler } from './scheduler.ts';
import type { Storage, StoredCounts } from '../storage/port.ts';

/** How often the job looks for spaces due, by default: hourly. */
export const RETENTION_CHECK_MS = 3_600_000;

/**
 * Who runs a space's retention on a cluster (K13): `acquire` resolves true when this node may go
 * on with the space (it holds the space's claim), false when another node holds it; `release`
 * frees a claim this node holds.
 */
export interface RetentionClaims {
  acquire(spaceId: string): Promise<boolean>;
  release(spaceId: string): Promise<void>;
}

/** Options of a {@link RetentionJob}. */
export interface RetentionJobOptions {
  readonly storage: Storage;
  readonly governance: GovernanceSink;
  readonly scheduler: Scheduler;
  /** The server's retention, ms (for spaces created before spaces carried their own). */
  readonly retentionMs: number;
  /** How often to look, ms (default {@link RETENTION_CHECK_MS}). */
  readonly periodMs?: number;
  /** Where a failed purge is reported (default console.error). */
  readonly report?: (what: string, e: unknown) => void;
  /** On a cluster: each space is run by the one node that claims it (K13). Absent: this node alone. */
  readonly claims?: RetentionClaims;
}

/** What one run did. */
export interface RetentionRun {
  readonly at: number;
  /** Spaces whose raw data was deleted, with what was deleted. */
  readonly purged: readonly { readonly spaceId: string; readonly deleted: StoredCounts }[];
  /** Spaces due whose log entry or deletion failed (tried again next run). */
  readonly failed: number;
  /** Spaces due that another node of the cluster claimed (or had purged already). */
  readonly elsewhere: number;
}

/** Deletes raw data past retention, on the scheduler (see the header). */
export class RetentionJob {
  readonly #o: RetentionJobOptions;
  #beat: Cancel | null = null;
  #running: Promise<RetentionRun> | null = null;
  #next: Promise<RetentionRun> | null = null;

  constructor(o: RetentionJobOptions) {
    this.#o = o;
  }

  /** Runs now and then every period. */
  start(): void {
    if (this.#beat) return;
    this.#beat = this.#o.scheduler.every(this.#o.periodMs ?? RETENTION_CHECK_MS, () => {
      void this.run();
    });
  }

  /** Stops the beat; a run in progress finishes. Resolves when it has. */
  async stop(): Promise<void> {
    this.#beat?.cancel();
    this.#beat = null;
    await this.#running?.catch(() => {});
    await this.#next?.catch(() => {});
  }

  /**
   * One run. Runs never overlap: asked while one is in progress, it runs once more after it (the
   * calls meanwhile share that one), so a space that became due during a run is not missed.
   */
  run(): Promise<RetentionRun> {
    if (!this.#running) {
      this.#running = this.#run().finally(() => {
        this.#running = null;
      });
      return this.#running;
    }
    this.#next ??= this.#running
      .catch(() => {})
      .then(() => {
        this.#next = null;
        return this.run();
      });
    return this.#next;
  }

  async #run(): Promise<RetentionRun> {
    const { storage, governance, scheduler } = this.#o;
    const at = scheduler.now();
    const due = (await storage.listSpaces()).filter((s) => s.status === 'closed' && (s.purgedAt ?? null) === null && (retentionDue(s, this.#o.retentionMs) ?? Number.POSITIVE_INFINITY) <= at);
    const purged: { spaceId: string; deleted: StoredCounts }[] = [];
    let failed = 0;
    let elsewhere = 0;
    const claims = this.#o.claims;
    for (const space of due) {
      let claimed = false;
      try {
        if (claims) {
          claimed = await claims.acquire(space.id);
          // Claimed by another node, or purged by one since the list was read: theirs.
          if (!claimed || (await storage.getSpace(space.id))?.purgedAt !== null) {
            elsewhere++;
            continue;
          }
        }
        const counts = await storage.storedCounts(space.id);
        const retentionMs = space.retentionMs ?? this.#o.retentionMs;
        // Counts only, never contents or identities (G1); durable before anything is deleted. The
        // participant count is `people`: the log refuses any key naming a person unless its value
        // is a salted commitment (src/log/entry.ts), and a count is not one.
        const { participants: people, ...rest } = counts;
        await governance.record({ type: 'retention.run', space: space.id, at, payload: { closedAt: space.closedAt, retentionDays: retentionMs / 86_400_000, people, ...rest } });
        purged.push({ spaceId: space.id, deleted: await storage.purgeSpace(space.id, at) });
      } catch (e) {
        failed++;
        (this.#o.report ?? ((what, err) => console.error(what, err)))(`retention: could not delete the raw data of space ${space.id}; trying again at the next run`, e);
      } finally {
        if (claimed) await claims?.release(space.id).catch((e: unknown) => (this.#o.report ?? ((what, err) => console.error(what, err)))(`retention: could not free the claim on space ${space.id}`, e));
      }
    }
    return { at, purged, failed, elsewhere };
  }
}
