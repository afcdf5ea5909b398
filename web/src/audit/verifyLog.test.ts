/**
 * The audit page's verification logic, run in Node against the real log routes in-process
 * (`app.request` as fetch) with WebCrypto — the same APIs the browser uses.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createLogRoutes } from '../../../src/http/logRoutes.ts';
import { signerFromSeed } from '../../../src/log/note.ts';
import { sha256Hasher } from '../../../src/log/sha256Hasher.ts';
import { TransparencyLog } from '../../../src/log/transparencyLog.ts';
import { MemoryLogStore } from '../../../src/storage/memory/memoryLogStore.ts';
import { checkEntries, fetchCheckpoint } from './verifyLog.ts';
import { webCryptoHasher, webNoteVerifier } from './webCrypto.ts';

const signer = signerFromSeed('web.test/log', new Uint8Array(32).fill(4));

async function setup(n: number) {
  const store = new MemoryLogStore();
  const log = await TransparencyLog.open({ store, signer, now: () => 5 });
  await Promise.all(Array.from({ length: n }, (_, i) => log.append({ type: 'space.closed', space: `s${i}`, payload: {} })));
  const app = new Hono();
  app.route('/log', createLogRoutes(log));
  const f = async (url: string) => app.request(url);
  return { store, f };
}

describe('[A2] audit page verification (WebCrypto)', () => {
  it('the WebCrypto hasher agrees with the Node one', async () => {
    const h = webCryptoHasher();
    const a = Uint8Array.of(1, 2, 3);
    expect(await h.leaf(a)).toEqual(sha256Hasher.leaf(a));
    expect(await h.node(a, a)).toEqual(sha256Hasher.node(a, a));
    expect(await h.empty()).toEqual(sha256Hasher.empty());
  });

  it('verifies the checkpoint signature with a pinned key and every entry as included', async () => {
    const { f } = await setup(300);
    const cp = await fetchCheckpoint(f, '', await webNoteVerifier(signer.verifierKey));
    expect(cp.signature).toEqual({ state: 'verified', by: `web.test/log+${signer.verifierKey.split('+')[1]}` });
    const rows = await checkEntries(f, '', webCryptoHasher(), cp.checkpoint, 250, 50);
    expect(rows).toHaveLength(50);
    expect(rows.every((r) => r.status.included)).toBe(true);
    expect(rows[0]?.entry?.type).toBe('space.closed');
  });

  it('marks a tampered entry as not included', async () => {
    const { f, store } = await setup(20);
    const cp = await fetchCheckpoint(f, '', null);
    expect(cp.signature.state).toBe('unchecked');
    store.tamperEntry(3, new TextEncoder().encode('{"payload":{},"space":"evil","time":5,"type":"space.closed","v":1}'));
    const rows = await checkEntries(f, '', webCryptoHasher(), cp.checkpoint, 0, 20);
    expect(rows.filter((r) => !r.status.included).map((r) => r.index)).toEqual([3]);
  });

  it('rejects a checkpoint signed by another key, and a malformed key', async () => {
    const { f } = await setup(2);
    const other = signerFromSeed('web.test/log', new Uint8Array(32).fill(5));
    const cp = await fetchCheckpoint(f, '', await webNoteVerifier(other.verifierKey));
    expect(cp.signature.state).toBe('invalid');
    await expect(webNoteVerifier('web.test/log+00000000+AQ==')).rejects.toThrow();
  });
});
