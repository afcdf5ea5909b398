/**
 * The collective-state maths of attune: dissonance, camps, surges and contagion. Everything
 * here is pure (no I/O; `now` and seeds are arguments). Wire a {@link CollectiveTracker} per
 * space into the pulse tick; call {@link contagionIndex} over stored inputs.
 */
export { BIMODAL_THRESHOLD, type Bimodality, bimodalityCoefficient } from './bimodality.ts';
export { type Camp, type CampOptions, type CampReport, CampTracker, DEFAULT_CAMP_OPTIONS } from './camps.ts';
export { type CircularResultants, circularResultants } from './circular.ts';
export {
  type AlertBookOptions,
  type AlertMessage,
  AlertBook,
  type AlertMetric,
  type ClearedRoomAlert,
  DEFAULT_ALERT_BOOK_OPTIONS,
  type RoomAlert,
  type RoomTrend,
  type TrendMetric,
} from './alertBook.ts';
export {
  ALERT_METRICS,
  type AlertMetricName,
  type CollectiveInput,
  type CollectiveState,
  CollectiveTracker,
  type CollectiveTrackerOptions,
  collectiveInputOf,
  type KChange,
} from './collectiveTracker.ts';
export { DEFAULT_ROOM_CHANGE_OPTIONS, type FeatureAlarm, ROOM_FEATURES, RoomChangeDetector, type RoomChangeOptions, type RoomFeature, type RoomObservation } from './roomChange.ts';
export { type ContagionIndex, type ContagionOptions, type ContagionRecord, contagionIndex } from './contagion.ts';
export { Cusum, type Direction, siegmundArlOneSided, siegmundArlTwoSided } from './cusum.ts';
export { type Dissonance, type DissonanceOptions, measureDissonance, NO_DISSONANCE } from './dissonance.ts';
export { normalisedEntropy } from './entropy.ts';
export { type Fracture, fractureOf } from './fracture.ts';
export { EwmaChart } from './ewma.ts';
export { Bocpd, type BocpdOptions } from './bocpd.ts';
export { estebanRay, type Polarisation } from './polarisation.ts';
export { createRng, type Rng } from './prng.ts';
export { type ClearedAlert, DEFAULT_SURGE_OPTIONS, type SurgeAlert, SurgeMonitor, type SurgeOptions } from './surge.ts';
