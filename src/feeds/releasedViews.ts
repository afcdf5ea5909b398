/**
 * The one way a feed sees a space: the released display view, exactly as the host published it
 * on the bus (`space.<id>.pulse.display`, SPEC §B). Feeds never read a space's state; what they
 * can show is therefore exactly what every display socket was sent (SPEC §R: the release stage
 * is the only path to anything public).
 */
import type { Bus, Disposable } from '../bus/port.ts';
import type { PulseView } from '../core/space/events.ts';
import { subjects } from '../space/spaceHost.ts';

/** A released view as a feed receives it: the decoded view, the exact bytes, and the space's id. */
export interface ReleasedView {
  readonly spaceId: string;
  readonly view: PulseView;
  /** The bytes every display socket got (UTF-8 JSON). */
  readonly bytes: Uint8Array;
}

const decoder = new TextDecoder();
const SUFFIX = '.pulse.display';

/** The space id of a display-pulse subject, or null for any other subject. */
export function spaceIdOfDisplaySubject(subject: string): string | null {
  if (!subject.startsWith('space.') || !subject.endsWith(SUFFIX)) return null;
  const id = subject.slice('space.'.length, -SUFFIX.length);
  return id.length > 0 && !id.includes('.') ? id : null;
}

/**
 * Subscribes to the released display views of one space (`spaceId`) or of every space (`'*'`).
 * A message that is not a pulse view is ignored (the bus carries bytes; a feed must not throw).
 */
export function subscribeReleasedViews(bus: Bus, spaceId: string | '*', handler: (r: ReleasedView) => void): Disposable {
  const subject = spaceId === '*' ? 'space.>' : subjects.displayPulse(spaceId);
  return bus.subscribe(subject, (bytes, subj) => {
    const id = spaceIdOfDisplaySubject(subj);
    if (id === null) return;
    let view: PulseView;
    try {
      view = JSON.parse(decoder.decode(bytes)) as PulseView;
    } catch {
      return;
    }
    if (view?.t !== 'pulse' || typeof view.seq !== 'number') return;
    handler({ spaceId: id, view, bytes });
  });
}
