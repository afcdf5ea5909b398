/**
 * C2SP signed notes (https://c2sp.org/signed-note), the format part: parsing and building note
 * text, signature lines and verifier keys, and the verification policy. Cryptography is injected
 * (`NoteVerifier`), so the same rules run in Node (`src/log/note.ts`, node:crypto) and in the
 * browser (WebCrypto).
 *
 * A note is its text (ending in `\n`), one empty line, then signature lines
 * `— <name> <base64(keyID[4] ‖ signature)>\n`. The signed message is the text only. A signature
 * counts only when both name and key ID match a trusted key; a matching signature that fails to
 * verify rejects the whole note; a note with no verified signature is rejected. Ed25519 key IDs
 * are `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4]`.
 */
import { decodeBase64, decodeHex, encodeBase64, encodeHex } from './base64.ts';

/** Signature type byte of Ed25519 signed-note keys. */
export const ALG_ED25519 = 0x01;
/** Most signatures we look at in one note (Go's cap; C2SP says accept at least 16). */
export const MAX_SIGNATURES = 100;
const EM_DASH = '\u2014';

/** A trusted key as a verifier: its name and ID select the signatures it checks. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** Checks `signature` over `message` (the note text's UTF-8 bytes). */
  verify(message: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>;
}

/** One signature line, decoded. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** The signature bytes after the 4-byte key ID. */
  readonly signature: Uint8Array;
  /** The key's `name+hex8` label, as used in messages. */
  readonly label: string;
}

/** A note split into its text and signatures (not yet verified). */
export interface ParsedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** The result of opening a note with a set of trusted keys. */
export type OpenedNote =
  | { readonly ok: true; readonly text: string; readonly verified: readonly string[]; readonly unverified: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** Whether `name` is a valid key name: non-empty, no Unicode whitespace, no `+`. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && isWellFormedNoteText(name);
}

/** Valid UTF-16 (so valid UTF-8 once encoded) and free of control characters other than `\n`. */
export function isWellFormedNoteText(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about control characters
  return text.isWellFormed() && !/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text);
}

/** The `name+hex8` label of a key. */
export function keyLabel(name: string, keyId: Uint8Array): string {
  return `${name}+${encodeHex(keyId)}`;
}

/** The bytes whose SHA-256 prefix is the key ID: `name ‖ 0x0A ‖ alg ‖ publicKey`. */
export function keyIdMessage(name: string, algorithm: number, publicKey: Uint8Array): Uint8Array {
  const n = new TextEncoder().encode(name);
  const out = new Uint8Array(n.length + 2 + publicKey.length);
  out.set(n, 0);
  out[n.length] = 0x0a;
  out[n.length + 1] = algorithm;
  out.set(publicKey, n.length + 2);
  return out;
}

/** A verifier key string, decoded (the key ID is not yet checked against the key). */
export interface VerifierKeyParts {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly algorithm: number;
  readonly publicKey: Uint8Array;
}

/**
 * Parses `name+hex8+base64(alg ‖ key)`. Splits on the first two `+` only: the base64 may
 * itself contain `+`. Checks the name, the hex, the base64 and, for Ed25519, the key length.
 */
export function parseVerifierKey(vkey: string): VerifierKeyParts | { readonly error: string } {
  const a = vkey.indexOf('+');
  const b = a < 0 ? -1 : vkey.indexOf('+', a + 1);
  if (a < 0 || b < 0) return { error: 'verifier key must be name+hex8+base64' };
  const name = vkey.slice(0, a);
  const hex = vkey.slice(a + 1, b);
  const raw = decodeBase64(vkey.slice(b + 1));
  if (!isValidKeyName(name)) return { error: `invalid key name '${name}'` };
  const keyId = hex.length === 8 && /^[0-9a-f]{8}$/.test(hex) ? decodeHex(hex) : null;
  if (keyId === null) return { error: 'key ID must be 8 lowercase hex digits' };
  if (raw === null || raw.length < 1) return { error: 'key must be base64 of algorithm byte and key' };
  const algorithm = raw[0] as number;
  const publicKey = raw.subarray(1);
  if (algorithm !== ALG_ED25519) return { error: `unsupported key algorithm 0x${algorithm.toString(16).padStart(2, '0')}` };
  if (publicKey.length !== 32) return { error: `Ed25519 public key is ${publicKey.length} bytes, not 32` };
  return { name, keyId, algorithm, publicKey };
}

/** Formats a verifier key string. */
export function formatVerifierKey(name: string, keyId: Uint8Array, algorithm: number, publicKey: Uint8Array): string {
  const raw = new Uint8Array(1 + publicKey.length);
  raw[0] = algorithm;
  raw.set(publicKey, 1);
  return `${name}+${encodeHex(keyId)}+${encodeBase64(raw)}`;
}

/** Formats one signature line (with its final newline). */
export function formatSignatureLine(name: string, keyId: Uint8Array, signature: Uint8Array): string {
  const blob = new Uint8Array(keyId.length + signature.length);
  blob.set(keyId, 0);
  blob.set(signature, keyId.length);
  return `${EM_DASH} ${name} ${encodeBase64(blob)}\n`;
}

/** Splits a note into text and decoded signature lines; any malformation is an error. */
export function parseNote(note: string): ParsedNote | { readonly error: string } {
  if (!isWellFormedNoteText(note)) return { error: 'note contains invalid UTF-8 or control characters' };
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return { error: 'note has no signature block' };
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) return { error: 'signature block must end with a newline' };
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) return { error: `more than ${MAX_SIGNATURES} signatures` };
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const prefix = `${EM_DASH} `;
    if (!line.startsWith(prefix)) return { error: 'malformed signature line' };
    const rest = line.slice(prefix.length);
    const space = rest.indexOf(' ');
    if (space < 0) return { error: 'malformed signature line' };
    const name = rest.slice(0, space);
    const blob = decodeBase64(rest.slice(space + 1));
    if (!isValidKeyName(name)) return { error: `invalid key name in signature line '${name}'` };
    if (blob === null || blob.length < 5) return { error: `malformed signature by ${name}` };
    const keyId = blob.subarray(0, 4);
    signatures.push({ name, keyId, signature: blob.subarray(4), label: keyLabel(name, keyId) });
  }
  return { text, signatures };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Opens a note: parses it, checks every signature whose name and key ID match a verifier, and
 * rejects the note if one of those fails or none verifies (C2SP signed-note, "Verification").
 */
export async function openNote(note: string, verifiers: readonly NoteVerifier[]): Promise<OpenedNote> {
  const parsed = parseNote(note);
  if ('error' in parsed) return { ok: false, reason: parsed.error };
  const message = new TextEncoder().encode(parsed.text);
  const verified: string[] = [];
  const unverified: string[] = [];
  for (const sig of parsed.signatures) {
    const v = verifiers.find((k) => k.name === sig.name && sameBytes(k.keyId, sig.keyId));
    if (v === undefined) {
      unverified.push(sig.label);
      continue;
    }
    if (!(await v.verify(message, sig.signature))) return { ok: false, reason: `invalid signature for key ${sig.label}` };
    if (!verified.includes(sig.label)) verified.push(sig.label);
  }
  if (verified.length === 0) {
    const seen = unverified.length === 0 ? 'none' : unverified.join(', ');
    return { ok: false, reason: `no known key verified a signature (note is signed by: ${seen})` };
  }
  return { ok: true, text: parsed.text, verified, unverified };
}

/** Decodes note bytes as strict UTF-8 (a note with invalid UTF-8 is malformed); null if invalid. */
export function decodeNoteBytes(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}
