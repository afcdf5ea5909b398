/**
 * The Bluetooth Heart Rate Measurement characteristic (UUID 0x2A37 in the Heart Rate service
 * 0x180D), bytes → fields and back.
 *
 * Source: Bluetooth SIG, GATT Specification Supplement v8, §3.113 "Heart Rate Measurement"
 * (§3.113.1 the Flags field) and Heart Rate Service 1.0 §3.1. The value is little-endian:
 *
 * ```
 *   byte 0        flags   bit 0  heart-rate format: 0 = uint8, 1 = uint16
 *                         bit 1  sensor contact detected      (meaningful only when bit 2 is set)
 *                         bit 2  sensor contact supported
 *                         bit 3  energy expended present (uint16, kilojoules)
 *                         bit 4  RR intervals present    (uint16 each, units of 1/1024 s)
 *                         bits 5–7 reserved for future use (ignored, as the spec asks)
 *   1 or 2 bytes  heart rate, beats per minute
 *   0 or 2 bytes  energy expended, kJ (0xFFFF: "at least 65 535", the sensor's ceiling)
 *   2·n bytes     RR intervals, oldest first
 * ```
 *
 * Parsing is total: every byte string gives either a measurement or a named problem, never a
 * throw, because the bytes come from a radio and a stranger's device. Plausibility (0 bpm,
 * 300 bpm, a 4-second RR) is not the parser's business — it reports what the sensor said and
 * the layers above ({@link isPlausibleBpm}, `rrWindow.ts`) decide what to believe.
 *
 * Pure and browser-safe: DataView only.
 */

/** The Heart Rate service, as Web Bluetooth names it (16-bit UUID 0x180D). */
export const HEART_RATE_SERVICE = 0x180d;
/** The Heart Rate Measurement characteristic (0x2A37). */
export const HEART_RATE_MEASUREMENT = 0x2a37;
/** The Battery service (0x180F) and its Battery Level characteristic (0x2A19, uint8 percent). */
export const BATTERY_SERVICE = 0x180f;
/** Battery Level (0x2A19). */
export const BATTERY_LEVEL = 0x2a19;

/** What the sensor says about skin contact (flags bits 1–2). */
export type SensorContact = 'unsupported' | 'lost' | 'detected';

/** One decoded Heart Rate Measurement. */
export interface HeartRateMeasurement {
  /** Heart rate as sent, beats per minute (0 is legal on the wire: many straps send it without contact). */
  readonly bpm: number;
  /** Whether the heart rate travelled as uint16 (flags bit 0). */
  readonly wide: boolean;
  readonly contact: SensorContact;
  /** Energy expended since the last reset, kJ, when present. */
  readonly energyKj?: number;
  /** RR intervals in 1/1024 s exactly as sent, oldest first (empty when absent). */
  readonly rrRaw: readonly number[];
  /** The same RR intervals in milliseconds. */
  readonly rrMs: readonly number[];
}

/** Why a value is not a Heart Rate Measurement. */
export type HeartRateProblem = 'empty' | 'truncated-heart-rate' | 'truncated-energy' | 'odd-rr-bytes' | 'rr-flag-without-intervals' | 'trailing-bytes';

/** The parser's answer: a measurement, or a named problem with the frame. */
export type HeartRateParse = { readonly ok: true; readonly value: HeartRateMeasurement } | { readonly ok: false; readonly problem: HeartRateProblem };

/** RR units per second on the wire. */
export const RR_UNITS_PER_SECOND = 1024;

const FLAG_WIDE = 0x01;
const FLAG_CONTACT_DETECTED = 0x02;
const FLAG_CONTACT_SUPPORTED = 0x04;
const FLAG_ENERGY = 0x08;
const FLAG_RR = 0x10;

/** A view over the bytes, whatever shape they came in (Web Bluetooth gives a DataView). */
function viewOf(bytes: DataView | Uint8Array | ArrayBuffer): DataView {
  if (bytes instanceof DataView) return bytes;
  if (bytes instanceof Uint8Array) return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new DataView(bytes);
}

/**
 * Decodes a Heart Rate Measurement value. Total: returns a named problem for a frame too short
 * for the fields its flags announce, for RR bytes of odd length (a torn interval — the whole
 * frame is refused rather than guessing which byte is missing), and for the RR flag with no
 * interval after it, and for bytes after the last field its flags announce (a field added by a
 * future revision would be announced by a reserved flag bit). Reserved flag bits are ignored
 * (GSS: "reserved for future use").
 */
