/**
 * The RFC 6962 / RFC 9162 §2.1.1 hasher over SHA-256 from `node:crypto`.
 */
import { createHash } from 'node:crypto';
import type { Hasher } from '../core/merkle/hasher.ts';

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

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
    return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
  },
  empty() {
    return sha256(new Uint8Array(0));
  },
};
