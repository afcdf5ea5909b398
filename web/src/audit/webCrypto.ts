/**
 * WebCrypto implementations for the browser auditor: the RFC 6962 hasher over SHA-256
 * (asynchronous, so it runs the core's verification programs through `runAsync`) and Ed25519
 * signed-note verifiers (C2SP signed-note; key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]).
 */
import type { AsyncHasher } from '../../../src/core/merkle/hasher.ts';
import { keyIdMessage, type NoteVerifier, parseVerifierKey } from '../../../src/core/note/signedNote.ts';

async function sha256(subtle: SubtleCrypto, ...parts: Uint8Array[]): Promise<Uint8Array> {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await subtle.digest('SHA-256', buf));
}

/** The SHA-256 RFC 6962 hasher on WebCrypto. */
export function webCryptoHasher(subtle: SubtleCrypto = globalThis.crypto.subtle): AsyncHasher {
  return {
    leaf: (data) => sha256(subtle, Uint8Array.of(0x00), data),
    node: (left, right) => sha256(subtle, Uint8Array.of(0x01), left, right),
    empty: () => sha256(subtle),
  };
}

/** A note verifier for a `name+hex8+base64` Ed25519 key; throws Error with the reason if invalid. */
export async function webNoteVerifier(vkey: string, subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<NoteVerifier> {
  const parts = parseVerifierKey(vkey.trim());
  if ('error' in parts) throw new Error(parts.error);
  const id = (await sha256(subtle, keyIdMessage(parts.name, parts.algorithm, parts.publicKey))).subarray(0, 4);
  if (!id.every((b, i) => b === parts.keyId[i])) throw new Error('verifier key ID does not match the key');
  const key = await subtle.importKey('raw', parts.publicKey as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
  return {
    name: parts.name,
    keyId: parts.keyId,
    verify: (message, signature) =>
      signature.length === 64 && subtle.verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>),
  };
}
