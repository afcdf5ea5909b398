/**
 * The OSC address space of a released pulse (ARTISTS.md "OSC"): one bundle per display pulse,
 * every address under `/attune/<CODE>/`. Pure: a view in, typed messages out; the feed encodes
 * them with node-osc (OSC 1.0, https://opensoundcontrol.stanford.edu/spec-1_0.html).
 *
 * Types are explicit — `f` float32, `i` int32, `s` string — so a mean of exactly 0 is still a
 * float (node-osc would send an integral JS number as `i`, and TouchDesigner's OSC In CHOP and
 * Max's `route` treat the two differently).
 *
 * While the room is suppressed (fewer than the minimum cohort, P4) only `/count`, `/suppressed`,
 * `/seq`, `/mode` and `/heartbeat` (at rest, 60 bpm) are sent: an installation keeps breathing
 * calmly instead of going dark, and nothing the release stage withheld is sent.
 */
import { type DisplayMode, feedbackOf, heartbeatBpm } from '../../core/displayMode.ts';
import type { PulseView } from '../../core/space/events.ts';

/** One typed OSC argument. */
export type OscArg = { readonly type: 'f'; readonly value: number } | { readonly type: 'i'; readonly value: number } | { readonly type: 's'; readonly value: string };

/** One OSC message: an address and its arguments. */
export interface OscMessageSpec {
  readonly address: string;
  readonly args: readonly OscArg[];
}

/** The heartbeat of a suppressed room (nobody's feeling is shown, so the room rests). */
export const RESTING_BPM = 60;

/** At most this many camps are sent (`/camps/0` … `/camps/4`). */
export const MAX_OSC_CAMPS = 5;

const f = (value: number): OscArg => ({ type: 'f', value: Number.isFinite(value) ? value : 0 });
const i = (value: number): OscArg => ({ type: 'i', value: Math.trunc(value) | 0 });
const s = (value: string): OscArg => ({ type: 's', value });

/** The address prefix of a space: `/attune/<CODE>`. */
export function oscPrefix(code: string): string {
  return `/attune/${code.replace(/[^A-Za-z0-9_-]/g, '')}`;
}

/** Options of {@link oscMessagesOf}. */
export interface OscPulseOptions {
  /** The display mode in force, sent as `/mode`. */
  readonly mode?: DisplayMode;
  /** Also send the released histogram as `/hist` (bins then bins² floats, row 0 = calmest). */
  readonly hist?: boolean;
}

/**
 * The messages of one pulse, in a fixed order (count first, so a receiver can gate on it):
 * `/seq i`, `/count i`, `/suppressed i (0|1)`, `/mean f f`, `/smoothed f f`, `/spread f f`,
 * `/quadrants f f f f`, `/dissonance f`, `/camps i` then `/camps/<n> f f f f` (valence, arousal,
 * share, people), `/alert i s s f` (active 0|1, metric, direction, probability), `/heartbeat f`
 * (bpm), `/mode s`, `/feedback s s` (when the pulse carries it), `/heart i f` (people sharing or
 * −1 while withheld, heart synchrony ISC or −1; only while anyone shares), `/hist …` (when asked for).
 */
export function oscMessagesOf(view: PulseView, o: OscPulseOptions = {}): OscMessageSpec[] {
  const p = oscPrefix(view.space);
  const out: OscMessageSpec[] = [];
  const add = (path: string, ...args: OscArg[]) => out.push({ address: `${p}${path}`, args });
  add('/seq', i(view.seq));
  add('/count', i(view.count));
  add('/suppressed', i(view.suppressed ? 1 : 0));
  if (!view.suppressed) {
    if (view.mean) add('/mean', f(view.mean.valence), f(view.mean.arousal));
    if (view.smoothed) add('/smoothed', f(view.smoothed.valence), f(view.smoothed.arousal));
    if (view.spread) add('/spread', f(view.spread.valence), f(view.spread.arousal));
    if (view.quadrants) add('/quadrants', ...view.quadrants.map(f));
    const c = view.collective;
    if (c) {
      add('/dissonance', f(c.dissonance.score));
      const camps = c.camps.slice(0, MAX_OSC_CAMPS);
      add('/camps', i(camps.length));
      for (const [n, camp] of camps.entries()) add(`/camps/${n}`, f(camp.valence), f(camp.arousal), f(camp.share), i(camp.people));
      const a = c.alerts[0];
      add('/alert', i(a ? 1 : 0), s(a?.metric ?? ''), s(a?.direction ?? ''), f(a?.probability ?? 0));
    }
  }
  const fb = feedbackOf(view);
  add('/heartbeat', f(!view.suppressed && view.smoothed ? heartbeatBpm(view.smoothed.arousal, fb?.mode === 'calm') : RESTING_BPM));
  if (o.mode) add('/mode', s(o.mode));
  if (fb) add('/feedback', s(fb.mode), s(fb.policy?.name ?? ''));
  if (view.heart) add('/heart', i(view.heart.sharing ?? -1), f(view.heart.synchrony?.isc ?? -1));
  if (o.hist && !view.suppressed && view.hist) add('/hist', i(view.bins), ...view.hist.map(f));
  return out;
}
