/**
 * The transparency-dev/merkle RFC 6962 vectors in ../shared/conformance/merkle (see its README):
 * every happy path verifies, every `wantErr` case is rejected, and the roots of sizes 0…8 match.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consistencyProof, inclusionProof, rootOfLeafHashes, treeRoot, verifyConsistency, verifyInclusion } from '../../src/core/merkle/proofs.ts';
import { decodeBase64, decodeHex, encodeHex } from '../../src/core/note/base64.ts';
import { sha256Hasher } from '../../src/log/sha256Hasher.ts';
import { sharedMaterial } from '../support/shared.ts';

const vectors = sharedMaterial('merkle');
const ROOT = vectors.dir;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.json') ? [p] : [];
  });
}

function b64(s: string): Uint8Array {
  const v = decodeBase64(s);
  if (v === null) throw new Error(`bad base64 in vector: ${s}`);
  return v;
}

// The README's one documented exception: upstream Go accepts equal 12-byte roots for size1 ==
// size2 because it checks no lengths there; we reject every non-32-byte hash.
const STRICT_EXCEPTION = 'consistency/additional/sizes-are-equal-one-and-proof-is-empty.json';

describe.skipIf(!vectors.present)('[L1] RFC 6962 conformance vectors', () => {
  const files = (vectors.present ? walk(ROOT) : []).filter((f) => !f.endsWith('rfc6962-roots.json'));
  it('finds all 196 vectors', () => expect(files).toHaveLength(196));
  for (const file of files) {
    const name = relative(ROOT, file);
    const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const want = name === STRICT_EXCEPTION ? true : (v.wantErr as boolean);
    it(`${name} → ${want ? 'rejected' : 'accepted'}`, () => {
      const proof = ((v.proof as string[] | null) ?? []).map(b64);
      const verdict = name.startsWith('inclusion')
        ? verifyInclusion(
            { index: v.leafIdx as number, size: v.treeSize as number, leafHash: b64(v.leafHash as string), root: b64(v.root as string), proof: v.proof === null ? null : proof },
            sha256Hasher,
          )
        : verifyConsistency(
            { size1: v.size1 as number, size2: v.size2 as number, root1: b64(v.root1 as string), root2: b64(v.root2 as string), proof: v.proof === null ? null : proof },
            sha256Hasher,
          );
      expect(verdict.ok).toBe(!want);
    });
  }
});

describe.skipIf(!vectors.present)('[L1] rfc6962-roots.json', () => {
  const data = (vectors.present ? JSON.parse(readFileSync(join(ROOT, 'rfc6962-roots.json'), 'utf8')) : { leaves: [] }) as Record<string, unknown>;
  const leaves = findHexList(data, ['leaves', 'leafInputs', 'inputs']).map((h) => decodeHex(h) as Uint8Array);
  const leafHashes = leaves.map((l) => sha256Hasher.leaf(l));
  // Complete subtrees straight from the leaf hashes (independent of any tile code).
  const read = (level: number, index: number): Uint8Array =>
    rootOfLeafHashes(leafHashes.slice(index * 2 ** level, (index + 1) * 2 ** level), sha256Hasher);
  it('has 8 leaves', () => expect(leaves).toHaveLength(8));
  for (let size = 0; size <= 8; size++) {
    it(`root of size ${size}`, () => {
      expect(encodeHex(treeRoot(size, read, sha256Hasher))).toBe(rootFor(data, size));
    });
  }
  it('proofs generated over the 8 leaves verify, for every index and size pair', () => {
    for (let size = 1; size <= 8; size++) {
      const root = treeRoot(size, read, sha256Hasher);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, size, read, sha256Hasher);
        expect(verifyInclusion({ index, size, leafHash: leafHashes[index] as Uint8Array, proof, root }, sha256Hasher)).toEqual({ ok: true });
      }
      for (let m = 1; m <= size; m++) {
        const proof = consistencyProof(m, size, read, sha256Hasher);
        const root1 = treeRoot(m, read, sha256Hasher);
        expect(verifyConsistency({ size1: m, size2: size, root1, root2: root, proof }, sha256Hasher)).toEqual({ ok: true });
      }
    }
  });
});

function findHexList(data: Record<string, unknown>, keys: string[]): string[] {
  for (const k of keys) if (Array.isArray(data[k])) return data[k] as string[];
  throw new Error(`no leaf list among ${Object.keys(data).join(', ')}`);
}

function rootFor(data: Record<string, unknown>, size: number): string {
  const roots = data.roots ?? data.rootHashes;
  if (Array.isArray(roots)) {
    const r = roots[size] as unknown;
    if (typeof r === 'string') return r;
    const o = (roots as Record<string, unknown>[]).find((x) => x.size === size || x.treeSize === size);
    if (o) return (o.root ?? o.hash) as string;
  }
  if (roots && typeof roots === 'object') return (roots as Record<string, string>)[String(size)] as string;
  throw new Error('no roots');
}