export function parseHeartRateMeasurement(bytes: DataView | Uint8Array | ArrayBuffer): HeartRateParse {
  const dv = viewOf(bytes);
  const n = dv.byteLength;
  if (n < 1) return { ok: false, problem: 'empty' };
  const flags = dv.getUint8(0);
  const wide = (flags & FLAG_WIDE) !== 0;
  let at = 1;
  if (n < at + (wide ? 2 : 1)) return { ok: false, problem: 'truncated-heart-rate' };
  const bpm = wide ? dv.getUint16(at, true) : dv.getUint8(at);
  at += wide ? 2 : 1;
  const contact: SensorContact = (flags & FLAG_CONTACT_SUPPORTED) === 0 ? 'unsupported' : (flags & FLAG_CONTACT_DETECTED) !== 0 ? 'detected' : 'lost';
  let energyKj: number | undefined;
  if (flags & FLAG_ENERGY) {
    if (n < at + 2) return { ok: false, problem: 'truncated-energy' };
    energyKj = dv.getUint16(at, true);
    at += 2;
  }
  const rrRaw: number[] = [];
  if (flags & FLAG_RR) {
    const left = n - at;
    if (left === 0) return { ok: false, problem: 'rr-flag-without-intervals' };
    if (left % 2 !== 0) return { ok: false, problem: 'odd-rr-bytes' };
    for (; at < n; at += 2) rrRaw.push(dv.getUint16(at, true));
  } else if (at < n) return { ok: false, problem: 'trailing-bytes' };
  const rrMs = rrRaw.map((r) => (r * 1000) / RR_UNITS_PER_SECOND);
  return { ok: true, value: { bpm, wide, contact, ...(energyKj !== undefined ? { energyKj } : {}), rrRaw, rrMs } };
}

/** What {@link encodeHeartRateMeasurement} writes. */
export interface HeartRateFields {
  readonly bpm: number;
  /** Force the uint16 format (it is used anyway above 255). */
  readonly wide?: boolean;
  /** Default 'detected'. */
  readonly contact?: SensorContact;
  readonly energyKj?: number;
  /** RR intervals in 1/1024 s (integers 0…65535), oldest first. */
  readonly rrRaw?: readonly number[];
}

/**
 * Encodes a Heart Rate Measurement as a sensor would (the simulator's straps, the emulated
 * Bluetooth peripheral in the browser test). Values are clamped to the field widths.
 */
export function encodeHeartRateMeasurement(f: HeartRateFields): Uint8Array {
  const bpm = Math.max(0, Math.min(0xffff, Math.round(f.bpm)));
  const wide = f.wide === true || bpm > 0xff;
  const rr = f.rrRaw ?? [];
  const contact = f.contact ?? 'detected';
  let flags = (wide ? FLAG_WIDE : 0) | (contact === 'unsupported' ? 0 : FLAG_CONTACT_SUPPORTED | (contact === 'detected' ? FLAG_CONTACT_DETECTED : 0));
  if (f.energyKj !== undefined) flags |= FLAG_ENERGY;
  if (rr.length > 0) flags |= FLAG_RR;
  const out = new Uint8Array(1 + (wide ? 2 : 1) + (f.energyKj !== undefined ? 2 : 0) + 2 * rr.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, flags);
  let at = 1;
  if (wide) {
    dv.setUint16(at, bpm, true);
    at += 2;
  } else dv.setUint8(at++, bpm);
  if (f.energyKj !== undefined) {
    dv.setUint16(at, Math.max(0, Math.min(0xffff, Math.round(f.energyKj))), true);
    at += 2;
  }
  for (const r of rr) {
    dv.setUint16(at, Math.max(0, Math.min(0xffff, Math.round(r))), true);
    at += 2;
  }
  return out;
}

/** Milliseconds → the wire's 1/1024 s units. */
export function rrUnitsOfMs(ms: number): number {
  return Math.round((ms * RR_UNITS_PER_SECOND) / 1000);
}

/** Lowest and highest heart rate the pipeline believes from an adult at rest or dancing. */
export const PLAUSIBLE_BPM = { min: 30, max: 220 } as const;

/** Whether a reported heart rate is physiologically plausible (0 and 300 are not). */
export function isPlausibleBpm(bpm: number): boolean {
  return Number.isFinite(bpm) && bpm >= PLAUSIBLE_BPM.min && bpm <= PLAUSIBLE_BPM.max;
}
