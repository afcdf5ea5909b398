/**
 * Per-participant sealing of stored inputs (crypto-shredding; SPEC S12, PRIVACY.md): each
 * participant's inputs and latest point are stored encrypted with AES-256-GCM under a key of
 * their own (NIST SP 800-38D; 96-bit random IV, 128-bit tag, the participant's id as additional
 * authenticated data, so a sealed value moved to another participant does not open). Erasing
 * the key erases the inputs, in the database and in every copy of it that lacks the key.
 *
 * Storage-side only (node:crypto): core never sees a key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A new 256-bit participant key. */
export function newParticipantKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** Seals a text for a participant: base64(iv ‖ tag ‖ ciphertext). */
export function seal(key: Uint8Array, participantId: string, plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(participantId, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
}

/** Opens a sealed text, or null when the key or the participant does not match (or it was tampered with). */
export function unseal(key: Uint8Array, participantId: string, sealed: string): string | null {
  try {
    const b = Buffer.from(sealed, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
    d.setAAD(Buffer.from(participantId, 'utf8'));
    d.setAuthTag(b.subarray(12, 28));
    return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}
