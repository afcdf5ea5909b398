/**
 * C2SP signed-note / tlog-checkpoint known answers in ../shared/conformance/signed-note: the
 * golang.org/x/mod keys, signature and notes, and the C2SP examples.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64, encodeHex } from '../../src/core/note/base64.ts';
import { parseCheckpoint } from '../../src/core/note/checkpoint.ts';
import { decodeNoteBytes, openNote, parseNote } from '../../src/core/note/signedNote.ts';
import { parseNoteVerifier, parseSignerKey, signNote } from '../../src/log/note.ts';
import { sharedMaterial } from '../support/shared.ts';

const vectors = sharedMaterial('signedNote');
const readJson = (name: string) => (vectors.present ? JSON.parse(readFileSync(join(vectors.dir, name), 'utf8')) : undefined);
const kat = readJson('kat.json');
const c2sp = readJson('kat-c2sp.json');
let peter: ReturnType<typeof parseNoteVerifier>;
let enoch: ReturnType<typeof parseNoteVerifier>;
beforeAll(() => {
  if (!vectors.present) return;
  peter = parseNoteVerifier(kat.keys.PeterNeumann.verifierKey);
  enoch = parseNoteVerifier(kat.keys.EnochRoot.verifierKey);
});

function bytesToNote(b64: string): string | null {
  return decodeNoteBytes(decodeBase64(b64) as Uint8Array);
}

describe.skipIf(!vectors.present)('[L4] signed notes: golang.org/x/mod known answers', () => {
  it('parses the Go signer key and derives the published verifier key and key ID', () => {
    const signer = parseSignerKey(kat.keys.PeterNeumann.signerKey);
    expect(signer.verifierKey).toBe(kat.keys.PeterNeumann.verifierKey);
    expect(encodeHex(signer.keyId)).toBe('c74f20a3');
    expect(encodeHex(enoch.keyId)).toBe('af0cfe78');
  });
  it('signing the text reproduces the published note byte for byte', () => {
    const signer = parseSignerKey(kat.keys.PeterNeumann.signerKey);
    const note = signNote(kat.text, [signer]);
    expect(note).toBe(kat.signedNote);
    expect(encodeBase64(new TextEncoder().encode(note))).toBe(kat.signedNoteBase64);
  });
  it('opens the signed note with the Peter verifier', async () => {
    const r = await openNote(kat.signedNote, [peter]);
    expect(r).toEqual({ ok: true, text: kat.text, verified: ['PeterNeumann+c74f20a3'], unverified: [] });
  });
  it('opens the doubly signed note with Peter only, and with both', async () => {
    expect(await openNote(kat.doublySignedNote, [peter])).toMatchObject({ ok: true, verified: ['PeterNeumann+c74f20a3'], unverified: ['EnochRoot+af0cfe78'] });
    expect(await openNote(kat.doublySignedNote, [peter, enoch])).toMatchObject({ ok: true, verified: ['PeterNeumann+c74f20a3', 'EnochRoot+af0cfe78'] });
    expect(bytesToNote(kat.doublySignedNoteBase64)).toBe(kat.doublySignedNote);
  });
  it('rejects the doubly signed note with no verifiers', async () => {
    const r = await openNote(kat.doublySignedNote, []);
    expect(r.ok).toBe(false);
  });
  it('rejects the invalid signature', async () => {
    const note = bytesToNote(kat.invalidSignature.noteBase64) as string;
    const r = await openNote(note, kat.invalidSignature.verifiers.map(parseNoteVerifier));
    expect(r).toEqual({ ok: false, reason: 'invalid signature for key PeterNeumann+c74f20a3' });
  });
  for (const m of (kat?.malformedNotes ?? []) as { description: string; noteBase64: string; verifiers: string[] }[]) {
    it(`rejects malformed: ${m.description.slice(0, 80)}`, async () => {
      const note = bytesToNote(m.noteBase64);
      if (note === null) return; // invalid UTF-8: rejected before parsing
      const r = await openNote(note, m.verifiers.map(parseNoteVerifier));
      expect(r.ok).toBe(false);
    });
  }
  for (const b of (kat?.badVerifierKeys ?? []) as { vkey: string; why: string }[]) {
    it(`rejects bad verifier key: ${b.why}`, () => {
      expect(() => parseNoteVerifier(b.vkey)).toThrow(RangeError);
    });
  }
  it('a signature whose name matches but whose key ID differs is ignored, not trusted', async () => {
    const wrongId = { ...peter, keyId: Uint8Array.of(0, 0, 0, 0) };
    expect((await openNote(kat.signedNote, [wrongId])).ok).toBe(false);
  });
});

describe('[L4] signed notes: C2SP examples', () => {
  it.skipIf(!vectors.present)('verifies the signed-note.md example', async () => {
    const r = await openNote(c2sp.signedNote, [parseNoteVerifier(c2sp.verifierKey)]);
    expect(r).toMatchObject({ ok: true, verified: c2sp.expect.verified });
  });
  it.skipIf(!vectors.present)('[L5] parses the tlog-checkpoint.md example', () => {
    const parsed = parseNote(c2sp.checkpointExample.signedNote);
    if ('error' in parsed) throw new Error(parsed.error);
    const cp = parseCheckpoint(parsed.text);
    if ('error' in cp) throw new Error(cp.error);
    expect(cp.origin).toBe(c2sp.checkpointExample.parsed.origin);
    expect(cp.size).toBe(c2sp.checkpointExample.parsed.treeSize);
    expect(encodeBase64(cp.root)).toBe(c2sp.checkpointExample.parsed.rootHashBase64);
    expect(cp.extensions).toEqual([]);
  });
  it('[L5] rejects checkpoints with leading zeros, short roots or missing lines', () => {
    const root = encodeBase64(new Uint8Array(32));
    expect('error' in parseCheckpoint(`o\n012\n${root}\n`)).toBe(true);
    expect('error' in parseCheckpoint('o\n12\nAAAA\n')).toBe(true);
    expect('error' in parseCheckpoint('o\n12\n')).toBe(true);
    expect('error' in parseCheckpoint(`o\n12\n${root}`)).toBe(true);
    expect('error' in parseCheckpoint(`o\n12\n${root}\n\n`)).toBe(true);
    expect(parseCheckpoint(`o\n0\n${root}\n`)).toMatchObject({ origin: 'o', size: 0 });
  });
});
