/**
 * Ed25519 signed notes with `node:crypto` (https://c2sp.org/signed-note; key formats of
 * golang.org/x/mod/sumdb/note): key generation, the Go private-key format
 * `PRIVATE+KEY+name+hex8+base64(0x01 ‖ seed)`, verifier keys `name+hex8+base64(0x01 ‖ pubkey)`,
 * signing and opening notes. The format rules live in `src/core/note/signedNote.ts`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { decodeBase64, encodeBase64, encodeHex } from '../core/note/base64.ts';
import {
  ALG_ED25519,
  formatSignatureLine,
  formatVerifierKey,
  isValidKeyName,
  isWellFormedNoteText,
  keyIdMessage,
  type NoteVerifier,
  type OpenedNote,
  openNote,
  parseVerifierKey,
} from '../core/note/signedNote.ts';
import { sha256 } from './sha256Hasher.ts';

const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** A key that signs notes. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** The matching verifier key string (public). */
  readonly verifierKey: string;
  sign(message: Uint8Array): Uint8Array;
}

/** The 4-byte Ed25519 key ID: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4]`. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(keyIdMessage(name, ALG_ED25519, publicKey)).subarray(0, 4);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.from(concat(PKCS8_ED25519_PREFIX, seed)), format: 'der', type: 'pkcs8' });
}

function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(concat(SPKI_ED25519_PREFIX, raw)), format: 'der', type: 'spki' });
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** A signer from a name and a 32-byte Ed25519 seed. */
export function signerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  if (!isValidKeyName(name)) throw new RangeError(`invalid key name '${name}'`);
  if (seed.length !== 32) throw new RangeError('Ed25519 seed must be 32 bytes');
  const priv = privateKeyFromSeed(seed);
  const pub = rawPublicKey(createPublicKey(priv));
  const keyId = ed25519KeyId(name, pub);
  return {
    name,
    keyId,
    verifierKey: formatVerifierKey(name, keyId, ALG_ED25519, pub),
    sign: (message) => new Uint8Array(sign(null, message, priv)),
  };
}

/** Generates a fresh key; returns the private key string (Go format) and its signer. */
export function generateSignerKey(name: string): { signerKey: string; signer: NoteSigner } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = new Uint8Array(der.subarray(der.length - 32));
  const signer = signerFromSeed(name, seed);
  return { signerKey: formatSignerKey(name, signer.keyId, seed), signer };
}

/** Formats `PRIVATE+KEY+name+hex8+base64(0x01 ‖ seed)`. */
export function formatSignerKey(name: string, keyId: Uint8Array, seed: Uint8Array): string {
  return `PRIVATE+KEY+${name}+${encodeHex(keyId)}+${encodeBase64(concat(Uint8Array.of(ALG_ED25519), seed))}`;
}

/**
 * Parses a Go-format private key (`PRIVATE+KEY+name+hex8+base64(0x01 ‖ seed)`), splitting on the
 * first four `+` only, and checks that the key ID matches the key.
 */
export function parseSignerKey(skey: string): NoteSigner {
  const parts: string[] = [];
  let rest = skey.trim();
  for (let i = 0; i < 4; i++) {
    const at = rest.indexOf('+');
    if (at < 0) throw new RangeError('signer key must be PRIVATE+KEY+name+hex8+base64');
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  const [p, k, name, hex] = parts as [string, string, string, string];
  if (p !== 'PRIVATE' || k !== 'KEY') throw new RangeError('signer key must start with PRIVATE+KEY+');
  const raw = decodeBase64(rest);
  if (raw === null || raw.length !== 33 || raw[0] !== ALG_ED25519) throw new RangeError('signer key must hold 0x01 and a 32-byte Ed25519 seed');
  const signer = signerFromSeed(name, raw.subarray(1));
  if (encodeHex(signer.keyId) !== hex) throw new RangeError(`signer key ID ${hex} does not match the key (${encodeHex(signer.keyId)})`);
  return signer;
}

/** A verifier from a verifier key string; throws RangeError with the reason if it is invalid. */
export function parseNoteVerifier(vkey: string): NoteVerifier & { readonly verifierKey: string } {
  const parts = parseVerifierKey(vkey);
  if ('error' in parts) throw new RangeError(parts.error);
  const id = ed25519KeyId(parts.name, parts.publicKey);
  if (encodeHex(id) !== encodeHex(parts.keyId)) throw new RangeError('verifier key ID does not match the key');
  const key = publicKeyFromRaw(parts.publicKey);
  return {
    name: parts.name,
    keyId: parts.keyId,
    verifierKey: vkey,
    verify: (message, signature) => signature.length === 64 && verify(null, message, key, signature),
  };
}

/** Signs note text (which must end in `\n`) with each signer, in order. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!text.endsWith('\n')) throw new RangeError('note text must end with a newline');
  if (!isWellFormedNoteText(text)) throw new RangeError('note text contains control characters or invalid UTF-16');
  if (signers.length === 0) throw new RangeError('a note needs at least one signer');
  const message = new TextEncoder().encode(text);
  return `${text}\n${signers.map((s) => formatSignatureLine(s.name, s.keyId, s.sign(message))).join('')}`;
}

/** Opens a note with trusted verifiers (see `openNote` in core). */
export function openSignedNote(note: string, verifiers: readonly NoteVerifier[]): Promise<OpenedNote> {
  return openNote(note, verifiers);
}
