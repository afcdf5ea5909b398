/**
 * ChaCha20 as a counter-based CSPRNG for the release stage's noise (RFC 8439 §2.3, the block
 * function; D. J. Bernstein, "ChaCha, a variant of Salsa20", 2008).
 *
 * The release stage must stay deterministic for replay (SPEC M8) and yet its noise must be
 * unpredictable to anyone outside the server. So every noise draw is a pure function of a
 * per-space **secret** 256-bit seed (the ChaCha key) and public, never-repeating coordinates
 * (the nonce: a domain tag and the pulse `seq`, which continues across restarts, M6). Knowing
 * the coordinates without the key gives nothing (ChaCha20 is a PRF); knowing the key would let
 * anyone subtract the noise, which is why the seed never leaves the server (PRIVACY.md).
 *
 * Pure TypeScript on 32-bit words: core imports no `node:crypto` (SPEC D1).
 */

/** A stream of uniform 32-bit words. */
export interface RandomWords {
  /** The next uniform word in [0, 2³²). */
  nextU32(): number;
}

/**
 * The ChaCha20 block function (RFC 8439 §2.3): 16 output words for a 256-bit key (8 words),
 * a 32-bit block counter and a 96-bit nonce (3 words), all little-endian words. The state is
 * kept in sixteen local variables (int32 arithmetic, `>>> 0` once at the end) rather than an
 * array: the live release draws thousands of words per snapshot (R7).
 */
export function chachaBlock(key: Uint32Array, counter: number, nonce: readonly [number, number, number], out: Uint32Array = new Uint32Array(16)): Uint32Array {
  const j0 = 0x61707865;
  const j1 = 0x3320646e;
  const j2 = 0x79622d32;
  const j3 = 0x6b206574;
  const j4 = (key[0] as number) | 0;
  const j5 = (key[1] as number) | 0;
  const j6 = (key[2] as number) | 0;
  const j7 = (key[3] as number) | 0;
  const j8 = (key[4] as number) | 0;
  const j9 = (key[5] as number) | 0;
  const j10 = (key[6] as number) | 0;
  const j11 = (key[7] as number) | 0;
  const j12 = counter | 0;
  const j13 = nonce[0] | 0;
  const j14 = nonce[1] | 0;
  const j15 = nonce[2] | 0;
  let x0 = j0;
  let x1 = j1;
  let x2 = j2;
  let x3 = j3;
  let x4 = j4;
  let x5 = j5;
  let x6 = j6;
  let x7 = j7;
  let x8 = j8;
  let x9 = j9;
  let x10 = j10;
  let x11 = j11;
  let x12 = j12;
  let x13 = j13;
  let x14 = j14;
  let x15 = j15;
  for (let i = 0; i < 10; i++) {
    // Column rounds: (0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15).
    x0 = (x0 + x4) | 0;
    x12 ^= x0;
    x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0;
    x4 ^= x8;
    x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0;
    x12 ^= x0;
    x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0;
    x4 ^= x8;
    x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0;
    x13 ^= x1;
    x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0;
    x5 ^= x9;
    x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0;
    x13 ^= x1;
    x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0;
    x5 ^= x9;
    x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0;
    x14 ^= x2;
    x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0;
    x6 ^= x10;
    x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0;
    x14 ^= x2;
    x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0;
    x6 ^= x10;
    x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0;
    x15 ^= x3;
    x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0;
    x7 ^= x11;
    x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0;
    x15 ^= x3;
    x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0;
    x7 ^= x11;
    x7 = (x7 << 7) | (x7 >>> 25);
    // Diagonal rounds: (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14).
    x0 = (x0 + x5) | 0;
    x15 ^= x0;
    x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0;
    x5 ^= x10;
    x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0;
    x15 ^= x0;
    x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0;
    x5 ^= x10;
    x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0;
    x12 ^= x1;
    x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0;
    x6 ^= x11;
    x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0;
    x12 ^= x1;
    x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0;
    x6 ^= x11;
    x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0;
    x13 ^= x2;
    x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0;
    x7 ^= x8;
    x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0;
    x13 ^= x2;
    x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0;
    x7 ^= x8;
    x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0;
    x14 ^= x3;
    x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0;
    x4 ^= x9;
    x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0;
    x14 ^= x3;
    x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0;
    x4 ^= x9;
    x4 = (x4 << 7) | (x4 >>> 25);
  }
  // A Uint32Array stores each sum modulo 2³² (as `>>> 0` would).
  out[0] = x0 + j0;
  out[1] = x1 + j1;
  out[2] = x2 + j2;
  out[3] = x3 + j3;
  out[4] = x4 + j4;
  out[5] = x5 + j5;
  out[6] = x6 + j6;
  out[7] = x7 + j7;
  out[8] = x8 + j8;
  out[9] = x9 + j9;
  out[10] = x10 + j10;
  out[11] = x11 + j11;
  out[12] = x12 + j12;
  out[13] = x13 + j13;
  out[14] = x14 + j14;
  out[15] = x15 + j15;
  return out;
}

/** A 64-hex-character seed as the 8 little-endian key words ChaCha20 takes. */
export function keyOfSeed(seedHex: string): Uint32Array {
  if (!/^[0-9a-f]{64}$/i.test(seedHex)) throw new RangeError('a noise seed is 64 hex characters (256 bits)');
  const key = new Uint32Array(8);
  for (let i = 0; i < 8; i++) {
    let word = 0;
    for (let b = 3; b >= 0; b--) word = word * 256 + Number.parseInt(seedHex.slice(i * 8 + b * 2, i * 8 + b * 2 + 2), 16);
    key[i] = word >>> 0;
  }
  return key;
}

/**
 * The words of one noise stream: ChaCha20 keyed by the space's secret seed, nonce
 * (domain, seq low 32 bits, seq high bits), blocks from counter 0 on. Two streams with
 * different (domain, seq) are independent; the same ones give the same words (replay).
 */
export function noiseStream(key: Uint32Array, domain: number, seq: number): RandomWords {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq must be a non-negative safe integer');
  const nonce: [number, number, number] = [domain >>> 0, seq >>> 0, Math.floor(seq / 2 ** 32) >>> 0];
  let counter = 0;
  const block = chachaBlock(key, counter, nonce);
  let i = 0;
  return {
    nextU32() {
      if (i === 16) {
        counter++;
        if (counter > 0xffffffff) throw new RangeError('noise stream exhausted');
        chachaBlock(key, counter, nonce, block);
        i = 0;
      }
      return block[i++] as number;
    },
  };
}
