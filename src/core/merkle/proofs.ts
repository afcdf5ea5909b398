/**
 * Merkle tree roots, inclusion proofs and consistency proofs — generation and verification.
 *
 * Sources: RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH, generation), §2.1.3.2 (verifying an inclusion
 * proof), §2.1.4.1 (PROOF/SUBPROOF, generation), §2.1.4.2 (verifying a consistency proof); the
 * stricter input rules of the shared conformance README (every hash exactly 32 bytes, no
 * consistency from size 0, exact proof lengths).
 *
 * Generation reads only *complete* subtrees through a `NodeReader`; a log answers those from its
 * stored tiles, so a proof in a tree of 10⁶ leaves costs a few hundred hashes, not 10⁶.
 * Verification is written once as a hash program (see `hasher.ts`) and run sync or async.
 */
import type { AsyncHasher, HashProgram, Hasher } from './hasher.ts';
import { HASH_SIZE, hashesEqual, runAsync, runSync } from './hasher.ts';
import { half, isIndex, isOdd, isPowerOfTwo, log2Exact, splitPoint } from './treeMath.ts';

/**
 * Reads the hash of the complete subtree at `level` (0 = leaves) and `index`, i.e.
 * `MTH(D[index·2^level : (index+1)·2^level])`. Callers only ask for subtrees inside the tree.
 */
export type NodeReader = (level: number, index: number) => Uint8Array;

/** The coordinates of one complete subtree. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** The outcome of a verification: accepted, or rejected with the reason. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const ACCEPT: Verdict = { ok: true };
function reject(reason: string): Verdict {
  return { ok: false, reason };
}

/** `MTH(D[lo:hi])`, decomposed into complete subtrees read through `read` (RFC 9162 §2.1.1). */
export function rangeHash(lo: number, hi: number, read: NodeReader, hasher: Hasher): Uint8Array {
  const n = hi - lo;
  if (n === 0) return hasher.empty();
  if (isPowerOfTwo(n) && lo % n === 0) return read(log2Exact(n), lo / n);
  const k = splitPoint(n);
  return hasher.node(rangeHash(lo, lo + k, read, hasher), rangeHash(lo + k, hi, read, hasher));
}

/** The root hash of the tree of `size` leaves. */
export function treeRoot(size: number, read: NodeReader, hasher: Hasher): Uint8Array {
  return rangeHash(0, size, read, hasher);
}

/** The root of a tree whose leaf hashes are all given (used for one tile: 256 hashes). */
export function rootOfLeafHashes(leafHashes: readonly Uint8Array[], hasher: Hasher): Uint8Array {
  const level: Uint8Array[] = leafHashes.slice();
  if (level.length === 0) return hasher.empty();
  // Fold pairwise bottom-up; an odd node at the right end is promoted unchanged, which gives
  // exactly RFC 6962's split at the largest power of two.
  let row = level;
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < row.length; i += 2) next.push(hasher.node(row[i] as Uint8Array, row[i + 1] as Uint8Array));
    if (row.length % 2 === 1) next.push(row[row.length - 1] as Uint8Array);
    row = next;
  }
  return row[0] as Uint8Array;
}

/**
 * The inclusion proof (audit path) of leaf `index` in the tree of `size` leaves, leaf to root
 * (RFC 9162 §2.1.3.1). Throws RangeError unless `0 ≤ index < size`.
 */
export function inclusionProof(index: number, size: number, read: NodeReader, hasher: Hasher): Uint8Array[] {
  if (!isIndex(index) || !isIndex(size) || index >= size) {
    throw new RangeError(`no inclusion proof for index ${index} in a tree of size ${size}`);
  }
  const path: Uint8Array[] = [];
  let lo = 0;
  let hi = size;
  // Walk down from the root, collecting the sibling subtree at each split; reversed at the end.
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index - lo < k) {
      path.push(rangeHash(lo + k, hi, read, hasher));
      hi = lo + k;
    } else {
      path.push(rangeHash(lo, lo + k, read, hasher));
      lo += k;
    }
  }
  return path.reverse();
}

/**
 * The consistency proof between the trees of `size1` and `size2` leaves (RFC 9162 §2.1.4.1).
 * Empty when the sizes are equal. Throws RangeError unless `0 < size1 ≤ size2`.
 */
export function consistencyProof(size1: number, size2: number, read: NodeReader, hasher: Hasher): Uint8Array[] {
  if (!isIndex(size1) || !isIndex(size2) || size1 < 1 || size1 > size2) {
    throw new RangeError(`no consistency proof from size ${size1} to size ${size2}`);
  }
  if (size1 === size2) return [];
  // SUBPROOF(m, D[lo:hi], b), iteratively: the recursion only ever descends into one side.
  const proof: Uint8Array[] = [];
  let lo = 0;
  let hi = size2;
  let m = size1;
  let complete = true;
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      proof.push(rangeHash(lo + k, hi, read, hasher));
      hi = lo + k;
    } else {
      proof.push(rangeHash(lo, lo + k, read, hasher));
      lo += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) proof.push(rangeHash(lo, hi, read, hasher));
  return proof.reverse();
}

/**
 * The complete subtrees that a computation reads, found by running it with a recording reader
 * and a no-op hasher. Lets a log fetch exactly the tiles a proof needs before generating it.
 */
