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

const rotl = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;

function quarter(s: Uint32Array, a: number, b: number, c: number, d: number): void {
  s[a] = ((s[a] as number) + (s[b] as number)) >>> 0;
  s[d] = rotl((s[d] as number) ^ (s[a] as number), 16);
  s[c] = ((s[c] as number) + (s[d] as number)) >>> 0;
  s[b] = rotl((s[b] as number) ^ (s[c] as number), 12);
  s[a] = ((s[a] as number) + (s[b] as number)) >>> 0;
  s[d] = rotl((s[d] as number) ^ (s[a] as number), 8);
  s[c] = ((s[c] as number) + (s[d] as number)) >>> 0;
  s[b] = rotl((s[b] as number) ^ (s[c] as number), 7);
}

/**
 * The ChaCha20 block function (RFC 8439 §2.3): 16 output words for a 256-bit key (8 words),
 * a 32-bit block counter and a 96-bit nonce (3 words), all little-endian words.
 */
export function chachaBlock(key: Uint32Array, counter: number, nonce: readonly [number, number, number]): Uint32Array {
  const s = new Uint32Array(16);
  s[0] = 0x61707865;
  s[1] = 0x3320646e;
  s[2] = 0x79622d32;
  s[3] = 0x6b206574;
  s.set(key.subarray(0, 8), 4);
  s[12] = counter >>> 0;
  s[13] = nonce[0] >>> 0;
  s[14] = nonce[1] >>> 0;
  s[15] = nonce[2] >>> 0;
  const w = s.slice();
  for (let i = 0; i < 10; i++) {
    quarter(w, 0, 4, 8, 12);
    quarter(w, 1, 5, 9, 13);
    quarter(w, 2, 6, 10, 14);
    quarter(w, 3, 7, 11, 15);
    quarter(w, 0, 5, 10, 15);
    quarter(w, 1, 6, 11, 12);
    quarter(w, 2, 7, 8, 13);
    quarter(w, 3, 4, 9, 14);
  }
  for (let i = 0; i < 16; i++) w[i] = ((w[i] as number) + (s[i] as number)) >>> 0;
  return w;
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
  let block = chachaBlock(key, counter, nonce);
  let i = 0;
  return {
    nextU32() {
      if (i === 16) {
        counter++;
        if (counter > 0xffffffff) throw new RangeError('noise stream exhausted');
        block = chachaBlock(key, counter, nonce);
        i = 0;
      }
      return block[i++] as number;
    },
  };
}
