/**
 * The RFC 6962 / RFC 9162 §2.1.1 hasher over SHA-256 from `node:crypto`.
 */
import { createHash } from 'node:crypto';
import type { Hasher } from '../core/merkle/hasher.ts';

const LEAF_PREFIX = new Uint8Array([0x00]);

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** The SHA-256 Merkle hasher. */
export const sha256Hasher: Hasher = {
  leaf(data) {
    return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(data).digest());
  },
  node(left, right) {
    // One update over one buffer is measurably faster than three (proof and tile hashing).
    const buf = Buffer.allocUnsafe(1 + left.length + right.length);
    buf[0] = 0x01;
    buf.set(left, 1);
    buf.set(right, 1 + left.length);
    return new Uint8Array(createHash('sha256').update(buf).digest());
  },
  empty() {
    return sha256(new Uint8Array(0));
  },
};
