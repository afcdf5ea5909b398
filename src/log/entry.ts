/**
 * Log entries and their canonical encoding.
 *
 * An entry is one JSON object, encoded as UTF-8 with the JSON Canonicalization Scheme
 * (RFC 8785): object keys sorted by UTF-16 code units, no whitespace, strings escaped as
 * ECMAScript `JSON.stringify` does (well-formed UTF-16 only, no normalisation), numbers in
 * ECMAScript shortest round-trip form with `-0`, NaN and ±Infinity rejected. The top level is
 *
 *     {"payload":{…},"space":"<space id>"|null,"time":<ms since epoch>,"type":"<type>","v":1}
 *
 * Decoding accepts exactly the bytes `encodeEntry` produces (re-encoding must give the input
 * back), so every leaf has one meaning. What may be logged: governance acts and their subjects —
 * never raw emotions or participant identities. A participant or steward is referred to by a
 * salted commitment (`participantCommitment`) whose salt lives off the log; erasing the salt
 * erases the link. `validateEntry` enforces a small privacy lint on payload keys.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Result } from '../core/errors.ts';
import { fail, ok } from '../core/errors.ts';
import { MAX_ENTRY_SIZE } from '../core/merkle/tiles.ts';

/** A JSON value that can be canonically encoded. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { readonly [key: string]: JsonValue };

/** Entry format version. */
export const ENTRY_VERSION = 1;

/**
 * The entry types logged today and the payload fields each requires. Later issues add
 * `policy.*`, `vote.*`, `decision.*`, `feedback.*`, `privacy.release`; any type matching
 * `TYPE_PATTERN` is accepted, these are merely checked more closely.
 */
export const ENTRY_TYPES = {
  /** A space was created. Payload: `name`, `capacity`, `ttlMs`; optional `steward` (commitment). */
  'space.created': ['name', 'capacity', 'ttlMs'],
  /** A space was closed. Payload: optional `reason`. */
  'space.closed': [],
  /** The steward of a space changed (token rotated or handed over). Payload: `reason`; optional `from`, `to` (commitments). */
  'steward.changed': ['reason'],
  /** A steward's moderation decision about a story (SPEC ST7). Payload: `decision`, `count`; `reason` (category) when declined. Never the text. */
  'story.moderated': ['decision', 'count'],
  /** A space's story settings changed (SPEC ST1). Payload: `enabled`, `moderation`. */
  'stories.settings': ['enabled', 'moderation'],
  /** A differentially private release from a space's stored inputs (SPEC R8). Payload: `n`, `what`, `rho`, `spentRho`, `budgetRho`; for a series `periodStart`, `periodEnd`, `bucketMs`. */
  'privacy.release': ['n', 'what', 'rho', 'spentRho', 'budgetRho'],
} as const satisfies Record<string, readonly string[]>;

/** A known entry type. */
export type KnownEntryType = keyof typeof ENTRY_TYPES;

/** `area.action`, lowercase words with `_` inside, dot-separated. */
export const TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** A commitment string: `hmac-sha256:` and 64 lowercase hex digits. */
export const COMMITMENT_PATTERN = /^hmac-sha256:[0-9a-f]{64}$/;

/** A decoded (or to-be-encoded) log entry. */
export interface LogEntry {
  readonly v: typeof ENTRY_VERSION;
  readonly type: string;
  /** The space the act concerns, or null for log-wide acts. */
  readonly space: string | null;
  /** Milliseconds since the Unix epoch (UTC), an integer. */
  readonly time: number;
  readonly payload: JsonObject;
}

/** What a caller supplies to log an act; `time` defaults to the log's clock. */
export interface LogEntryInput {
  readonly type: string;
  readonly space: string | null;
  readonly time?: number;
  readonly payload: JsonObject;
}

// Keys that would put feelings or identities on a public, permanent log.
const FORBIDDEN_KEYS = new Set(['valence', 'arousal', 'affect', 'affects', 'emotion', 'emotions', 'mood', 'feeling', 'text', 'ip', 'email', 'token', 'useragent', 'name_of_participant']);
// Keys that refer to a person: their values must be commitments.
const PERSON_KEY = /participant|steward|member|voter|author|^from$|^to$/i;

/** Canonical JSON (RFC 8785) of a value; throws RangeError for values JCS cannot represent. */
export function canonicalJson(value: JsonValue, depth = 0): string {
  if (depth > 32) throw new RangeError('value nested too deeply');
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError('numbers must be finite');
    if (Object.is(value, -0)) throw new RangeError('-0 is not allowed');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') {
    if (!value.isWellFormed()) throw new RangeError('strings must be well-formed UTF-16');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v: JsonValue) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const obj = value as JsonObject;
    const keys = Object.keys(obj).sort();
    return `{${keys
      .map((k) => {
        if (!k.isWellFormed()) throw new RangeError('keys must be well-formed UTF-16');
        const v = obj[k];
        if (v === undefined) throw new RangeError(`key '${k}' is undefined`);
        return `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`;
      })
      .join(',')}}`;
  }
  throw new RangeError(`cannot encode a ${typeof value}`);
}