export function nodesRead(compute: (read: NodeReader, hasher: Hasher) => unknown): NodeId[] {
  const seen = new Map<string, NodeId>();
  const zero = new Uint8Array(HASH_SIZE);
  const record: NodeReader = (level, index) => {
    seen.set(`${level}/${index}`, { level, index });
    return zero;
  };
  const noop: Hasher = { leaf: () => zero, node: () => zero, empty: () => zero };
  compute(record, noop);
  return [...seen.values()];
}

/** Input of an inclusion-proof verification. */
export interface InclusionCheck {
  readonly index: number;
  readonly size: number;
  readonly leafHash: Uint8Array;
  readonly proof: readonly Uint8Array[] | null;
  readonly root: Uint8Array;
}

/** Input of a consistency-proof verification. */
export interface ConsistencyCheck {
  readonly size1: number;
  readonly size2: number;
  readonly root1: Uint8Array;
  readonly root2: Uint8Array;
  readonly proof: readonly Uint8Array[] | null;
}

function badLength(what: string, h: Uint8Array): string | null {
  return h.length === HASH_SIZE ? null : `${what} is ${h.length} bytes, not ${HASH_SIZE}`;
}

/** RFC 9162 §2.1.3.2 as a hash program. */
export function* inclusionProgram(c: InclusionCheck): HashProgram<Verdict> {
  const proof = c.proof ?? [];
  if (!isIndex(c.index) || !isIndex(c.size)) return reject('index and size must be non-negative integers');
  if (c.index >= c.size) return reject(`index ${c.index} is not below tree size ${c.size}`);
  const lengthError =
    badLength('leaf hash', c.leafHash) ?? badLength('root', c.root) ?? proof.map((p, i) => badLength(`proof[${i}]`, p)).find((e) => e !== null) ?? null;
  if (lengthError !== null) return reject(lengthError);
  let fn = c.index;
  let sn = c.size - 1;
  let r = c.leafHash;
  for (const p of proof) {
    if (sn === 0) return reject('proof is longer than the tree is deep');
    if (isOdd(fn) || fn === sn) {
      r = yield { left: p, right: r };
      if (!isOdd(fn)) {
        while (!(isOdd(fn) || fn === 0)) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = yield { left: r, right: p };
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return reject('proof is shorter than the tree is deep');
  if (!hashesEqual(r, c.root)) return reject('computed root does not match the expected root');
  return ACCEPT;
}

/** RFC 9162 §2.1.4.2 as a hash program, with the conformance README's stricter rules. */
export function* consistencyProgram(c: ConsistencyCheck): HashProgram<Verdict> {
  const proof = c.proof ?? [];
  if (!isIndex(c.size1) || !isIndex(c.size2)) return reject('sizes must be non-negative integers');
  if (c.size1 === 0) return reject('a consistency proof from the empty tree proves nothing');
  if (c.size1 > c.size2) return reject(`size1 ${c.size1} is larger than size2 ${c.size2}`);
  const lengthError =
    badLength('root1', c.root1) ?? badLength('root2', c.root2) ?? proof.map((p, i) => badLength(`proof[${i}]`, p)).find((e) => e !== null) ?? null;
  if (lengthError !== null) return reject(lengthError);
  if (c.size1 === c.size2) {
    if (proof.length !== 0) return reject('proof must be empty for equal sizes');
    return hashesEqual(c.root1, c.root2) ? ACCEPT : reject('roots differ for equal sizes');
  }
  if (proof.length === 0) return reject('empty proof for different sizes');
  const path = isPowerOfTwo(c.size1) ? [c.root1, ...proof] : proof.slice();
  let fn = c.size1 - 1;
  let sn = c.size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = path[0] as Uint8Array;
  for (const p of path.slice(1)) {
    if (sn === 0) return reject('proof is too long');
    if (isOdd(fn) || fn === sn) {
      fr = yield { left: p, right: fr };
      sr = yield { left: p, right: sr };
      if (!isOdd(fn)) {
        while (!(isOdd(fn) || fn === 0)) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = yield { left: sr, right: p };
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return reject('proof is too short');
  if (!hashesEqual(fr, c.root1)) return reject('proof does not reproduce root1');
  if (!hashesEqual(sr, c.root2)) return reject('proof does not reproduce root2');
  return ACCEPT;
}

/** Verifies an inclusion proof (RFC 9162 §2.1.3.2). */
export function verifyInclusion(c: InclusionCheck, hasher: Hasher): Verdict {
  return runSync(inclusionProgram(c), hasher);
}

/** Verifies an inclusion proof with an asynchronous hasher (the browser). */
export function verifyInclusionAsync(c: InclusionCheck, hasher: AsyncHasher): Promise<Verdict> {
  return runAsync(inclusionProgram(c), hasher);
}

/** Verifies a consistency proof (RFC 9162 §2.1.4.2). */
export function verifyConsistency(c: ConsistencyCheck, hasher: Hasher): Verdict {
  return runSync(consistencyProgram(c), hasher);
}

/** Verifies a consistency proof with an asynchronous hasher (the browser). */
export function verifyConsistencyAsync(c: ConsistencyCheck, hasher: AsyncHasher): Promise<Verdict> {
  return runAsync(consistencyProgram(c), hasher);
}
