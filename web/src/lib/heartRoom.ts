/**
 * The room's hearts on the display and the steward page: how many people share a heart signal
 * (shown only at 0 or ≥ the minimum cohort) and the room's heart synchrony with its confidence
 * interval beside what chance alone gives (docs/heart.md). The pulse carries the released
 * figures as `heart` (`ReleasedHeartSynchrony`, src/core/collective/heartSynchrony.ts); this
 * renders them and says in words what they mean. `describeHeartRoom` is pure, for tests.
 */
import type { ReleasedHeartSynchrony } from '../../../src/core/collective/heartSynchrony.ts';
import { html } from './ui.ts';

/** The words shown for the room's hearts. */
export interface HeartRoomWords {
  readonly sharing: string;
  /** Null when there is no synchrony to show yet. */
  readonly synchrony: string | null;
  /** Plain reading: in step, not beyond chance, or not enough people yet. */
  readonly reading: string;
}

const f2 = (x: number): string => (x < 0 ? `−${Math.abs(x).toFixed(2)}` : x.toFixed(2));

/** Words for the released heart figures (`minCohort` for the "fewer than k" line). */
export function describeHeartRoom(h: ReleasedHeartSynchrony, minCohort: number): HeartRoomWords {
  const sharing = h.sharing === null ? `fewer than ${minCohort} sharing a heart signal` : `${h.sharing} sharing a heart signal`;
  const s = h.synchrony;
  if (!s || s.isc === null) return { sharing, synchrony: null, reading: `heart synchrony appears once ${Math.max(3, minCohort)} people share for ${Math.round((s?.windowMs ?? 60_000) / 1000)} s` };
  const ci = s.lower !== null && s.upper !== null ? ` (${Math.round(s.confidence * 100)} % CI ${f2(s.lower)} to ${f2(s.upper)})` : '';
  const chance = s.surrogateMean !== null && s.surrogateP95 !== null ? ` · chance ${f2(s.surrogateMean)}, 95th percentile ${f2(s.surrogateP95)}` : '';
  const beyond = s.lower !== null && s.surrogateP95 !== null && s.lower > s.surrogateP95;
  return {
    sharing,
    synchrony: `heart synchrony ${f2(s.isc)}${ci}${chance}`,
    reading: beyond ? `${s.people} hearts rising and falling together, beyond chance` : `${s.people} hearts, no more in step than chance`,
  };
}

/** The component: nothing when the pulse carries no heart figures. */
export function HeartRoom({ heart, minCohort }: { heart: ReleasedHeartSynchrony | null | undefined; minCohort: number }) {
  if (!heart) return null;
  const w = describeHeartRoom(heart, minCohort);
  return html`<div data-testid="heart-room">
    <div><span class="muted">♥</span> <span data-testid="heart-sharing">${w.sharing}</span></div>
    ${w.synchrony ? html`<div data-testid="heart-synchrony">${w.synchrony}</div>` : null}
    <div class="muted" data-testid="heart-reading">${w.reading}</div>
  </div>`;
}
