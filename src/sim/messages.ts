/**
 * The protocol messages a simulated phone sends (core/protocol.ts, SPEC.md §W), built from
 * crowd taps. Pure, so the exact frames are unit-tested without a server.
 */
import type { JoinMessage, PointInputMessage } from '../core/protocol.ts';
import type { Tap } from './crowd.ts';

/** The `join` a participant sends: consent is given (the simulated person agreed). */
export function joinMessage(code: string): JoinMessage {
  return { t: 'join', code, role: 'participant', consent: true };
}

/** The `input` frame for a tap, with the participant's next sequence number. */
export function inputMessage(tap: Tap, seq: number): PointInputMessage {
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  return { t: 'input', seq, valence: round(tap.valence), arousal: round(tap.arousal), confidence: 1, source: 'tap', seen: tap.seen };
}