function lintPayload(value: JsonValue, path: string): string | null {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const e = lintPayload(v as JsonValue, `${path}[${i}]`);
      if (e) return e;
    }
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value as JsonObject)) {
    if (FORBIDDEN_KEYS.has(k.toLowerCase())) return `${path}.${k}: emotions, texts and identities are never logged`;
    if (PERSON_KEY.test(k)) {
      const values = Array.isArray(v) ? (v as JsonValue[]) : [v];
      if (!values.every((x) => x === null || (typeof x === 'string' && COMMITMENT_PATTERN.test(x)))) {
        return `${path}.${k}: a person is referred to only by a salted commitment (hmac-sha256:<hex>)`;
      }
      continue;
    }
    const e = lintPayload(v, `${path}.${k}`);
    if (e) return e;
  }
  return null;
}

/** Checks an entry's shape, type, time and payload (including the privacy lint). */
export function validateEntry(entry: LogEntry): Result<LogEntry> {
  if (entry.v !== ENTRY_VERSION) return fail('BAD_REQUEST', `entry version must be ${ENTRY_VERSION}`);
  if (typeof entry.type !== 'string' || !TYPE_PATTERN.test(entry.type)) return fail('BAD_REQUEST', `invalid entry type '${String(entry.type)}'`);
  if (entry.space !== null && (typeof entry.space !== 'string' || entry.space.length === 0 || entry.space.length > 128)) {
    return fail('BAD_REQUEST', 'space must be null or a non-empty id of at most 128 characters');
  }
  if (!Number.isSafeInteger(entry.time) || entry.time < 0) return fail('BAD_REQUEST', 'time must be a non-negative integer of milliseconds');
  const payload = entry.payload as unknown;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return fail('BAD_REQUEST', 'payload must be an object');
  const required = (ENTRY_TYPES as Record<string, readonly string[]>)[entry.type] ?? [];
  for (const k of required) if (!(k in entry.payload)) return fail('BAD_REQUEST', `${entry.type} needs payload.${k}`);
  const lint = lintPayload(entry.payload, 'payload');
  if (lint) return fail('BAD_REQUEST', lint);
  return ok(entry);
}

/** Encodes a valid entry canonically; throws RangeError if invalid or over 65,535 bytes. */
export function encodeEntry(entry: LogEntry): Uint8Array {
  const valid = validateEntry(entry);
  if (!valid.ok) throw new RangeError(valid.message);
  const obj: JsonObject = { payload: entry.payload, space: entry.space, time: entry.time, type: entry.type, v: entry.v };
  const bytes = new TextEncoder().encode(canonicalJson(obj));
  if (bytes.length > MAX_ENTRY_SIZE) throw new RangeError(`entry is ${bytes.length} bytes; the limit is ${MAX_ENTRY_SIZE}`);
  return bytes;
}

/** Decodes leaf bytes into an entry; fails unless they are exactly a canonical encoding. */
export function decodeEntry(bytes: Uint8Array): Result<LogEntry> {
  let text: string;
  let parsed: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    parsed = JSON.parse(text);
  } catch {
    return fail('BAD_REQUEST', 'entry is not UTF-8 JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('BAD_REQUEST', 'entry is not a JSON object');
  const keys = Object.keys(parsed).sort().join(',');
  if (keys !== 'payload,space,time,type,v') return fail('BAD_REQUEST', `entry has keys ${keys}, expected payload,space,time,type,v`);
  const entry = parsed as LogEntry;
  const valid = validateEntry(entry);
  if (!valid.ok) return valid;
  let again: string;
  try {
    again = canonicalJson(parsed as JsonObject);
  } catch (e) {
    return fail('BAD_REQUEST', `entry is not canonical: ${(e as Error).message}`);
  }
  if (again !== text) return fail('BAD_REQUEST', 'entry is not in canonical form');
  return ok(entry);
}

/** 32 fresh random bytes: a salt for one participant's commitments, stored off the log. */
export function newCommitmentSalt(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/**
 * A salted commitment to a participant (or steward) id: `hmac-sha256:` ‖ hex(HMAC-SHA256(salt,
 * id)). Without the salt nobody can tell whose it is or link it to other data; deleting the salt
 * (kept in the server's database, never logged) makes the link unrecoverable, even for us.
 */
export function participantCommitment(salt: Uint8Array, participantId: string): string {
  if (salt.length < 16) throw new RangeError('commitment salt must be at least 16 bytes');
  return `hmac-sha256:${createHmac('sha256', salt).update(participantId, 'utf8').digest('hex')}`;
}
