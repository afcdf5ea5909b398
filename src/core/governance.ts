/**
 * Governance acts: what attune writes to its public transparency log (src/log). The space
 * runtime reports acts through this port; the composition root connects it to the log.
 * Never raw emotions or participant identities (SPEC G1).
 */

/** A governance act, before canonical encoding by the log. */
export interface GovernanceAct {
  /** Dotted type, e.g. `space.created`, `space.closed`, `steward.changed`. */
  readonly type: string;
  /** The space's public id. */
  readonly space: string;
  /** Epoch ms. */
  readonly at: number;
  /** Type-specific details: plain JSON (strings, finite numbers, booleans, null, arrays, objects). */
  readonly payload: Readonly<Record<string, unknown>>;
}

/**
 * Where governance acts go. `record` resolves once the act is durably logged — with the entry's
 * index in the public log when the sink has one (screens link to it, SPEC Q8).
 */
export interface GovernanceSink {
  // biome-ignore lint/suspicious/noConfusingVoidType: sinks without indices (tests, the demo) keep returning Promise<void>.
  record(act: GovernanceAct): Promise<number | void>;
  /**
   * The acts of one space logged after the entry `after`, oldest first, with their indices (a
   * cluster's taker applies what a dead owner logged but never applied, SPEC K12). Sinks without
   * indices have none.
   */
  since?(spaceId: string, after: number): Promise<readonly LoggedAct[]>;
}

/** An act as the public log holds it, with its index. */
export interface LoggedAct {
  readonly index: number;
  readonly act: GovernanceAct;
}
