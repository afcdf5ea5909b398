/**
 * The closed vocabulary of errors. Every error attune reports to a client — over HTTP or
 * WebSocket — carries one of these codes. One table maps a code to its HTTP status, its
 * WebSocket close code (when the error ends the connection) and whether the connection
 * survives it. See SPEC.md §E.
 */

/** code → { http status, WebSocket close code, fatal to the socket? } */
export const ERROR_CODES = {
  /** The message or body failed validation (shape, types, ranges, non-finite numbers). */
  BAD_REQUEST: { http: 400, ws: 4400, fatal: false },
  /** A message type the server does not know. */
  UNKNOWN_TYPE: { http: 400, ws: 4400, fatal: false },
  /** A frame or body larger than the limit. Fatal: we cannot trust the stream's framing. */
  TOO_LARGE: { http: 413, ws: 1009, fatal: true },
  /**
   * A text frame that is not valid UTF-8. RFC 6455 §8.1 requires failing the connection, and
   * §7.4.1 names 1007 for it; the ws library closes such a socket itself, before any handler.
   */
  BAD_ENCODING: { http: 400, ws: 1007, fatal: true },
  /**
   * A frame that breaks RFC 6455 framing (unmasked, reserved bits or opcodes, a bad close code,
   * a fragmented control frame); the ws library fails the connection with 1002 (§7.4.1).
   */
  PROTOCOL_ERROR: { http: 400, ws: 1002, fatal: true },
  /** A state-changing HTTP request whose body is not `application/json`. */
  UNSUPPORTED_MEDIA_TYPE: { http: 415, ws: 4400, fatal: false },
  /** A state-changing request (or WebSocket upgrade) sent by a page of another site (H11). */
  CROSS_ORIGIN: { http: 403, ws: 4403, fatal: true },
  /** Per-connection or per-client rate limit exceeded; the message was dropped. */
  RATE_LIMITED: { http: 429, ws: 4429, fatal: false },
  /** A steward endpoint called without a valid steward token. */
  UNAUTHORIZED: { http: 401, ws: 4401, fatal: true },
  /** The join code or resume token does not name a live space or participant. */
  NOT_FOUND: { http: 404, ws: 4404, fatal: true },
  /** The space was closed by its steward; no new joins or inputs. */
  SPACE_CLOSED: { http: 410, ws: 4410, fatal: true },
  /** The space is at capacity. */
  SPACE_FULL: { http: 409, ws: 4409, fatal: true },
  /** A message that needs a joined session arrived before join/resume. */
  NOT_JOINED: { http: 409, ws: 4403, fatal: false },
  /** Consent was not given; nothing is collected without it. */
  CONSENT_REQUIRED: { http: 403, ws: 4403, fatal: false },
  /**
   * The consent text changed since this participant agreed (V1): a resume or a join under the
   * older version is refused until they agree to the current one (`GET /api/consent`); the
   * message names both versions. Not fatal: the client shows the new consent screen and resumes.
   */
  CONSENT_CHANGED: { http: 409, ws: 4403, fatal: false },
  /** The space's raw inputs were deleted when its retention ran out (V3); only what was released remains. */
  DATA_EXPIRED: { http: 410, ws: 4410, fatal: false },
  /** A release from stored inputs would take the space past its privacy budget (R8); nothing was released or spent. */
  PRIVACY_BUDGET_EXHAUSTED: { http: 403, ws: 4403, fatal: false },
  /** A name or resource that already exists. */
  CONFLICT: { http: 409, ws: 4409, fatal: false },
  /** A story longer than 1,000 characters, or a pseudonym longer than 40 (SPEC ST3). Nothing is stored. */
  STORY_TOO_LONG: { http: 400, ws: 4400, fatal: false },
  /** Text holding a character that could disguise it: a direction override, a control or invisible character (SPEC ST3). */
  BAD_CHARACTER: { http: 400, ws: 4400, fatal: false },
  /** The space does not take stories (its steward has not turned them on, SPEC ST1). */
  STORIES_OFF: { http: 403, ws: 4403, fatal: false },
  /**
   * The node's durable writes are behind (SPEC W5b: the oldest has waited longer than the bound,
   * or too many wait): this input was refused before it was counted — not stored, never
   * acknowledged. Not fatal: the socket and its pulses stay; the client sends the input again
   * after a back-off. 1013 is RFC 6455's "Try Again Later", though no socket is closed for it.
   */
  OVERLOADED: { http: 503, ws: 1013, fatal: false },
  /** The server is shutting down or a dependency is unavailable; try again. */
  UNAVAILABLE: { http: 503, ws: 1012, fatal: true },
  /** A policy is malformed (fields, name, reason) — SPEC Q3. */
  POLICY_INVALID: { http: 400, ws: 4400, fatal: false },
  /** A policy's expression does not parse (Q3). */
  POLICY_SYNTAX: { http: 400, ws: 4400, fatal: false },
  /** A policy's expression names a field or variable the released pulse does not have (Q3). */
  POLICY_UNKNOWN_FIELD: { http: 400, ws: 4400, fatal: false },
  /** A policy's expression has a type error (Q3). */
  POLICY_TYPE: { http: 400, ws: 4400, fatal: false },
  /** A policy's expression does not give a bool (Q3). */
  POLICY_NOT_BOOL: { http: 400, ws: 4400, fatal: false },
  /** A policy's expression uses `matches` (regular expressions are refused, Q3). */
  POLICY_REGEX: { http: 400, ws: 4400, fatal: false },
  /** A policy's expression is over 2 KB (Q3). */
  POLICY_TOO_LARGE: { http: 400, ws: 4400, fatal: false },
  /** A policy's expression has too many AST nodes or is nested too deeply (Q3). */
  POLICY_TOO_COMPLEX: { http: 400, ws: 4400, fatal: false },
  /** A policy's action is not in the vocabulary, or outside its bounds (Q5). */
  POLICY_BOUNDS: { http: 400, ws: 4400, fatal: false },
  /** A space template is malformed (SPEC Q12). */
  TEMPLATE_INVALID: { http: 400, ws: 4400, fatal: false },
  /** An unexpected failure on our side; details are logged, not sent. */
  INTERNAL: { http: 500, ws: 1011, fatal: true },
} as const;

/** An error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The HTTP status of an error code. */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].http;
}

/** The WebSocket close code used when an error of this code ends a connection. */
export function wsCloseCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].ws;
}

/** Whether an error of this code ends the WebSocket connection. */
export function isFatal(code: ErrorCode): boolean {
  return ERROR_CODES[code].fatal;
}

/** An expected failure, as a value (not thrown). */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: string;
}

/** A success carrying a value. */
export interface Success<T> {
  readonly ok: true;
  readonly value: T;
}

/** The result of an operation that may fail in an expected way. */
export type Result<T> = Success<T> | Failure;

/** Builds a failure. */
export function fail(code: ErrorCode, message: string): Failure {
  return { ok: false, code, message };
}

/** Builds a success. */
export function ok<T>(value: T): Success<T> {
  return { ok: true, value };
}

/** An error that carries a code, for the rare places that must throw (e.g. constructors). */
export class AttuneError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AttuneError';
    this.code = code;
  }
}

/** Normalises any throwable into a code and a message that is safe to show a client. */
export function normaliseError(e: unknown): { code: ErrorCode; message: string } {
  if (e instanceof AttuneError) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: 'internal error' };
}
