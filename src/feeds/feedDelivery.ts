/**
 * Who delivers a space's push feeds — OSC bundles and webhooks, which leave the server towards
 * one venue rig or one receiver and so must leave it once (SPEC F8). On a single node that is
 * the node. On a cluster (§K) every node receives the tick owner's released pulses over NATS (its
 * sockets, its SSE readers and its reads need them), but only the node that published a pulse
 * sends it on to OSC targets and turns its alerts into webhooks; and only the node that applied
 * a close announces `space.closed`. Pull feeds (SSE, `GET …/pulse`) are served by whichever node
 * the reader is connected to, from the same bytes.
 */

/** Decides whether this node sends a push feed's message (SPEC F8). */
export interface FeedDelivery {
  /** Whether this node sends the released pulse `seq` of `spaceId` to OSC targets and webhooks. */
  pulse(spaceId: string, seq: number): boolean;
  /** Whether this node announces that `spaceId` closed (it applied the close). */
  closed(spaceId: string): boolean;
}

/** A single node delivers everything it sees. */
export const DELIVER_EVERYTHING: FeedDelivery = { pulse: () => true, closed: () => true };
