/**
 * Per-participant sealing of stored inputs (crypto-shredding; SPEC S12, PRIVACY.md): each
 * participant's inputs and latest point are stored encrypted with AES-256-GCM under a key of
 * their own (NIST SP 800-38D; 96-bit random IV, 128-bit tag, the participant's id as additional
 * authenticated data, so a sealed value moved to another participant does not open). Erasing
 * the key erases the inputs, in the database and in every copy of it that lacks the key.
 *
 * Storage-side only (node:crypto): core never sees a key.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { secureRandomBytes } from './secureRandom.ts';

// A raw key handed to createCipheriv is re-validated and wrapped as a KeyObject on every call
// (≈ 4 % of the server's time at 19,000 participants tapping). An adapter that keeps keys in
// memory keeps them as KeyObjects ({@link participantKeyObject}); for one that keeps a Uint8Array
// per participant, its KeyObject is kept beside it for as long as the array lives.
const keyObjects = new WeakMap<Uint8Array, KeyObject>();
function keyObjectOf(key: Uint8Array | KeyObject): KeyObject {
  if (!(key instanceof Uint8Array)) return key;
  let k = keyObjects.get(key);
  if (!k) {
    k = createSecretKey(key);
    keyObjects.set(key, k);
  }
  return k;
}

// IVs from the CSPRNG (12 bytes each, from the shared 4-KiB pool: one syscall per ≈ 340 seals).
// Each IV is used once: the pool hands a byte out once.
const IV = 12;
const nextIv = (): Buffer => secureRandomBytes(IV);

/** A new 256-bit participant key. */
export function newParticipantKey(): Uint8Array {
  return new Uint8Array(secureRandomBytes(32));
}

/**
 * A participant key as a KeyObject, the form to keep in memory: the key is copied into the
 * KeyObject (OpenSSL's side), so the raw bytes need not live on — a Uint8Array, its ArrayBuffer
 * and its backing store beside a KeyObject cost ≈ 0.3 KB per participant for nothing.
 */
export function participantKeyObject(key: Uint8Array): KeyObject {
  return createSecretKey(key);
}

/** Seals a text for a participant: base64(iv ‖ tag ‖ ciphertext). */
export function seal(key: Uint8Array | KeyObject, participantId: string, plaintext: string): string {
  const iv = nextIv();
  const c = createCipheriv('aes-256-gcm', keyObjectOf(key), iv);
  c.setAAD(Buffer.from(participantId, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
}

/** Opens a sealed text, or null when the key or the participant does not match (or it was tampered with). */
export function unseal(key: Uint8Array | KeyObject, participantId: string, sealed: string): string | null {
  try {
    const b = Buffer.from(sealed, 'base64');
    const d = createDecipheriv('aes-256-gcm', keyObjectOf(key), b.subarray(0, 12));
    d.setAAD(Buffer.from(participantId, 'utf8'));
    d.setAuthTag(b.subarray(12, 28));
    return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}
