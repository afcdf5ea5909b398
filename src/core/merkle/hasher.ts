/**
 * The hash functions of an RFC 6962 Merkle tree, as a parameter.
 *
 * RFC 9162 §2.1.1: a leaf hash is `HASH(0x00 || data)`, an interior node `HASH(0x01 || left ||
 * right)`, the empty tree `HASH()`. The core holds no hash implementation (it may import nothing
 * from `node:*`); `src/log/sha256Hasher.ts` provides the Node one and
 * `web/src/audit/webCryptoHasher.ts` the browser (WebCrypto, asynchronous) one.
 */

/** Bytes in one SHA-256 hash — the only size this tree accepts anywhere (see conformance README). */
export const HASH_SIZE = 32;

/** A synchronous RFC 6962 hasher. */
export interface Hasher {
  /** `HASH(0x00 || data)`. */
  leaf(data: Uint8Array): Uint8Array;
  /** `HASH(0x01 || left || right)`. */
  node(left: Uint8Array, right: Uint8Array): Uint8Array;
  /** `HASH()`, the root of the empty tree. */
  empty(): Uint8Array;
}

/** The same, for hash functions that only exist asynchronously (WebCrypto's `digest`). */
export interface AsyncHasher {
  leaf(data: Uint8Array): Promise<Uint8Array>;
  node(left: Uint8Array, right: Uint8Array): Promise<Uint8Array>;
  empty(): Promise<Uint8Array>;
}

/**
 * One interior-node hash request. Verification algorithms are written once as generators that
 * yield these and receive the hash back, so the same code runs with a sync or an async hasher
 * (see `runSync` / `runAsync`).
 */
export interface NodeHashRequest {
  readonly left: Uint8Array;
  readonly right: Uint8Array;
}

/** A computation that asks for interior-node hashes and returns `T`. */
export type HashProgram<T> = Generator<NodeHashRequest, T, Uint8Array>;

/** Runs a hash program with a synchronous hasher. */
export function runSync<T>(program: HashProgram<T>, hasher: Hasher): T {
  let step = program.next();
  while (!step.done) step = program.next(hasher.node(step.value.left, step.value.right));
  return step.value;
}

/** Runs a hash program with an asynchronous hasher. */
export async function runAsync<T>(program: HashProgram<T>, hasher: AsyncHasher): Promise<T> {
  let step = program.next();
  while (!step.done) step = program.next(await hasher.node(step.value.left, step.value.right));
  return step.value;
}

/**
 * Byte equality without an early exit, so the time taken does not reveal the position of the
 * first difference (conformance README pitfall 5).
 */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
