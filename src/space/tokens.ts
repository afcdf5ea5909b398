/**
 * The secrets and ids the host hands out: base64url that never starts with '-' (so that
 * `attune … --token X` and positional ids are never read as options, which 1 in 64 would).
 *
 * Participant ids and resume tokens also sort by when they were made (SPEC S19). Both begin
 * with a 7-character time prefix: the join's millisecond time (mod 2⁴², ≈ 139 years) in
 * base64url's 64 characters taken in ASCII order, so that comparing two prefixes as strings
 * compares their times. The rest is random: 72 bits for an id (unique among ids of the same
 * millisecond), 256 bits for a token (the secret).
 *
 * Why: every join writes a participant row and its entries in B-trees keyed by the id or by the
 * token's stored form (the participants' primary key, the token index, the key store, the
 * consent index). Random keys scatter a join storm's group commit over every page of each tree,
 * and each dirty page is one more 4 KiB WAL frame, and one more write, in every commit;
 * time-ordered keys land on the trees' last pages. UUIDv7 (RFC 9562) and ULID make the same
 * trade for the same reason; PostgreSQL's B-trees gain the same.
 *
 * What the prefix tells: when the participant joined — which their row already holds
 * (`joined_at`), and which nothing published carries: ids and tokens go to their own participant
 * only. A token's stored form keeps its prefix before the SHA-256 of the whole token, so the
 * database still holds no token. Tokens from before (43 characters, no prefix) still resume:
 * their stored form stays the plain SHA-256 hex.
 */
import { createHash } from 'node:crypto';
import { secureRandomBytes } from '../storage/secureRandom.ts';

/** base64url never starting with '-' (the first character becomes '_'). */
export const noLeadingDash = (s: string): string => (s.startsWith('-') ? `_${s.slice(1)}` : s);

/** A new secret token: 256 random bits (steward and member tokens). */
export const newToken = (): string => noLeadingDash(secureRandomBytes(32).toString('base64url'));

/** A new id: 96 random bits (spaces, councils, proposals, members, stories). */
export const newId = (): string => noLeadingDash(secureRandomBytes(12).toString('base64url'));

/** SHA-256 hex of a secret token (steward and member tokens are stored only as this). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** base64url's characters in ASCII order: the string order of two encodings is their numeric order. */
const ORDERED = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
/** Characters of the time prefix: 7 × 6 = 42 bits of milliseconds. */
export const TIME_PREFIX_LENGTH = 7;
const SPAN = 2 ** (6 * TIME_PREFIX_LENGTH);
/** A participant token's length: the prefix and 32 random bytes in base64url (43 characters). */
const PARTICIPANT_TOKEN_LENGTH = TIME_PREFIX_LENGTH + 43;

/** The time prefix of `ms` (epoch milliseconds; whole, mod 2⁴²). Order-preserving within the span. */
export function timePrefix(ms: number): string {
  let x = ((Math.floor(ms) % SPAN) + SPAN) % SPAN;
  let s = '';
  for (let i = 0; i < TIME_PREFIX_LENGTH; i++) {
    s = ORDERED[x % 64] + s;
    x = Math.floor(x / 64);
  }
  return s;
}

/** A new participant id made at `now`: time prefix + 72 random bits (19 characters). */
export const newParticipantId = (now: number): string => noLeadingDash(timePrefix(now) + secureRandomBytes(9).toString('base64url'));

/** A new resume token made at `now`: time prefix + 256 random bits (50 characters). */
export const newParticipantToken = (now: number): string => noLeadingDash(timePrefix(now) + secureRandomBytes(32).toString('base64url'));

/**
 * What storage keeps of a resume token, and finds its participant by (`tokenHash`): for a token
 * of `newParticipantToken`'s length, its first 7 characters before the SHA-256 hex of the whole
 * token (71 characters); for any other — the tokens made before, 43 characters — the plain
 * SHA-256 hex, as it always was.
 */
export function participantTokenKey(token: string): string {
  const hash = hashToken(token);
  return token.length === PARTICIPANT_TOKEN_LENGTH ? token.slice(0, TIME_PREFIX_LENGTH) + hash : hash;
}
