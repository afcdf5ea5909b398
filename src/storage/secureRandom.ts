/**
 * Bytes from the CSPRNG, drawn 4 KiB at a time. `randomBytes(32)` is one OpenSSL call (and its
 * locks and fork check) per token: in a join storm the host draws a resume token, an id and a
 * sealing key per person, and those calls were ≈ 10 % of the event loop's work. Each byte of the
 * pool is handed out once — the pool advances past it before the next draw — and every caller
 * gets its own copy, so nothing handed out aliases the pool. (Node's `randomUUID` caches its
 * entropy the same way.)
 */
// Here, at the top of storage/: the host (src/space: tokens, ids) and the sealing of stored inputs
// (storage: keys, IVs) both draw from it, and core, which both may import, must not use node:crypto.
import { randomFillSync } from 'node:crypto';

const POOL = 4096;
const pool = Buffer.alloc(POOL);
let at = POOL;

/** `n` fresh random bytes (n ≤ 4096), a Buffer of their own. */
export function secureRandomBytes(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0 || n > POOL) throw new RangeError(`secureRandomBytes: 0 … ${POOL} bytes, got ${n}`);
  if (at + n > POOL) {
    randomFillSync(pool);
    at = 0;
  }
  // Not from Node's shared slab: a secret gets a backing store of its own, freed with it.
  const out = Buffer.allocUnsafeSlow(n);
  pool.copy(out, 0, at, at + n);
  // What was handed out leaves the pool: a later reader of the pool (none here) finds zeros.
  pool.fill(0, at, at + n);
  at += n;
  return out;
}
